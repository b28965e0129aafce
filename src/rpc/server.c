/* The JSON-RPC server: listening sockets, the HTTP front (evhttp), and JSON-RPC dispatch.
 *
 * A request goes through, in order: the source address check (loopback or -rpcallowip, else
 * 403), the work-queue bound (503), authentication (401 after a delay, on a timer), the HTTP
 * method and path (405, 404), JSON parsing (500 with -32700), then rpc_server_execute, which
 * knows nothing of HTTP and is what the unit tests drive. Everything runs on the event-loop
 * thread; a handler runs to completion before the next request is looked at. A long-poll
 * (waitformessage) detaches its call instead of blocking: the request stays open, counted in
 * the work queue, until the handler finishes it from the loop or the client leaves. */
#include "rpc/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "node/context.h"
#include "rpc/auth.h"
#include "rpc/protocol.h"
#include "rpc/spec.h"
#include "util/clock.h"
#include "util/log.h"

/* Most -rpcbind addresses: a host has few addresses worth binding; this keeps the listener
 * bookkeeping out of the allocator. */
#define RPC_MAX_BIND 32
/* Most -rpcallowip entries: as many as one list option can hold (ARGS_MAX_LIST). */
#define RPC_MAX_ALLOWIP 256
/* Largest -rpcworkqueue (the -rpcworkqueue option's own maximum). Requests are answered as
 * soon as they are read, except bad-credential ones waiting for their 401, whose bodies are
 * dropped at once: the queue pins a few hundred bytes per entry, not RPC_MAX_BODY. */
#define RPC_MAX_WORKQUEUE 4096
/* listen() backlog: connections the kernel queues before the loop accepts them. */
#define RPC_LISTEN_BACKLOG 128
/* Commands tracked for getrpcinfo. Handlers run to completion on the loop thread, so only one
 * is active at a time unless a handler executes another; deeper nesting runs untracked. */
#define RPC_MAX_ACTIVE 8
/* Longest piece of a client-supplied method name copied into a log line. */
#define RPC_LOG_NAME_MAX 64

/* An -rpcallowip entry (or a single address): family AF_INET or AF_INET6, the network
 * address already masked, and the mask. IPv4 uses the first 4 bytes. */
struct subnet {
	int family;
	uint8_t net[16];
	uint8_t mask[16];
};

/* A 401 answer waiting for its delay to pass. */
struct delayed_reply {
	struct rpc_server *server;
	struct evhttp_request *req;
	struct event *timer;
	struct delayed_reply *prev, *next;
};

struct active_cmd {
	const char *method;
	int64_t started_us;
};

enum jsonrpc_version { JSONRPC_V1, JSONRPC_V2 };

/* What the server knows of the request being executed, for rpc_call_detach. */
struct rpc_exec {
	enum jsonrpc_version version;
	const json_t *id;  /* NULL when absent */
	bool notification; /* JSON-RPC 2.0 without an id */
	bool in_batch;
	struct evhttp_request *req; /* NULL when not over HTTP */
	int64_t started_us;
	struct rpc_pending *pending; /* set when the handler detached */
};

/* A detached call waiting for its reply (rpc_call_detach). */
struct rpc_pending {
	struct rpc_server *server;
	struct evhttp_request *req;
	struct event *watch; /* the client's socket readable: has it left? */
	enum jsonrpc_version version;
	json_t *id; /* copy; NULL when absent */
	bool notification;
	const char *method; /* the spec's name (static) */
	int64_t started_us;
	rpc_cancel_fn cancel;
	void *ctx;
	struct rpc_pending *prev, *next;
};

struct rpc_server {
	struct event_base *base;
	struct node *node;
	struct rpc_auth *auth;
	struct evhttp *http;
	struct subnet allow[RPC_MAX_ALLOWIP];
	size_t nallow;
	int workqueue; /* most requests in flight */
	int inflight;  /* accepted, not yet answered (including delayed 401s) */
	struct delayed_reply *delayed;
	struct rpc_pending *pending; /* detached calls */
	struct active_cmd active[RPC_MAX_ACTIVE];
	size_t nactive;
	struct evhttp_request *current; /* the HTTP request being executed, or NULL */
	bool shutdown_after_reply;      /* stop was called during current */
	struct event *stop_timer;       /* RPC_STOP_GRACE_MS fallback once stop replied */
};

json_t *rpc_fail(struct rpc_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return NULL;
}

/* ---- Handler tables ---- */

static const struct rpc_method *const method_tables[] = {
	rpc_control_methods,
	rpc_messages_methods,
	rpc_network_methods,
};

