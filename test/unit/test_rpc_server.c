/* Unit tests for rpc/server (with rpc/control and rpc/net): JSON-RPC 1.0, 2.0 and batch
 * semantics through rpc_server_execute, every command's result, the configuration checks, and
 * the HTTP front over a real loopback socket (auth, 401 delay, 403, 404, 405, 413, 503). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sodium.h>

#include "node/context.h"
#include "rpc/auth.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"
#include "util/version.h"

#include "unit_util.h"

/* The real one lives in src/node/init.c, whose library comes before the RPC library in the
 * static link order (node depends on rpc), so it is not pulled in here. This stub does what
 * the real one does: record the request and make the loop exit at once. */
void node_request_shutdown(struct node *node)
{
	node->shutdown_requested = true;
	if (node->base != NULL)
		event_base_loopexit(node->base, NULL);
}

struct fixture {
	struct node node;
	struct event_base *base;
	struct rpc_auth *auth;
	struct rpc_server *s;
};

static struct rpc_server_config base_config(struct fixture *f)
{
	struct rpc_server_config cfg = {
		.timeout_secs = 30,
		.workqueue = 16,
		.auth = f->auth,
	};
	return cfg;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || random_init() != 0)
		return -1;
	unit_node_defaults(&f->node);
	for (size_t i = 0; i < sizeof(f->node.node_pubkey); i++)
		f->node.node_pubkey[i] = (uint8_t)(0xa0 + i);
	f->base = event_base_new();
	f->auth = unit_rpc_auth();
	if (f->base == NULL || f->auth == NULL)
		return -1;
	f->s = unit_rpc_server(f->base, &f->node, f->auth);
	if (f->s == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rpc_server_free(f->s);
	rpc_auth_free(f->auth);
	event_base_free(f->base);
	free(f);
	log_shutdown();
	return 0;
}

/* Parse text, execute it, return the reply (NULL for none). */
static json_t *exec(struct fixture *f, const char *text, int *status)
{
	json_error_t jerr;
	json_t *req = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (req == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	*status = 0;
	json_t *r = rpc_server_execute(f->s, req, "user", status);
	json_decref(req);
	return r;
}

/* Execute text and compare the whole reply, as compact JSON, with expected. */
static void expect(struct fixture *f, const char *text, int status, const char *expected)
{
	int got;
	json_t *r = exec(f, text, &got);
	char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
	if (got != status || (expected == NULL) != (s == NULL) ||
	    (s != NULL && strcmp(s, expected) != 0))
		fail_msg("request %s\n  got      %d %s\n  expected %d %s", text, got,
			 s ? s : "(none)", status, expected ? expected : "(none)");
	free(s);
	json_decref(r);
}

/* Execute a JSON-RPC 2.0 call and return its result (new reference); fails on error. */
static json_t *call_ok(struct fixture *f, const char *method, const char *params)
{
	char text[1024];
	int status;
	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params);
	json_t *r = exec(f, text, &status);
	assert_int_equal(status, 200);
	json_t *err = json_object_get(r, "error");
	if (err != NULL)
		fail_msg("%s %s failed: %s", method, params, json_dumps(err, 0));
	json_t *result = json_incref(json_object_get(r, "result"));
	json_decref(r);
	assert_non_null(result);
	return result;
}

/* Execute a JSON-RPC 2.0 call that must fail with code; return its message in msg. */
static void call_err(struct fixture *f, const char *method, const char *params, int code, char *msg,
		     size_t msglen)
{
	char text[1024];
	int status;
	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params);
	json_t *r = exec(f, text, &status);
	assert_int_equal(status, 200);
	json_t *err = json_object_get(r, "error");
	if (err == NULL)
		fail_msg("%s %s succeeded, expected error %d", method, params, code);
	if (json_integer_value(json_object_get(err, "code")) != code)
		fail_msg("%s %s: error %s, expected code %d", method, params, json_dumps(err, 0),
			 code);
	snprintf(msg, msglen, "%s", json_string_value(json_object_get(err, "message")));
	json_decref(r);
}

/* ---- JSON-RPC semantics ---- */

