/* Unit tests for p2p-cli's pure logic: words to params and request bodies, replies to output
 * and exit codes, -getinfo's summary, -netinfo's peer table, -rpcconnect parsing, option/config
 * resolution and credentials, -stdin word collection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli_format.h"
#include "cli/cli_netinfo.h"
#include "cli/cli_options.h"
#include "cli/cli_run.h"

/* ---- request building ---------------------------------------------------------------- */

static json_t *params_of(const char *method, bool named, size_t n, ...)
{
	const char *words[8];
	char err[256];
	va_list ap;

	assert_true(n <= 8);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		words[i] = va_arg(ap, const char *);
	va_end(ap);
	err[0] = '\0';
	json_t *p = cli_build_params(method, words, n, named, err, sizeof(err));
	if (!p)
		assert_true(err[0] != '\0'); /* every failure says why */
	return p;
}

static void assert_json_text(const json_t *j, const char *expected)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	assert_non_null(s);
	assert_string_equal(s, expected);
	free(s);
}

static void test_params_positional(void **state)
{
	(void)state;
	json_t *p;

	/* A string argument stays a string even when it looks like JSON. */
	p = params_of("help", false, 1, "123");
	assert_json_text(p, "[\"123\"]");
	json_decref(p);
	/* A numeric argument is parsed. */
	p = params_of("setmocktime", false, 1, "1700000000");
	assert_json_text(p, "[1700000000]");
	json_decref(p);
	p = params_of("uptime", false, 0);
	assert_json_text(p, "[]");
	json_decref(p);
	/* An array argument is parsed as JSON. */
	p = params_of("logging", false, 2, "[\"net\",\"rpc\"]", "[]");
	assert_json_text(p, "[[\"net\",\"rpc\"],[]]");
	json_decref(p);
	/* Not JSON where JSON is required: refused. */
	assert_null(params_of("setmocktime", false, 1, "soon"));
	assert_null(params_of("logging", false, 1, "[net"));
}

static void test_params_named(void **state)
{
	(void)state;
	json_t *p;

	p = params_of("help", true, 1, "command=uptime");
	assert_json_text(p, "{\"command\":\"uptime\"}");
	json_decref(p);
	/* The value may itself contain '='. */
	p = params_of("help", true, 1, "command=a=b");
	assert_json_text(p, "{\"command\":\"a=b\"}");
	json_decref(p);
	p = params_of("setmocktime", true, 1, "timestamp=5");
	assert_json_text(p, "{\"timestamp\":5}");
	json_decref(p);
	assert_null(params_of("help", true, 1, "uptime"));  /* no '=' */
	assert_null(params_of("help", true, 1, "=uptime")); /* empty name */
	assert_null(params_of("setmocktime", true, 1, "timestamp=x"));
	assert_null(params_of("help", true, 2, "command=a", "command=b")); /* repeated */
}

static void test_params_too_many(void **state)
{
	(void)state;
	const char **words = calloc(CLI_MAX_PARAMS + 1, sizeof(*words));
	char err[128];
	json_t *p;

	assert_non_null(words);
	for (size_t i = 0; i <= CLI_MAX_PARAMS; i++)
		words[i] = "x";
	p = cli_build_params("help", words, CLI_MAX_PARAMS, false, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(json_array_size(p), CLI_MAX_PARAMS);
	json_decref(p);
	assert_null(cli_build_params("help", words, CLI_MAX_PARAMS + 1, false, err, sizeof(err)));
	free(words);
}

static void test_request_bodies(void **state)
{
	(void)state;
	json_t *params = json_pack("[s]", "x");
	char *body = cli_request_body("help", params);
	json_t *j;

	assert_non_null(body);
	j = json_loads(body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "help");
	assert_true(json_equal(json_object_get(j, "params"), params));
	assert_true(json_is_integer(json_object_get(j, "id")));
	json_decref(j);
	json_decref(params);
	free(body);

	body = cli_getinfo_body();
	assert_non_null(body);
	j = json_loads(body, 0, NULL);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "method")),
			    "getnetworkinfo");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "method")),
			    "uptime");
	json_decref(j);
	free(body);
}

/* ---- replies -------------------------------------------------------------------------- */

struct outcome {
	enum cli_exit rc;
	struct cli_output o;
};

static struct outcome reply(int status, const char *body)
{
	struct outcome r;

