/* RPC commands of the "messages" category: publish, sendrawmessage, getmessage, listmessages,
 * decodemessage, getstoreinfo, waitformessage. Their arguments and help text are in rpc/spec.c;
 * doc/messages.md fixes their shapes and error codes.
 *
 * They read the message store (node->msgstore) and submit through the gossip engine
 * (node->gossip), which validates, stores durably and relays. waitformessage is a long-poll: it
 * detaches its call (rpc_call_detach), listens to the gossip engine for the next stored message
 * and arms a timer for its timeout, so the loop keeps serving everything else meanwhile. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "msg/gossip.h"
#include "msg/msgjson.h"
#include "msg/store.h"
#include "msg/sync.h"
#include "msg/validate.h"
#include "node/context.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "util/args.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"
#include "wire/sigmsg.h"

/* listmessages without a limit: a page a terminal can show. */
#define LIST_DEFAULT_LIMIT 100
/* waitformessage's timeout: default, and at most an hour (a client wanting longer calls again;
 * the wait holds a work-queue slot). */
#define WAIT_DEFAULT_SECS 60
#define WAIT_MAX_SECS     3600

static json_t *oom(struct rpc_error *err)
{
	return rpc_fail(err, RPC_INTERNAL_ERROR, "Out of memory");
}

/* The message store, or NULL after filling err. */
static struct msgstore *need_store(const struct rpc_call *call, struct rpc_error *err)
{
	if (call->node->msgstore == NULL)
		rpc_fail(err, RPC_DATABASE_ERROR, "Message store is not open");
	return call->node->msgstore;
}

/* The gossip engine, or NULL after filling err (a node without its P2P layer). */
static struct gossip *need_gossip(const struct rpc_call *call, struct rpc_error *err)
{
	if (call->node->gossip == NULL)
		rpc_fail(err, RPC_CLIENT_P2P_DISABLED,
			 "Error: Peer-to-peer functionality missing or disabled");
	return call->node->gossip;
}

/* A 32-byte id from a JSON string of exactly 64 hex characters. Returns 0 or -1. */
static int parse_id(uint8_t out[32], const json_t *v)
{
	const char *s = json_string_value(v);
	if (s == NULL || json_string_length(v) != 64)
		return -1;
	return hex_decode(out, 32, s);
}

/* The verbose object of a stored message. Returns NULL with err on a record that does not
 * decode (a corrupt store) or when out of memory. */
static json_t *stored_json(const uint8_t id[32], const uint8_t *raw, size_t len,
			   int64_t received_at, struct rpc_error *err)
{
	struct sigmsg m;
	if (sigmsg_decode(&m, raw, len) != 0) {
		char hex[65];
		hex_encode(hex, id, 32);
		log_error("message store: the record of %s does not decode", hex);
		return rpc_fail(err, RPC_DATABASE_ERROR, "Stored message %s does not decode", hex);
	}
	json_t *o = sigmsg_json(&m, id, len, received_at);
	sigmsg_clear(&m);
	return o ? o : oom(err);
}

/* Decode the "hexstring" argument. Returns 0 with *m filled (release with sigmsg_clear) and
 * *size, or -1 with err (RPC_DESERIALIZATION_ERROR). */
static int decode_hex(const json_t *v, struct sigmsg *m, size_t *size, struct rpc_error *err)
{
	const char *hex = json_string_value(v);
	uint8_t *raw = NULL;
	size_t len = 0;
	/* strlen: a JSON string may hold a NUL, which would hide what follows it. */
	if (strlen(hex) != json_string_length(v) ||
	    hex_decode_alloc(hex, SIGMSG_MAX_SIZE, &raw, &len) != 0 ||
	    sigmsg_decode(m, raw, len) != 0) {
		free(raw);
		rpc_fail(err, RPC_DESERIALIZATION_ERROR, "Message decode failed");
		return -1;
	}
	free(raw);
	*size = len;
	return 0;
}

/* Hand a message of ours to the gossip engine (validate, store durably, relay). Returns the id
 * as a JSON string, or NULL with err. */