static void test_v1(void **state)
{
	struct fixture *f = *state;
	expect(f, "{\"method\":\"setmocktime\",\"params\":[7],\"id\":1}", 200,
	       "{\"result\":null,\"error\":null,\"id\":1}");
	expect(f, "{\"jsonrpc\":\"1.0\",\"method\":\"setmocktime\",\"params\":[7],\"id\":\"x\"}",
	       200, "{\"result\":null,\"error\":null,\"id\":\"x\"}");
	/* A 1.0 request without an id still gets an answer. */
	expect(f, "{\"method\":\"setmocktime\",\"params\":[7]}", 200,
	       "{\"result\":null,\"error\":null,\"id\":null}");
	expect(f, "{\"method\":\"nosuch\",\"id\":1}", 404,
	       "{\"result\":null,\"error\":{\"code\":-32601,\"message\":\"Method not "
	       "found\"},\"id\":1}");
	expect(f, "{\"id\":2}", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"Missing "
	       "method\"},\"id\":2}");
	expect(f, "{\"method\":5,\"id\":2}", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"Method must be a "
	       "string\"},\"id\":2}");
	expect(f, "{\"method\":\"uptime\",\"params\":\"x\",\"id\":[1]}", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"Params must be an array "
	       "or object\"},\"id\":[1]}");
	expect(f, "{\"jsonrpc\":\"3.0\",\"method\":\"uptime\",\"id\":1}", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"JSON-RPC version not "
	       "supported\"},\"id\":1}");
	expect(f, "{\"jsonrpc\":2,\"method\":\"uptime\",\"id\":1}", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"jsonrpc field must be a "
	       "string\"},\"id\":1}");
	/* Application errors are HTTP 500 in 1.0. */
	expect(f, "{\"method\":\"help\",\"params\":[\"nosuch\"],\"id\":3}", 500,
	       "{\"result\":null,\"error\":{\"code\":-1,\"message\":\"help: unknown command: "
	       "nosuch\"},\"id\":3}");
	expect(f, "{\"method\":\"setmocktime\",\"params\":[\"7\"],\"id\":3}", 500,
	       "{\"result\":null,\"error\":{\"code\":-3,\"message\":\"JSON value of type string "
	       "for parameter timestamp is not of expected type numeric\"},\"id\":3}");
	/* A scalar is not a request. */
	expect(f, "17", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request "
	       "object\"},\"id\":null}");
}

static void test_v2(void **state)
{
	struct fixture *f = *state;
	expect(f, "{\"jsonrpc\":\"2.0\",\"method\":\"setmocktime\",\"params\":[7],\"id\":1}", 200,
	       "{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":1}");
	expect(f, "{\"jsonrpc\":\"2.0\",\"method\":\"nosuch\",\"id\":\"a\"}", 200,
	       "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":\"Method not "
	       "found\"},\"id\":\"a\"}");
	expect(f, "{\"jsonrpc\":\"2.0\",\"method\":\"help\",\"params\":[\"nosuch\"],\"id\":null}",
	       200,
	       "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-1,\"message\":\"help: unknown command: "
	       "nosuch\"},\"id\":null}");
	/* An invalid request is answered even without an id. */
	expect(f, "{\"jsonrpc\":\"2.0\"}", 200,
	       "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32600,\"message\":\"Missing "
	       "method\"},\"id\":null}");
}

static void test_notification(void **state)
{
	struct fixture *f = *state;
	/* Executed, not answered. */
	expect(f, "{\"jsonrpc\":\"2.0\",\"method\":\"setmocktime\",\"params\":[1234]}", 204, NULL);
	assert_int_equal(clock_now(&f->node.clock), 1234);
	/* Errors of a notification are not answered either. */
	expect(f, "{\"jsonrpc\":\"2.0\",\"method\":\"nosuch\"}", 204, NULL);
	expect(f, "{\"jsonrpc\":\"2.0\",\"method\":\"setmocktime\",\"params\":[-1]}", 204, NULL);
	assert_int_equal(clock_now(&f->node.clock), 1234);
}

static void test_batch(void **state)
{
	struct fixture *f = *state;
	expect(f,
	       "[{\"method\":\"setmocktime\",\"params\":[5],\"id\":1},"
	       "{\"jsonrpc\":\"2.0\",\"method\":\"setmocktime\",\"params\":[6]},"
	       "{\"jsonrpc\":\"2.0\",\"method\":\"nosuch\",\"id\":3},"
	       "{\"method\":\"nosuch\",\"id\":4},"
	       "5]",
	       200,
	       "[{\"result\":null,\"error\":null,\"id\":1},"
	       "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32601,\"message\":\"Method not "
	       "found\"},\"id\":3},"
	       "{\"result\":null,\"error\":{\"code\":-32601,\"message\":\"Method not found\"},"
	       "\"id\":4},"
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request "
	       "object\"},\"id\":null}]");
	/* The requests ran in order: the notification's time is the last one set. */
	assert_int_equal(clock_now(&f->node.clock), 6);
	expect(f, "[]", 400,
	       "{\"result\":null,\"error\":{\"code\":-32600,\"message\":\"Invalid Request: empty "
	       "batch\"},\"id\":null}");
	expect(f, "[{\"jsonrpc\":\"2.0\",\"method\":\"uptime\"}]", 204, NULL);
	/* One over the bound. */
	size_t n = RPC_MAX_BATCH + 1;
	char *big = malloc(n * 2 + 2);
	big[0] = '[';
	for (size_t i = 0; i < n; i++) {
		big[1 + 2 * i] = '1';
		big[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	big[2 * n + 1] = '\0';
	int status;
	json_t *r = exec(f, big, &status);
	assert_int_equal(status, 400);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "error"), "code")),
			 RPC_INVALID_REQUEST);
	json_decref(r);
	big[2 * n - 2] = ']'; /* exactly the bound: accepted, one error each */
	big[2 * n - 1] = '\0';
	r = exec(f, big, &status);
	assert_int_equal(status, 200);
	assert_int_equal(json_array_size(r), RPC_MAX_BATCH);
	json_decref(r);
	free(big);
}