	r.rc = cli_interpret_reply(status, body, strlen(body), &r.o);
	return r;
}

static void expect(struct outcome r, enum cli_exit rc, const char *out, const char *err)
{
	assert_int_equal(r.rc, rc);
	if (out)
		assert_string_equal(r.o.out, out);
	else
		assert_null(r.o.out);
	if (err)
		assert_string_equal(r.o.err, err);
	else
		assert_null(r.o.err);
	cli_output_clear(&r.o);
}

static void test_reply_results(void **state)
{
	(void)state;

	expect(reply(200, "{\"result\":\"hello\\nworld\",\"error\":null,\"id\":1}"), CLI_EXIT_OK,
	       "hello\nworld\n", NULL);
	expect(reply(200, "{\"result\":null,\"error\":null,\"id\":1}"), CLI_EXIT_OK, NULL, NULL);
	expect(reply(200, "{\"result\":42,\"error\":null,\"id\":1}"), CLI_EXIT_OK, "42\n", NULL);
	expect(reply(200, "{\"result\":{\"a\":1,\"b\":[true]},\"error\":null,\"id\":1}"),
	       CLI_EXIT_OK, "{\n  \"a\": 1,\n  \"b\": [\n    true\n  ]\n}\n", NULL);
	/* A result without an error member is still a result. */
	expect(reply(200, "{\"result\":true}"), CLI_EXIT_OK, "true\n", NULL);
	/* Reals as bitcoin-cli shows them, not with the noise of 17 digits. */
	expect(reply(200, "{\"result\":[0.000621,0.00062100000000000002,1.5,1e-7],\"id\":1}"),
	       CLI_EXIT_OK, "[\n  0.000621,\n  0.000621,\n  1.5,\n  1e-7\n]\n", NULL);
}

static void test_reply_errors(void **state)
{
	(void)state;
	struct outcome r;

	expect(reply(404, "{\"result\":null,\"error\":{\"code\":-32601,\"message\":\"Method not "
			  "found\"},\"id\":1}"),
	       CLI_EXIT_RPC_ERROR, NULL, "error code: -32601\nerror message:\nMethod not found\n");
	r = reply(500,
		  "{\"result\":null,\"error\":{\"code\":-28,\"message\":\"Loading\"},\"id\":1}");
	assert_true(r.o.warmup);
	expect(r, CLI_EXIT_RPC_ERROR, NULL, "error code: -28\nerror message:\nLoading\n");
	r = reply(500, "{\"result\":null,\"error\":{\"code\":-8,\"message\":\"x\"},\"id\":1}");
	assert_false(r.o.warmup);
	cli_output_clear(&r.o);
	/* An error that is not {code, message} is shown as JSON. */
	expect(reply(500, "{\"result\":null,\"error\":\"boom\",\"id\":1}"), CLI_EXIT_RPC_ERROR,
	       NULL, "error: \"boom\"\n");
	/* 401 is an authentication failure whatever the body. */
	expect(reply(401, ""), CLI_EXIT_AUTH, NULL,
	       "error: Authorization failed: Incorrect rpcuser or rpcpassword\n");
	expect(reply(401, "{\"result\":1}"), CLI_EXIT_AUTH, NULL,
	       "error: Authorization failed: Incorrect rpcuser or rpcpassword\n");
	/* Not JSON, empty, or JSON that is not a response. */
	expect(reply(503, "<html>busy</html>"), CLI_EXIT_RPC_ERROR, NULL,
	       "error: could not parse the reply from the server (HTTP status 503)\n");
	expect(reply(200, ""), CLI_EXIT_RPC_ERROR, NULL,
	       "error: no response from server (HTTP status 200)\n");
	expect(reply(200, "[1,2]"), CLI_EXIT_RPC_ERROR, NULL,
	       "error: the server's reply is not a JSON-RPC response\n");
	expect(reply(200, "{\"id\":1}"), CLI_EXIT_RPC_ERROR, NULL,
	       "error: the server's reply is not a JSON-RPC response\n");
}

static void test_reply_not_nul_terminated(void **state)
{
	(void)state;
	const char body[] = "{\"result\":\"ok\"}GARBAGE";
	struct cli_output o;

	/* Only len bytes count. */
	assert_int_equal(cli_interpret_reply(200, body, 15, &o), CLI_EXIT_OK);
	assert_string_equal(o.out, "ok\n");
	cli_output_clear(&o);
	assert_int_equal(cli_interpret_reply(200, body, sizeof(body) - 1, &o), CLI_EXIT_RPC_ERROR);
	cli_output_clear(&o);
}

