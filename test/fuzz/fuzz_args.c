/* Fuzz the config file and command-line parser (util/args) over the real option tables of p2pd
 * and p2p-cli, and the parsers their values go through. The first byte picks the table (bit 0:
 * p2pd or p2p-cli), the network section that applies (bits 1-2) and the layout of the rest
 * (bit 3): the config file up to the first NUL byte, then the command-line words separated by NUL
 * bytes; or (bit 3 set) all of it the config file, NUL bytes included, and no words.
 *
 * Whatever the bytes, nothing may crash, leak or overflow a buffer, every failure comes with a
 * message (the config file's naming the file and line), and what is read back obeys the table:
 * a set boolean reads "0" or "1", a set integer is within the option's [min, max], a negated
 * option reads as "", 0 and false, an unset one as its default, and a list holds at most
 * ARGS_MAX_LIST values per layer, the effective value among them. Values go on to the parsers
 * p2pd uses for them: -whitelist (permissions, then a subnet that formats and parses back to
 * itself), -rpcauth, -debug categories, -chain, and the host:port of -connect, -addnode,
 * -seednode and -rpcconnect. With p2p-cli's table the words after the options are a command and
 * its arguments, converted to JSON as p2p-cli does (positional, and "name=value" as with
 * -named): a string argument converts to the same string, anything else to JSON or an error
 * message. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli_options.h"
#include "net/banman.h"
#include "net/connman.h"
#include "net/netaddr.h"
#include "node/options.h"
#include "rpc/auth.h"
#include "rpc/spec.h"
#include "util/args.h"
#include "util/log.h"
#include "util/netparams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Command-line words looked at; the parser's cost is linear in them. */
#define FUZZ_MAX_WORDS 64
/* Layers a value can come from: command line, the network's section, the top of the file. */
#define FUZZ_LAYERS 3

static const char *const networks[4] = {"main", "testnet", "regtest", "main"};

static bool has_value(const char *const *vals, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(vals[i], v) == 0)
			return true;
	return false;
}

/* What the table promises about one option, whatever was parsed. */
static void check_option(const struct args *a, const struct arg_def *d)
{
	bool set = args_is_set(a, d->name), neg = args_is_negated(a, d->name);
	const char *s = args_get_str(a, d->name, NULL);
	const char *const *vals;
	size_t n = args_get_list(a, d->name, &vals);

	assert(n <= FUZZ_LAYERS * ARGS_MAX_LIST);
	if (d->type != ARG_LIST)
		assert(n <= FUZZ_LAYERS);
	if (!set) {
		assert(!neg && s == NULL && n == 0);
		assert(args_get_int(a, d->name, 7) == 7 && args_get_bool(a, d->name, true));
		return;
	}
	if (neg) {
		assert(s != NULL && s[0] == '\0');
		assert(args_get_int(a, d->name, 7) == 0 && !args_get_bool(a, d->name, true));
		return;
	}
	assert(s != NULL && n >= 1 && has_value(vals, n, s));
	switch (d->type) {
	case ARG_BOOL: {
		bool b;
		assert(parse_bool(s, &b) == 0 && args_get_bool(a, d->name, !b) == b);
		break;
	}
	case ARG_INT: {
		int64_t v;
		assert(parse_int64(s, &v) == 0 && v >= d->min && v <= d->max);
		assert(args_get_int(a, d->name, v == 0 ? 1 : 0) == v);
		break;
	}
	case ARG_STRING:
	case ARG_LIST:
		break;
	}
}

static void check_whitelist(const char *v)
{
	unsigned flags;
	const char *rest;
	char err[256] = "";
	struct subnet sn, again;
	char text[SUBNET_STRLEN];

	if (net_perm_parse(v, &flags, &rest, err, sizeof(err)) != 0) {
		assert(err[0] != '\0');
		return;
	}
	assert(rest >= v && rest <= v + strlen(v));
	if (subnet_parse(&sn, rest, err, sizeof(err)) != 0)
		return;
	assert(sn.bits <= 128);
	subnet_format(&sn, text, sizeof(text));
	assert(subnet_parse(&again, text, err, sizeof(err)) == 0);
	assert(again.bits == sn.bits && memcmp(again.addr, sn.addr, 16) == 0);
}

static void check_hostport(const char *v)
{
	char host[256];
	uint16_t port = 0;
	bool has_port = false;
	if (netaddr_split_host_port(v, host, sizeof(host), &port, 9733) == 0)
		assert(host[0] != '\0' && strlen(host) < sizeof(host) && port != 0);
	if (cli_parse_hostport(v, host, sizeof(host), &port, &has_port) == 0) {
		assert(strlen(host) < sizeof(host));
		assert(!has_port || port != 0);
	}
}

/* Hand each value of name to fn. */
static void each_value(const struct args *a, const char *name, void (*fn)(const char *))
{
	const char *const *vals;
	size_t n = args_get_list(a, name, &vals);
	/* The list is rebuilt by the next args_get_list: copy it. */
	const char **copy = n ? malloc(n * sizeof(*copy)) : NULL;
	assert(n == 0 || copy != NULL);
	if (n)
		memcpy(copy, vals, n * sizeof(*copy));
	for (size_t i = 0; i < n; i++)
		fn(copy[i]);
	free(copy);
}