static json_t *submit(struct gossip *g, const struct sigmsg *m, const uint8_t id[32],
		      struct rpc_error *err)
{
	bool already = false, db_error = false;
	enum msg_verdict v = gossip_submit_local(g, m, id, &already, &db_error);
	if (v != MSG_VALID)
		return rpc_fail(err, RPC_VERIFY_REJECTED, "%s", msg_verdict_name(v));
	if (db_error)
		return rpc_fail(err, RPC_DATABASE_ERROR,
				"Database error: the message was not stored");
	json_t *out = json_hex(id, 32);
	return out ? out : oom(err);
}

/* ---- publish, sendrawmessage ---- */

/* Fill m->refs from a JSON array of ids (NULL or null: none). Returns 0, or -1 with err. */
static int parse_refs(struct sigmsg *m, const json_t *refs, struct rpc_error *err)
{
	if (refs == NULL || json_is_null(refs))
		return 0;
	if (json_array_size(refs) > SIGMSG_MAX_REFS) {
		rpc_fail(err, RPC_INVALID_PARAMETER, "Too many refs: %zu, at most %d",
			 json_array_size(refs), SIGMSG_MAX_REFS);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(refs); i++) {
		if (parse_id(m->refs[i], json_array_get(refs, i)) != 0) {
			rpc_fail(err, RPC_INVALID_PARAMETER,
				 "Invalid ref %zu: a message id is 64 hexadecimal characters",
				 i + 1);
			return -1;
		}
	}
	m->nrefs = (uint8_t)json_array_size(refs);
	return 0;
}

static json_t *rpc_publish(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	struct node *node = call->node;
	const json_t *jtopic = json_array_get(params, 0), *jbody = json_array_get(params, 1);
	const char *topic = json_string_value(jtopic);
	size_t topic_len = json_string_length(jtopic), body_len = json_string_length(jbody);
	struct sigmsg m = {0};
	uint8_t id[32];

	if (!sigmsg_topic_valid(topic, topic_len))
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Invalid topic: 1 to %d characters of a-z, 0-9, '.', '_', '/' and "
				"'-'",
				SIGMSG_TOPIC_MAX);
	if (parse_refs(&m, json_array_get(params, 2), err) != 0)
		return NULL;
	if (body_len > node->policy.max_body)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"Body too large: %zu bytes, at most %" PRIu32 " (-maxmsgsize)",
				body_len, node->policy.max_body);
	struct gossip *g = need_gossip(call, err);
	if (g == NULL)
		return NULL;

	m.version = SIGMSG_FORMAT_VERSION;
	memcpy(m.topic, topic, topic_len);
	m.topic[topic_len] = '\0';
	m.created_at = clock_now(&node->clock);
	if (body_len > 0) {
		m.body = malloc(body_len);
		if (m.body == NULL)
			return oom(err);
		memcpy(m.body, json_string_value(jbody), body_len);
		m.body_len = (uint32_t)body_len;
	}
	/* Mining runs here, on the loop (see publish's help for what -minpow costs). */
	int rc = sigmsg_sign(&m, id, node->node_seckey, node->policy.min_pow, 0);
	json_t *out =
		rc == 0 ? submit(g, &m, id, err)
			: rpc_fail(err, RPC_INTERNAL_ERROR, "Cannot sign the message (%d)", rc);
	sigmsg_clear(&m);
	return out;
}

static json_t *rpc_sendrawmessage(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	struct sigmsg m;
	size_t size;
	uint8_t id[32];
	if (decode_hex(json_array_get(params, 0), &m, &size, err) != 0)
		return NULL;
	struct gossip *g = need_gossip(call, err);
	json_t *out = NULL;
	if (g != NULL && sigmsg_id(id, &m) != 0)
		oom(err);
	else if (g != NULL)
		out = submit(g, &m, id, err);
	sigmsg_clear(&m);
	return out;
}

/* ---- getmessage, decodemessage, getstoreinfo ---- */