static const char netinfo[] =
	"{\"result\":{\"version\":100,\"subversion\":\"/p2pd:0.1.0/\",\"protocolversion\":1,"
	"\"network\":\"regtest\",\"nodepubkey\":\"ab01\",\"connections\":3,"
	"\"connections_in\":1,\"connections_out\":2},\"error\":null,\"id\":0}";
static const char uptime[] = "{\"result\":75,\"error\":null,\"id\":1}";
static const char summary[] = "Version: 100 (/p2pd:0.1.0/, protocol 1)\n"
			      "Network: regtest\n"
			      "Node public key: ab01\n"
			      "Connections: in 1, out 2, total 3\n"
			      "Uptime: 75 seconds\n";

static struct outcome getinfo(int status, const char *body)
{
	struct outcome r;

	r.rc = cli_interpret_getinfo(status, body, strlen(body), &r.o);
	return r;
}

static void test_getinfo(void **state)
{
	(void)state;
	char body[1024];

	snprintf(body, sizeof(body), "[%s,%s]", netinfo, uptime);
	expect(getinfo(200, body), CLI_EXIT_OK, summary, NULL);
	/* Batch replies may come in any order. */
	snprintf(body, sizeof(body), "[%s,%s]", uptime, netinfo);
	expect(getinfo(200, body), CLI_EXIT_OK, summary, NULL);
	/* One call failing fails the whole. */
	snprintf(body, sizeof(body),
		 "[%s,{\"result\":null,\"error\":{\"code\":-1,\"message\":\"no\"},\"id\":1}]",
		 netinfo);
	expect(getinfo(200, body), CLI_EXIT_RPC_ERROR, NULL,
	       "error code: -1\nerror message:\nno\n");
	/* A server that refuses the batch as a whole. */
	expect(getinfo(500, "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"bad\"}}"),
	       CLI_EXIT_RPC_ERROR, NULL, "error code: -32600\nerror message:\nbad\n");
	/* Missing or mistyped members. */
	snprintf(body, sizeof(body), "[%s]", netinfo);
	expect(getinfo(200, body), CLI_EXIT_RPC_ERROR, NULL,
	       "error: the server's reply is not a complete batch reply\n");
	snprintf(body, sizeof(body), "[%s,{\"result\":\"long\",\"error\":null,\"id\":1}]", netinfo);
	expect(getinfo(200, body), CLI_EXIT_RPC_ERROR, NULL,
	       "error: the server's reply is not getnetworkinfo and uptime results\n");
	expect(getinfo(401, ""), CLI_EXIT_AUTH, NULL,
	       "error: Authorization failed: Incorrect rpcuser or rpcpassword\n");
	/* Without "connections" the total is the sum, saturated: the reply can hold anything
	 * (fuzz_cli_reply: in + out overflowed). */
	snprintf(body, sizeof(body),
		 "[{\"result\":{\"connections_in\":9223372036854775807,\"connections_out\":1},"
		 "\"error\":null,\"id\":0},%s]",
		 uptime);
	struct outcome r = getinfo(200, body);
	assert_int_equal(r.rc, CLI_EXIT_OK);
	assert_non_null(
		strstr(r.o.out, "in 9223372036854775807, out 1, total 9223372036854775807\n"));
	cli_output_clear(&r.o);
}

/* ---- -netinfo ---------------------------------------------------------------------------- */

static struct outcome netinfo_at(int status, const char *body, int64_t now)
{
	struct outcome r;

	r.rc = cli_interpret_netinfo(status, body, strlen(body), now, &r.o);
	return r;
}

/* Two peers as getpeerinfo shows them: an outbound one with a ping, and an inbound one half
 * way through its handshake (no ping, no user agent yet). Times are around T. */
#define T 1700000000
static const char peers_reply[] =
	"{\"result\":[{\"id\":1,\"addr\":\"127.0.0.1:29733\",\"inbound\":false,"
	"\"connection_type\":\"manual\",\"conntime\":1699999700,\"lastsend\":1699999998,"
	"\"lastrecv\":1699999990,\"pingtime\":0.0123,\"minping\":0.001,"
	"\"subver\":\"/p2pd:0.1.0/\"},"
	"{\"id\":12,\"addr\":\"[2001:db8::1]:41000\",\"inbound\":true,"
	"\"connection_type\":\"inbound\",\"conntime\":1700000000,\"lastsend\":1700000000,"
	"\"lastrecv\":0,\"subver\":\"\"}],\"error\":null,\"id\":0}";
