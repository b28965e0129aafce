/* Shared plumbing of the unit tests (test/unit/libunitutil.a, linked into every unit test before
 * cmocka and the project libraries): loopback ports, temporary directories, databases,
 * connection manager configurations, running an event loop until a condition holds, JSON checks
 * and calling RPC commands through rpc_server_execute. Helpers that check something fail the
 * running cmocka test (fail_msg or an assert_*) as the tests they came from did; the contract of
 * each is stated at its declaration. The RPC helpers live in their own object (unit_rpc.c) so a
 * test that does not use them does not link the RPC library. */
#ifndef P2PD_TEST_UNIT_UTIL_H
#define P2PD_TEST_UNIT_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct clock;
struct connman;
struct connman_config;
struct db;
struct event_base;
struct node;
struct rpc_auth;
struct rpc_server;

/* ---- unit_util.c ------------------------------------------------------------------------ */

/* A TCP port on 127.0.0.1 free at the time of the call (bound, read back and closed). Asserts
 * that bind and getsockname succeed. */
uint16_t unit_free_port(void);

/* Make a fresh directory "/tmp/p2pd-test-<tag>-XXXXXX" (mkdtemp) and write its path to dir (of
 * len bytes). Returns dir, or NULL if the directory could not be made. Asserts nothing. */
char *unit_mkdtemp(char *dir, size_t len, const char *tag);

/* Run `rm -rf '<dir>'` and return system()'s status (0: removed). Asserts nothing. */
int unit_rm_rf_status(const char *dir);
/* Run `rm -rf '<dir>'` and assert that it succeeded. */
void unit_rm_rf(const char *dir);

/* Open (creating) the LevelDB database in dir with a cache of 1 MiB; fails the test with
 * "db_open: <error>" if it cannot. */
struct db *unit_open_db(const char *dir);

/* Fill cfg (zeroed first) for a regtest connection manager on loop base with clock, offering
 * NODE_MSGSTORE, listening on 127.0.0.1:port, 20 connections at most, 64 KiB receive and send
 * buffers, a 60 s peer timeout, no compression. Callers change what their test needs. */
void unit_connman_config(struct connman_config *cfg, struct event_base *base, struct clock *clock,
			 uint16_t port);

/* connman_new(cfg) then connman_start; fails the test with "connman_new: <error>" if it cannot
 * be made. Returns the started connection manager. */
struct connman *unit_connman_start(const struct connman_config *cfg);
/* How many peers of cm are established; how many peers it has in any state. */
size_t unit_established(const struct connman *cm);
size_t unit_npeers(const struct connman *cm);

/* Run base (EVLOOP_NONBLOCK passes, sleeping nap_ns nanoseconds between them) until pred(ctx)
 * is nonzero or seconds pass. Returns pred(ctx) evaluated once more at the end. */
int unit_run_until(struct event_base *base, int (*pred)(void *ctx), void *ctx, double seconds,
		   long nap_ns);

/* j must print, as compact JSON (JSON_ENCODE_ANY), exactly as expected; else the test fails
 * with both texts. */
void unit_assert_json(const json_t *j, const char *expected);
/* The keys of object obj, in order, joined by ",", must equal expected; else the test fails. */
void unit_assert_keys(const json_t *obj, const char *expected);
/* The string member key of obj; fails the test if there is none. */
const char *unit_json_str(const json_t *obj, const char *key);
/* The integer member key of obj; fails the test if there is none. */
json_int_t unit_json_num(const json_t *obj, const char *key);

/* Load the JSON vector file name from $TEST_VECTORS_DIR, else $top_srcdir/test/vectors, else
 * test/vectors under the current directory. Fails the test if it cannot be read or parsed.
 * Returns a new reference. */
json_t *unit_load_vectors(const char *name);

/* ---- unit_rpc.c ------------------------------------------------------------------------- */

/* Set what every RPC test node has: regtest parameters, started now (monotonic clock), no lock
 * file. Touches nothing else. */
void unit_node_defaults(struct node *node);

/* A new rpc_auth holding the password "pass" of user "user" (what the RPC helpers below call
 * as). NULL if it cannot be made. */
struct rpc_auth *unit_rpc_auth(void);

/* A new RPC server without listener (timeout 30 s, work queue 16) for node on base, checking
 * against auth. On failure prints "rpc_server_new: <error>" to stderr and returns NULL. */
struct rpc_server *unit_rpc_server(struct event_base *base, struct node *node,
				   struct rpc_auth *auth);

/* Execute the JSON-RPC 2.0 request {method, params} (params: JSON text, an array or an object)
 * as "user" through rpc_server_execute. Asserts a reply came. On success asserts HTTP status
 * 200, sets *code to 0 and returns the result (new reference); on error sets *code and msg (of
 * msglen bytes) from the error and returns NULL. Fails the test if the request text is not
 * JSON. */
json_t *unit_rpc_call(struct rpc_server *s, const char *method, const char *params, int *code,
		      char *msg, size_t msglen);
/* As unit_rpc_call, but the call must succeed: fails with "<method> <params> failed: <code>
 * <message>" otherwise. Returns the result (new reference). */
json_t *unit_rpc_call_ok(struct rpc_server *s, const char *method, const char *params);
/* The call must fail with code and a message containing text; else the test fails. */
void unit_rpc_call_err(struct rpc_server *s, const char *method, const char *params, int code,
		       const char *text);

#endif