static json_t *rpc_getmessage(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	uint8_t id[32];
	if (parse_id(id, json_array_get(params, 0)) != 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER,
				"id must be a message id of 64 hexadecimal characters");
	bool verbose = !json_is_false(json_array_get(params, 1));
	struct msgstore *store = need_store(call, err);
	if (store == NULL)
		return NULL;
	uint8_t *raw = NULL;
	size_t len = 0;
	int64_t received_at = 0;
	int rc = msgstore_get(store, id, &raw, &len, &received_at);
	if (rc < 0)
		return rpc_fail(err, RPC_DATABASE_ERROR, "Database error reading the message");
	if (rc == 0)
		return rpc_fail(err, RPC_INVALID_ADDRESS_OR_KEY, "Message not found");
	json_t *out;
	if (verbose) {
		out = stored_json(id, raw, len, received_at, err);
	} else {
		out = json_hex(raw, len);
		if (out == NULL)
			oom(err);
	}
	free(raw);
	return out;
}

static json_t *rpc_decodemessage(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	struct sigmsg m;
	size_t size;
	uint8_t id[32];
	if (decode_hex(json_array_get(params, 0), &m, &size, err) != 0)
		return NULL;
	json_t *out = NULL;
	if (sigmsg_id(id, &m) == 0) {
		struct msg_policy policy = call->node->policy;
		policy.now = clock_now(&call->node->clock);
		enum msg_verdict v = msg_validate(&m, id, &policy);
		out = sigmsg_json(&m, id, size, -1);
		if (out != NULL &&
		    json_object_set_new(out, "valid", json_string(msg_verdict_name(v))) != 0) {
			json_decref(out);
			out = NULL;
		}
	}
	sigmsg_clear(&m);
	return out ? out : oom(err);
}

static json_t *rpc_getstoreinfo(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	const struct node *node = call->node;
	struct msgstore *store = need_store(call, err);
	if (store == NULL)
		return NULL;
	struct msgstore_stats st;
	if (msgstore_stats(store, &st) != 0)
		return rpc_fail(err, RPC_DATABASE_ERROR, "Database error reading the store totals");
	json_t *out = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:I}", "count",
				(json_int_t)st.count, "bytes", (json_int_t)st.bytes, "oldest",
				(json_int_t)st.oldest, "newest", (json_int_t)st.newest, "retention",
				(json_int_t)node->policy.retention, "maxstoremb",
				(json_int_t)(node->max_store_bytes / (1024 * 1024)), "pruned",
				(json_int_t)st.pruned, "minpow", node->policy.min_pow, "maxmsgsize",
				(json_int_t)node->policy.max_body);
	return out ? out : oom(err);
}

/* ---- catch-up sync ---- */

static json_t *rpc_getsyncinfo(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	struct gossip *g = need_gossip(call, err);
	if (g == NULL)
		return NULL;
	struct sync *s = gossip_sync(g);
	struct sync_stats st;
	sync_stats(s, &st);
	json_t *sessions = json_array();
	struct sync_session_info info[SYNC_MAX_SESSIONS * 4];
	size_t n = sync_sessions(s, info, sizeof(info) / sizeof(info[0]));
	if (n > sizeof(info) / sizeof(info[0]))
		n = sizeof(info) / sizeof(info[0]);
	for (size_t i = 0; sessions && i < n; i++) {
		json_t *o = json_pack(
			"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b}", "peer",
			(json_int_t)info[i].peer_id, "started", (json_int_t)info[i].started,
			"rounds", (json_int_t)info[i].rounds, "bytes_sent",
			(json_int_t)info[i].bytes_sent, "bytes_recv",
			(json_int_t)info[i].bytes_recv, "need", (json_int_t)info[i].need, "have",
			(json_int_t)info[i].have, "need_queued", (json_int_t)info[i].need_queued,
			"have_queued", (json_int_t)info[i].have_queued, "waiting", info[i].waiting);
		if (!o || json_array_append_new(sessions, o) != 0) {
			json_decref(sessions);
			sessions = NULL;
		}
	}
	if (!sessions)
		return oom(err);
	json_t *out = json_pack(
		"{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
		"s:I, s:I, s:o}",
		"loaded", st.loaded, "items", (json_int_t)st.items, "memory", (json_int_t)st.memory,
		"interval",
		(json_int_t)args_get_int(call->node->args, "syncinterval", DEFAULT_SYNC_INTERVAL),
		"sessions_started", (json_int_t)st.started, "sessions_completed",
		(json_int_t)st.completed, "sessions_failed", (json_int_t)st.failed,
		"sessions_timed_out", (json_int_t)st.timed_out, "sessions_continued",
		(json_int_t)st.continued, "requests_answered", (json_int_t)st.answered, "rounds",
		(json_int_t)st.rounds, "bytes_sent", (json_int_t)st.bytes_sent, "bytes_recv",
		(json_int_t)st.bytes_recv, "ids_needed", (json_int_t)st.ids_need, "ids_offered",
		(json_int_t)st.ids_have, "messages_fetched", (json_int_t)st.fetched,
		"ids_announced", (json_int_t)st.announced, "messages_sent", (json_int_t)st.served,
		"sessions", sessions);
	return out ? out : oom(err);
}