static rpc_handler find_handler(const char *name)
{
	for (size_t t = 0; t < sizeof(method_tables) / sizeof(method_tables[0]); t++)
		for (const struct rpc_method *m = method_tables[t]; m->name != NULL; m++)
			if (strcmp(m->name, name) == 0)
				return m->fn;
	return NULL;
}

/* Every command in the spec table has a handler and every handler a spec entry. */
static int check_tables(char *err, size_t errlen)
{
	const struct rpc_spec *const *specs;
	size_t n = rpc_spec_all(&specs);
	for (size_t i = 0; i < n; i++) {
		if (find_handler(specs[i]->name) == NULL) {
			snprintf(err, errlen, "RPC command %s has no handler", specs[i]->name);
			return -1;
		}
	}
	for (size_t t = 0; t < sizeof(method_tables) / sizeof(method_tables[0]); t++) {
		for (const struct rpc_method *m = method_tables[t]; m->name != NULL; m++) {
			if (rpc_spec_find(m->name) == NULL) {
				snprintf(err, errlen,
					 "RPC handler %s has no entry in the command table",
					 m->name);
				return -1;
			}
		}
	}
	return 0;
}

/* ---- JSON-RPC: the transport-free core ---- */

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* Copy a client-supplied name for a log line: bounded, printable ASCII only. */
static void log_safe(char *out, size_t outlen, const char *in)
{
	size_t i = 0;
	for (; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (in[i] >= 0x20 && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
}

static json_t *error_object(const struct rpc_error *e)
{
	return json_pack("{s:i, s:s}", "code", e->code, "message", e->message);
}

/* Build a response. result is stolen (NULL on error). Returns NULL when out of memory. */
static json_t *make_reply(enum jsonrpc_version v, json_t *result, const struct rpc_error *e,
			  const json_t *id)
{
	json_t *idv = id ? json_deep_copy(id) : json_null();
	json_t *errv = e ? error_object(e) : json_null();
	json_t *res = result ? result : json_null();
	json_t *o = NULL;
	if (idv != NULL && errv != NULL && res != NULL) {
		if (v == JSONRPC_V1)
			o = json_pack("{s:O, s:O, s:O}", "result", res, "error", errv, "id", idv);
		else if (e != NULL)
			o = json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "error", errv, "id",
				      idv);
		else
			o = json_pack("{s:s, s:O, s:O}", "jsonrpc", "2.0", "result", res, "id",
				      idv);
	}
	json_decref(idv);
	json_decref(errv);
	json_decref(res);
	return o;
}

static int status_for(enum jsonrpc_version v, const struct rpc_error *e)
{
	if (v == JSONRPC_V2 || e == NULL)
		return 200;
	if (e->code == RPC_INVALID_REQUEST)
		return 400;
	if (e->code == RPC_METHOD_NOT_FOUND)
		return 404;
	return 500;
}

/* Map params (array, object or NULL) onto one slot per spec argument and check them.
 * Returns the slot array, or NULL with err. */
static json_t *build_params(const struct rpc_spec *spec, const json_t *params,
			    struct rpc_error *err)
{
	size_t n = rpc_spec_nargs(spec);
	json_t *slots = json_array();
	if (slots == NULL)
		return rpc_fail(err, RPC_INTERNAL_ERROR, "Out of memory");
	for (size_t i = 0; i < n; i++)
		json_array_append_new(slots, json_null());
	if (json_is_array(params)) {
		if (json_array_size(params) > n) {
			json_decref(slots);
			return rpc_fail(err, RPC_INVALID_PARAMS,
					"Too many parameters for %s: %zu given, at most %zu",
					spec->name, json_array_size(params), n);
		}
		for (size_t i = 0; i < json_array_size(params); i++)
			json_array_set(slots, i, json_array_get(params, i));
	} else if (json_is_object(params)) {
		const char *key;
		json_t *value;
		json_object_foreach((json_t *)params, key, value)
		{
			size_t i = 0;
			while (i < n && strcmp(spec->args[i].name, key) != 0)
				i++;
			if (i == n) {
				json_decref(slots);
				return rpc_fail(err, RPC_INVALID_PARAMS,
						"Unknown named parameter %s for %s", key,
						spec->name);
			}
			json_array_set(slots, i, value);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct rpc_arg_spec *a = &spec->args[i];
		const json_t *v = json_array_get(slots, i);
		if (json_is_null(v)) {
			if (a->optional)
				continue;
			json_decref(slots);
			return rpc_fail(err, RPC_INVALID_PARAMS,
					"Missing required parameter %s for %s", a->name,
					spec->name);
		}
		if (!rpc_type_matches(a->type, v)) {
			json_decref(slots);
			return rpc_fail(err, RPC_TYPE_ERROR,
					"JSON value of type %s for parameter %s is not of expected "
					"type %s",
					json_type_name(v), a->name, rpc_type_name(a->type));
		}
	}
	return slots;
}

/* Run one method: look it up, check its params, track it for getrpcinfo, call it. */
static json_t *dispatch(struct rpc_server *s, struct rpc_exec *ex, const char *method,
			const json_t *params, const char *user, struct rpc_error *err)
{
	const struct rpc_spec *spec = rpc_spec_find(method);
	rpc_handler fn = spec ? find_handler(spec->name) : NULL;
	if (fn == NULL) {
		char safe[RPC_LOG_NAME_MAX + 1];
		log_safe(safe, sizeof(safe), method);
		log_debug(LOG_RPC, "ThreadRPCServer method not found: %s user=%s", safe, user);
		return rpc_fail(err, RPC_METHOD_NOT_FOUND, "Method not found");
	}
	log_debug(LOG_RPC, "ThreadRPCServer method=%s user=%s", spec->name, user);
	json_t *slots = build_params(spec, params, err);
	if (slots == NULL)
		return NULL;
	struct rpc_call call = {
		.node = s->node, .server = s, .spec = spec, .user = user, .exec = ex};
	bool tracked = s->nactive < RPC_MAX_ACTIVE;
	ex->started_us = clock_mono_us();
	if (tracked)
		s->active[s->nactive++] = (struct active_cmd){spec->name, ex->started_us};
	err->code = RPC_INTERNAL_ERROR;
	err->message[0] = '\0';
	json_t *result = fn(&call, slots, err);
	if (tracked)
		s->nactive--;
	json_decref(slots);
	if (ex->pending != NULL) {
		/* Detached: the reply comes later; a result would be a handler bug. */
		json_decref(result);
		return NULL;
	}
	if (result == NULL && err->message[0] == '\0')
		rpc_fail(err, RPC_INTERNAL_ERROR, "Internal error");
	/* cppcheck-suppress returnDanglingLifetime ; result is a new JSON value, not call's */
	return result;
}

/* Read the version member. Returns 0, or -1 with err (the reply is then JSON-RPC 1.0). */
static int request_version(const json_t *req, enum jsonrpc_version *v, struct rpc_error *err)
{
	const json_t *jv = json_object_get(req, "jsonrpc");
	*v = JSONRPC_V1;
	if (jv == NULL || json_is_null(jv))
		return 0;
	if (!json_is_string(jv)) {
		rpc_fail(err, RPC_INVALID_REQUEST, "jsonrpc field must be a string");
		return -1;
	}
	if (strcmp(json_string_value(jv), "2.0") == 0)
		*v = JSONRPC_V2;
	else if (strcmp(json_string_value(jv), "1.0") != 0) {
		rpc_fail(err, RPC_INVALID_REQUEST, "JSON-RPC version not supported");
		return -1;
	}
	return 0;
}

/* Execute one request object. Returns the response, or NULL for a notification, a detached
 * call and when out of memory (*status 204, 0 and 500 tell them apart). */
static json_t *execute_one(struct rpc_server *s, const json_t *req, const char *user, bool in_batch,
			   int *status)
{
	struct rpc_error err = {0};
	enum jsonrpc_version v = JSONRPC_V1;
	const json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
	bool failed = true;
	json_t *result = NULL;

	if (!json_is_object(req)) {
		rpc_fail(&err, RPC_INVALID_REQUEST, "Invalid Request object");
	} else if (request_version(req, &v, &err) < 0) {
		/* err is set */
	} else {
		const json_t *method = json_object_get(req, "method");
		const json_t *params = json_object_get(req, "params");
		if (method == NULL) {
			rpc_fail(&err, RPC_INVALID_REQUEST, "Missing method");
		} else if (!json_is_string(method)) {
			rpc_fail(&err, RPC_INVALID_REQUEST, "Method must be a string");
		} else if (params != NULL && !json_is_null(params) && !json_is_array(params) &&
			   !json_is_object(params)) {
			rpc_fail(&err, RPC_INVALID_REQUEST, "Params must be an array or object");
		} else {
			struct rpc_exec ex = {.version = v,
					      .id = id,
					      .notification = v == JSONRPC_V2 && id == NULL,
					      .in_batch = in_batch,
					      .req = s->current};
			result = dispatch(s, &ex, json_string_value(method), params, user, &err);
			if (ex.pending != NULL) {
				*status = 0;
				return NULL;
			}
			failed = result == NULL;
			if (v == JSONRPC_V2 && id == NULL) {
				/* A notification: executed, never answered. */
				json_decref(result);
				*status = 204;
				return NULL;
			}
		}
	}
	*status = status_for(v, failed ? &err : NULL);
	json_t *reply = make_reply(v, result, failed ? &err : NULL, id);
	if (reply == NULL)
		*status = 500;
	return reply;
}

static json_t *execute_batch(struct rpc_server *s, const json_t *batch, const char *user,
			     int *status)
{
	struct rpc_error err = {0};
	size_t n = json_array_size(batch);
	if (n == 0 || n > RPC_MAX_BATCH) {
		if (n == 0)
			rpc_fail(&err, RPC_INVALID_REQUEST, "Invalid Request: empty batch");
		else
			rpc_fail(&err, RPC_INVALID_REQUEST,
				 "Invalid Request: batch of %zu requests, at most %u", n,
				 (unsigned)RPC_MAX_BATCH);
		*status = status_for(JSONRPC_V1, &err);
		json_t *reply = make_reply(JSONRPC_V1, NULL, &err, NULL);
		if (reply == NULL)
			*status = 500;
		return reply;
	}
	json_t *replies = json_array();
	if (replies == NULL) {
		*status = 500;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		int one_status;
		json_t *r = execute_one(s, json_array_get(batch, i), user, true, &one_status);
		if (r != NULL) {
			json_array_append_new(replies, r);
		} else if (one_status != 204) {
			json_decref(replies);
			*status = 500;
			return NULL;
		}
	}
	if (json_array_size(replies) == 0) {
		/* Only notifications: nothing to answer, as for a single one. */
		json_decref(replies);
		*status = 204;
		return NULL;
	}
	*status = 200;
	return replies;
}

json_t *rpc_server_execute(struct rpc_server *s, const json_t *request, const char *user,
			   int *http_status)
{
	if (user == NULL)
		user = "";
	if (json_is_array(request))
		return execute_batch(s, request, user, http_status);
	return execute_one(s, request, user, false, http_status);
}

json_t *rpc_server_execute_body(struct rpc_server *s, const char *body, size_t len,
				const char *user, int *http_status)
{
	json_error_t jerr;
	json_t *request = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (request == NULL) {
		static const struct rpc_error parse_error = {RPC_PARSE_ERROR, "Parse error"};
		log_debug(LOG_RPC, "JSON parse error: %s", jerr.text);
		*http_status = 500;
		return make_reply(JSONRPC_V1, NULL, &parse_error, NULL);
	}
	json_t *reply = rpc_server_execute(s, request, user, http_status);
	json_decref(request);
	return reply;
}

size_t rpc_server_active(const struct rpc_server *s, const char **methods, int64_t *started_us,
			 size_t max)
{
	size_t n = s->nactive < max ? s->nactive : max;
	for (size_t i = 0; i < n; i++) {
		methods[i] = s->active[i].method;
		started_us[i] = s->active[i].started_us;
	}
	for (const struct rpc_pending *p = s->pending; p != NULL && n < max; p = p->next) {
		methods[n] = p->method;
		started_us[n++] = p->started_us;
	}
	return n;
}

/* ---- Source addresses: loopback and -rpcallowip ---- */

/* Parse "ip", "ip/bits" or "ip/netmask". Returns 0 or -1. */
static int parse_subnet(const char *text, struct subnet *out)
{
	char buf[2 * INET6_ADDRSTRLEN + 2];
	uint8_t addr[16];
	memset(out, 0, sizeof(*out));
	if (strlen(text) >= sizeof(buf))
		return -1;
	strcpy(buf, text); /* NOLINT: length checked above */
	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	size_t len;
	if (inet_pton(AF_INET, buf, addr) == 1) {
		out->family = AF_INET;
		len = 4;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		out->family = AF_INET6;
		len = 16;
	} else {
		return -1;
	}
	if (slash == NULL) {
		memset(out->mask, 0xff, len);
	} else if (slash[0] != '\0' && strspn(slash, "0123456789") == strlen(slash)) {
		if (strlen(slash) > 3)
			return -1;
		unsigned bits = (unsigned)atoi(slash);
		if (bits > len * 8)
			return -1;
		for (size_t i = 0; i < len; i++) {
			unsigned b = bits > i * 8 ? bits - i * 8 : 0;
			out->mask[i] = b >= 8 ? 0xff : (uint8_t)(0xff << (8 - b));
		}
	} else {
		if (inet_pton(out->family, slash, out->mask) != 1)
			return -1;
		/* A netmask is ones, then zeros. */
		bool zero_seen = false;
		for (size_t i = 0; i < len * 8; i++) {
			bool bit = (out->mask[i / 8] >> (7 - i % 8)) & 1;
			if (bit && zero_seen)
				return -1;
			zero_seen |= !bit;
		}
	}
	for (size_t i = 0; i < len; i++)
		out->net[i] = addr[i] & out->mask[i];
	return 0;
}

/* The peer's address as family + bytes; IPv4-mapped IPv6 becomes IPv4. Returns 0 or -1. */
static int peer_bytes(const struct sockaddr *sa, int *family, uint8_t out[16])
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		*family = AF_INET;
		memcpy(out, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;
		if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
			*family = AF_INET;
			memcpy(out, b + 12, 4);
		} else {
			*family = AF_INET6;
			memcpy(out, b, 16);
		}
		return 0;
	}
	return -1;
}

