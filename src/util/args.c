/* Arguments and configuration (see include/util/args.h for the rules).
 *
 * Each option of the table has one slot. A slot keeps the values of each layer separately
 * (command line, each network section, top of the config file), so the network can be chosen
 * after everything is read: "-regtest" may itself come from the config file. */
#include "util/args.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fs.h"
#include "util/netparams.h"

/* Layers, highest precedence first. */
enum layer { LAYER_CMDLINE, LAYER_MAIN, LAYER_TESTNET, LAYER_REGTEST, LAYER_TOP, NLAYERS };

struct layer_values {
	char **v;
	size_t n;
	bool negated; /* "-noX": clears this layer and every lower one */
};

struct slot {
	struct layer_values layer[NLAYERS];
	const char **merged; /* scratch for args_get_list; rebuilt on each call */
	size_t nmerged;
};

struct args {
	const struct arg_def *defs;
	size_t ndefs;
	struct slot *slots;
	enum layer net_layer; /* the section that applies */
	bool ignore_unknown_config;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int parse_int64(const char *s, int64_t *out)
{
	if (!s || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = (int64_t)v;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	if (s && strcmp(s, "1") == 0) {
		*out = true;
		return 0;
	}
	if (s && strcmp(s, "0") == 0) {
		*out = false;
		return 0;
	}
	return -1;
}

struct args *args_new(const struct arg_def *defs, size_t ndefs)
{
	struct args *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->slots = calloc(ndefs ? ndefs : 1, sizeof(*a->slots));
	if (!a->slots) {
		free(a);
		return NULL;
	}
	a->defs = defs;
	a->ndefs = ndefs;
	a->net_layer = LAYER_MAIN;
	return a;
}

static void layer_clear(struct layer_values *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
	l->negated = false;
}

void args_free(struct args *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ndefs; i++) {
		for (int l = 0; l < NLAYERS; l++)
			layer_clear(&a->slots[i].layer[l]);
		free(a->slots[i].merged);
	}
	free(a->slots);
	free(a);
}

void args_set_ignore_unknown_config(struct args *a, bool on)
{
	a->ignore_unknown_config = on;
}

static long find_def(const struct args *a, const char *name, size_t namelen)
{
	for (size_t i = 0; i < a->ndefs; i++)
		if (strlen(a->defs[i].name) == namelen &&
		    memcmp(a->defs[i].name, name, namelen) == 0)
			return (long)i;
	return -1;
}

static const struct arg_def *lookup_slot(const struct args *a, const char *name,
					 const struct slot **slot)
{
	long i = find_def(a, name, strlen(name));
	assert(i >= 0 && "option name not in the table");
	if (i < 0)
		return NULL;
	*slot = &a->slots[i];
	return &a->defs[i];
}

/* Check value against the option's type; value NULL means "given without '='". */
static int check_value(const struct arg_def *d, const char *value, const char **use, char *err,
		       size_t errlen)
{
	switch (d->type) {
	case ARG_BOOL: {
		bool b;
		if (!value) {
			*use = "1";
			return 0;
		}
		if (parse_bool(value, &b) != 0) {
			set_err(err, errlen, "invalid value '%s' for -%s (expected 0 or 1)", value,
				d->name);
			return -1;
		}
		*use = value;
		return 0;
	}
	case ARG_INT: {
		int64_t v;
		if (!value) {
			set_err(err, errlen, "-%s requires a value", d->name);
			return -1;
		}
		if (parse_int64(value, &v) != 0) {
			set_err(err, errlen, "invalid value '%s' for -%s (expected an integer)",
				value, d->name);
			return -1;
		}
		if (v < d->min || v > d->max) {
			set_err(err, errlen,
				"value %" PRId64 " for -%s is out of range [%" PRId64 ", %" PRId64
				"]",
				v, d->name, d->min, d->max);
			return -1;
		}
		*use = value;
		return 0;
	}
	case ARG_STRING:
	case ARG_LIST:
		if (!value) {
			set_err(err, errlen, "-%s requires a value", d->name);
			return -1;
		}
		*use = value;
		return 0;
	}
	return -1;
}

static int layer_add(struct layer_values *l, const struct arg_def *d, const char *value, char *err,
		     size_t errlen)
{
	if (d->type != ARG_LIST) {
		/* Single-valued: the last one wins, so keep only that. */
		layer_clear(l);
	} else if (l->n >= ARGS_MAX_LIST) {
		set_err(err, errlen, "too many values for -%s (at most %u)", d->name,
			ARGS_MAX_LIST);
		return -1;
	}
	char *copy = strdup(value);
	char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!copy || !nv) {
		free(copy);
		if (nv)
			l->v = nv;
		set_err(err, errlen, "out of memory");
		return -1;
	}
	l->v = nv;
	l->v[l->n++] = copy;
	l->negated = false;
	return 0;
}

