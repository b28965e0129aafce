/* p2p-cli's requests and the rendering of replies (see include/cli/cli_format.h).
 *
 * Replies are parsed whatever their HTTP status, because the server answers JSON-RPC errors
 * with 404 or 500 and a JSON body; only 401 (which carries no JSON) and non-JSON bodies are
 * judged by the status alone. */
#include "cli/cli_format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/protocol.h"
#include "rpc/spec.h"

/* Significant digits of a real number in printed results. */
#define CLI_REAL_DIGITS 16
/* Longest parameter name accepted with -named (every spec name is far shorter). */
#define CLI_MAX_PARAM_NAME 64

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A malloc'd string growing by formatted appends; a failed allocation sticks (s becomes NULL
 * and stays so), so callers check once at the end. */
struct text {
	char *s;
	size_t len;
	bool failed;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *grown;

	if (t->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !(grown = realloc(t->s, t->len + (size_t)n + 1))) {
		free(t->s);
		t->s = NULL;
		t->failed = true;
		return;
	}
	t->s = grown;
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static char *text_take(struct text *t)
{
	return t->failed ? NULL : t->s;
}

static json_t *build_positional(const char *method, const char *const *words, size_t n, char *err,
				size_t errlen)
{
	json_t *arr = json_array();

	if (!arr) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = rpc_spec_convert_arg(method, i, words[i], err, errlen);
		if (!v || json_array_append_new(arr, v) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *build_named(const char *method, const char *const *words, size_t n, char *err,
			   size_t errlen)
{
	json_t *obj = json_object();
	char name[CLI_MAX_PARAM_NAME + 1];

	if (!obj) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(words[i], '=');
		size_t nl = eq ? (size_t)(eq - words[i]) : 0;
		if (!eq) {
			set_err(err, errlen, "named parameter '%s' is not of the form name=value",
				words[i]);
			goto fail;
		}
		if (nl == 0 || nl > CLI_MAX_PARAM_NAME) {
			set_err(err, errlen, "invalid parameter name in '%s'", words[i]);
			goto fail;
		}
		memcpy(name, words[i], nl);
		name[nl] = '\0';
		if (json_object_get(obj, name)) {
			set_err(err, errlen, "parameter '%s' given more than once", name);
			goto fail;
		}
		json_t *v = rpc_spec_convert_named(method, name, eq + 1, err, errlen);
		if (!v || json_object_set_new(obj, name, v) != 0)
			goto fail;
	}
	return obj;
fail:
	json_decref(obj);
	return NULL;
}

json_t *cli_build_params(const char *method, const char *const *words, size_t nwords, bool named,
			 char *err, size_t errlen)
{
	if (nwords > CLI_MAX_PARAMS) {
		set_err(err, errlen, "too many parameters (at most %d)", CLI_MAX_PARAMS);
		return NULL;
	}
	if (named)
		return build_named(method, words, nwords, err, errlen);
	return build_positional(method, words, nwords, err, errlen);
}

char *cli_request_body(const char *method, json_t *params)
{
	json_t *req = json_pack("{s:s, s:O, s:i}", "method", method, "params", params, "id", 1);
	char *s;

	if (!req)
		return NULL;
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return s;
}

char *cli_getinfo_body(void)
{
	json_t *req = json_pack("[{s:s, s:[], s:i}, {s:s, s:[], s:i}]", "method", "getnetworkinfo",
				"params", "id", 0, "method", "uptime", "params", "id", 1);
	char *s;

	if (!req)
		return NULL;
	s = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	return s;
}

void cli_output_clear(struct cli_output *o)
{
	free(o->out);
	free(o->err);
	memset(o, 0, sizeof(*o));
}

char *cli_connect_error_text(const char *host, unsigned port, const char *detail)
{
	struct text t = {0};

	text_add(&t, "error: Could not connect to the server %s:%u", host, port);
	if (detail)
		text_add(&t, " (%s)", detail);
	text_add(&t, "\n\nMake sure the p2pd server is running and that you are connecting to the "
		     "correct RPC port.\n");
	return text_take(&t);
}

static char *dup_text(const char *s)
{
	struct text t = {0};

	text_add(&t, "%s", s);
	return text_take(&t);
}

/* Parse the body, or set o->err and return NULL with *rc set. A 401 is judged first. */
static json_t *parse_reply(int status, const char *body, size_t len, struct cli_output *o,
			   enum cli_exit *rc)
{
	struct text t = {0};
	json_t *j;

	memset(o, 0, sizeof(*o));
	if (status == 401) {
		o->err =
			dup_text("error: Authorization failed: Incorrect rpcuser or rpcpassword\n");
		*rc = CLI_EXIT_AUTH;
		return NULL;
	}
	j = len > 0 ? json_loadb(body, len, JSON_DECODE_ANY, NULL) : NULL;
	if (!j) {
		if (len == 0)
			text_add(&t, "error: no response from server (HTTP status %d)\n", status);
		else
			text_add(&t,
				 "error: could not parse the reply from the server (HTTP status "
				 "%d)\n",
				 status);
		o->err = text_take(&t);
		*rc = CLI_EXIT_RPC_ERROR;
	}
	return j;
}

/* Render a JSON-RPC error object. */
static enum cli_exit render_error(const json_t *error, struct cli_output *o)
{
	struct text t = {0};
	const json_t *code = json_object_get(error, "code");
	const json_t *msg = json_object_get(error, "message");

	if (json_is_integer(code) && json_is_string(msg)) {
		text_add(&t, "error code: %" PRId64 "\nerror message:\n%s\n",
			 (int64_t)json_integer_value(code), json_string_value(msg));
		o->warmup = json_integer_value(code) == RPC_IN_WARMUP;
	} else {
		char *dump = json_dumps(error, JSON_ENCODE_ANY | JSON_COMPACT);
		text_add(&t, "error: %s\n", dump ? dump : "(unprintable error)");
		free(dump);
	}
	o->err = text_take(&t);
	return CLI_EXIT_RPC_ERROR;
}

static void render_result(const json_t *result, struct cli_output *o)
{
	struct text t = {0};

	if (json_is_null(result))
		return;
	if (json_is_string(result)) {
		text_add(&t, "%s\n", json_string_value(result));
	} else {
		/* Reals with 16 significant digits, as bitcoin-cli shows them: 0.000621, not
		 * 0.00062100000000000002. */
		char *dump = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY |
							JSON_REAL_PRECISION(CLI_REAL_DIGITS));
		if (dump)
			text_add(&t, "%s\n", dump);
		else
			t.failed = true;
		free(dump);
	}
	o->out = text_take(&t);
}

/* A well-formed JSON-RPC response object: has "result" or "error". */
static bool is_response(const json_t *r)
{
	return json_is_object(r) && (json_object_get(r, "result") || json_object_get(r, "error"));
}

static enum cli_exit bad_reply(struct cli_output *o, const char *what)
{
	struct text t = {0};