static const char net_reply[] =
	"{\"result\":{\"connections\":2,\"localaddresses\":[{\"address\":\"127.0.0.1\","
	"\"port\":29734},{\"address\":\"::\",\"port\":29734}]},\"error\":null,\"id\":1}";
static const char table[] =
	"<->  type    ping  send  recv  age  id  address              version\n"
	"out  manual  12.3     2    10    5   1  127.0.0.1:29733      /p2pd:0.1.0/\n"
	"in   in         .     0     .    0  12  [2001:db8::1]:41000  \n"
	"\n"
	"peers: in 1, out 1, total 2\n"
	"local addresses: 127.0.0.1:29734, [::]:29734\n";

static void test_netinfo(void **state)
{
	(void)state;
	char body[2048];
	json_t *j;
	char *req = cli_netinfo_body();

	/* The batch: getpeerinfo (id 0), getnetworkinfo (id 1). */
	assert_non_null(req);
	j = json_loads(req, 0, NULL);
	assert_json_text(j, "[{\"method\":\"getpeerinfo\",\"params\":[],\"id\":0},"
			    "{\"method\":\"getnetworkinfo\",\"params\":[],\"id\":1}]");
	json_decref(j);
	free(req);

	snprintf(body, sizeof(body), "[%s,%s]", peers_reply, net_reply);
	expect(netinfo_at(200, body, T), CLI_EXIT_OK, table, NULL);
	snprintf(body, sizeof(body), "[%s,%s]", net_reply, peers_reply);
	expect(netinfo_at(200, body, T), CLI_EXIT_OK, table, NULL);

	/* The type column shortens every connection type (doc/discovery.md); one it does not
	 * know is shown as it came, a missing one as ".". */
	snprintf(body, sizeof(body),
		 "[{\"result\":[{\"id\":2,\"inbound\":false,"
		 "\"connection_type\":\"outbound-full-relay\"},"
		 "{\"id\":3,\"inbound\":false,\"connection_type\":\"feeler\"},"
		 "{\"id\":4,\"inbound\":false,\"connection_type\":\"addr-fetch\"},"
		 "{\"id\":5,\"inbound\":false,\"connection_type\":\"block-relay-only\"},"
		 "{\"id\":6,\"inbound\":true,\"connection_type\":\"inbound\"},"
		 "{\"id\":7,\"inbound\":true}],\"error\":null,\"id\":0},%s]",
		 net_reply);
	expect(netinfo_at(200, body, T), CLI_EXIT_OK,
	       "<->  type              ping  send  recv  age  id  address  version\n"
	       "out  full                 .     .     .    .   2  .        .\n"
	       "out  feeler               .     .     .    .   3  .        .\n"
	       "out  fetch                .     .     .    .   4  .        .\n"
	       "out  block-relay-only     .     .     .    .   5  .        .\n"
	       "in   in                   .     .     .    .   6  .        .\n"
	       "in   .                    .     .     .    .   7  .        .\n"
	       "\n"
	       "peers: in 2, out 4, total 6\n"
	       "local addresses: 127.0.0.1:29734, [::]:29734\n",
	       NULL);

	/* No peers, no listening address; the header still says what the columns are. */
	snprintf(body, sizeof(body),
		 "[{\"result\":[],\"error\":null,\"id\":0},"
		 "{\"result\":{\"localaddresses\":[]},\"error\":null,\"id\":1}]");
	expect(netinfo_at(200, body, T), CLI_EXIT_OK,
	       "<->  type  ping  send  recv  age  id  address  version\n"
	       "\n"
	       "peers: in 0, out 0, total 0\n"
	       "local addresses: none\n",
	       NULL);

	/* Errors: a failed call, a node without a network, wrong shapes, no batch at all. */
	snprintf(body, sizeof(body),
		 "[{\"result\":null,\"error\":{\"code\":-31,\"message\":\"Error: Peer-to-peer "
		 "functionality missing or disabled\"},\"id\":0},%s]",
		 net_reply);
	expect(netinfo_at(200, body, T), CLI_EXIT_RPC_ERROR, NULL,
	       "error code: -31\nerror message:\nError: Peer-to-peer functionality missing or "
	       "disabled\n");
	snprintf(body, sizeof(body), "[{\"result\":{},\"error\":null,\"id\":0},%s]", net_reply);
	expect(netinfo_at(200, body, T), CLI_EXIT_RPC_ERROR, NULL,
	       "error: the server's reply is not getpeerinfo and getnetworkinfo results\n");
	snprintf(body, sizeof(body), "[%s]", peers_reply);
	expect(netinfo_at(200, body, T), CLI_EXIT_RPC_ERROR, NULL,
	       "error: the server's reply is not a complete batch reply\n");
	expect(netinfo_at(200, "{\"result\":1,\"error\":null,\"id\":0}", T), CLI_EXIT_RPC_ERROR,
	       NULL, "error: the server's reply is not a batch reply\n");
	expect(netinfo_at(401, "", T), CLI_EXIT_AUTH, NULL,
	       "error: Authorization failed: Incorrect rpcuser or rpcpassword\n");
}