/* Apply "name[=value]" (or its "no" form) to one layer. */
static int apply(struct args *a, enum layer layer, const char *name, size_t namelen,
		 const char *value, bool in_config, bool *unknown, char *err, size_t errlen)
{
	*unknown = false;
	long i = find_def(a, name, namelen);
	bool negate = false;
	if (i < 0 && namelen > 2 && strncmp(name, "no", 2) == 0) {
		i = find_def(a, name + 2, namelen - 2);
		negate = i >= 0;
	}
	if (i < 0) {
		*unknown = true;
		set_err(err, errlen, "unknown option -%.*s", (int)namelen, name);
		return -1;
	}
	const struct arg_def *d = &a->defs[i];
	if (in_config && (d->flags & ARG_CMDLINE_ONLY)) {
		set_err(err, errlen, "-%s can only be given on the command line", d->name);
		return -1;
	}
	struct layer_values *l = &a->slots[i].layer[layer];
	if (negate) {
		bool b = true;
		if (value && parse_bool(value, &b) != 0) {
			set_err(err, errlen, "invalid value '%s' for -no%s (expected 0 or 1)",
				value, d->name);
			return -1;
		}
		if (b) {
			layer_clear(l);
			l->negated = true;
			return 0;
		}
		/* "-noX=0" means X=1 (booleans) or is meaningless. */
		if (d->type != ARG_BOOL) {
			set_err(err, errlen, "-no%s=0 is not meaningful", d->name);
			return -1;
		}
		return layer_add(l, d, "1", err, errlen);
	}
	const char *use;
	if (check_value(d, value, &use, err, errlen) != 0)
		return -1;
	return layer_add(l, d, use, err, errlen);
}

int args_parse_cmdline(struct args *a, int argc, char *const argv[], int *first_positional,
		       char *err, size_t errlen)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (s[0] != '-' || strcmp(s, "-") == 0)
			break;
		if (strcmp(s, "--") == 0) {
			i++;
			break;
		}
		s += (s[1] == '-') ? 2 : 1;
		const char *eq = strchr(s, '=');
		size_t namelen = eq ? (size_t)(eq - s) : strlen(s);
		bool unknown;
		if (namelen == 0) {
			set_err(err, errlen, "invalid option '%s'", argv[i]);
			return -1;
		}
		char sub[ARGS_MAX_LINE];
		if (apply(a, LAYER_CMDLINE, s, namelen, eq ? eq + 1 : NULL, false, &unknown, sub,
			  sizeof(sub)) != 0) {
			set_err(err, errlen, "%s", sub);
			return -1;
		}
	}
	if (first_positional)
		*first_positional = i;
	return 0;
}