static json_t *rpc_syncwithpeer(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	struct gossip *g = need_gossip(call, err);
	if (g == NULL)
		return NULL;
	json_int_t id = json_integer_value(json_array_get(params, 0));
	const char *why = "no peer";
	if (id < 0 || gossip_sync_with(g, (uint64_t)id, &why) != 0) {
		if (strcmp(why, "no peer") == 0)
			return rpc_fail(err, RPC_CLIENT_NODE_NOT_CONNECTED,
					"Error: Node not connected (or not relaying messages)");
		return rpc_fail(err, RPC_MISC_ERROR, "Cannot start a session: %s",
				strcmp(why, "busy") == 0      ? "one with this peer is running"
				: strcmp(why, "limit") == 0   ? "the session limit is reached"
				: strcmp(why, "loading") == 0 ? "the index is still loading"
							      : why);
	}
	return json_null();
}

/* ---- listmessages ---- */

/* What the store's query cannot say: created_at <= 0 ("until": 0; the store reads 0 as no
 * bound). Those messages come first in time order, so the walk goes forward and stops at the
 * first later one, and a reverse listing is reversed afterwards. */
struct list_ctx {
	json_t *out;
	bool until_zero;
	bool failed; /* out of memory */
};

static int list_one(void *ctx, const uint8_t id[32], const uint8_t *raw, size_t len,
		    int64_t received_at)
{
	struct list_ctx *c = ctx;
	struct sigmsg m;
	if (sigmsg_decode(&m, raw, len) != 0) {
		char hex[65];
		hex_encode(hex, id, 32);
		log_error("message store: the record of %s does not decode; not listed", hex);
		return 0;
	}
	int stop = 0;
	if (c->until_zero && m.created_at > 0) {
		stop = 1;
	} else if (json_array_append_new(c->out, sigmsg_json(&m, id, len, received_at)) != 0) {
		c->failed = true;
		stop = 1;
	}
	sigmsg_clear(&m);
	return stop;
}

static int bad_filter(struct rpc_error *err, const char *key, const char *what)
{
	rpc_fail(err, RPC_INVALID_PARAMETER, "Invalid filter: %s must be %s", key, what);
	return -1;
}

/* Read listmessages' filter into q (author and replies_to point into the buffers given).
 * Returns 0, or -1 with err. */