static void test_params(void **state)
{
	struct fixture *f = *state;
	char msg[512];
	/* Named. */
	json_t *r = call_ok(f, "help", "{\"command\":\"stop\"}");
	assert_int_equal(strncmp(json_string_value(r), "stop\n\n", 6), 0);
	json_decref(r);
	r = call_ok(f, "setmocktime", "{\"timestamp\":99}");
	json_decref(r);
	assert_int_equal(clock_now(&f->node.clock), 99);
	call_err(f, "setmocktime", "{\"timestamp\":1,\"extra\":2}", RPC_INVALID_PARAMS, msg,
		 sizeof(msg));
	assert_non_null(strstr(msg, "extra"));
	call_err(f, "uptime", "{\"x\":1}", RPC_INVALID_PARAMS, msg, sizeof(msg));
	/* Optional arguments may be left out or given as null. */
	r = call_ok(f, "help", "{}");
	assert_int_equal(strncmp(json_string_value(r), "== Control ==", 13), 0);
	json_decref(r);
	r = call_ok(f, "help", "[null]");
	assert_int_equal(strncmp(json_string_value(r), "== Control ==", 13), 0);
	json_decref(r);
	r = call_ok(f, "uptime", "null");
	json_decref(r);
	/* Counts. */
	call_err(f, "uptime", "[1]", RPC_INVALID_PARAMS, msg, sizeof(msg));
	assert_non_null(strstr(msg, "Too many parameters"));
	call_err(f, "help", "[\"a\",\"b\"]", RPC_INVALID_PARAMS, msg, sizeof(msg));
	call_err(f, "logging", "[[],[],[]]", RPC_INVALID_PARAMS, msg, sizeof(msg));
	call_err(f, "setmocktime", "[]", RPC_INVALID_PARAMS, msg, sizeof(msg));
	assert_non_null(strstr(msg, "timestamp"));
	call_err(f, "setmocktime", "[null]", RPC_INVALID_PARAMS, msg, sizeof(msg));
	call_err(f, "setmocktime", "{}", RPC_INVALID_PARAMS, msg, sizeof(msg));
	/* Types. */
	call_err(f, "setmocktime", "[1.5]", RPC_TYPE_ERROR, msg, sizeof(msg));
	call_err(f, "setmocktime", "[true]", RPC_TYPE_ERROR, msg, sizeof(msg));
	call_err(f, "setmocktime", "{\"timestamp\":\"1\"}", RPC_TYPE_ERROR, msg, sizeof(msg));
	call_err(f, "help", "[5]", RPC_TYPE_ERROR, msg, sizeof(msg));
	call_err(f, "logging", "[\"net\"]", RPC_TYPE_ERROR, msg, sizeof(msg));
	assert_string_equal(msg, "JSON value of type string for parameter include is not of "
				 "expected type json array");
	call_err(f, "logging", "[[], {}]", RPC_TYPE_ERROR, msg, sizeof(msg));
}

/* ---- Commands ---- */

static void test_help(void **state)
{
	struct fixture *f = *state;
	char msg[512];
	json_t *r = call_ok(f, "help", "[]");
	assert_true(json_is_string(r));
	assert_non_null(strstr(json_string_value(r), "\ngetnetworkinfo"));
	assert_null(strstr(json_string_value(r), "setmocktime"));
	json_decref(r);
	r = call_ok(f, "help", "[\"setmocktime\"]");
	assert_int_equal(strncmp(json_string_value(r), "setmocktime timestamp\n", 22), 0);
	json_decref(r);
	call_err(f, "help", "[\"nosuch\"]", RPC_MISC_ERROR, msg, sizeof(msg));
	assert_string_equal(msg, "help: unknown command: nosuch");
	call_err(f, "help", "[\"\"]", RPC_MISC_ERROR, msg, sizeof(msg));
}

static void test_stop(void **state)
{
	struct fixture *f = *state;
	assert_false(f->node.shutdown_requested);
	json_t *r = call_ok(f, "stop", "[]");
	assert_string_equal(json_string_value(r), "p2pd stopping");
	json_decref(r);
	assert_true(f->node.shutdown_requested);
}

static void test_uptime(void **state)
{
	struct fixture *f = *state;
	f->node.start_us = clock_mono_us() - 5500000;
	json_t *r = call_ok(f, "uptime", "[]");
	assert_true(json_is_integer(r));
	assert_true(json_integer_value(r) >= 5 && json_integer_value(r) <= 7);
	json_decref(r);
	f->node.start_us = clock_mono_us();
	r = call_ok(f, "uptime", "[]");
	assert_int_equal(json_integer_value(r), 0);
	json_decref(r);
}

/* A node without a network (node.connman NULL): no services, no connections, inactive. With
 * one, test_rpc_net.c checks the rest. */