static bool peer_allowed(const struct rpc_server *s, const struct sockaddr *sa)
{
	static const uint8_t v6loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	int family;
	uint8_t b[16];
	if (peer_bytes(sa, &family, b) < 0)
		return false;
	if (family == AF_INET && b[0] == 127)
		return true;
	if (family == AF_INET6 && memcmp(b, v6loopback, 16) == 0)
		return true;
	size_t len = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < s->nallow; i++) {
		const struct subnet *n = &s->allow[i];
		if (n->family != family)
			continue;
		size_t j = 0;
		while (j < len && (b[j] & n->mask[j]) == n->net[j])
			j++;
		if (j == len)
			return true;
	}
	return false;
}

/* ---- HTTP ---- */

static void send_body(struct evhttp_request *req, int status, const char *content_type,
		      const char *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	if (content_type != NULL)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  content_type);
	if (buf != NULL && len > 0)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, NULL, buf);
	if (buf != NULL)
		evbuffer_free(buf);
}

static void send_text(struct evhttp_request *req, int status, const char *text)
{
	send_body(req, status, "text/plain", text, strlen(text));
}

static void send_401(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
			  "Basic realm=\"jsonrpc\"");
	evhttp_send_reply(req, 401, NULL, NULL);
}

static void delayed_unlink(struct delayed_reply *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		d->server->delayed = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
}