static char *trim(char *s, char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

static enum layer section_layer(const char *name)
{
	const struct netparams *p = netparams_by_name(name);
	if (!p)
		return NLAYERS;
	switch (p->id) {
	case NET_MAIN:
		return LAYER_MAIN;
	case NET_TESTNET:
		return LAYER_TESTNET;
	case NET_REGTEST:
		return LAYER_REGTEST;
	}
	return NLAYERS;
}

/* Parse one config line (NUL-terminated, no newline). */
static int config_line(struct args *a, char *line, enum layer *section, char *err, size_t errlen)
{
	char *s = trim(line, line + strlen(line));
	if (*s == '\0' || *s == '#')
		return 0;
	if (*s == '[') {
		size_t n = strlen(s);
		if (n < 3 || s[n - 1] != ']') {
			set_err(err, errlen, "malformed section header '%s'", s);
			return -1;
		}
		s[n - 1] = '\0';
		enum layer l = section_layer(s + 1);
		if (l == NLAYERS) {
			set_err(err, errlen,
				"unknown section [%s] (expected main, testnet or regtest)", s + 1);
			return -1;
		}
		*section = l;
		return 0;
	}
	char *eq = strchr(s, '=');
	if (!eq) {
		set_err(err, errlen, "expected name=value, got '%s'", s);
		return -1;
	}
	char *key = trim(s, eq);
	char *value = trim(eq + 1, eq + 1 + strlen(eq + 1));
	if (*key == '\0' || *key == '-') {
		set_err(err, errlen, "malformed option name '%s'", key);
		return -1;
	}
	enum layer layer = *section;
	char *dot = strchr(key, '.');
	if (dot) {
		*dot = '\0';
		layer = section_layer(key);
		if (layer == NLAYERS) {
			set_err(err, errlen, "unknown network '%s' in '%s.%s'", key, key, dot + 1);
			return -1;
		}
		key = dot + 1;
	}
	bool unknown;
	if (apply(a, layer, key, strlen(key), value, true, &unknown, err, errlen) != 0) {
		if (unknown && a->ignore_unknown_config)
			return 0;
		return -1;
	}
	return 0;
}

int args_read_config_string(struct args *a, const char *text, size_t len, const char *origin,
			    char *err, size_t errlen)
{
	enum layer section = LAYER_TOP;
	size_t pos = 0;
	unsigned lineno = 0;
	char line[ARGS_MAX_LINE + 1];
	while (pos < len) {
		lineno++;
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n > ARGS_MAX_LINE) {
			set_err(err, errlen, "%s:%u: line longer than %u bytes", origin, lineno,
				ARGS_MAX_LINE);
			return -1;
		}
		if (memchr(start, '\0', n)) {
			set_err(err, errlen, "%s:%u: line contains a NUL byte", origin, lineno);
			return -1;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		char sub[ARGS_MAX_LINE + 128];
		if (config_line(a, line, &section, sub, sizeof(sub)) != 0) {
			set_err(err, errlen, "%s:%u: %s", origin, lineno, sub);
			return -1;
		}
	}
	return 0;
}

int args_read_config_file(struct args *a, const char *path, bool required, char *err, size_t errlen)
{
	char *text;
	size_t len;
	if (fs_read_file(path, ARGS_MAX_CONFIG_SIZE, &text, &len) != 0) {
		if (errno == ENOENT && !required)
			return 0;
		if (errno == EFBIG)
			set_err(err, errlen, "%s: config file larger than %u bytes", path,
				ARGS_MAX_CONFIG_SIZE);
		else
			set_err(err, errlen, "%s: cannot read config file: %s", path,
				strerror(errno));
		return -1;
	}
	int r = args_read_config_string(a, text, len, path, err, errlen);
	free(text);
	return r;
}

void args_select_network(struct args *a, const char *network)
{
	enum layer l = section_layer(network);
	a->net_layer = l == NLAYERS ? LAYER_MAIN : l;
}

/* The layers that apply, highest first. */
static size_t applicable_layers(const struct args *a, enum layer out[3])
{
	out[0] = LAYER_CMDLINE;
	out[1] = a->net_layer;
	out[2] = LAYER_TOP;
	return 3;
}

/* The effective single value: the highest layer that has one. Sets *negated when the highest
 * layer with a setting is a negation. */
static const char *effective(const struct args *a, const struct slot *slot, bool *negated)
{
	enum layer order[3];
	size_t n = applicable_layers(a, order);
	*negated = false;
	for (size_t i = 0; i < n; i++) {
		const struct layer_values *l = &slot->layer[order[i]];
		if (l->negated) {
			*negated = true;
			return NULL;
		}
		if (l->n > 0)
			return l->v[l->n - 1];
	}
	return NULL;
}

bool args_is_set(const struct args *a, const char *name)
{
	const struct slot *slot;
	if (!lookup_slot(a, name, &slot))
		return false;
	bool negated;
	return effective(a, slot, &negated) != NULL || negated;
}

bool args_is_negated(const struct args *a, const char *name)
{
	const struct slot *slot;
	if (!lookup_slot(a, name, &slot))
		return false;
	bool negated;
	effective(a, slot, &negated);
	return negated;
}

const char *args_get_str(const struct args *a, const char *name, const char *def)
{
	const struct slot *slot;
	if (!lookup_slot(a, name, &slot))
		return def;
	bool negated;
	const char *v = effective(a, slot, &negated);
	if (negated)
		return "";
	return v ? v : def;
}

int64_t args_get_int(const struct args *a, const char *name, int64_t def)
{
	const struct slot *slot;
	if (!lookup_slot(a, name, &slot))
		return def;
	bool negated;
	const char *v = effective(a, slot, &negated);
	int64_t r;
	if (negated)
		return 0;
	if (!v || parse_int64(v, &r) != 0)
		return def;
	return r;
}

bool args_get_bool(const struct args *a, const char *name, bool def)
{
	const struct slot *slot;
	if (!lookup_slot(a, name, &slot))
		return def;
	bool negated, b;
	const char *v = effective(a, slot, &negated);
	if (negated)
		return false;
	if (!v || parse_bool(v, &b) != 0)
		return def;
	return b;
}

size_t args_get_list(const struct args *a, const char *name, const char *const **values)
{
	const struct slot *cslot;
	*values = NULL;
	if (!lookup_slot(a, name, &cslot))
		return 0;
	struct slot *slot = (struct slot *)cslot; /* the scratch list is a cache, not state */
	enum layer order[3];
	size_t nl = applicable_layers(a, order), total = 0;
	for (size_t i = 0; i < nl; i++) {
		total += slot->layer[order[i]].n;
		if (slot->layer[order[i]].negated)
			break;
	}
	free(slot->merged);
	slot->merged = NULL;
	slot->nmerged = 0;
	if (total == 0)
		return 0;
	slot->merged = malloc(total * sizeof(*slot->merged));
	if (!slot->merged)
		return 0;
	for (size_t i = 0; i < nl; i++) {
		const struct layer_values *l = &slot->layer[order[i]];
		for (size_t j = 0; j < l->n; j++)
			slot->merged[slot->nmerged++] = l->v[j];
		if (l->negated)
			break;
	}
	*values = slot->merged;
	return slot->nmerged;
}

int args_force_set(struct args *a, const char *name, const char *value, char *err, size_t errlen)
{
	bool unknown;
	return apply(a, LAYER_CMDLINE, name, strlen(name), value, false, &unknown, err, errlen);
}

/* Append text to a growing string; on OOM the string is left as it was and -1 returned. */
static int append(char **buf, size_t *len, size_t *cap, const char *text, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = (*cap ? *cap * 2 : 1024);
		while (ncap < *len + n + 1)
			ncap *= 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, text, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Help text column layout. */
#define HELP_WIDTH  79
#define HELP_INDENT 7

static int append_wrapped(char **buf, size_t *len, size_t *cap, const char *text)
{
	const char *p = text;
	int rc = 0;
	while (*p && rc == 0) {
		size_t room = HELP_WIDTH - HELP_INDENT, n = strlen(p);
		if (n > room) {
			n = room;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = room;
		}
		rc |= append(buf, len, cap, "       ", HELP_INDENT);
		rc |= append(buf, len, cap, p, n);
		rc |= append(buf, len, cap, "\n", 1);
		p += n;
		while (*p == ' ')
			p++;
	}
	return rc;
}

char *args_help_text(const struct arg_def *defs, size_t ndefs)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = append(&buf, &len, &cap, "Options:\n", 9);
	const char *done[64];
	size_t ndone = 0;
	for (size_t c = 0; c < ndefs && rc == 0; c++) {
		const char *cat = defs[c].category ? defs[c].category : "";
		bool seen = false;
		for (size_t k = 0; k < ndone; k++)
			seen |= strcmp(done[k], cat) == 0;
		if (seen || (defs[c].flags & ARG_HIDDEN))
			continue;
		if (ndone < sizeof(done) / sizeof(done[0]))
			done[ndone++] = cat;
		if (*cat) {
			rc |= append(&buf, &len, &cap, "\n", 1);
			rc |= append(&buf, &len, &cap, cat, strlen(cat));
			rc |= append(&buf, &len, &cap, ":\n", 2);
		}
		for (size_t i = c; i < ndefs && rc == 0; i++) {
			const struct arg_def *d = &defs[i];
			if ((d->flags & ARG_HIDDEN) ||
			    strcmp(d->category ? d->category : "", cat) != 0)
				continue;
			char head[256];
			int n = snprintf(head, sizeof(head), "\n  -%s%s%s\n", d->name,
					 d->help_arg ? "=" : "", d->help_arg ? d->help_arg : "");
			rc |= append(&buf, &len, &cap, head,
				     (size_t)n < sizeof(head) ? (size_t)n : 0);
			rc |= append_wrapped(&buf, &len, &cap, d->help ? d->help : "");
		}
	}
	if (rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