static void test_getnetworkinfo(void **state)
{
	struct fixture *f = *state;
	json_t *r = call_ok(f, "getnetworkinfo", "[]");
	char *s = json_dumps(r, JSON_COMPACT);
	char pub[65];
	hex_encode(pub, f->node.node_pubkey, 32);
	char expected[1024];
	snprintf(expected, sizeof(expected),
		 "{\"version\":%d,\"subversion\":\"%s\",\"protocolversion\":%d,"
		 "\"network\":\"regtest\",\"nodepubkey\":\"%s\","
		 "\"localservices\":\"0000000000000000\",\"localservicesnames\":[],"
		 "\"networkactive\":false,\"connections\":0,\"connections_in\":0,"
		 "\"connections_out\":0,\"localaddresses\":[],\"warnings\":\"\"}",
		 CLIENT_VERSION, CLIENT_SUBVERSION, PROTOCOL_VERSION, pub);
	assert_string_equal(s, expected);
	assert_non_null(strstr(s, "\"version\":100,\"subversion\":\"/p2pd:0.1.0/\""));
	assert_non_null(strstr(s, "a0a1a2a3"));
	free(s);
	json_decref(r);
	/* Network name from the parameters. */
	f->node.params = netparams_get(NET_TESTNET);
	r = call_ok(f, "getnetworkinfo", "[]");
	assert_string_equal(json_string_value(json_object_get(r, "network")),
			    netparams_get(NET_TESTNET)->name);
	json_decref(r);
}

static void test_logging(void **state)
{
	struct fixture *f = *state;
	char msg[512];
	const char *const *names;
	size_t n = log_category_list(&names);
	log_disable(LOG_ALL);
	json_t *r = call_ok(f, "logging", "[]");
	assert_int_equal(json_object_size(r), n);
	for (size_t i = 0; i < n; i++)
		assert_true(json_is_false(json_object_get(r, names[i])));
	json_decref(r);

	r = call_ok(f, "logging", "[[\"net\",\"rpc\"]]");
	assert_true(json_is_true(json_object_get(r, "net")));
	assert_true(json_is_true(json_object_get(r, "rpc")));
	assert_true(json_is_false(json_object_get(r, "db")));
	json_decref(r);
	assert_true(log_category_enabled(LOG_NET));

	/* Exclude wins over include. */
	r = call_ok(f, "logging", "[[\"db\"],[\"db\",\"net\"]]");
	assert_true(json_is_false(json_object_get(r, "db")));
	assert_true(json_is_false(json_object_get(r, "net")));
	assert_true(json_is_true(json_object_get(r, "rpc")));
	json_decref(r);

	/* Unknown names change nothing, not even the valid ones before them. */
	call_err(f, "logging", "[[\"db\",\"nosuch\"]]", RPC_INVALID_PARAMETER, msg, sizeof(msg));
	assert_non_null(strstr(msg, "nosuch"));
	call_err(f, "logging", "[[\"db\"],[\"nosuch\"]]", RPC_INVALID_PARAMETER, msg, sizeof(msg));
	call_err(f, "logging", "[[\"db\", 5]]", RPC_TYPE_ERROR, msg, sizeof(msg));
	assert_false(log_category_enabled(LOG_DB));

	/* "none" empties its list; "all" names every category. */
	r = call_ok(f, "logging", "[[\"none\",\"db\"]]");
	assert_true(json_is_false(json_object_get(r, "db")));
	json_decref(r);
	r = call_ok(f, "logging", "{\"include\":[\"all\"]}");
	for (size_t i = 0; i < n; i++)
		assert_true(json_is_true(json_object_get(r, names[i])));
	json_decref(r);
	r = call_ok(f, "logging", "{\"exclude\":[\"all\"]}");
	for (size_t i = 0; i < n; i++)
		assert_true(json_is_false(json_object_get(r, names[i])));
	json_decref(r);
}

static void test_setmocktime(void **state)
{
	struct fixture *f = *state;
	char msg[512];
	json_t *r = call_ok(f, "setmocktime", "[1700000000]");
	assert_true(json_is_null(r));
	json_decref(r);
	assert_int_equal(clock_now(&f->node.clock), 1700000000);
	r = call_ok(f, "setmocktime", "[0]");
	json_decref(r);
	assert_int_equal(f->node.clock.mock_time, 0);
	assert_true(clock_now(&f->node.clock) > 1700000000);
	call_err(f, "setmocktime", "[-1]", RPC_INVALID_PARAMETER, msg, sizeof(msg));
	assert_int_equal(f->node.clock.mock_time, 0);
	/* Not on main. */
	f->node.params = netparams_get(NET_MAIN);
	call_err(f, "setmocktime", "[5]", RPC_MISC_ERROR, msg, sizeof(msg));
	assert_string_equal(msg, "setmocktime is for regression testing (-regtest mode) only");
	assert_int_equal(f->node.clock.mock_time, 0);
}