static void delayed_fire(evutil_socket_t fd, short what, void *arg)
{
	struct delayed_reply *d = arg;
	(void)fd;
	(void)what;
	delayed_unlink(d);
	d->server->inflight--;
	send_401(d->req);
	event_free(d->timer);
	free(d);
}

/* Answer 401 after RPC_AUTH_FAIL_DELAY_MS, without holding up the loop. */
static void reply_401_later(struct rpc_server *s, struct evhttp_request *req)
{
	static const struct timeval delay = {RPC_AUTH_FAIL_DELAY_MS / 1000,
					     (RPC_AUTH_FAIL_DELAY_MS % 1000) * 1000};
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	evbuffer_drain(body, evbuffer_get_length(body));
	struct delayed_reply *d = calloc(1, sizeof(*d));
	if (d != NULL)
		d->timer = evtimer_new(s->base, delayed_fire, d);
	if (d == NULL || d->timer == NULL || evtimer_add(d->timer, &delay) != 0) {
		if (d != NULL && d->timer != NULL)
			event_free(d->timer);
		free(d);
		s->inflight--;
		send_401(req);
		return;
	}
	d->server = s;
	d->req = req;
	d->next = s->delayed;
	if (s->delayed != NULL)
		s->delayed->prev = d;
	s->delayed = d;
}