static int parse_filter(const json_t *filter, struct msgstore_query *q, bool *until_zero,
			uint8_t author[32], uint8_t replies_to[32], struct rpc_error *err)
{
	const char *key;
	json_t *v;
	q->limit = LIST_DEFAULT_LIMIT;
	*until_zero = false;
	if (filter == NULL || json_is_null(filter))
		return 0;
	json_object_foreach((json_t *)filter, key, v)
	{
		if (strcmp(key, "topic") == 0) {
			if (!sigmsg_topic_valid(json_string_value(v), json_string_length(v)))
				return bad_filter(err, key,
						  "a topic (1 to 64 characters of a-z, 0-9, '.', "
						  "'_', '/' and '-')");
			q->topic = json_string_value(v);
		} else if (strcmp(key, "author") == 0 || strcmp(key, "replies_to") == 0) {
			bool is_author = key[0] == 'a';
			uint8_t *buf = is_author ? author : replies_to;
			if (parse_id(buf, v) != 0)
				return bad_filter(err, key, "64 hexadecimal characters");
			if (is_author)
				q->author = buf;
			else
				q->replies_to = buf;
		} else if (strcmp(key, "since") == 0 || strcmp(key, "until") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return bad_filter(err, key, "an integer >= 0");
			if (key[0] == 's') {
				q->since = json_integer_value(v);
			} else {
				q->until = json_integer_value(v);
				*until_zero = q->until == 0;
			}
		} else if (strcmp(key, "limit") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > MSGSTORE_LIST_MAX)
				return bad_filter(err, key, "an integer from 1 to 1000");
			q->limit = (size_t)json_integer_value(v);
		} else if (strcmp(key, "reverse") == 0) {
			if (!json_is_boolean(v))
				return bad_filter(err, key, "true or false");
			q->reverse = json_is_true(v);
		} else {
			rpc_fail(err, RPC_INVALID_PARAMETER,
				 "Invalid filter: unknown key \"%.64s\" (known: topic, "
				 "author, since, until, replies_to, limit, reverse)",
				 key);
			return -1;
		}
	}
	return 0;
}

/* Reverse a JSON array in place. */
static void reverse_array(json_t *a)
{
	size_t n = json_array_size(a);
	for (size_t i = 0; i < n / 2; i++) {
		json_t *x = json_incref(json_array_get(a, i));
		json_array_set(a, i, json_array_get(a, n - 1 - i));
		json_array_set_new(a, n - 1 - i, x);
	}
}

static json_t *rpc_listmessages(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	struct msgstore_query q = {0};
	uint8_t author[32], replies_to[32];
	struct list_ctx c = {0};
	if (parse_filter(json_array_get(params, 0), &q, &c.until_zero, author, replies_to, err) !=
	    0)
		return NULL;
	struct msgstore *store = need_store(call, err);
	if (store == NULL)
		return NULL;
	bool reverse = q.reverse;
	if (c.until_zero)
		q.reverse = false;
	c.out = json_array();
	if (c.out == NULL)
		return oom(err);
	long n = msgstore_list(store, &q, list_one, &c);
	if (n < 0) {
		json_decref(c.out);
		return rpc_fail(err, RPC_DATABASE_ERROR, "Database error listing messages");
	}
	if (c.failed) {
		json_decref(c.out);
		return oom(err);
	}
	if (c.until_zero && reverse)
		reverse_array(c.out);
	return c.out;
}

/* ---- waitformessage ---- */

/* One waiting call: a gossip listener for the next stored message, a timer for the timeout.
 * A matching message is turned into the reply at once, but the reply is sent from the timer
 * (fired with no delay), outside the gossip engine's listener loop. */
struct waiter {
	struct node *node;
	struct gossip *gossip;
	struct rpc_pending *pending;
	struct event *timer;
	int listener;                     /* gossip_listen handle; 0 when none */
	char topic[SIGMSG_TOPIC_MAX + 1]; /* "" for any topic */
	bool found;
	json_t *result; /* the message found (NULL with found: out of memory) */
};

static void waiter_free(struct waiter *w)
{
	if (w->listener != 0)
		gossip_unlisten(w->gossip, w->listener);
	if (w->timer != NULL)
		event_free(w->timer);
	json_decref(w->result);
	free(w);
}

static void waiter_on_message(void *ctx, const struct sigmsg *m, const uint8_t id[32])
{
	static const struct timeval now = {0, 0};
	struct waiter *w = ctx;
	if (w->found || (w->topic[0] != '\0' && strcmp(w->topic, m->topic) != 0))
		return;
	w->found = true;
	struct bytebuf b;
	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	sigmsg_encode(&b, m);
	if (bytebuf_ok(&b))
		w->result = sigmsg_json(m, id, b.len, clock_now(&w->node->clock));
	bytebuf_free(&b);
	evtimer_add(w->timer, &now);
}