static void check_debug(const char *v)
{
	if (log_category_known(v) && strcmp(v, "none") != 0 && strcmp(v, "0") != 0)
		assert(log_category_from_name(v) != LOG_NONE);
}

static void node_values(const struct args *a)
{
	char err[256];
	each_value(a, "whitelist", check_whitelist);
	each_value(a, "whitebind", check_whitelist);
	each_value(a, "connect", check_hostport);
	each_value(a, "addnode", check_hostport);
	each_value(a, "seednode", check_hostport);
	each_value(a, "debug", check_debug);
	each_value(a, "debugexclude", check_debug);
	const char *chain = args_get_str(a, "chain", "main");
	const struct netparams *p = netparams_by_name(chain);
	assert(p == NULL || strcmp(p->name, chain) == 0);

	const char *const *vals;
	size_t n = args_get_list(a, "rpcauth", &vals);
	struct rpc_auth *auth = rpc_auth_new();
	assert(auth != NULL);
	for (size_t i = 0; i < n && i < RPC_AUTH_MAX_ENTRIES; i++)
		if (rpc_auth_add_rpcauth(auth, vals[i], err, sizeof(err)) != 0)
			assert(err[0] != '\0');
	rpc_auth_free(auth);
}

/* One argument word converted for argument a of a command (a NULL: unknown): a string argument
 * is the word itself; otherwise a JSON value, or NULL with a message. */
static void check_converted(json_t *v, const struct rpc_arg_spec *a, const char *word,
			    const char *err)
{
	if (v == NULL) {
		assert(err[0] != '\0');
		return;
	}
	if (a != NULL && a->type == RPC_T_STR)
		assert(json_is_string(v) && strcmp(json_string_value(v), word) == 0);
	json_decref(v);
}

/* p2p-cli's command words: argv[first] is the command, the rest its arguments. */
static void cli_words(int argc, char **argv, int first)
{
	if (first >= argc)
		return;
	const char *method = argv[first];
	const struct rpc_spec *spec = rpc_spec_find(method);
	size_t nargs = spec ? rpc_spec_nargs(spec) : 0;
	for (int i = first + 1; i < argc; i++) {
		char err[512] = "";
		const char *w = argv[i];
		size_t k = (size_t)(i - first - 1);
		json_t *v = rpc_spec_convert_arg(method, k, w, err, sizeof(err));
		check_converted(v, k < nargs ? &spec->args[k] : NULL, w, err);

		const char *eq = strchr(w, '=');
		if (eq == NULL)
			continue;
		char *name = strndup(w, (size_t)(eq - w));
		const struct rpc_arg_spec *a = NULL;
		assert(name != NULL);
		for (size_t j = 0; j < nargs; j++)
			if (strcmp(spec->args[j].name, name) == 0)
				a = &spec->args[j];
		err[0] = '\0';
		v = rpc_spec_convert_named(method, name, eq + 1, err, sizeof(err));
		check_converted(v, a, eq + 1, err);
		free(name);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool cli = data[0] & 1;
	const char *network = networks[(data[0] >> 1) & 3];
	size_t ndefs;
	const struct arg_def *defs = cli ? cli_arg_defs(&ndefs) : node_options;
	if (!cli)
		ndefs = node_options_count;

	/* Config text up to the first NUL (or all of it); then the words, each NUL-terminated. */
	char *buf = malloc(size);
	assert(buf != NULL);
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	const char *text = buf;
	bool config_only = data[0] & 8;
	size_t textlen = config_only ? size - 1 : strlen(buf);
	char *argv[FUZZ_MAX_WORDS + 1];
	int argc = 0;
	argv[argc++] = (char *)(cli ? "p2p-cli" : "p2pd");
	for (size_t pos = textlen + 1; !config_only && pos < size - 1 && argc < FUZZ_MAX_WORDS;
	     argc++) {
		argv[argc] = buf + pos;
		pos += strlen(buf + pos) + 1;
	}
	argv[argc] = NULL;

	struct args *a = args_new(defs, ndefs);
	char err[ARGS_MAX_LINE + 256];
	int first = -1;
	assert(a != NULL);
	if (cli)
		args_set_ignore_unknown_config(a, true);
	err[0] = '\0';
	if (args_parse_cmdline(a, argc, argv, &first, err, sizeof(err)) == 0)
		assert(first >= 1 && first <= argc);
	else
		assert(err[0] != '\0');
	err[0] = '\0';
	if (args_read_config_string(a, text, textlen, "fuzz.conf", err, sizeof(err)) != 0)
		assert(strncmp(err, "fuzz.conf:", 10) == 0);
	args_select_network(a, network);

	for (size_t i = 0; i < ndefs; i++)
		check_option(a, &defs[i]);
	if (cli) {
		each_value(a, "rpcconnect", check_hostport);
		if (first >= 1)
			cli_words(argc, argv, first);
	} else {
		node_values(a);
	}

	args_free(a);
	free(buf);
	return 0;
}