static void reply_json(struct evhttp_request *req, int status, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(16));
	if (text == NULL) {
		send_text(req, 500, "Out of memory\n");
		return;
	}
	size_t len = strlen(text);
	char *body = realloc(text, len + 2);
	if (body == NULL) {
		free(text);
		send_text(req, 500, "Out of memory\n");
		return;
	}
	body[len] = '\n';
	body[len + 1] = '\0';
	send_body(req, status, "application/json", body, len + 1);
	free(body);
}

/* ---- Detached calls (long-polls) ---- */

static void pending_unlink(struct rpc_pending *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		p->server->pending = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
}

/* Forget p and give back its work-queue slot (the request itself is not touched). */
static void pending_free(struct rpc_pending *p)
{
	pending_unlink(p);
	p->server->inflight--;
	if (p->watch != NULL)
		event_free(p->watch);
	json_decref(p->id);
	free(p);
}

/* evhttp reads nothing from a connection while its request waits for a reply, so it would not
 * notice a client that left. We watch the socket ourselves: end of stream or an error means the
 * client is gone; bytes (a pipelined request) mean it is still there, and we stop watching
 * (the reply, when it comes, will find out). */
static void pending_watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rpc_pending *p = arg;
	char byte;
	(void)what;
	ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n > 0)
		return;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		event_add(p->watch, NULL);
		return;
	}
	log_debug(LOG_RPC, "RPC %s: the client closed its connection; call cancelled", p->method);
	struct evhttp_request *req = p->req;
	p->cancel(p->ctx);
	pending_free(p);
	/* Frees the request with the connection; nobody is left to read a reply. */
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	if (evcon != NULL)
		evhttp_connection_free(evcon);
	else
		evhttp_request_free(req);
}