static void waiter_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;
	(void)fd;
	(void)what;
	struct rpc_pending *p = w->pending;
	json_t *result = w->found ? w->result : json_null();
	w->result = NULL;
	bool failed = w->found && result == NULL;
	waiter_free(w);
	if (failed) {
		struct rpc_error e;
		oom(&e);
		rpc_pending_finish(p, NULL, &e);
	} else {
		rpc_pending_finish(p, result, NULL);
	}
}

/* The client left or the server is going away: no reply. */
static void waiter_cancel(void *ctx)
{
	waiter_free(ctx);
}

/* Read waitformessage's options. Returns 0, or -1 with err. */
static int parse_wait(const json_t *opts, char topic[SIGMSG_TOPIC_MAX + 1], int *timeout,
		      struct rpc_error *err)
{
	const char *key;
	json_t *v;
	topic[0] = '\0';
	*timeout = WAIT_DEFAULT_SECS;
	if (opts == NULL || json_is_null(opts))
		return 0;
	json_object_foreach((json_t *)opts, key, v)
	{
		if (strcmp(key, "topic") == 0) {
			size_t len = json_string_length(v);
			if (!sigmsg_topic_valid(json_string_value(v), len)) {
				rpc_fail(err, RPC_INVALID_PARAMETER,
					 "Invalid topic: 1 to %d characters of a-z, 0-9, '.', '_', "
					 "'/' and '-'",
					 SIGMSG_TOPIC_MAX);
				return -1;
			}
			memcpy(topic, json_string_value(v), len);
			topic[len] = '\0';
		} else if (strcmp(key, "timeout") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 ||
			    json_integer_value(v) > WAIT_MAX_SECS) {
				rpc_fail(err, RPC_INVALID_PARAMETER,
					 "Invalid timeout: an integer from 1 to %d seconds",
					 WAIT_MAX_SECS);
				return -1;
			}
			*timeout = (int)json_integer_value(v);
		} else {
			rpc_fail(err, RPC_INVALID_PARAMETER,
				 "Invalid option: unknown key \"%.64s\" (known: topic, timeout)",
				 key);
			return -1;
		}
	}
	return 0;
}

static json_t *rpc_waitformessage(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	char topic[SIGMSG_TOPIC_MAX + 1];
	int timeout;
	if (parse_wait(json_array_get(params, 0), topic, &timeout, err) != 0)
		return NULL;
	struct gossip *g = need_gossip(call, err);
	if (g == NULL)
		return NULL;
	struct waiter *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return oom(err);
	w->node = call->node;
	w->gossip = g;
	memcpy(w->topic, topic, sizeof(w->topic));
	const struct timeval tv = {timeout, 0};
	w->timer = evtimer_new(call->node->base, waiter_timer_cb, w);
	if (w->timer == NULL || evtimer_add(w->timer, &tv) != 0) {
		waiter_free(w);
		return oom(err);
	}
	w->listener = gossip_listen(g, waiter_on_message, w);
	if (w->listener == 0) {
		waiter_free(w);
		return rpc_fail(err, RPC_MISC_ERROR,
				"Too many calls waiting for messages (at most %d at once)",
				GOSSIP_MAX_LISTENERS);
	}
	w->pending = rpc_call_detach(call, waiter_cancel, w, err);
	if (w->pending == NULL) {
		waiter_free(w);
		return NULL;
	}
	return NULL; /* the reply comes from waiter_timer_cb */
}

const struct rpc_method rpc_messages_methods[] = {
	{"decodemessage", rpc_decodemessage},   {"getmessage", rpc_getmessage},
	{"getstoreinfo", rpc_getstoreinfo},     {"getsyncinfo", rpc_getsyncinfo},
	{"listmessages", rpc_listmessages},     {"publish", rpc_publish},
	{"sendrawmessage", rpc_sendrawmessage}, {"syncwithpeer", rpc_syncwithpeer},
	{"waitformessage", rpc_waitformessage}, {NULL, NULL},
};