static void test_getrpcinfo(void **state)
{
	struct fixture *f = *state;
	json_t *r = call_ok(f, "getrpcinfo", "[]");
	json_t *active = json_object_get(r, "active_commands");
	assert_int_equal(json_array_size(active), 1);
	json_t *cmd = json_array_get(active, 0);
	assert_string_equal(json_string_value(json_object_get(cmd, "method")), "getrpcinfo");
	json_t *d = json_object_get(cmd, "duration");
	assert_true(json_is_integer(d) && json_integer_value(d) >= 0 &&
		    json_integer_value(d) < 10000000);
	assert_string_equal(json_string_value(json_object_get(r, "logpath")), log_file_path());
	json_decref(r);
	/* Nothing stays active between calls. */
	const char *methods[4];
	int64_t started[4];
	assert_int_equal(rpc_server_active(f->s, methods, started, 4), 0);
}

/* ---- Configuration ---- */

static void expect_config_error(struct fixture *f, struct rpc_server_config *cfg,
				const char *needle)
{
	char err[512] = "";
	struct rpc_server *s = rpc_server_new(f->base, &f->node, cfg, err, sizeof(err));
	if (s != NULL) {
		rpc_server_free(s);
		fail_msg("configuration accepted, expected an error containing \"%s\"", needle);
	}
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void test_config_errors(void **state)
{
	struct fixture *f = *state;
	struct rpc_server_config cfg = base_config(f);
	cfg.timeout_secs = 0;
	expect_config_error(f, &cfg, "-rpcservertimeout");
	cfg = base_config(f);
	cfg.workqueue = 0;
	expect_config_error(f, &cfg, "-rpcworkqueue");
	cfg.workqueue = 100000;
	expect_config_error(f, &cfg, "-rpcworkqueue");
	cfg = base_config(f);
	cfg.auth = NULL;
	expect_config_error(f, &cfg, "credentials");

	static const char *const bad_allow[] = {
		"abc",        "1.2.3.4/33",   "1.2.3.4/255.0.255.0",
		"1.2.3.4/",   "::1/129",      "1.2.3.4/ffff::",
		"1.2.3.4/-1", "1.2.3.4/0008", "1.2.3.4/2a",
		"",           "1.2.3.4 ",
	};
	for (size_t i = 0; i < sizeof(bad_allow) / sizeof(bad_allow[0]); i++) {
		cfg = base_config(f);
		cfg.allowip = &bad_allow[i];
		cfg.nallowip = 1;
		expect_config_error(f, &cfg, "-rpcallowip");
	}
	static const char *const bad_bind[] = {
		"[::1",
		"127.0.0.1:",
		"127.0.0.1:0",
		"127.0.0.1:70000",
		"127.0.0.1:abc",
		"[::1]x",
		"[::1]:",
		":8000",
		"",
		"192.0.2.199:1", /* not an address of this host */
	};
	for (size_t i = 0; i < sizeof(bad_bind) / sizeof(bad_bind[0]); i++) {
		cfg = base_config(f);
		cfg.bind = &bad_bind[i];
		cfg.nbind = 1;
		cfg.port = 1;
		expect_config_error(f, &cfg, "bind");
	}
}

static void test_config_good(void **state)
{
	struct fixture *f = *state;
	static const char *const allow[] = {"10.0.0.0/8", "10.1.2.3", "192.168.0.0/255.255.0.0",
					    "fd00::/8",   "::/0",     "0.0.0.0/0",
					    "1.2.3.4/32"};
	struct rpc_server_config cfg = base_config(f);
	cfg.allowip = allow;
	cfg.nallowip = sizeof(allow) / sizeof(allow[0]);
	char err[512];
	struct rpc_server *s = rpc_server_new(f->base, &f->node, &cfg, err, sizeof(err));
	if (s == NULL)
		fail_msg("%s", err);
	rpc_server_free(s);
	rpc_server_free(NULL);
}

/* ---- HTTP ---- */

/* A loopback port nobody listens on right now. */
static uint16_t free_port(const char *ip)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	inet_pton(AF_INET, ip, &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

struct http_result {
	int status;
	char body[4096];
	char www_auth[128];
	int64_t done_us;
	int *pending;
	struct event_base *base;
};

static void http_done(struct evhttp_request *req, void *arg)
{
	struct http_result *r = arg;
	r->done_us = clock_mono_us();
	r->status = req ? evhttp_request_get_response_code(req) : -1;
	if (req != NULL) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		if (n >= sizeof(r->body))
			n = sizeof(r->body) - 1;
		evbuffer_remove(in, r->body, n);
		r->body[n] = '\0';
		const char *w = evhttp_find_header(evhttp_request_get_input_headers(req),
						   "WWW-Authenticate");
		snprintf(r->www_auth, sizeof(r->www_auth), "%s", w ? w : "");
	}
	if (--*r->pending == 0)
		event_base_loopbreak(r->base);
}

struct http_req {
	const char *host;
	uint16_t port;
	enum evhttp_cmd_type method;
	const char *path;
	const char *creds; /* "user:pass", or NULL for no header */
	const char *body;
	size_t bodylen;
};

static struct evhttp_connection *http_start(struct fixture *f, const struct http_req *q,
					    struct http_result *r, int *pending)
{
	struct evhttp_connection *c = evhttp_connection_base_new(f->base, NULL, q->host, q->port);
	assert_non_null(c);
	evhttp_connection_set_flags(c, EVHTTP_CON_READ_ON_WRITE_ERROR);
	memset(r, 0, sizeof(*r));
	r->pending = pending;
	r->base = f->base;
	struct evhttp_request *req = evhttp_request_new(http_done, r);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", q->host);
	if (q->creds != NULL) {
		char auth[256] = "Basic ";
		sodium_bin2base64(auth + 6, sizeof(auth) - 6, (const unsigned char *)q->creds,
				  strlen(q->creds), sodium_base64_VARIANT_ORIGINAL);
		evhttp_add_header(h, "Authorization", auth);
	}
	if (q->body != NULL)
		evbuffer_add(evhttp_request_get_output_buffer(req), q->body, q->bodylen);
	assert_int_equal(evhttp_make_request(c, req, q->method, q->path), 0);
	(*pending)++;
	return c;
}

static void loop_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Run the loop until it is told to exit (the last reply, the node's shutdown) or 10 s pass. */
static void run_loop(struct fixture *f)
{
	struct timeval limit = {10, 0};
	struct event *t = evtimer_new(f->base, loop_timeout, f->base);
	assert_non_null(t);
	evtimer_add(t, &limit);
	event_base_dispatch(f->base);
	event_free(t);
}

static void run_until_done(struct fixture *f, int *pending)
{
	run_loop(f);
	if (*pending != 0)
		fail_msg("HTTP requests still pending after 10 s");
}

/* One request, start to finish. */
static void http_one(struct fixture *f, const struct http_req *q, struct http_result *r)
{
	int pending = 0;
	struct evhttp_connection *c = http_start(f, q, r, &pending);
	run_until_done(f, &pending);
	evhttp_connection_free(c);
}

/* Replace the fixture's server with one listening on host:port. */
static void listen_fixture(struct fixture *f, const char *host, uint16_t port,
			   const char *const *allow, size_t nallow, int workqueue)
{
	rpc_server_free(f->s);
	struct rpc_server_config cfg = base_config(f);
	cfg.bind = &host;
	cfg.nbind = 1;
	cfg.port = port;
	cfg.allowip = allow;
	cfg.nallowip = nallow;
	cfg.workqueue = workqueue;
	char err[512];
	f->s = rpc_server_new(f->base, &f->node, &cfg, err, sizeof(err));
	if (f->s == NULL)
		fail_msg("rpc_server_new: %s", err);
}

#define UPTIME_V1 "{\"method\":\"uptime\",\"id\":1}"

static void test_http(void **state)
{
	struct fixture *f = *state;
	uint16_t port = free_port("127.0.0.1");
	listen_fixture(f, "127.0.0.1", port, NULL, 0, 16);
	struct http_result r;
	struct http_req q = {"127.0.0.1", port,      EVHTTP_REQ_POST,  "/",
			     "user:pass", UPTIME_V1, strlen(UPTIME_V1)};

	http_one(f, &q, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"result\":0,\"error\":null,\"id\":1}\n");

	/* JSON-RPC statuses come through. */
	static const char unknown[] = "{\"method\":\"nosuch\",\"id\":1}";
	q.body = unknown;
	q.bodylen = strlen(unknown);
	http_one(f, &q, &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.body, "-32601"));
	static const char note[] = "{\"jsonrpc\":\"2.0\",\"method\":\"uptime\"}";
	q.body = note;
	q.bodylen = strlen(note);
	http_one(f, &q, &r);
	assert_int_equal(r.status, 204);
	assert_string_equal(r.body, "");

	/* Unparseable bodies. */
	static const char *const garbage[] = {"{\"method\":", "", "\"uptime\"", "{} {}",
					      "{\"id\":1,\"id\":2,\"method\":\"uptime\"}"};
	for (size_t i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
		q.body = garbage[i];
		q.bodylen = strlen(garbage[i]);
		http_one(f, &q, &r);
		assert_int_equal(r.status, 500);
		assert_string_equal(r.body, "{\"result\":null,\"error\":{\"code\":-32700,"
					    "\"message\":\"Parse error\"},\"id\":null}\n");
	}

	/* Method and path. */
	q.body = UPTIME_V1;
	q.bodylen = strlen(UPTIME_V1);
	q.method = EVHTTP_REQ_GET;
	http_one(f, &q, &r);
	assert_int_equal(r.status, 405);
	q.method = EVHTTP_REQ_PUT;
	http_one(f, &q, &r);
	assert_int_equal(r.status, 405);
	q.method = EVHTTP_REQ_POST;
	q.path = "/wallet/x";
	http_one(f, &q, &r);
	assert_int_equal(r.status, 404);
	q.path = "/";

	/* Body limit: exactly the limit is read (and is bad JSON); one byte more is 413. */
	char *big = malloc(RPC_MAX_BODY + 1);
	memset(big, ' ', RPC_MAX_BODY + 1);
	q.body = big;
	q.bodylen = RPC_MAX_BODY;
	http_one(f, &q, &r);
	assert_int_equal(r.status, 500);
	q.bodylen = RPC_MAX_BODY + 1;
	http_one(f, &q, &r);
	assert_int_equal(r.status, 413);
	free(big);
}

static void test_http_auth(void **state)
{
	struct fixture *f = *state;
	uint16_t port = free_port("127.0.0.1");
	listen_fixture(f, "127.0.0.1", port, NULL, 0, 16);
	struct http_result r;
	struct http_req q = {"127.0.0.1",  port,      EVHTTP_REQ_POST,  "/",
			     "user:wrong", UPTIME_V1, strlen(UPTIME_V1)};
	static const char *const bad[] = {"user:wrong", "nobody:pass", "user", NULL};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		q.creds = bad[i];
		int64_t start = clock_mono_us();
		http_one(f, &q, &r);
		assert_int_equal(r.status, 401);
		assert_string_equal(r.body, "");
		assert_string_equal(r.www_auth, "Basic realm=\"jsonrpc\"");
		assert_true(r.done_us - start >= RPC_AUTH_FAIL_DELAY_MS * 1000);
	}
	/* A wrong method with wrong credentials is still a 401. */
	q.method = EVHTTP_REQ_GET;
	http_one(f, &q, &r);
	assert_int_equal(r.status, 401);

	/* A client that leaves during the delay: the late 401 goes nowhere (ASan checks). */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	static const char raw[] = "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eDp5\r\n"
				  "Content-Length: 2\r\n\r\n{}";
	assert_int_equal(write(fd, raw, strlen(raw)), (ssize_t)strlen(raw));
	struct timeval tick = {0, 50000};
	event_base_loopexit(f->base, &tick);
	event_base_dispatch(f->base);
	close(fd);
	struct timeval wait = {0, 2 * RPC_AUTH_FAIL_DELAY_MS * 1000};
	event_base_loopexit(f->base, &wait);
	event_base_dispatch(f->base);
	q.method = EVHTTP_REQ_POST;
	q.creds = "user:pass";
	http_one(f, &q, &r);
	assert_int_equal(r.status, 200);
}