	text_add(&t, "error: the server's reply is not %s\n", what);
	o->err = text_take(&t);
	return CLI_EXIT_RPC_ERROR;
}

static bool has_error(const json_t *r)
{
	const json_t *e = json_object_get(r, "error");

	return e && !json_is_null(e);
}

/* Render one response object: its error, or its result. */
static enum cli_exit render_response(const json_t *r, struct cli_output *o)
{
	if (has_error(r))
		return render_error(json_object_get(r, "error"), o);
	render_result(json_object_get(r, "result"), o);
	return CLI_EXIT_OK;
}

enum cli_exit cli_interpret_reply(int status, const char *body, size_t len, struct cli_output *o)
{
	enum cli_exit rc = CLI_EXIT_RPC_ERROR;
	json_t *j = parse_reply(status, body, len, o, &rc);

	if (!j)
		return rc;
	if (is_response(j))
		rc = render_response(j, o);
	else
		rc = bad_reply(o, "a JSON-RPC response");
	json_decref(j);
	return rc;
}

/* The element of a batch reply with the given id, or NULL. */
static const json_t *batch_find(const json_t *arr, json_int_t id)
{
	size_t i;
	const json_t *r;

	json_array_foreach(arr, i, r)
	{
		const json_t *rid = json_object_get(r, "id");
		if (json_is_integer(rid) && json_integer_value(rid) == id)
			return r;
	}
	return NULL;
}

static json_int_t int_field(const json_t *obj, const char *name, json_int_t def)
{
	const json_t *v = json_object_get(obj, name);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

/* a + b, saturated: the counts come from the server's reply and can be anything. */
static int64_t add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static void summarise(struct text *t, const json_t *net, json_int_t uptime)
{
	const char *subver = json_string_value(json_object_get(net, "subversion"));
	const char *network = json_string_value(json_object_get(net, "network"));
	const char *pubkey = json_string_value(json_object_get(net, "nodepubkey"));
	json_int_t in = int_field(net, "connections_in", 0);
	json_int_t outc = int_field(net, "connections_out", 0);
	json_int_t total = int_field(net, "connections", (json_int_t)add_sat(in, outc));

	text_add(t, "Version: %" PRId64, (int64_t)int_field(net, "version", 0));
	if (subver)
		text_add(t, " (%s, protocol %" PRId64 ")", subver,
			 (int64_t)int_field(net, "protocolversion", 0));
	text_add(t, "\nNetwork: %s\n", network ? network : "unknown");
	text_add(t, "Node public key: %s\n", pubkey ? pubkey : "unknown");
	text_add(t, "Connections: in %" PRId64 ", out %" PRId64 ", total %" PRId64 "\n",
		 (int64_t)in, (int64_t)outc, (int64_t)total);
	text_add(t, "Uptime: %" PRId64 " seconds\n", (int64_t)uptime);
}

json_t *cli_batch_results(int status, const char *body, size_t len, size_t n,
			  const json_t **results, struct cli_output *o, enum cli_exit *rc)
{
	json_t *j = parse_reply(status, body, len, o, rc);
	const json_t *r[CLI_MAX_BATCH];

	if (!j)
		return NULL;
	if (n > CLI_MAX_BATCH) {
		*rc = bad_reply(o, "a batch reply");
		goto fail;
	}
	if (!json_is_array(j)) {
		/* A server that refused the batch as a whole. */
		*rc = has_error(j) ? render_error(json_object_get(j, "error"), o)
				   : bad_reply(o, "a batch reply");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		r[i] = batch_find(j, (json_int_t)i);
		if (!is_response(r[i])) {
			*rc = bad_reply(o, "a complete batch reply");
			goto fail;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (has_error(r[i])) {
			*rc = render_error(json_object_get(r[i], "error"), o);
			goto fail;
		}
		results[i] = json_object_get(r[i], "result");
	}
	*rc = CLI_EXIT_OK;
	return j;
fail:
	json_decref(j);
	return NULL;
}

enum cli_exit cli_interpret_getinfo(int status, const char *body, size_t len, struct cli_output *o)
{
	enum cli_exit rc;
	const json_t *res[2];
	json_t *j = cli_batch_results(status, body, len, 2, res, o, &rc);
	struct text t = {0};

	if (!j)
		return rc;
	if (!json_is_object(res[0]) || !json_is_integer(res[1])) {
		rc = bad_reply(o, "getnetworkinfo and uptime results");
	} else {
		summarise(&t, res[0], json_integer_value(res[1]));
		o->out = text_take(&t);
	}
	json_decref(j);
	return rc;
}
