/* Unit tests for rpc/msg (and the long-poll machinery of rpc/server): the message commands
 * through rpc_server_execute on a node with a real LevelDB store and a real gossip engine over a
 * connection manager, getpeerinfo's message counters against a second such node over loopback,
 * and waitformessage over real HTTP: a message arriving, the timeout, other requests served
 * meanwhile, the work queue, batches, notifications, a client that leaves, a server freed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "crypto/keys.h"
#include "msg/gossip.h"
#include "msg/store.h"
#include "msg/validate.h"
#include "net/connman.h"
#include "node/context.h"
#include "rpc/auth.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "store/db.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"
#include "wire/sigmsg.h"

#include "unit_util.h"

/* The real one is in the node library, which comes before the RPC library in the static link
 * order (see test_rpc_server.c). */
void node_request_shutdown(struct node *node)
{
	node->shutdown_requested = true;
}

/* The node clock of every test (setmocktime). */
#define T0        1700000000
#define RETENTION (14 * 24 * 3600)
#define MAX_BODY  65536
/* Credentials "user:pass" in base64. */
#define AUTH_HEADER "Basic dXNlcjpwYXNz"

static const uint8_t node_key[32] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
				     0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
				     0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
				     0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
static const uint8_t other_key[32] = {0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
				      0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
				      0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22,
				      0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22, 0x22};

/* One in-process node: store, connection manager, gossip engine. */
struct tnode {
	char dir[64];
	struct db *db;
	struct msgstore *store;
	struct connman *cm;
	struct gossip *g;
	uint16_t port;
};

struct fixture {
	struct node node; /* store, connman and gossip point into a */
	struct tnode a;
	struct tnode b; /* a second node, started by the tests that need one */
	struct clock b_clock;
	struct rpc_auth *auth;
	struct rpc_server *s;
	uint16_t rpc_port;
};

static void tnode_start(struct tnode *t, struct event_base *base, struct clock *clock,
			const struct msg_policy *policy)
{
	char err[512];
	assert_non_null(unit_mkdtemp(t->dir, sizeof(t->dir), "rpcmsg"));
	assert_int_equal(db_open(&t->db, t->dir, 1, err, sizeof(err)), DB_OPEN_OK);
	t->store = msgstore_open(t->db, err, sizeof(err));
	if (t->store == NULL)
		fail_msg("msgstore_open: %s", err);
	t->port = unit_free_port();
	struct connman_config cc;
	unit_connman_config(&cc, base, clock, t->port);
	cc.max_receive_buffer = 1 << 20;
	cc.max_send_buffer = 1 << 20;
	cc.compression = true;
	t->cm = connman_new(&cc, err, sizeof(err));
	if (t->cm == NULL)
		fail_msg("connman_new: %s", err);
	struct gossip_config gc = {0};
	gc.base = base;
	gc.clock = clock;
	gc.connman = t->cm;
	gc.store = t->store;
	gc.verify_threads = 0;
	gc.relay_delay_ms = 0;
	gc.inbound_delay_ms = 0;
	gc.request_timeout = 5;
	gc.policy = *policy;
	gc.prune_interval = 3600;
	t->g = gossip_new(&gc, err, sizeof(err));
	if (t->g == NULL)
		fail_msg("gossip_new: %s", err);
	connman_start(t->cm);
}

static void tnode_stop(struct tnode *t)
{
	if (t->db == NULL)
		return;
	gossip_free(t->g);
	connman_free(t->cm);
	msgstore_free(t->store);
	db_close(t->db);
	if (unit_rm_rf_status(t->dir) != 0)
		fprintf(stderr, "cannot remove %s\n", t->dir);
	memset(t, 0, sizeof(*t));
}

static struct rpc_server *new_server(struct fixture *f, uint16_t port, int workqueue,
				     int timeout_secs)
{
	static const char *const bind_lo[] = {"127.0.0.1"};
	struct rpc_server_config cfg = {
		.timeout_secs = timeout_secs, .workqueue = workqueue, .auth = f->auth};
	if (port != 0) {
		cfg.bind = bind_lo;
		cfg.nbind = 1;
		cfg.port = port;
	}
	char err[512];
	struct rpc_server *s = rpc_server_new(f->node.base, &f->node, &cfg, err, sizeof(err));
	if (s == NULL)
		fail_msg("rpc_server_new: %s", err);
	return s;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -1;
	struct node *n = &f->node;
	unit_node_defaults(n);
	clock_set_mock(&n->clock, T0);
	n->base = event_base_new();
	n->policy = (struct msg_policy){0, RETENTION, MAX_BODY, 0};
	memcpy(n->node_seckey, node_key, 32);
	assert_int_equal(key_xonly_pubkey(n->node_pubkey, node_key), 0);
	f->auth = unit_rpc_auth();
	if (n->base == NULL || f->auth == NULL)
		return -1;
	tnode_start(&f->a, n->base, &n->clock, &n->policy);
	n->db = f->a.db;
	n->msgstore = f->a.store;
	n->connman = f->a.cm;
	n->gossip = f->a.g;
	f->s = new_server(f, 0, 16, 30);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rpc_server_free(f->s); /* before the gossip engines: it cancels waits */
	tnode_stop(&f->b);
	tnode_stop(&f->a);
	rpc_auth_free(f->auth);
	event_base_free(f->node.base);
	free(f);
	log_shutdown();
	return 0;
}

/* ---- calling ------------------------------------------------------------------------------ */

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (v == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return v;
}

/* Execute method with params (stolen). Returns the result and sets *code to 0, or returns NULL
 * with *code and msg from the error. */
static json_t *call(struct fixture *f, const char *method, json_t *params, int *code, char *msg,
		    size_t msglen)
{
	json_t *req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 1, "method", method,
				"params", params);
	assert_non_null(req);
	int status;
	json_t *r = rpc_server_execute(f->s, req, "user", &status);
	json_decref(req);
	assert_non_null(r);
	assert_int_equal(status, 200);
	const json_t *e = json_object_get(r, "error");
	json_t *result = NULL;
	*code = 0;
	msg[0] = '\0';
	if (e != NULL) {
		*code = (int)json_integer_value(json_object_get(e, "code"));
		snprintf(msg, msglen, "%s", json_string_value(json_object_get(e, "message")));
	} else {
		result = json_incref(json_object_get(r, "result"));
	}
	json_decref(r);
	return result;
}