static void test_http_workqueue(void **state)
{
	struct fixture *f = *state;
	uint16_t port = free_port("127.0.0.1");
	listen_fixture(f, "127.0.0.1", port, NULL, 0, 1);
	struct http_result r1, r2;
	struct http_req q1 = {"127.0.0.1",  port,      EVHTTP_REQ_POST,  "/",
			      "user:wrong", UPTIME_V1, strlen(UPTIME_V1)};
	struct http_req q2 = q1;
	q2.creds = "user:pass";
	/* The first request holds the only slot while its 401 waits; the loop stays free. */
	int pending = 0;
	struct evhttp_connection *c1 = http_start(f, &q1, &r1, &pending);
	struct timeval tick = {0, 50000};
	event_base_loopexit(f->base, &tick);
	event_base_dispatch(f->base);
	struct evhttp_connection *c2 = http_start(f, &q2, &r2, &pending);
	run_until_done(f, &pending);
	assert_int_equal(r1.status, 401);
	assert_int_equal(r2.status, 503);
	assert_string_equal(r2.body, "Work queue depth exceeded\n");
	assert_true(r2.done_us < r1.done_us);
	/* The slot is free again. */
	http_one(f, &q2, &r2);
	assert_int_equal(r2.status, 200);
	evhttp_connection_free(c1);
	evhttp_connection_free(c2);
}

