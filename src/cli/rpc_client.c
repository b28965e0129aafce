/* HTTP transport of p2p-cli (see include/cli/rpc_client.h).
 *
 * Each call builds its own event_base and connection, sends one request with
 * "Connection: close", and breaks out of the loop from the completion callback. libevent
 * reports why a request failed through the error callback, which runs before the completion
 * callback; the completion callback then gets no response (NULL or status 0). */
#include "cli/rpc_client.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>

/* libevent has no "no timeout" for HTTP connections; five years stands in for it, as in
 * bitcoin-cli. */
#define RPC_CLIENT_FOREVER_SECS (5 * 365 * 24 * 3600)

struct call {
	struct event_base *base;
	struct rpc_client_reply *reply;
	bool have_error;
	enum evhttp_request_error error;
	bool got_reply;
	bool oom;
};

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct call *c = arg;

	c->have_error = true;
	c->error = e;
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct call *c = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;

	event_base_loopbreak(c->base);
	if (code == 0)
		return;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *body = malloc(len + 1);
	if (!body) {
		c->oom = true;
		return;
	}
	if (evbuffer_remove(in, body, len) != (ev_ssize_t)len) {
		free(body);
		c->oom = true;
		return;
	}
	body[len] = '\0';
	c->reply->status = code;
	c->reply->body = body;
	c->reply->len = len;
	c->got_reply = true;
}

static const char *error_text(enum evhttp_request_error e)
{
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		return "timeout reached";
	case EVREQ_HTTP_EOF:
		return "EOF reached";
	case EVREQ_HTTP_INVALID_HEADER:
		return "error while reading header, or invalid header";
	case EVREQ_HTTP_BUFFER_ERROR:
		return "error encountered while reading or writing";
	case EVREQ_HTTP_REQUEST_CANCEL:
		return "request was canceled";
	case EVREQ_HTTP_DATA_TOO_LONG:
		return "response body is larger than allowed";
	}
	return "unknown";
}

/* "Basic " + base64(userpass) as a new string, wiped and freed by the caller. */
static char *basic_auth(const char *userpass)
{
	static const char prefix[] = "Basic ";
	size_t len = strlen(userpass);
	size_t b64len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(sizeof(prefix) - 1 + b64len);

	if (!s)
		return NULL;
	memcpy(s, prefix, sizeof(prefix) - 1);
	sodium_bin2base64(s + sizeof(prefix) - 1, b64len, (const unsigned char *)userpass, len,
			  sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* Build the request: headers and body. Returns NULL on failure. */
static struct evhttp_request *build_request(struct call *c, const char *host, const char *userpass,
					    const char *body)
{
	struct evhttp_request *req = evhttp_request_new(on_done, c);
	char *auth = basic_auth(userpass);
	bool ok = req && auth;

	if (ok) {
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		evhttp_request_set_error_cb(req, on_error);
		ok = evhttp_add_header(h, "Host", host) == 0 &&
		     evhttp_add_header(h, "Connection", "close") == 0 &&
		     evhttp_add_header(h, "Content-Type", "application/json") == 0 &&
		     evhttp_add_header(h, "Authorization", auth) == 0 &&
		     evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body)) == 0;
	}
	if (auth) {
		sodium_memzero(auth, strlen(auth));
		free(auth);
	}
	if (!ok && req) {
		evhttp_request_free(req);
		req = NULL;
	}
	return req;
}

static enum rpc_client_result fail(struct rpc_client_reply *r, enum rpc_client_result res,
				   const char *detail)
{
	snprintf(r->detail, sizeof(r->detail), "%s", detail);
	return res;
}

enum rpc_client_result rpc_client_post(const char *host, uint16_t port, const char *userpass,
				       const char *body, int64_t timeout_secs,
				       struct rpc_client_reply *reply)
{
	struct call c = {.reply = reply};
	struct evhttp_connection *conn = NULL;
	struct evhttp_request *req;
	enum rpc_client_result res;
	int timeout = timeout_secs > 0 && timeout_secs < RPC_CLIENT_FOREVER_SECS
			      ? (int)timeout_secs
			      : RPC_CLIENT_FOREVER_SECS;

	memset(reply, 0, sizeof(*reply));
	c.base = event_base_new();
	if (!c.base)
		return fail(reply, RPC_CLIENT_FAILED, "cannot create an event loop");
	conn = evhttp_connection_base_new(c.base, NULL, host, port);
	if (!conn) {
		res = fail(reply, RPC_CLIENT_FAILED, "cannot create an HTTP connection");
		goto out;
	}
	evhttp_connection_set_timeout(conn, timeout);
	evhttp_connection_set_max_body_size(conn, RPC_CLIENT_MAX_REPLY);
	req = build_request(&c, host, userpass, body);
	if (!req) {
		res = fail(reply, RPC_CLIENT_FAILED, "out of memory");
		goto out;
	}
	/* On failure libevent has freed req. */
	if (evhttp_make_request(conn, req, EVHTTP_REQ_POST, "/") != 0) {
		res = fail(reply, RPC_CLIENT_NO_CONNECT, "cannot send the request");
		goto out;
	}
	event_base_dispatch(c.base);
	if (c.got_reply)
		res = RPC_CLIENT_OK;
	else if (c.oom)
		res = fail(reply, RPC_CLIENT_FAILED, "out of memory");
	else if (c.have_error && c.error == EVREQ_HTTP_DATA_TOO_LONG)
		res = fail(reply, RPC_CLIENT_FAILED, error_text(c.error));
	else if (c.have_error && c.error == EVREQ_HTTP_TIMEOUT)
		res = fail(reply, RPC_CLIENT_NO_CONNECT, error_text(c.error));
	else
		res = fail(reply, RPC_CLIENT_NO_CONNECT, "");
out:
	if (conn)
		evhttp_connection_free(conn);
	event_base_free(c.base);
	return res;
}

void rpc_client_reply_clear(struct rpc_client_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}