static json_t *call_ok(struct fixture *f, const char *method, json_t *params)
{
	int code;
	char msg[512];
	char *p = json_dumps(params, JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *r = call(f, method, params, &code, msg, sizeof(msg));
	if (r == NULL)
		fail_msg("%s %.200s failed: %d %s", method, p, code, msg);
	free(p);
	return r;
}

/* The call must fail with code and a message containing text. */
static void call_err(struct fixture *f, const char *method, json_t *params, int code,
		     const char *text)
{
	int got;
	char msg[512];
	char *p = json_dumps(params, JSON_COMPACT | JSON_ENCODE_ANY);
	json_t *r = call(f, method, params, &got, msg, sizeof(msg));
	if (r != NULL || got != code || strstr(msg, text) == NULL)
		fail_msg("%s %.200s: expected error %d \"%s\", got %d \"%s\"", method, p, code,
			 text, got, r ? "(a result)" : msg);
	free(p);
}

/* ---- messages made here ------------------------------------------------------------------- */

/* Build and sign a message (body of len bytes) mined to pow bits; id receives its id. */
static void make_msg(struct sigmsg *m, uint8_t id[32], const uint8_t key[32], const char *topic,
		     int64_t created_at, const void *body, size_t len, int pow)
{
	memset(m, 0, sizeof(*m));
	m->version = SIGMSG_FORMAT_VERSION;
	snprintf(m->topic, sizeof(m->topic), "%s", topic);
	m->created_at = created_at;
	if (len > 0) {
		m->body = malloc(len);
		assert_non_null(m->body);
		memcpy(m->body, body, len);
		m->body_len = (uint32_t)len;
	}
	assert_int_equal(sigmsg_sign(m, id, key, pow, 0), 0);
}

/* The message's serialization in hex (malloc'd). */
static char *msg_hex(const struct sigmsg *m)
{
	struct bytebuf b;
	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	sigmsg_encode(&b, m);
	assert_true(bytebuf_ok(&b));
	char *hex = malloc(2 * b.len + 1);
	assert_non_null(hex);
	hex_encode(hex, b.data, b.len);
	bytebuf_free(&b);
	return hex;
}

/* Submit a message made with make_msg through sendrawmessage; returns its id's hex (static). */
static const char *send_raw(struct fixture *f, const struct sigmsg *m)
{
	static char idhex[65];
	char *hex = msg_hex(m);
	json_t *r = call_ok(f, "sendrawmessage", json_pack("[s]", hex));
	free(hex);
	snprintf(idhex, sizeof(idhex), "%s", json_string_value(r));
	json_decref(r);
	return idhex;
}

static void id_hex(char out[65], const uint8_t id[32])
{
	hex_encode(out, id, 32);
}

/* ---- the loop ------------------------------------------------------------------------------ */

typedef bool (*pred_fn)(struct fixture *f, void *arg);

/* Run the loop until pred holds or seconds pass. Returns pred's last value. */
struct pred_call {
	struct fixture *f;
	pred_fn pred;
	void *arg;
};

static int pred_holds(void *ctx)
{
	const struct pred_call *c = ctx;
	return c->pred(c->f, c->arg);
}

static bool run_until(struct fixture *f, pred_fn pred, void *arg, double seconds)
{
	struct pred_call c = {f, pred, arg};
	return unit_run_until(f->node.base, pred_holds, &c, seconds, 1000000);
}

static bool never(struct fixture *f, void *arg)
{
	(void)f;
	(void)arg;
	return false;
}

/* ---- publish, getmessage ------------------------------------------------------------------ */

#define VERBOSE_KEYS                                                                \
	"id,version,topic,created_at,author,refs,body,body_hex,size,pow,nonce,sig," \
	"received_at"

static void test_publish_getmessage(void **state)
{
	struct fixture *f = *state;
	char pub[65];
	hex_encode(pub, f->node.node_pubkey, 32);

	json_t *r = call_ok(f, "publish", parse("[\"chat/general\",\"hello\"]"));
	assert_true(json_is_string(r));
	char id[65];
	snprintf(id, sizeof(id), "%s", json_string_value(r));
	assert_int_equal(strlen(id), 64);
	assert_int_equal(strspn(id, "0123456789abcdef"), 64);
	json_decref(r);

	/* On disk when publish returns. */
	uint8_t idb[32];
	assert_int_equal(hex_decode(idb, 32, id), 0);
	assert_true(msgstore_has(f->a.store, idb));

	json_t *m = call_ok(f, "getmessage", json_pack("[s]", id));
	unit_assert_keys(m, VERBOSE_KEYS);
	assert_string_equal(unit_json_str(m, "id"), id);
	assert_int_equal(unit_json_num(m, "version"), 1);
	assert_string_equal(unit_json_str(m, "topic"), "chat/general");
	assert_int_equal(unit_json_num(m, "created_at"), T0);
	assert_string_equal(unit_json_str(m, "author"), pub);
	assert_int_equal(json_array_size(json_object_get(m, "refs")), 0);
	assert_string_equal(unit_json_str(m, "body"), "hello");
	assert_string_equal(unit_json_str(m, "body_hex"), "68656c6c6f");
	assert_int_equal(unit_json_num(m, "pow"), sigmsg_pow(idb));
	assert_int_equal(strlen(unit_json_str(m, "sig")), 128);
	assert_int_equal(unit_json_num(m, "received_at"), T0);

	/* verbose=false: the serialization, which decodes to the same id and a good signature */
	json_t *raw = call_ok(f, "getmessage", json_pack("[s,b]", id, 0));
	uint8_t *bytes;
	size_t len;
	assert_int_equal(hex_decode_alloc(json_string_value(raw), SIGMSG_MAX_SIZE, &bytes, &len),
			 0);
	assert_int_equal(unit_json_num(m, "size"), (json_int_t)len);
	struct sigmsg dm;
	uint8_t did[32];
	assert_int_equal(sigmsg_decode(&dm, bytes, len), 0);
	assert_int_equal(sigmsg_id(did, &dm), 0);
	assert_memory_equal(did, idb, 32);
	assert_int_equal(sigmsg_verify_sig(&dm, did), 1);
	assert_int_equal((json_int_t)dm.nonce, unit_json_num(m, "nonce"));
	sigmsg_clear(&dm);
	free(bytes);
	json_decref(raw);
	/* named, verbose=true explicitly */
	json_t *m2 = call_ok(f, "getmessage", json_pack("{s:s, s:b}", "id", id, "verbose", 1));
	assert_true(json_equal(m, m2));
	json_decref(m2);
	json_decref(m);

	/* a reply: refs, named parameters */
	json_t *params =
		json_pack("{s:s, s:s, s:[s]}", "topic", "chat/general", "body", "re", "refs", id);
	r = call_ok(f, "publish", params);
	m = call_ok(f, "getmessage", json_pack("[O]", r));
	json_t *refs = json_object_get(m, "refs");
	assert_int_equal(json_array_size(refs), 1);
	assert_string_equal(json_string_value(json_array_get(refs, 0)), id);
	json_decref(m);
	json_decref(r);

	/* an empty body is text "" */
	r = call_ok(f, "publish", parse("[\"t\",\"\"]"));
	m = call_ok(f, "getmessage", json_pack("[O]", r));
	assert_string_equal(unit_json_str(m, "body"), "");
	assert_string_equal(unit_json_str(m, "body_hex"), "");
	json_decref(m);
	json_decref(r);

	/* mining to the node's -minpow */
	f->node.policy.min_pow = 8;
	r = call_ok(f, "publish", parse("[\"t\",\"mined\"]"));
	m = call_ok(f, "getmessage", json_pack("[O]", r));
	assert_true(unit_json_num(m, "pow") >= 8);
	assert_true(strncmp(json_string_value(r), "00", 2) == 0);
	json_decref(m);
	json_decref(r);
}

static void test_publish_errors(void **state)
{
	struct fixture *f = *state;
	static const char *const topics[] = {"[\"\",\"x\"]", "[\"Chat\",\"x\"]", "[\"a b\",\"x\"]",
					     "[\"caf\\u00e9\",\"x\"]"};
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
		call_err(f, "publish", parse(topics[i]), RPC_INVALID_PARAMETER, "Invalid topic");
	call_err(f, "publish", json_pack("[s%,s]", "a\0b", (size_t)3, "x"), RPC_INVALID_PARAMETER,
		 "Invalid topic");
	char long_topic[SIGMSG_TOPIC_MAX + 2];
	memset(long_topic, 'a', sizeof(long_topic) - 1);
	long_topic[SIGMSG_TOPIC_MAX + 1] = '\0';
	call_err(f, "publish", json_pack("[s,s]", long_topic, "x"), RPC_INVALID_PARAMETER,
		 "Invalid topic");
	long_topic[SIGMSG_TOPIC_MAX] = '\0';
	json_decref(call_ok(f, "publish", json_pack("[s,s]", long_topic, "x")));

	call_err(f, "publish", parse("[\"t\",\"x\",[\"00\"]]"), RPC_INVALID_PARAMETER,
		 "Invalid ref 1");
	call_err(f, "publish", parse("[\"t\",\"x\",[1]]"), RPC_INVALID_PARAMETER, "Invalid ref 1");
	char zid[65];
	memset(zid, '0', 64);
	zid[64] = '\0';
	call_err(f, "publish", json_pack("[s,s,[s,s]]", "t", "x", zid, "zz"), RPC_INVALID_PARAMETER,
		 "Invalid ref 2");
	json_t *nine = json_array();
	for (int i = 0; i < SIGMSG_MAX_REFS + 1; i++)
		json_array_append_new(nine, json_string(zid));
	call_err(f, "publish", json_pack("[s,s,O]", "t", "x", nine), RPC_INVALID_PARAMETER,
		 "Too many refs");
	json_array_remove(nine, 0);
	json_decref(call_ok(f, "publish", json_pack("[s,s,o]", "t", "x", nine)));

	/* body: -maxmsgsize bytes (of UTF-8) at most */
	char *body = malloc(MAX_BODY + 2);
	memset(body, 'b', MAX_BODY + 1);
	body[MAX_BODY + 1] = '\0';
	call_err(f, "publish", json_pack("[s,s]", "t", body), RPC_INVALID_PARAMETER,
		 "Body too large");
	body[MAX_BODY] = '\0';
	json_decref(call_ok(f, "publish", json_pack("[s,s]", "t", body)));
	free(body);

	/* types, counts */
	call_err(f, "publish", parse("[1,\"x\"]"), RPC_TYPE_ERROR, "topic");
	call_err(f, "publish", parse("[\"t\"]"), RPC_INVALID_PARAMS, "body");
	call_err(f, "publish", parse("[\"t\",\"x\",\"ref\"]"), RPC_TYPE_ERROR, "refs");

	/* no gossip engine: -31 (argument errors first) */
	f->node.gossip = NULL;
	call_err(f, "publish", parse("[\"t\",\"x\"]"), RPC_CLIENT_P2P_DISABLED,
		 "Peer-to-peer functionality missing or disabled");
	call_err(f, "publish", parse("[\"\",\"x\"]"), RPC_INVALID_PARAMETER, "Invalid topic");
	f->node.gossip = f->a.g;
}

/* ---- sendrawmessage, decodemessage -------------------------------------------------------- */

static void test_sendrawmessage(void **state)
{
	struct fixture *f = *state;
	struct sigmsg m;
	uint8_t id[32];
	char idhex[65];
	make_msg(&m, id, other_key, "news", T0 - 10, "raw", 3, 0);
	id_hex(idhex, id);
	assert_string_equal(send_raw(f, &m), idhex);
	/* again: already stored, not an error */
	assert_string_equal(send_raw(f, &m), idhex);
	json_t *g = call_ok(f, "getmessage", json_pack("[s]", idhex));
	char other_pub[65];
	uint8_t pk[32];
	assert_int_equal(key_xonly_pubkey(pk, other_key), 0);
	hex_encode(other_pub, pk, 32);
	assert_string_equal(unit_json_str(g, "author"), other_pub);
	assert_int_equal(unit_json_num(g, "created_at"), T0 - 10);
	json_decref(g);
	char *hex = msg_hex(&m);
	/* upper-case hex decodes too */
	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	json_t *r = call_ok(f, "sendrawmessage", json_pack("[s]", hex));
	assert_string_equal(json_string_value(r), idhex);
	json_decref(r);

	/* malformed: -22 */
	static const char decode_failed[] = "Message decode failed";
	static const char *const bad[] = {"", "0", "zz", "00", "0100"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		call_err(f, "sendrawmessage", json_pack("[s]", bad[i]), RPC_DESERIALIZATION_ERROR,
			 decode_failed);
	size_t n = strlen(hex);
	char *longer = malloc(n + 3);
	snprintf(longer, n + 3, "%s00", hex); /* a trailing byte */
	call_err(f, "sendrawmessage", json_pack("[s]", longer), RPC_DESERIALIZATION_ERROR,
		 decode_failed);
	longer[n - 1] = '\0'; /* odd length */
	call_err(f, "sendrawmessage", json_pack("[s]", longer), RPC_DESERIALIZATION_ERROR,
		 decode_failed);
	free(longer);
	call_err(f, "sendrawmessage",
		 json_pack("[s%]",
			   "0100\0"
			   "00",
			   (size_t)7),
		 RPC_DESERIALIZATION_ERROR, decode_failed);
	free(hex);
	sigmsg_clear(&m);

	/* refused: -26 with the verdict */
	struct {
		int64_t created_at;
		size_t body_len;
		bool flip_sig;
		const char *verdict;
	} cases[] = {
		{T0, 1, true, "bad-signature"},
		{T0 + MSG_MAX_FUTURE_SECS + 1, 1, false, "too-new"},
		{T0 - RETENTION - 1, 1, false, "expired"},
		{T0, MAX_BODY + 1, false, "too-large"},
	};
	uint8_t *big = calloc(1, MAX_BODY + 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_msg(&m, id, other_key, "news", cases[i].created_at, big, cases[i].body_len, 0);
		if (cases[i].flip_sig)
			m.sig[5] ^= 1;
		hex = msg_hex(&m);
		call_err(f, "sendrawmessage", json_pack("[s]", hex), RPC_VERIFY_REJECTED,
			 cases[i].verdict);
		assert_false(msgstore_has(f->a.store, id));
		free(hex);
		sigmsg_clear(&m);
	}
	free(big);
	/* the edges are accepted */
	make_msg(&m, id, other_key, "news", T0 + MSG_MAX_FUTURE_SECS, "x", 1, 0);
	send_raw(f, &m);
	sigmsg_clear(&m);

	/* no gossip engine: -31, after the decode */
	make_msg(&m, id, other_key, "news", T0, "y", 1, 0);
	hex = msg_hex(&m);
	f->node.gossip = NULL;
	call_err(f, "sendrawmessage", json_pack("[s]", hex), RPC_CLIENT_P2P_DISABLED,
		 "Peer-to-peer functionality missing or disabled");
	call_err(f, "sendrawmessage", json_pack("[s]", "00"), RPC_DESERIALIZATION_ERROR,
		 decode_failed);
	f->node.gossip = f->a.g;
	free(hex);
	sigmsg_clear(&m);
}

/* low-pow needs a node that asks for proof-of-work: a message with fewer bits is refused, one
 * mined to the bits is accepted. */
static void test_sendrawmessage_low_pow(void **state)
{
	struct fixture *f = *state;
	struct msg_policy policy = {0, RETENTION, MAX_BODY, 6};
	tnode_start(&f->b, f->node.base, &f->node.clock, &policy);
	f->node.gossip = f->b.g;
	f->node.msgstore = f->b.store;
	f->node.policy = policy;
	struct sigmsg m;
	uint8_t id[32];
	int64_t t = T0;
	do { /* a message whose id happens to have fewer than 6 leading zero bits */
		make_msg(&m, id, other_key, "news", t--, "p", 1, 0);
		if (sigmsg_pow(id) < 6)
			break;
		sigmsg_clear(&m);
	} while (1);
	char *hex = msg_hex(&m);
	call_err(f, "sendrawmessage", json_pack("[s]", hex), RPC_VERIFY_REJECTED, "low-pow");
	json_t *d = call_ok(f, "decodemessage", json_pack("[s]", hex));
	assert_string_equal(unit_json_str(d, "valid"), "low-pow");
	json_decref(d);
	free(hex);
	sigmsg_clear(&m);
	make_msg(&m, id, other_key, "news", T0, "p", 1, 6);
	send_raw(f, &m);
	sigmsg_clear(&m);
	/* publish mines to -minpow */
	json_t *r = call_ok(f, "publish", parse("[\"news\",\"mined\"]"));
	json_decref(r);
	f->node.gossip = f->a.g;
	f->node.msgstore = f->a.store;
}

static void test_decodemessage(void **state)
{
	struct fixture *f = *state;
	struct sigmsg m;
	uint8_t id[32];
	char idhex[65];
	make_msg(&m, id, other_key, "dec", T0, "text", 4, 0);
	memcpy(m.refs[0], id, 32); /* any 32 bytes will do as a reference */
	m.nrefs = 1;
	assert_int_equal(sigmsg_sign(&m, id, other_key, 0, 0), 0);
	id_hex(idhex, id);
	char *hex = msg_hex(&m);
	json_t *d = call_ok(f, "decodemessage", json_pack("[s]", hex));
	unit_assert_keys(d,
			 "id,version,topic,created_at,author,refs,body,body_hex,size,pow,nonce,sig,"
			 "valid");
	assert_string_equal(unit_json_str(d, "id"), idhex);
	assert_string_equal(unit_json_str(d, "valid"), "valid");
	assert_string_equal(unit_json_str(d, "body"), "text");
	assert_int_equal(unit_json_num(d, "size"), (json_int_t)(strlen(hex) / 2));
	assert_int_equal(json_array_size(json_object_get(d, "refs")), 1);
	char sig[129];
	hex_encode(sig, m.sig, 64);
	assert_string_equal(unit_json_str(d, "sig"), sig);
	json_decref(d);
	/* not stored */
	call_err(f, "getmessage", json_pack("[s]", idhex), RPC_INVALID_ADDRESS_OR_KEY,
		 "Message not found");
	free(hex);
	sigmsg_clear(&m);

	/* bodies that are not text: no "body", only "body_hex" */
	static const struct {
		const char *bytes;
		size_t len;
		const char *hex;
	} binary[] = {
		{"\xff\xfe", 2, "fffe"},       {"a\0b", 3, "610062"},
		{"\xc0\xaf", 2, "c0af"},       /* overlong */
		{"\xed\xa0\x80", 3, "eda080"}, /* a surrogate */
		{"caf\xc3", 4, "636166c3"},    /* cut short */
	};
	for (size_t i = 0; i < sizeof(binary) / sizeof(binary[0]); i++) {
		make_msg(&m, id, other_key, "dec", T0, binary[i].bytes, binary[i].len, 0);
		hex = msg_hex(&m);
		d = call_ok(f, "decodemessage", json_pack("[s]", hex));
		assert_null(json_object_get(d, "body"));
		assert_string_equal(unit_json_str(d, "body_hex"), binary[i].hex);
		json_decref(d);
		free(hex);
		sigmsg_clear(&m);
	}
	/* multi-byte UTF-8 is text */
	make_msg(&m, id, other_key, "dec", T0, "caf\xc3\xa9 \xe2\x82\xac", 9, 0);
	hex = msg_hex(&m);
	d = call_ok(f, "decodemessage", json_pack("[s]", hex));
	assert_string_equal(unit_json_str(d, "body"), "caf\xc3\xa9 \xe2\x82\xac");
	json_decref(d);
	free(hex);
	sigmsg_clear(&m);

	/* the verdict against this node's policy */
	make_msg(&m, id, other_key, "dec", T0, "x", 1, 0);
	m.sig[0] ^= 0x80;
	hex = msg_hex(&m);
	d = call_ok(f, "decodemessage", json_pack("[s]", hex));
	assert_string_equal(unit_json_str(d, "valid"), "bad-signature");
	json_decref(d);
	free(hex);
	sigmsg_clear(&m);
	make_msg(&m, id, other_key, "dec", T0 - RETENTION - 1, "x", 1, 0);
	hex = msg_hex(&m);
	d = call_ok(f, "decodemessage", json_pack("[s]", hex));
	assert_string_equal(unit_json_str(d, "valid"), "expired");
	json_decref(d);
	free(hex);
	sigmsg_clear(&m);

	call_err(f, "decodemessage", json_pack("[s]", "xyz"), RPC_DESERIALIZATION_ERROR,
		 "Message decode failed");
	call_err(f, "decodemessage", parse("[]"), RPC_INVALID_PARAMS, "hexstring");
}

/* A nonce beyond JSON's signed 64-bit integers shows as a number still. */
static void test_big_nonce(void **state)
{
	struct fixture *f = *state;
	struct sigmsg m;
	uint8_t id[32];
	make_msg(&m, id, other_key, "dec", T0, "x", 1, 0);
	m.nonce = UINT64_MAX;
	assert_int_equal(sigmsg_id(id, &m), 0);
	char *hex = msg_hex(&m);
	json_t *d = call_ok(f, "decodemessage", json_pack("[s]", hex));
	assert_true(json_is_number(json_object_get(d, "nonce")));
	assert_true(json_number_value(json_object_get(d, "nonce")) > 1.8e19);
	json_decref(d);
	free(hex);
	sigmsg_clear(&m);
}

static void test_getmessage_errors(void **state)
{
	struct fixture *f = *state;
	static const char bad_id[] = "id must be a message id of 64 hexadecimal characters";
	char id[66];
	memset(id, 'a', 65);
	id[65] = '\0';
	call_err(f, "getmessage", json_pack("[s]", id), RPC_INVALID_PARAMETER, bad_id);
	id[63] = '\0';
	call_err(f, "getmessage", json_pack("[s]", id), RPC_INVALID_PARAMETER, bad_id);
	id[63] = 'g';
	id[64] = '\0';
	call_err(f, "getmessage", json_pack("[s]", id), RPC_INVALID_PARAMETER, bad_id);
	id[63] = 'a';
	call_err(f, "getmessage", json_pack("[s]", id), RPC_INVALID_ADDRESS_OR_KEY,
		 "Message not found");
	call_err(f, "getmessage", json_pack("[s,i]", id, 1), RPC_TYPE_ERROR, "verbose");
	f->node.msgstore = NULL;
	call_err(f, "getmessage", json_pack("[s]", id), RPC_DATABASE_ERROR, "not open");
	call_err(f, "listmessages", parse("[]"), RPC_DATABASE_ERROR, "not open");
	call_err(f, "getstoreinfo", parse("[]"), RPC_DATABASE_ERROR, "not open");
	f->node.msgstore = f->a.store;
}

/* ---- listmessages ------------------------------------------------------------------------- */

/* The ids of a listing, in order, as one string "i1,i2,..." of short (8 hex) prefixes. */
static void listing(json_t *list, char *out, size_t outlen)
{
	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *m = json_array_get(list, i);
		unit_assert_keys(m, VERBOSE_KEYS);
		snprintf(out + strlen(out), outlen - strlen(out), "%s%.8s", i ? "," : "",
			 unit_json_str(m, "id"));
	}
	json_decref(list);
}

static void expect_list(struct fixture *f, const char *filter, const char *expected)
{
	char got[2048];
	listing(call_ok(f, "listmessages", parse(filter)), got, sizeof(got));
	if (strcmp(got, expected) != 0)
		fail_msg("listmessages %s\n  got      %s\n  expected %s", filter, got, expected);
}

static void test_listmessages(void **state)
{
	struct fixture *f = *state;
	/* five messages: (time, topic, author, refs) */
	struct {
		int64_t t;
		const char *topic;
		const uint8_t *key;
		int ref; /* index of the message it refers to, or -1 */
	} spec[] = {
		{T0 - 300, "a", node_key, -1}, {T0 - 200, "b", other_key, 0},
		{T0 - 100, "a", other_key, 0}, {T0 - 100, "a", node_key, 1},
		{T0, "b", node_key, -1},
	};
	enum { N = 5 };
	uint8_t ids[N][32];
	char hex[N][9];
	for (int i = 0; i < N; i++) {
		struct sigmsg m;
		make_msg(&m, ids[i], spec[i].key, spec[i].topic, spec[i].t, "x", 1, 0);
		if (spec[i].ref >= 0) {
			memcpy(m.refs[0], ids[spec[i].ref], 32);
			m.nrefs = 1;
			assert_int_equal(sigmsg_sign(&m, ids[i], spec[i].key, 0, 0), 0);
		}
		send_raw(f, &m);
		sigmsg_clear(&m);
		char full[65];
		id_hex(full, ids[i]);
		snprintf(hex[i], sizeof(hex[i]), "%.8s", full);
	}
	/* messages 2 and 3 share a time: the id decides their order */
	int lo = memcmp(ids[2], ids[3], 32) < 0 ? 2 : 3, hi = 5 - lo;
	char all[256], rev[256], exp[256];
	snprintf(all, sizeof(all), "%s,%s,%s,%s,%s", hex[0], hex[1], hex[lo], hex[hi], hex[4]);
	snprintf(rev, sizeof(rev), "%s,%s,%s,%s,%s", hex[4], hex[hi], hex[lo], hex[1], hex[0]);
	expect_list(f, "[]", all);
	expect_list(f, "[null]", all);
	expect_list(f, "[{}]", all);
	expect_list(f, "[{\"reverse\":true}]", rev);
	expect_list(f, "[{\"reverse\":false}]", all);
	snprintf(exp, sizeof(exp), "%s,%s", hex[0], hex[1]);
	expect_list(f, "[{\"limit\":2}]", exp);
	snprintf(exp, sizeof(exp), "%s,%s", hex[4], hex[hi]);
	expect_list(f, "[{\"limit\":2,\"reverse\":true}]", exp);
	/* topic */
	snprintf(exp, sizeof(exp), "%s,%s,%s", hex[0], hex[lo], hex[hi]);
	expect_list(f, "[{\"topic\":\"a\"}]", exp);
	expect_list(f, "[{\"topic\":\"zzz\"}]", "");
	/* author */
	char pub[65], params[256];
	uint8_t pk[32];
	assert_int_equal(key_xonly_pubkey(pk, other_key), 0);
	hex_encode(pub, pk, 32);
	snprintf(params, sizeof(params), "[{\"author\":\"%s\"}]", pub);
	snprintf(exp, sizeof(exp), "%s,%s", hex[1], hex[2]);
	expect_list(f, params, exp);
	snprintf(params, sizeof(params), "[{\"author\":\"%s\",\"topic\":\"a\"}]", pub);
	expect_list(f, params, hex[2]);
	/* time */
	snprintf(params, sizeof(params), "[{\"since\":%d,\"until\":%d}]", T0 - 200, T0 - 100);
	snprintf(exp, sizeof(exp), "%s,%s,%s", hex[1], hex[lo], hex[hi]);
	expect_list(f, params, exp);
	snprintf(params, sizeof(params), "[{\"since\":%d}]", T0);
	expect_list(f, params, hex[4]);
	snprintf(params, sizeof(params), "[{\"until\":%d}]", T0 - 300);
	expect_list(f, params, hex[0]);
	snprintf(params, sizeof(params), "[{\"since\":%d,\"until\":%d}]", T0, T0 - 1);
	expect_list(f, params, "");
	/* replies */
	char full[65];
	id_hex(full, ids[0]);
	snprintf(params, sizeof(params), "[{\"replies_to\":\"%s\"}]", full);
	snprintf(exp, sizeof(exp), "%s,%s", hex[1], hex[2]);
	expect_list(f, params, exp);
	snprintf(params, sizeof(params), "[{\"replies_to\":\"%s\",\"reverse\":true}]", full);
	snprintf(exp, sizeof(exp), "%s,%s", hex[2], hex[1]);
	expect_list(f, params, exp);
	id_hex(full, ids[4]);
	snprintf(params, sizeof(params), "[{\"replies_to\":\"%s\"}]", full);
	expect_list(f, params, "");
	/* named */
	snprintf(exp, sizeof(exp), "%s,%s", hex[1], hex[4]);
	expect_list(f, "{\"filter\":{\"topic\":\"b\"}}", exp);

	/* the listing shows what getmessage shows */
	json_t *list = call_ok(f, "listmessages", parse("[{\"limit\":1}]"));
	id_hex(full, ids[0]);
	json_t *one = call_ok(f, "getmessage", json_pack("[s]", full));
	assert_true(json_equal(json_array_get(list, 0), one));
	json_decref(one);
	json_decref(list);

	/* bad filters: -8 */
	static const char *const bad[][2] = {
		{"[{\"limit\":0}]", "limit"},
		{"[{\"limit\":1001}]", "limit"},
		{"[{\"limit\":\"5\"}]", "limit"},
		{"[{\"limit\":1.5}]", "limit"},
		{"[{\"since\":-1}]", "since"},
		{"[{\"until\":\"x\"}]", "until"},
		{"[{\"topic\":\"A\"}]", "topic"},
		{"[{\"topic\":5}]", "topic"},
		{"[{\"author\":\"00\"}]", "author"},
		{"[{\"replies_to\":null}]", "replies_to"},
		{"[{\"reverse\":1}]", "reverse"},
		{"[{\"order\":\"asc\"}]", "unknown key \"order\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		call_err(f, "listmessages", parse(bad[i][0]), RPC_INVALID_PARAMETER, bad[i][1]);
	call_err(f, "listmessages", parse("[[]]"), RPC_TYPE_ERROR, "filter");
}

static void test_listmessages_bounds(void **state)
{
	struct fixture *f = *state;
	/* 1005 messages straight into the store (not synced, to be quick) */
	enum { N = 1005 };
	for (int i = 0; i < N; i++) {
		struct sigmsg m;
		uint8_t id[32];
		make_msg(&m, id, other_key, "bulk", T0 - 5000 + i, "b", 1, 0);
		assert_int_equal(msgstore_put(f->a.store, &m, id, T0, false), 1);
		sigmsg_clear(&m);
	}
	json_t *l = call_ok(f, "listmessages", parse("[]"));
	assert_int_equal(json_array_size(l), 100);
	assert_int_equal(unit_json_num(json_array_get(l, 0), "created_at"), T0 - 5000);
	assert_int_equal(unit_json_num(json_array_get(l, 99), "created_at"), T0 - 5000 + 99);
	json_decref(l);
	l = call_ok(f, "listmessages", parse("[{\"limit\":1000,\"reverse\":true}]"));
	assert_int_equal(json_array_size(l), 1000);
	assert_int_equal(unit_json_num(json_array_get(l, 0), "created_at"), T0 - 5000 + N - 1);
	json_decref(l);

	/* "until": 0 means created_at <= 0, not "no bound" */
	struct sigmsg m;
	uint8_t id0[32], id1[32];
	make_msg(&m, id0, other_key, "old", 0, "zero", 4, 0);
	assert_int_equal(msgstore_put(f->a.store, &m, id0, T0, false), 1);
	sigmsg_clear(&m);
	make_msg(&m, id1, node_key, "old", 0, "zero too", 8, 0);
	assert_int_equal(msgstore_put(f->a.store, &m, id1, T0, false), 1);
	sigmsg_clear(&m);
	char a[65], b[65], exp[256];
	const uint8_t *first = memcmp(id0, id1, 32) < 0 ? id0 : id1;
	const uint8_t *second = first == id0 ? id1 : id0;
	id_hex(a, first);
	id_hex(b, second);
	snprintf(exp, sizeof(exp), "%.8s,%.8s", a, b);
	expect_list(f, "[{\"until\":0}]", exp);
	snprintf(exp, sizeof(exp), "%.8s,%.8s", b, a);
	expect_list(f, "[{\"until\":0,\"reverse\":true}]", exp);
	snprintf(exp, sizeof(exp), "%.8s", a);
	expect_list(f, "[{\"until\":0,\"limit\":1}]", exp);
	expect_list(f, "[{\"until\":0,\"topic\":\"bulk\"}]", "");
}

/* ---- getstoreinfo ------------------------------------------------------------------------- */

static void test_getstoreinfo(void **state)
{
	struct fixture *f = *state;
	static const char keys[] =
		"count,bytes,oldest,newest,retention,maxstoremb,pruned,minpow,maxmsgsize";
	f->node.max_store_bytes = 5u << 20;
	json_t *r = call_ok(f, "getstoreinfo", parse("[]"));
	unit_assert_keys(r, keys);
	char *text = json_dumps(r, JSON_COMPACT);
	assert_string_equal(text, "{\"count\":0,\"bytes\":0,\"oldest\":0,\"newest\":0,"
				  "\"retention\":1209600,\"maxstoremb\":5,\"pruned\":0,"
				  "\"minpow\":0,\"maxmsgsize\":65536}");
	free(text);
	json_decref(r);

	struct sigmsg m;
	uint8_t id[32];
	make_msg(&m, id, other_key, "s", T0 - 50, "abc", 3, 0);
	send_raw(f, &m);
	sigmsg_clear(&m);
	json_t *p = call_ok(f, "publish", parse("[\"s\",\"hello\"]"));
	json_t *pm = call_ok(f, "getmessage", json_pack("[O]", p));
	json_decref(p);
	make_msg(&m, id, other_key, "s", T0 - 50, "abc", 3, 0); /* same size as the first */
	struct bytebuf b;
	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	sigmsg_encode(&b, &m);
	size_t first_size = b.len;
	bytebuf_free(&b);
	sigmsg_clear(&m);

	f->node.policy.min_pow = 3;
	f->node.policy.max_body = 1000;
	r = call_ok(f, "getstoreinfo", parse("[]"));
	unit_assert_keys(r, keys);
	assert_int_equal(unit_json_num(r, "count"), 2);
	assert_int_equal(unit_json_num(r, "bytes"),
			 (json_int_t)first_size + unit_json_num(pm, "size"));
	assert_int_equal(unit_json_num(r, "oldest"), T0 - 50);
	assert_int_equal(unit_json_num(r, "newest"), T0);
	assert_int_equal(unit_json_num(r, "minpow"), 3);
	assert_int_equal(unit_json_num(r, "maxmsgsize"), 1000);
	json_decref(r);
	json_decref(pm);
	call_err(f, "getstoreinfo", parse("[1]"), RPC_INVALID_PARAMS, "Too many parameters");
}

/* ---- getpeerinfo and getnettotals with a second node ------------------------------------- */

static bool linked(struct fixture *f, void *arg)
{
	(void)arg;
	const struct peer *pa = connman_peers(f->a.cm), *pb = connman_peers(f->b.cm);
	return pa && pb && pa->state == PEER_ESTABLISHED && pb->state == PEER_ESTABLISHED;
}

static bool b_has(struct fixture *f, void *arg)
{
	return msgstore_has(f->b.store, arg);
}

static bool a_has(struct fixture *f, void *arg)
{
	return msgstore_has(f->a.store, arg);
}

static void test_getpeerinfo_counters(void **state)
{
	struct fixture *f = *state;
	clock_set_mock(&f->b_clock, T0);
	tnode_start(&f->b, f->node.base, &f->b_clock, &f->node.policy);
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", f->b.port);
	json_decref(call_ok(f, "addnode", json_pack("[s,s]", addr, "onetry")));
	assert_true(run_until(f, linked, NULL, 5));

	json_t *peers = call_ok(f, "getpeerinfo", parse("[]"));
	const json_t *p = json_array_get(peers, 0);
	static const char *const counters[] = {
		"msgs_announced", "msgs_requested",   "msgs_received",
		"msgs_sent",      "msgs_duplicate",   "msgs_invalid",
		"msgs_notfound",  "msgs_unrequested", "msgs_inflight"};
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		assert_int_equal(unit_json_num(p, counters[i]), 0);
	assert_true(json_is_true(json_object_get(p, "zlib")));
	json_decref(peers);

	/* A publishes a large, compressible message: B fetches it from A */
	char *body = malloc(20001);
	memset(body, 'a', 20000);
	body[20000] = '\0';
	json_t *r = call_ok(f, "publish", json_pack("[s,s]", "big", body));
	free(body);
	uint8_t id[32];
	assert_int_equal(hex_decode(id, 32, json_string_value(r)), 0);
	json_decref(r);
	assert_true(run_until(f, b_has, id, 5));

	/* B publishes: A fetches it from B */
	struct sigmsg m;
	uint8_t id2[32];
	bool already, dberr;
	make_msg(&m, id2, other_key, "small", T0, "hi", 2, 0);
	assert_int_equal(gossip_submit_local(f->b.g, &m, id2, &already, &dberr), MSG_VALID);
	sigmsg_clear(&m);
	assert_true(run_until(f, a_has, id2, 5));
	run_until(f, never, NULL, 0.05); /* let the counters settle */

	peers = call_ok(f, "getpeerinfo", parse("[]"));
	p = json_array_get(peers, 0);
	assert_int_equal(unit_json_num(p, "msgs_sent"), 1);
	assert_int_equal(unit_json_num(p, "msgs_announced"), 1);
	assert_int_equal(unit_json_num(p, "msgs_requested"), 1);
	assert_int_equal(unit_json_num(p, "msgs_received"), 1);
	assert_int_equal(unit_json_num(p, "msgs_duplicate"), 0);
	assert_int_equal(unit_json_num(p, "msgs_invalid"), 0);
	assert_int_equal(unit_json_num(p, "msgs_inflight"), 0);
	json_decref(peers);

	json_t *t = call_ok(f, "getnettotals", parse("[]"));
	unit_assert_keys(t, "totalbytesrecv,totalbytessent,totalbytessaved,timemillis");
	assert_true(unit_json_num(t, "totalbytessaved") > 10000);
	assert_int_equal(unit_json_num(t, "totalbytessaved"),
			 (json_int_t)connman_bytes_saved(f->a.cm));
	json_decref(t);

	/* without a gossip engine the counters read 0 (and are still there) */
	f->node.gossip = NULL;
	peers = call_ok(f, "getpeerinfo", parse("[]"));
	p = json_array_get(peers, 0);
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		assert_int_equal(unit_json_num(p, counters[i]), 0);
	json_decref(peers);
	f->node.gossip = f->a.g;
}

/* ---- waitformessage: arguments, and why it needs HTTP ------------------------------------ */

static void ignore_message(void *ctx, const struct sigmsg *m, const uint8_t id[32])
{
	(void)ctx;
	(void)m;
	(void)id;
}

static void test_waitformessage_args(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[][2] = {
		{"[{\"timeout\":0}]", "timeout"},
		{"[{\"timeout\":3601}]", "timeout"},
		{"[{\"timeout\":-5}]", "timeout"},
		{"[{\"timeout\":\"9\"}]", "timeout"},
		{"[{\"timeout\":1.5}]", "timeout"},
		{"[{\"topic\":\"\"}]", "Invalid topic"},
		{"[{\"topic\":\"A\"}]", "Invalid topic"},
		{"[{\"wait\":1}]", "unknown key \"wait\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		call_err(f, "waitformessage", parse(bad[i][0]), RPC_INVALID_PARAMETER, bad[i][1]);
	call_err(f, "waitformessage", parse("[5]"), RPC_TYPE_ERROR, "options");
	/* not over HTTP: it cannot wait */
	call_err(f, "waitformessage", parse("[]"), RPC_MISC_ERROR, "can only be called over HTTP");
	call_err(f, "waitformessage", parse("[{\"topic\":\"a\",\"timeout\":3600}]"), RPC_MISC_ERROR,
		 "can only be called over HTTP");
	/* no gossip engine, no new messages */
	f->node.gossip = NULL;
	call_err(f, "waitformessage", parse("[]"), RPC_CLIENT_P2P_DISABLED,
		 "Peer-to-peer functionality missing or disabled");
	f->node.gossip = f->a.g;
	/* every listener slot taken: refused, not queued */
	int handles[GOSSIP_MAX_LISTENERS];
	int n = 0;
	while (n < GOSSIP_MAX_LISTENERS &&
	       (handles[n] = gossip_listen(f->a.g, ignore_message, NULL)) > 0)
		n++;
	call_err(f, "waitformessage", parse("[]"), RPC_MISC_ERROR, "Too many calls waiting");
	for (int i = 0; i < n; i++)
		gossip_unlisten(f->a.g, handles[i]);
}

/* ---- waitformessage over HTTP ------------------------------------------------------------- */

struct http_result {
	bool done;
	int status;
	char body[8192];
};

static void http_done(struct evhttp_request *req, void *arg)
{
	struct http_result *r = arg;
	r->done = true;
	r->status = req ? evhttp_request_get_response_code(req) : -1;
	r->body[0] = '\0';
	if (req != NULL) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t n = evbuffer_get_length(in);
		if (n >= sizeof(r->body))
			n = sizeof(r->body) - 1;
		evbuffer_remove(in, r->body, n);
		r->body[n] = '\0';
	}
}

/* POST body to the fixture's RPC port; the result arrives in r as the loop runs. */
static struct evhttp_connection *http_post(struct fixture *f, const char *body,
					   struct http_result *r)
{
	struct evhttp_connection *c =
		evhttp_connection_base_new(f->node.base, NULL, "127.0.0.1", f->rpc_port);
	assert_non_null(c);
	evhttp_connection_set_timeout(c, 30);
	memset(r, 0, sizeof(*r));
	struct evhttp_request *req = evhttp_request_new(http_done, r);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", "127.0.0.1");
	evhttp_add_header(h, "Authorization", AUTH_HEADER);
	evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
	assert_int_equal(evhttp_make_request(c, req, EVHTTP_REQ_POST, "/"), 0);
	return c;
}

static bool done(struct fixture *f, void *arg)
{
	(void)f;
	return ((struct http_result *)arg)->done;
}

/* One request, start to finish (10 s at most). */
static void http_one(struct fixture *f, const char *body, struct http_result *r)
{
	struct evhttp_connection *c = http_post(f, body, r);
	if (!run_until(f, done, r, 10))
		fail_msg("no reply to %s", body);
	evhttp_connection_free(c);
}

/* Calls detached right now (getrpcinfo's view). */
static size_t nwaiting(struct fixture *f)
{
	const char *methods[16];
	int64_t started[16];
	size_t n = rpc_server_active(f->s, methods, started, 16), w = 0;
	for (size_t i = 0; i < n; i++)
		w += strcmp(methods[i], "waitformessage") == 0;
	return w;
}

static bool waiting(struct fixture *f, void *arg)
{
	return nwaiting(f) == *(size_t *)arg;
}

static void listen_http(struct fixture *f, int workqueue, int timeout_secs)
{
	rpc_server_free(f->s);
	f->rpc_port = unit_free_port();
	f->s = new_server(f, f->rpc_port, workqueue, timeout_secs);
}

static json_t *reply_of(const struct http_result *r)
{
	return parse(r->body);
}

static void test_wait_http_message(void **state)
{
	struct fixture *f = *state;
	listen_http(f, 4, 30);
	struct http_result w, o;
	struct evhttp_connection *c =
		http_post(f,
			  "{\"jsonrpc\":\"2.0\",\"id\":\"w\",\"method\":\"waitformessage\","
			  "\"params\":[{\"topic\":\"chat/a\",\"timeout\":20}]}",
			  &w);
	size_t one = 1;
	assert_true(run_until(f, waiting, &one, 5));
	assert_false(w.done);

	/* the loop serves others meanwhile, and getrpcinfo shows the wait */
	http_one(f, "{\"method\":\"getrpcinfo\",\"id\":1}", &o);
	assert_int_equal(o.status, 200);
	assert_non_null(strstr(o.body, "\"method\":\"waitformessage\""));
	/* a message of another topic does not end it */
	http_one(f, "{\"method\":\"publish\",\"params\":[\"chat/b\",\"no\"],\"id\":2}", &o);
	assert_int_equal(o.status, 200);
	run_until(f, never, NULL, 0.05);
	assert_false(w.done);
	/* one of its topic does */
	http_one(f, "{\"method\":\"publish\",\"params\":[\"chat/a\",\"yes\"],\"id\":3}", &o);
	assert_int_equal(o.status, 200);
	json_t *pr = reply_of(&o);
	const char *id = json_string_value(json_object_get(pr, "result"));
	assert_non_null(id);
	assert_true(run_until(f, done, &w, 5));
	assert_int_equal(w.status, 200);
	json_t *wr = reply_of(&w);
	assert_string_equal(json_string_value(json_object_get(wr, "jsonrpc")), "2.0");
	assert_string_equal(json_string_value(json_object_get(wr, "id")), "w");
	const json_t *msg = json_object_get(wr, "result");
	unit_assert_keys(msg, VERBOSE_KEYS);
	assert_string_equal(unit_json_str(msg, "id"), id);
	assert_string_equal(unit_json_str(msg, "body"), "yes");
	/* exactly what getmessage says */
	json_t *g = call_ok(f, "getmessage", json_pack("[s]", id));
	assert_true(json_equal(g, msg));
	json_decref(g);
	json_decref(wr);
	json_decref(pr);
	evhttp_connection_free(c);
	size_t zero = 0;
	assert_true(waiting(f, &zero));

	/* any topic, JSON-RPC 1.0, a message from sendrawmessage; the wait began before it */
	c = http_post(f, "{\"method\":\"waitformessage\",\"id\":7}", &w);
	assert_true(run_until(f, waiting, &one, 5));
	struct sigmsg m;
	uint8_t mid[32];
	char mhex[65];
	make_msg(&m, mid, other_key, "other", T0, "raw", 3, 0);
	id_hex(mhex, mid);
	send_raw(f, &m);
	sigmsg_clear(&m);
	assert_true(run_until(f, done, &w, 5));
	wr = reply_of(&w);
	assert_int_equal(w.status, 200);
	assert_true(json_is_null(json_object_get(wr, "error")));
	assert_int_equal(json_integer_value(json_object_get(wr, "id")), 7);
	assert_string_equal(unit_json_str(json_object_get(wr, "result"), "id"), mhex);
	json_decref(wr);
	evhttp_connection_free(c);
}

/* The timeout passes: null. An -rpcservertimeout shorter than the wait does not cut it. */
static void test_wait_http_timeout(void **state)
{
	struct fixture *f = *state;
	listen_http(f, 4, 1);
	struct http_result w;
	int64_t start = clock_mono_us();
	struct evhttp_connection *c = http_post(
		f, "{\"method\":\"waitformessage\",\"params\":[{\"timeout\":2}],\"id\":1}", &w);
	assert_true(run_until(f, done, &w, 10));
	int64_t took = clock_mono_us() - start;
	assert_int_equal(w.status, 200);
	assert_string_equal(w.body, "{\"result\":null,\"error\":null,\"id\":1}\n");
	/* libevent's timers run on a coarse clock: a few milliseconds early is on time */
	if (took < 1950000 || took >= 5000000)
		fail_msg("took %lld us", (long long)took);
	evhttp_connection_free(c);
	size_t zero = 0;
	assert_true(waiting(f, &zero));

	/* a notification waits too, and ends with 204 */
	c = http_post(f,
		      "{\"jsonrpc\":\"2.0\",\"method\":\"waitformessage\",\"params\":{\"options\":"
		      "{\"timeout\":1}}}",
		      &w);
	size_t one = 1;
	assert_true(run_until(f, waiting, &one, 5));
	assert_true(run_until(f, done, &w, 5));
	assert_int_equal(w.status, 204);
	assert_string_equal(w.body, "");
	evhttp_connection_free(c);
}

/* Waits hold work-queue slots: with -rpcworkqueue=2, two waits leave no room (503), and the
 * slots come back when they end. A batch cannot hold a wait. */
static void test_wait_http_workqueue_batch(void **state)
{
	struct fixture *f = *state;
	listen_http(f, 2, 30);
	struct http_result w1, w2, o;
	static const char wait5[] =
		"{\"method\":\"waitformessage\",\"params\":[{\"timeout\":5}],\"id\":1}";
	struct evhttp_connection *c1 = http_post(f, wait5, &w1);
	struct evhttp_connection *c2 = http_post(f, wait5, &w2);
	size_t two = 2;
	assert_true(run_until(f, waiting, &two, 5));
	http_one(f, "{\"method\":\"uptime\",\"id\":1}", &o);
	assert_int_equal(o.status, 503);
	/* one message ends both */
	json_decref(call_ok(f, "publish", parse("[\"t\",\"both\"]")));
	assert_true(run_until(f, done, &w1, 5));
	assert_true(run_until(f, done, &w2, 5));
	assert_int_equal(w1.status, 200);
	assert_int_equal(w2.status, 200);
	assert_true(strcmp(w1.body, w2.body) == 0);
	http_one(f, "{\"method\":\"uptime\",\"id\":1}", &o);
	assert_int_equal(o.status, 200);
	evhttp_connection_free(c1);
	evhttp_connection_free(c2);

	/* a batch: the wait is refused, the rest runs */
	http_one(f,
		 "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"waitformessage\"},"
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"getstoreinfo\"}]",
		 &o);
	assert_int_equal(o.status, 200);
	json_t *r = reply_of(&o);
	assert_int_equal(json_array_size(r), 2);
	const json_t *e = json_object_get(json_array_get(r, 0), "error");
	assert_int_equal(json_integer_value(json_object_get(e, "code")), RPC_INVALID_REQUEST);
	assert_non_null(strstr(json_string_value(json_object_get(e, "message")),
			       "cannot be part of a batch"));
	assert_non_null(json_object_get(json_array_get(r, 1), "result"));
	json_decref(r);
	size_t zero = 0;
	assert_true(waiting(f, &zero));
}

/* A client that leaves while waiting: the call ends, its slot and listener are freed. */
static void test_wait_http_client_leaves(void **state)
{
	struct fixture *f = *state;
	listen_http(f, 1, 30);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->rpc_port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	static const char body[] = "{\"method\":\"waitformessage\",\"params\":[{\"timeout\":60}]}";
	char raw[512];
	int n = snprintf(raw, sizeof(raw),
			 "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: " AUTH_HEADER
			 "\r\nContent-Length: %zu\r\n\r\n%s",
			 strlen(body), body);
	assert_int_equal(write(fd, raw, (size_t)n), n);
	size_t one = 1, zero = 0;
	assert_true(run_until(f, waiting, &one, 5));
	close(fd);
	assert_true(run_until(f, waiting, &zero, 5));
	/* the only work-queue slot is free again */
	struct http_result o;
	http_one(f, "{\"method\":\"uptime\",\"id\":1}", &o);
	assert_int_equal(o.status, 200);
	/* and its listener is gone: a message now reaches nobody (ASan checks the rest) */
	json_decref(call_ok(f, "publish", parse("[\"t\",\"after\"]")));
	run_until(f, never, NULL, 0.05);
}

/* The server freed with calls waiting: they end without a reply, nothing leaks. */
static void test_wait_http_server_freed(void **state)
{
	struct fixture *f = *state;
	listen_http(f, 4, 30);
	struct http_result w1, w2;
	struct evhttp_connection *c1 =
		http_post(f, "{\"method\":\"waitformessage\",\"id\":1}", &w1);
	struct evhttp_connection *c2 = http_post(
		f, "{\"method\":\"waitformessage\",\"params\":[{\"topic\":\"x\"}],\"id\":2}", &w2);
	size_t two = 2;
	assert_true(run_until(f, waiting, &two, 5));
	rpc_server_free(f->s);
	f->s = new_server(f, 0, 16, 30);
	assert_true(run_until(f, done, &w1, 5));
	assert_true(run_until(f, done, &w2, 5));
	assert_true(w1.status != 200 && w2.status != 200);
	/* the listeners are gone with them */
	json_decref(call_ok(f, "publish", parse("[\"x\",\"late\"]")));
	evhttp_connection_free(c1);
	evhttp_connection_free(c2);
}

static int group_setup(void **state)
{
	(void)state;
	return random_init() == 0 && keys_init() == 0 ? 0 : -1;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_publish_getmessage),
		T(test_publish_errors),
		T(test_sendrawmessage),
		T(test_sendrawmessage_low_pow),
		T(test_decodemessage),
		T(test_big_nonce),
		T(test_getmessage_errors),
		T(test_listmessages),
		T(test_listmessages_bounds),
		T(test_getstoreinfo),
		T(test_getpeerinfo_counters),
		T(test_waitformessage_args),
		T(test_wait_http_message),
		T(test_wait_http_timeout),
		T(test_wait_http_workqueue_batch),
		T(test_wait_http_client_leaves),
		T(test_wait_http_server_freed),
	};
#undef T
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