/* stop over HTTP: the reply reaches the client before the loop is told to exit. */
static void test_http_stop(void **state)
{
	struct fixture *f = *state;
	uint16_t port = free_port("127.0.0.1");
	listen_fixture(f, "127.0.0.1", port, NULL, 0, 16);
	f->node.base = f->base;
	static const char stop[] = "{\"method\":\"stop\",\"id\":1}";
	struct http_req q = {"127.0.0.1", port, EVHTTP_REQ_POST, "/",
			     "user:pass", stop, strlen(stop)};
	struct http_result r;
	int pending = 0;
	struct evhttp_connection *c = http_start(f, &q, &r, &pending);
	run_loop(f); /* returns when the node asks the loop to exit */
	assert_true(f->node.shutdown_requested);
	/* What the node does next: free the server, closing its connections. The reply must
	 * already be on its way. */
	rpc_server_free(f->s);
	f->s = NULL;
	run_until_done(f, &pending);
	evhttp_connection_free(c);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"result\":\"p2pd stopping\",\"error\":null,\"id\":1}\n");
	listen_fixture(f, "127.0.0.1", port, NULL, 0, 16);

	/* A client that never reads its reply does not hold the shutdown up for long. */
	f->node.shutdown_requested = false;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char raw[512];
	int n = snprintf(raw, sizeof(raw),
			 "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 strlen(stop), stop);
	assert_int_equal(write(fd, raw, (size_t)n), n);
	shutdown(fd, SHUT_RDWR);
	close(fd);
	int64_t start = clock_mono_us();
	run_loop(f);
	assert_true(f->node.shutdown_requested);
	assert_true(clock_mono_us() - start < 4000000);
	f->node.base = NULL;
}