struct rpc_pending *rpc_call_detach(struct rpc_call *call, rpc_cancel_fn cancel, void *ctx,
				    struct rpc_error *err)
{
	struct rpc_exec *ex = call->exec;
	struct rpc_server *s = call->server;
	if (ex == NULL || s == NULL || ex->req == NULL) {
		rpc_fail(err, RPC_MISC_ERROR, "%s can only be called over HTTP", call->spec->name);
		return NULL;
	}
	if (ex->in_batch) {
		rpc_fail(err, RPC_INVALID_REQUEST, "%s cannot be part of a batch request",
			 call->spec->name);
		return NULL;
	}
	struct rpc_pending *p = calloc(1, sizeof(*p));
	if (p == NULL || (ex->id != NULL && (p->id = json_deep_copy(ex->id)) == NULL)) {
		free(p);
		rpc_fail(err, RPC_INTERNAL_ERROR, "Out of memory");
		return NULL;
	}
	struct evhttp_connection *evcon = evhttp_request_get_connection(ex->req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
	if (fd >= 0)
		p->watch = event_new(s->base, fd, EV_READ, pending_watch_cb, p);
	if (p->watch != NULL && event_add(p->watch, NULL) != 0) {
		event_free(p->watch);
		p->watch = NULL;
	}
	if (p->watch == NULL)
		log_warn("RPC %s: cannot watch the client's connection", call->spec->name);
	p->server = s;
	p->req = ex->req;
	p->version = ex->version;
	p->notification = ex->notification;
	p->method = call->spec->name;
	p->started_us = ex->started_us;
	p->cancel = cancel;
	p->ctx = ctx;
	p->next = s->pending;
	if (s->pending != NULL)
		s->pending->prev = p;
	s->pending = p;
	ex->pending = p;
	return p;
}

void rpc_pending_finish(struct rpc_pending *p, json_t *result, const struct rpc_error *err)
{
	struct evhttp_request *req = p->req;
	static const struct rpc_error no_error = {RPC_INTERNAL_ERROR, "Internal error"};
	if (result == NULL && err == NULL)
		err = &no_error;
	enum jsonrpc_version v = p->version;
	bool notification = p->notification;
	json_t *id = p->id;
	p->id = NULL;
	pending_free(p);
	if (notification) {
		json_decref(result);
		json_decref(id);
		evhttp_send_reply(req, 204, NULL, NULL);
		return;
	}
	int status = status_for(v, result ? NULL : err);
	json_t *reply = make_reply(v, result, result ? NULL : err, id);
	json_decref(id);
	if (reply != NULL)
		reply_json(req, status, reply);
	else
		send_text(req, 500, "Out of memory\n");
	json_decref(reply);
}

/* ---- Shutdown after the stop reply ---- */

static void shutdown_now(struct rpc_server *s)
{
	if (s->stop_timer != NULL) {
		event_free(s->stop_timer);
		s->stop_timer = NULL;
	}
	node_request_shutdown(s->node);
}

static void stop_reply_sent(struct evhttp_request *req, void *arg)
{
	(void)req;
	shutdown_now(arg);
}

static void stop_grace_over(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	shutdown_now(arg);
}

void rpc_server_request_shutdown(struct rpc_call *call)
{
	struct rpc_server *s = call->server;
	if (s == NULL || s->current == NULL) {
		node_request_shutdown(call->node);
		return;
	}
	s->shutdown_after_reply = true;
}

/* Called before req's reply is sent: when stop ran, shut down once the reply is out. */
static void arm_shutdown(struct rpc_server *s, struct evhttp_request *req)
{
	static const struct timeval grace = {RPC_STOP_GRACE_MS / 1000,
					     (RPC_STOP_GRACE_MS % 1000) * 1000};
	if (!s->shutdown_after_reply)
		return;
	s->shutdown_after_reply = false;
	if (s->stop_timer == NULL)
		s->stop_timer = evtimer_new(s->base, stop_grace_over, s);
	if (s->stop_timer == NULL || evtimer_add(s->stop_timer, &grace) != 0) {
		shutdown_now(s);
		return;
	}
	evhttp_request_set_on_complete_cb(req, stop_reply_sent, s);
}

/* An authenticated request: method, path, body, JSON, execute. Returns true when the call
 * was detached (its reply comes later), false when it was answered. */
static bool handle_rpc(struct rpc_server *s, struct evhttp_request *req, const char *user)
{
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		send_text(req, 405, "JSONRPC server handles only POST requests\n");
		return false;
	}
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || strcmp(path, "/") != 0) {
		send_text(req, 404, "Not found\n");
		return false;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *data = len ? (const char *)evbuffer_pullup(in, (ev_ssize_t)len) : "";
	if (data == NULL) {
		send_text(req, 500, "Out of memory\n");
		return false;
	}
	int status = 500;
	s->current = req;
	json_t *reply = rpc_server_execute_body(s, data, len, user, &status);
	s->current = NULL;
	if (reply == NULL && status == 0)
		return true;
	arm_shutdown(s, req);
	if (reply != NULL)
		reply_json(req, status, reply);
	else
		evhttp_send_reply(req, status, NULL, NULL);
	json_decref(reply);
	return false;
}

