/* The JSON-RPC server: HTTP via libevent's evhttp, authentication, dispatch.
 *
 * Requests are handled on the event-loop thread, which owns all node state, so handlers need
 * no locks. The server accepts JSON-RPC 1.0 and 2.0 requests, batches, positional and named
 * parameters; it maps named parameters to positions with the spec table (rpc/spec.h), checks
 * types, and calls the handler registered for the method. */
#ifndef P2PD_RPC_SERVER_H
#define P2PD_RPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct event_base;
struct node;
struct rpc_server;
struct rpc_spec;

/* Largest request body accepted; bigger gets HTTP 413 before the body is buffered. */
#define RPC_MAX_BODY (1u << 20)
/* Largest total request header size; bigger is refused by evhttp. */
#define RPC_MAX_HEADERS 8192
/* Most requests in one batch. */
#define RPC_MAX_BATCH 1000
/* Delay before answering a request with bad credentials (slows down guessing). */
#define RPC_AUTH_FAIL_DELAY_MS 250

struct rpc_error {
	int code; /* enum rpc_error_code */
	char message[512];
};

struct rpc_exec;
struct rpc_pending;

struct rpc_call {
	struct node *node;
	struct rpc_server *server;
	const struct rpc_spec *spec;
	const char *user;      /* authenticated user name */
	struct rpc_exec *exec; /* the server's view of the request (rpc_call_detach) */
};

/* A handler gets params as an array with one slot per spec argument (missing optional
 * arguments are JSON null) already type-checked. It returns a new reference to the result
 * (json_null() for none), or NULL after filling err, or NULL after a successful
 * rpc_call_detach (the reply comes later). */
typedef json_t *(*rpc_handler)(struct rpc_call *call, json_t *params, struct rpc_error *err);

struct rpc_method {
	const char *name;
	rpc_handler fn;
};

/* Fill err (printf-style) and return NULL, for handlers: return rpc_fail(err, code, ...). */
json_t *rpc_fail(struct rpc_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct rpc_server_config {
	const char *const *bind; /* addresses, "host", "host:port", "[v6]:port" */
	size_t nbind;
	uint16_t port;              /* default port for bind entries without one */
	const char *const *allowip; /* "ip", "ip/bits", "ip/netmask" besides loopback */
	size_t nallowip;
	int timeout_secs;      /* -rpcservertimeout */
	int workqueue;         /* -rpcworkqueue: most requests in flight */
	struct rpc_auth *auth; /* owned by the caller; must outlive the server */
};

/* Start the server on base. Returns NULL with err set if any bind address cannot be parsed,
 * resolved or bound, an -rpcallowip entry is malformed, a limit is out of range (timeout_secs
 * >= 1, 1 <= workqueue <= 4096, at most 32 bind and 256 allowip entries), auth is NULL, or the
 * command table and the handler tables disagree (a programming error, reported here).
 * A bind entry that resolves to several addresses ("localhost") binds them all. One failure is
 * tolerated: an IPv6 loopback address (::1) that cannot be bound because the host has no IPv6
 * (EAFNOSUPPORT, EADDRNOTAVAIL) is skipped with a warning in the log, as long as some address
 * was bound; so the default {"127.0.0.1", "::1"} works on IPv4-only hosts, while ::1 alone
 * there fails. nbind == 0 starts no listener (unit tests drive rpc_server_execute). */
struct rpc_server *rpc_server_new(struct event_base *base, struct node *node,
				  const struct rpc_server_config *cfg, char *err, size_t errlen);
/* Stop listening and free. NULL is a no-op. */
void rpc_server_free(struct rpc_server *s);

/* Handle one JSON-RPC request object (or batch) already parsed, as the HTTP layer does after
 * authentication. Returns the response (new reference) or NULL for a JSON-RPC 2.0 notification
 * or a batch made only of notifications (*http_status 204), or when out of memory (500).
 * *http_status receives the status code to send. (Over HTTP a long-poll may also return NULL
 * with *http_status 0: its reply is sent later; called directly, calls never detach.) Exposed
 * for unit tests. */
json_t *rpc_server_execute(struct rpc_server *s, const json_t *request, const char *user,
			   int *http_status);
/* The same from the request body as received over HTTP (len bytes, not NUL-terminated): a body
 * that is not JSON gets the JSON-RPC 1.0 parse error (-32700) with *http_status 500; anything
 * else goes to rpc_server_execute. The HTTP layer calls this after authentication; the
 * fuzz target (test/fuzz/fuzz_rpc.c) does too. */
json_t *rpc_server_execute_body(struct rpc_server *s, const char *body, size_t len,
				const char *user, int *http_status);

/* The methods the server dispatches to, from each category file (rpc/control.c, rpc/net.c,
 * ...); terminated by a NULL name. */
extern const struct rpc_method rpc_control_methods[];
extern const struct rpc_method rpc_messages_methods[];
extern const struct rpc_method rpc_network_methods[];

/* Ask for node_request_shutdown(call->node) once the reply to the current request is sent
 * (RPC stop): over HTTP it runs when the reply has been written, or RPC_STOP_GRACE_MS later at
 * the latest; when the call came through rpc_server_execute alone, at once. */
void rpc_server_request_shutdown(struct rpc_call *call);
/* Longest wait for a stop reply to be written before shutting down anyway. */
#define RPC_STOP_GRACE_MS 1000

/* ---- Long-polls ----
 *
 * A handler that waits for an event (waitformessage) detaches its call: the HTTP request stays
 * open, the handler returns NULL at once, and the loop goes on serving others. The call then
 * ends exactly once, by one of:
 *   - rpc_pending_finish, from the loop (a timer, a listener): the reply is sent;
 *   - its cancel function, called by the server when the client closed its connection or the
 *     server is being freed: free the waiting state and never touch the handle again.
 * A detached call holds its -rpcworkqueue slot until it ends, so at most -rpcworkqueue calls
 * wait at once. */

/* Told that a detached call ended without a reply (client gone, server freed). */
typedef void (*rpc_cancel_fn)(void *ctx);

/* Detach the current call (from its handler, which then returns NULL). Returns the handle, or
 * NULL with err filled when the call cannot wait: it is part of a batch (RPC_INVALID_REQUEST),
 * it did not come over HTTP (rpc_server_execute called directly: RPC_MISC_ERROR), or out of
 * memory. cancel and ctx are kept for the cancellation described above. */
struct rpc_pending *rpc_call_detach(struct rpc_call *call, rpc_cancel_fn cancel, void *ctx,
				    struct rpc_error *err);
/* Reply to a detached call with result (stolen; json_null() for none), or with err when result
 * is NULL, and free the handle. A JSON-RPC 2.0 notification gets its 204 without a body. */
void rpc_pending_finish(struct rpc_pending *p, json_t *result, const struct rpc_error *err);

/* Commands being executed right now, for getrpcinfo (detached calls included, after the
 * running ones): fills arrays, returns count (<= max). */
size_t rpc_server_active(const struct rpc_server *s, const char **methods, int64_t *started_us,
			 size_t max);

#endif