/* Free the server while a 401 is pending: no leak, no crash (ASan checks). */
static void test_http_free_pending(void **state)
{
	struct fixture *f = *state;
	uint16_t port = free_port("127.0.0.1");
	listen_fixture(f, "127.0.0.1", port, NULL, 0, 4);
	struct http_result r;
	struct http_req q = {"127.0.0.1",  port,      EVHTTP_REQ_POST,  "/",
			     "user:wrong", UPTIME_V1, strlen(UPTIME_V1)};
	int pending = 0;
	struct evhttp_connection *c = http_start(f, &q, &r, &pending);
	struct timeval tick = {0, 50000};
	event_base_loopexit(f->base, &tick);
	event_base_dispatch(f->base);
	assert_int_equal(pending, 1);
	rpc_server_free(f->s);
	f->s = NULL;
	evhttp_connection_free(c);
}

/* An IPv4 address of this host that is not loopback, or 0 if there is none. */
static int other_address(char *out, size_t outlen)
{
	struct ifaddrs *ifs, *i;
	int found = 0;
	if (getifaddrs(&ifs) != 0)
		return 0;
	for (i = ifs; i != NULL && !found; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		const struct sockaddr_in *in = (const struct sockaddr_in *)(void *)i->ifa_addr;
		if ((ntohl(in->sin_addr.s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)outlen);
		found = 1;
	}
	freeifaddrs(ifs);
	return found;
}

static void test_http_allowip(void **state)
{
	struct fixture *f = *state;
	char ip[INET_ADDRSTRLEN];
	if (!other_address(ip, sizeof(ip)))
		skip();
	/* A connection to our own non-loopback address comes from that address. */
	uint16_t port = free_port(ip);
	listen_fixture(f, ip, port, NULL, 0, 16);
	struct http_result r;
	struct http_req q = {ip,          port,      EVHTTP_REQ_POST,  "/",
			     "user:pass", UPTIME_V1, strlen(UPTIME_V1)};
	http_one(f, &q, &r);
	assert_int_equal(r.status, 403);
	static const char *const others[] = {"10.0.0.0/8", "fd00::/8", "203.0.113.7"};
	listen_fixture(f, ip, port, others, 3, 16);
	http_one(f, &q, &r);
	if (strncmp(ip, "10.", 3) != 0)
		assert_int_equal(r.status, 403);
	char subnet[64];
	snprintf(subnet, sizeof(subnet), "%s/255.255.255.0", ip);
	const char *allow[] = {subnet};
	listen_fixture(f, ip, port, allow, 1, 16);
	http_one(f, &q, &r);
	assert_int_equal(r.status, 200);
	const char *allow_one[] = {ip};
	listen_fixture(f, ip, port, allow_one, 1, 16);
	http_one(f, &q, &r);
	assert_int_equal(r.status, 200);
	/* Allowed sources still need credentials. */
	q.creds = "user:wrong";
	http_one(f, &q, &r);
	assert_int_equal(r.status, 401);
}

static void test_http_ipv6(void **state)
{
	struct fixture *f = *state;
	uint16_t port = free_port("127.0.0.1");
	static const char *const binds[] = {"127.0.0.1", "[::1]"};
	rpc_server_free(f->s);
	struct rpc_server_config cfg = base_config(f);
	cfg.bind = binds;
	cfg.nbind = 2;
	cfg.port = port;
	char err[512];
	f->s = rpc_server_new(f->base, &f->node, &cfg, err, sizeof(err));
	if (f->s == NULL)
		fail_msg("%s", err);
	struct http_result r;
	struct http_req q = {"::1",       port,      EVHTTP_REQ_POST,  "/",
			     "user:pass", UPTIME_V1, strlen(UPTIME_V1)};
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 probe = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	bool have_v6 = fd >= 0 && bind(fd, (struct sockaddr *)&probe, sizeof(probe)) == 0;
	if (fd >= 0)
		close(fd);
	if (have_v6) {
		http_one(f, &q, &r);
		assert_int_equal(r.status, 200);
	}
	q.host = "127.0.0.1";
	http_one(f, &q, &r);
	assert_int_equal(r.status, 200);
	/* The port is taken now: binding it again fails. */
	struct rpc_server_config again = cfg;
	again.nbind = 1;
	expect_config_error(f, &again, "cannot bind");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_v1),
		T(test_v2),
		T(test_notification),
		T(test_batch),
		T(test_params),
		T(test_help),
		T(test_stop),
		T(test_uptime),
		T(test_getnetworkinfo),
		T(test_logging),
		T(test_setmocktime),
		T(test_getrpcinfo),
		T(test_config_errors),
		T(test_config_good),
		T(test_http),
		T(test_http_auth),
		T(test_http_workqueue),
		T(test_http_stop),
		T(test_http_free_pending),
		T(test_http_allowip),
		T(test_http_ipv6),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