static void http_cb(struct evhttp_request *req, void *arg)
{
	struct rpc_server *s = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *peer_host = NULL;
	ev_uint16_t peer_port = 0;
	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &peer_host, &peer_port);
	if (log_category_enabled(LOG_HTTP)) {
		char uri[RPC_LOG_NAME_MAX + 1];
		log_safe(uri, sizeof(uri), evhttp_request_get_uri(req));
		log_debug(LOG_HTTP, "Received a request for %s from %s:%u", uri,
			  peer_host ? peer_host : "?", peer_port);
	}
	if (evcon == NULL || !peer_allowed(s, evhttp_connection_get_addr(evcon))) {
		log_debug(LOG_HTTP,
			  "RPC request from %s refused: address not allowed (-rpcallowip)",
			  peer_host ? peer_host : "?");
		send_text(req, 403, "Forbidden\n");
		return;
	}
	if (s->inflight >= s->workqueue) {
		log_warn("RPC request from %s refused: work queue depth exceeded (%d, "
			 "-rpcworkqueue)",
			 peer_host ? peer_host : "?", s->workqueue);
		send_text(req, 503, "Work queue depth exceeded\n");
		return;
	}
	s->inflight++;
	char user[256];
	const char *auth =
		evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (!rpc_auth_check(s->auth, auth, user, sizeof(user))) {
		log_info("RPC request from %s: incorrect or missing credentials",
			 peer_host ? peer_host : "?");
		reply_401_later(s, req);
		return;
	}
	if (!handle_rpc(s, req, user))
		s->inflight--;
}

/* ---- Listening ---- */

/* Split "host", "host:port", "[v6]:port", "[v6]" or a bare IPv6 address. Returns 0 or -1. */
static int split_bind(const char *text, uint16_t defport, char *host, size_t hostlen, char *port,
		      size_t portlen)
{
	const char *h = text, *p = NULL;
	size_t hlen;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL || (close[1] != '\0' && close[1] != ':'))
			return -1;
		h = text + 1;
		hlen = (size_t)(close - h);
		if (close[1] == ':')
			p = close + 2;
	} else {
		const char *colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			hlen = (size_t)(colon - text);
			p = colon + 1;
		} else {
			hlen = strlen(text); /* no port, or a bare IPv6 address */
		}
	}
	if (hlen == 0 || hlen >= hostlen)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (p == NULL) {
		snprintf(port, portlen, "%u", defport);
		return 0;
	}
	size_t plen = strlen(p);
	if (plen == 0 || plen > 5 || strspn(p, "0123456789") != plen)
		return -1;
	long v = strtol(p, NULL, 10);
	if (v < 1 || v > 65535)
		return -1;
	snprintf(port, portlen, "%ld", v);
	return 0;
}

/* Bind and listen on one resolved address and hand the socket to evhttp. Returns 0, or -1
 * with errno set. */
static int listen_on(struct rpc_server *s, const struct addrinfo *ai)
{
	int one = 1;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ai->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, RPC_LISTEN_BACKLOG) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (evhttp_accept_socket_with_handle(s->http, fd) == NULL) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

/* ::1 that fails because the host has no IPv6: skipped, not fatal (see the header). */
static bool ipv6_unavailable(const struct addrinfo *ai, int e)
{
	if (ai->ai_family != AF_INET6 || (e != EAFNOSUPPORT && e != EADDRNOTAVAIL))
		return false;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)ai->ai_addr;
	return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
}

/* Bind every address text resolves to. Returns the number bound (>= 0), or -1 with err. */
static int bind_one(struct rpc_server *s, const char *text, uint16_t defport, char *err,
		    size_t errlen)
{
	char host[256], port[8];
	if (split_bind(text, defport, host, sizeof(host), port, sizeof(port)) < 0) {
		snprintf(err, errlen, "invalid -rpcbind address: %s", text);
		return -1;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve -rpcbind address %s: %s", text,
			 gai_strerror(rc));
		return -1;
	}
	int bound = 0;
	for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		if (listen_on(s, ai) == 0) {
			bound++;
			continue;
		}
		int e = errno;
		if (ipv6_unavailable(ai, e)) {
			log_warn("RPC: cannot bind %s port %s (%s): IPv6 is unavailable, skipped",
				 host, port, strerror(e));
			continue;
		}
		snprintf(err, errlen, "cannot bind RPC on %s port %s: %s", host, port, strerror(e));
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (bound > 0)
		log_info("Binding RPC on address %s port %s", host, port);
	return bound;
}