static void test_connect_error_text(void **state)
{
	(void)state;
	char *s = cli_connect_error_text("127.0.0.1", 29732, NULL);

	assert_string_equal(s, "error: Could not connect to the server 127.0.0.1:29732\n\nMake "
			       "sure the p2pd server is running and that you are connecting to "
			       "the correct RPC port.\n");
	free(s);
	s = cli_connect_error_text("::1", 1, "timeout reached");
	assert_non_null(strstr(s, "server ::1:1 (timeout reached)\n\n"));
	free(s);
}

/* ---- -rpcconnect ---------------------------------------------------------------------- */

static void test_hostport(void **state)
{
	(void)state;
	char host[CLI_MAX_HOST];
	uint16_t port = 7;
	bool has;

	assert_int_equal(cli_parse_hostport("127.0.0.1", host, sizeof(host), &port, &has), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_false(has);
	assert_int_equal(port, 7);
	assert_int_equal(cli_parse_hostport("node.example:8332", host, sizeof(host), &port, &has),
			 0);
	assert_string_equal(host, "node.example");
	assert_true(has);
	assert_int_equal(port, 8332);
	assert_int_equal(cli_parse_hostport("[::1]:65535", host, sizeof(host), &port, &has), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 65535);
	assert_int_equal(cli_parse_hostport("[::1]", host, sizeof(host), &port, &has), 0);
	assert_false(has);
	assert_int_equal(cli_parse_hostport("fe80::1", host, sizeof(host), &port, &has), 0);
	assert_string_equal(host, "fe80::1");
	assert_false(has);

	const char *bad[] = {"",   ":80",  "host:",  "host:0", "host:65536", "host:8x",
			     "[]", "[::1", "[::1]x", "[::1]:", "host:-1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cli_parse_hostport(bad[i], host, sizeof(host), &port, &has) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* A host that does not fit. */
	assert_int_equal(cli_parse_hostport("abcdef", host, 6, &port, &has), -1);
}

/* ---- options and config --------------------------------------------------------------- */

struct tmpdir {
	char path[256];
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int make_tmpdir(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/test_cli.XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int remove_tmpdir(void **state)
{
	struct tmpdir *t = *state;
	const char *files[] = {"p2pd.conf", ".cookie"};
	char path[512];
	int rc;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t->path, files[i]);
		unlink(path);
	}
	rc = rmdir(t->path);
	free(t);
	return rc;
}

/* Load options from a NULL-terminated argument list (argv[0] is added). */
static int load(struct cli_options *o, int *first, char *err, size_t errlen, ...)
{
	static char bufs[16][512];
	char *argv[17];
	int argc = 0;
	va_list ap;
	const char *s = "p2p-cli";

	va_start(ap, errlen);
	do {
		assert_true(argc < 16 && strlen(s) < sizeof(bufs[0]));
		strcpy(bufs[argc], s);
		argv[argc] = bufs[argc];
		argc++;
	} while ((s = va_arg(ap, const char *)) != NULL);
	va_end(ap);
	argv[argc] = NULL;
	return cli_options_load(o, argc, argv, first, err, errlen);
}

static void test_options_config(void **state)
{
	struct tmpdir *t = *state;
	char dd[300], err[512], sub[512];
	struct cli_options o;
	int first;

	snprintf(dd, sizeof(dd), "-datadir=%s", t->path);
	/* p2pd-only keys are skipped; the [regtest] section applies to -regtest. */
	write_file(t->path, "p2pd.conf",
		   "# node settings\nserver=1\nrpcbind=127.0.0.1\nrpcuser=alice\n"
		   "[regtest]\nrpcport=40000\nrpcpassword=secret\nmaxconnections=8\n");
	assert_int_equal(load(&o, &first, err, sizeof(err), dd, "-regtest", "uptime", NULL), 0);
	assert_int_equal(first, 3);
	assert_string_equal(o.net->name, "regtest");
	assert_int_equal(o.port, 40000);
	assert_string_equal(o.host, "127.0.0.1");
	assert_string_equal(o.rpcuser, "alice");
	assert_string_equal(o.rpcpassword, "secret");
	snprintf(sub, sizeof(sub), "%s/regtest", t->path);
	assert_string_equal(o.netdir, sub);
	snprintf(sub, sizeof(sub), "%s/regtest/.cookie", t->path);
	assert_string_equal(o.cookie_path, sub);
	assert_int_equal(o.client_timeout, CLI_DEFAULT_CLIENT_TIMEOUT);
	char *creds = cli_credentials(&o, err, sizeof(err));
	assert_string_equal(creds, "alice:secret");
	free(creds);
	cli_options_clear(&o);

	/* On main, the section does not apply: default port, cookie at the root. */
	assert_int_equal(load(&o, &first, err, sizeof(err), dd, "-rpcport=1234",
			      "-rpcconnect=10.0.0.1:99", "-rpcwait", "-rpcwaittimeout=5", NULL),
			 0);
	assert_string_equal(o.net->name, "main");
	assert_int_equal(o.port, 1234); /* -rpcport wins over the port in -rpcconnect */
	assert_string_equal(o.host, "10.0.0.1");
	assert_true(o.wait);
	assert_int_equal(o.wait_timeout, 5);
	assert_null(o.rpcpassword);
	snprintf(sub, sizeof(sub), "%s/.cookie", t->path);
	assert_string_equal(o.cookie_path, sub);
	/* No password: the cookie, and a clear message when it is missing. */
	assert_null(cli_credentials(&o, err, sizeof(err)));
	assert_non_null(strstr(err, sub));
	write_file(t->path, ".cookie", "__cookie__:0123abcd\n");
	creds = cli_credentials(&o, err, sizeof(err));
	assert_string_equal(creds, "__cookie__:0123abcd");
	free(creds);
	write_file(t->path, ".cookie", "no colon here\n");
	assert_null(cli_credentials(&o, err, sizeof(err)));
	cli_options_clear(&o);

	/* -rpcconnect's port applies when -rpcport is absent; -chain names the network. */
	assert_int_equal(load(&o, &first, err, sizeof(err), dd, "-chain=testnet",
			      "-rpcconnect=[::1]:555", NULL),
			 0);
	assert_string_equal(o.net->name, "testnet");
	assert_int_equal(o.port, 555);
	assert_string_equal(o.host, "::1");
	assert_int_equal(first, 4); /* no command: argc */
	cli_options_clear(&o);
}

static void test_options_errors(void **state)
{
	struct tmpdir *t = *state;
	char dd[300], err[512];
	struct cli_options o;
	int first;

	snprintf(dd, sizeof(dd), "-datadir=%s", t->path);
	write_file(t->path, "p2pd.conf", "rpcport=5\n");
	const char *const cases[][3] = {
		{"-nosuchoption", NULL, NULL},        {"-regtest", "-testnet", NULL},
		{"-chain=regtest", "-regtest", NULL}, {"-chain=moon", NULL, NULL},
		{"-rpcport=0", NULL, NULL},           {"-rpcport=70000", NULL, NULL},
		{"-rpcwaittimeout=-1", NULL, NULL},   {"-rpcconnect=host:0", NULL, NULL},
		{"-conf=missing.conf", NULL, NULL},   {"-getinfo", "-netinfo", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (load(&o, &first, err, sizeof(err), dd, cases[i][0], cases[i][1], NULL) == 0)
			fail_msg("case %zu (%s) accepted", i, cases[i][0]);
		assert_true(err[0] != '\0');
		cli_options_clear(&o);
	}
	/* -netinfo alone is fine, and -help documents it. */
	assert_int_equal(load(&o, &first, err, sizeof(err), dd, "-netinfo", NULL), 0);
	assert_true(o.netinfo && !o.getinfo);
	cli_options_clear(&o);
	char *help = cli_help_text();
	assert_non_null(strstr(help, "  -netinfo\n"));
	assert_non_null(strstr(help, "p2p-cli [options] -netinfo "));
	free(help);
	/* A data directory that does not exist. */
	assert_int_equal(load(&o, &first, err, sizeof(err), "-datadir=/nonexistent/p2pd", NULL),
			 -1);
	assert_non_null(strstr(err, "/nonexistent/p2pd"));
	cli_options_clear(&o);
	/* A malformed config line, even when unknown keys are skipped. */
	write_file(t->path, "p2pd.conf", "rpcport=5\nthis line has no equals sign\n");
	assert_int_equal(load(&o, &first, err, sizeof(err), dd, NULL), -1);
	assert_non_null(strstr(err, ":2"));
	cli_options_clear(&o);
	/* A known key with a bad value in the config file. */
	write_file(t->path, "p2pd.conf", "rpcport=notaport\n");
	assert_int_equal(load(&o, &first, err, sizeof(err), dd, NULL), -1);
	cli_options_clear(&o);
	/* -help and -version are answered without reading the config. */
	assert_int_equal(load(&o, &first, err, sizeof(err), dd, "-help", NULL), 0);
	assert_true(o.help);
	cli_options_clear(&o);
	assert_int_equal(load(&o, &first, err, sizeof(err), dd, "-version", NULL), 0);
	assert_true(o.version);
	cli_options_clear(&o);
}

/* ---- -stdin --------------------------------------------------------------------------- */

static void test_words_stdin(void **state)
{
	(void)state;
	char input[] = "first line\nsecond\r\n\nlast";
	char a0[] = "p2p-cli", a1[] = "-stdin", a2[] = "help";
	char *argv[] = {a0, a1, a2, NULL};
	struct cli_words w;
	char err[128];
	FILE *in = fmemopen(input, strlen(input), "r");

	assert_non_null(in);
	assert_int_equal(cli_words_collect(&w, 3, argv, 2, true, in, err, sizeof(err)), 0);
	fclose(in);
	assert_int_equal(w.n, 5);
	assert_string_equal(w.v[0], "help");
	assert_string_equal(w.v[1], "first line");
	assert_string_equal(w.v[2], "second");
	assert_string_equal(w.v[3], "");
	assert_string_equal(w.v[4], "last");
	cli_words_free(&w);

	/* Without -stdin, stdin is not read. */
	in = fmemopen(input, strlen(input), "r");
	assert_int_equal(cli_words_collect(&w, 3, argv, 2, false, in, err, sizeof(err)), 0);
	assert_int_equal(w.n, 1);
	cli_words_free(&w);
	fclose(in);
}

static void test_words_too_many(void **state)
{
	(void)state;
	size_t len = (CLI_MAX_PARAMS + 1) * 2;
	char *input = malloc(len + 1);
	char a0[] = "p2p-cli";
	char *argv[] = {a0, NULL};
	struct cli_words w;
	char err[128];

	assert_non_null(input);
	for (size_t i = 0; i < len; i += 2)
		memcpy(input + i, "x\n", 2);
	input[len] = '\0';
	FILE *in = fmemopen(input, len, "r");
	assert_non_null(in);
	assert_int_equal(cli_words_collect(&w, 1, argv, 1, true, in, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many"));
	cli_words_free(&w);
	fclose(in);
	free(input);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_positional),
		cmocka_unit_test(test_params_named),
		cmocka_unit_test(test_params_too_many),
		cmocka_unit_test(test_request_bodies),
		cmocka_unit_test(test_reply_results),
		cmocka_unit_test(test_reply_errors),
		cmocka_unit_test(test_reply_not_nul_terminated),
		cmocka_unit_test(test_getinfo),
		cmocka_unit_test(test_netinfo),
		cmocka_unit_test(test_connect_error_text),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test_setup_teardown(test_options_config, make_tmpdir, remove_tmpdir),
		cmocka_unit_test_setup_teardown(test_options_errors, make_tmpdir, remove_tmpdir),
		cmocka_unit_test(test_words_stdin),
		cmocka_unit_test(test_words_too_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