static int configure(struct rpc_server *s, const struct rpc_server_config *cfg, char *err,
		     size_t errlen)
{
	if (cfg->nbind > RPC_MAX_BIND) {
		snprintf(err, errlen, "too many -rpcbind addresses (at most %d)", RPC_MAX_BIND);
		return -1;
	}
	if (cfg->nallowip > RPC_MAX_ALLOWIP) {
		snprintf(err, errlen, "too many -rpcallowip entries (at most %d)", RPC_MAX_ALLOWIP);
		return -1;
	}
	if (cfg->timeout_secs < 1) {
		snprintf(err, errlen, "-rpcservertimeout must be at least 1 second");
		return -1;
	}
	if (cfg->workqueue < 1 || cfg->workqueue > RPC_MAX_WORKQUEUE) {
		snprintf(err, errlen, "-rpcworkqueue must be between 1 and %d", RPC_MAX_WORKQUEUE);
		return -1;
	}
	if (cfg->auth == NULL) {
		snprintf(err, errlen, "no RPC credentials");
		return -1;
	}
	for (size_t i = 0; i < cfg->nallowip; i++) {
		if (parse_subnet(cfg->allowip[i], &s->allow[i]) < 0) {
			snprintf(err, errlen,
				 "invalid -rpcallowip subnet specification: %s. Valid are a "
				 "single IP (e.g. 1.2.3.4), a network/netmask (e.g. "
				 "1.2.3.4/255.255.255.0) or a network/CIDR (e.g. 1.2.3.4/24)",
				 cfg->allowip[i]);
			return -1;
		}
	}
	s->nallow = cfg->nallowip;
	s->workqueue = cfg->workqueue;
	s->auth = cfg->auth;
	return 0;
}

struct rpc_server *rpc_server_new(struct event_base *base, struct node *node,
				  const struct rpc_server_config *cfg, char *err, size_t errlen)
{
	if (check_tables(err, errlen) < 0)
		return NULL;
	struct rpc_server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->base = base;
	s->node = node;
	if (configure(s, cfg, err, errlen) < 0) {
		free(s);
		return NULL;
	}
	s->http = evhttp_new(base);
	if (s->http == NULL) {
		snprintf(err, errlen, "cannot create the HTTP server");
		free(s);
		return NULL;
	}
	evhttp_set_timeout(s->http, cfg->timeout_secs);
	evhttp_set_max_headers_size(s->http, RPC_MAX_HEADERS);
	evhttp_set_max_body_size(s->http, RPC_MAX_BODY);
	/* Read (and drop) an oversize body before answering 413, so that a client still
	 * writing it reads the 413 instead of a reset connection. */
	evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
	/* Let every method through so that we answer 405 ourselves (evhttp would say 501). */
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(s->http, http_cb, s);
	int bound = 0;
	for (size_t i = 0; i < cfg->nbind; i++) {
		int n = bind_one(s, cfg->bind[i], cfg->port, err, errlen);
		if (n < 0) {
			rpc_server_free(s);
			return NULL;
		}
		bound += n;
	}
	if (cfg->nbind > 0 && bound == 0) {
		snprintf(err, errlen, "unable to bind any endpoint for the RPC server");
		rpc_server_free(s);
		return NULL;
	}
	return s;
}

void rpc_server_free(struct rpc_server *s)
{
	if (s == NULL)
		return;
	/* Answer the delayed 401s now: a request is freed by evhttp with its connection, or by
	 * the reply when the client already left. */
	while (s->delayed != NULL) {
		struct delayed_reply *d = s->delayed;
		s->delayed = d->next;
		event_free(d->timer);
		send_401(d->req);
		free(d);
	}
	/* Detached calls end without a reply: evhttp_free below frees their requests with their
	 * connections (a reply queued now would not be written first anyway). */
	while (s->pending != NULL) {
		struct rpc_pending *p = s->pending; /* pending_free unlinks it: never seen twice */
		p->cancel(p->ctx);                  /* NOLINT(clang-analyzer-unix.Malloc) */
		pending_free(p);
	}
	if (s->stop_timer != NULL)
		event_free(s->stop_timer);
	if (s->http != NULL)
		evhttp_free(s->http);
	free(s);
}
