/* Unit tests for msg/sync: catch-up sync sessions driven by hand. One node's sync module over a
 * LevelDB store, with scripted peers: each is a struct peer whose frames stay in its
 * bufferevent (read back here), with its own items in a reconset that answers through
 * recon_respond, or a hostile script. The node clock is mocked; a test that needs the
 * module's one-second work calls sync_tick instead of waiting for its timer.
 *
 * - one session per peer ("busy"), SYNC_MAX_SESSIONS ("limit"), the index loading ("loading");
 * - results: the window of the syncreq; need ids below -minpow, stored, or outside the window
 *   are not fetched; have ids are announced;
 * - the SYNC_RESPONSE_TIMEOUT (no points; a late syncresp is out of order);
 * - RECON_MAX_ROUNDS: sync-endless without progress (fingerprints that never agree, ids below
 *   -minpow, stored ids, the same ids every round, the same ids of ours claimed missing); a
 *   large difference continues after a back-off once the queues are empty, at most
 *   SYNC_MAX_CONTINUED times in a row, without points;
 * - periodic sessions, including a tick where a peer also gets its delayed catch-up;
 * - the syncreq rate limit (flood) and the relay permission that lifts it;
 * - sync-lie's grace for ids an honest peer pruned; messages_sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "crypto/keys.h"
#include "msg/recon.h"
#include "msg/reconset.h"
#include "msg/store.h"
#include "msg/sync.h"
#include "msg/validate.h"
#include "net/connman.h"
#include "net/peer.h"
#include "net/scoring.h"
#include "net/transport.h"
#include "store/db.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/netparams.h"
#include "util/random.h"
#include "wire/recon.h"
#include "wire/sigmsg.h"

#include "unit_util.h"

#define T0        1700000000
#define RETENTION (14 * 24 * 3600)
#define MIN_POW   8
#define NPEERS    16
#define NSTORED   3
/* The window a session at T0 covers: [T0 - RETENTION, T0 + MSG_MAX_FUTURE_SECS + 1). */
#define SINCE (T0 - RETENTION)
#define UNTIL (T0 + MSG_MAX_FUTURE_SECS + 1)

static const uint8_t seckey[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
				   7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};

struct idlist {
	uint8_t (*ids)[32];
	size_t n, cap;
};

struct tpeer {
	struct peer p;
	struct bufferevent *pair[2];
	struct sync_peer *sp;
	struct reconset *set; /* its items (the honest answer) */
};

/* What a hostile peer answers to each syncreq. */
enum script {
	NEVER_AGREE,  /* one random FINGERPRINT over the window */
	LIST_FRESH,   /* nfresh new ids (pow >= MIN_POW) in the window's first second, rest as
		       * NEVER_AGREE */
	LIST_LOW_POW, /* the same, with ids below MIN_POW */
	LIST_FIXED,   /* the same two ids every round (fixed) */
	LACK_OURS,    /* an empty list over the node's stored messages: it claims to lack them */
};

struct env {
	char dir[64];
	struct event_base *base;
	struct clock clock;
	struct db *db;
	struct msgstore *store;
	struct connman *cm;
	struct sync *s;
	struct tpeer peers[NPEERS];
	size_t npeers;
	uint8_t stored[NSTORED][32]; /* the node's messages, created at T0 - 100 + i */
	/* the gossip side */
	struct idlist fetched, announced;
	size_t fetch_room; /* ids the fetch callback takes per call */
	/* the hostile script */
	enum script script;
	size_t nfresh;
	uint8_t fixed[2][32];
};

/* ---- plumbing ---- */

static void idlist_add(struct idlist *l, const uint8_t *id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->ids = realloc(l->ids, l->cap * 32);
		assert_non_null(l->ids);
	}
	memcpy(l->ids[l->n++], id, 32);
}

static bool idlist_has(const struct idlist *l, const uint8_t *id)
{
	for (size_t i = 0; i < l->n; i++)
		if (memcmp(l->ids[i], id, 32) == 0)
			return true;
	return false;
}

static size_t cb_fetch(void *ctx, struct peer *p, const uint8_t (*ids)[32], size_t n)
{
	struct env *e = ctx;
	(void)p;
	size_t take = n < e->fetch_room ? n : e->fetch_room;
	for (size_t i = 0; i < take; i++)
		idlist_add(&e->fetched, ids[i]);
	return take;
}

static void cb_announce(void *ctx, struct peer *p, const uint8_t (*ids)[32], size_t n)
{
	struct env *e = ctx;
	(void)p;
	for (size_t i = 0; i < n; i++)
		idlist_add(&e->announced, ids[i]);
}

static void stats(struct env *e, struct sync_stats *st)
{
	sync_stats(e->s, st);
}

static int is_loaded(void *ctx)
{
	struct sync_stats st;
	stats(ctx, &st);
	return st.loaded;
}

struct wait {
	struct env *e;
	size_t off; /* of a uint64_t field of struct sync_stats */
	uint64_t want;
};

static int stat_reached(void *ctx)
{
	const struct wait *w = ctx;
	struct sync_stats st;
	uint64_t v;
	stats(w->e, &st);
	memcpy(&v, (const char *)&st + w->off, sizeof(v));
	if (v >= w->want)
		return 1;
	/* Not yet: the tick's work now (at the mocked time, as often as the loop turns), instead
	 * of waiting up to a second for the module's timer. */
	sync_tick(w->e->s);
	return 0;
}

/* Run the loop, ticking, until the counter reaches want. */
#define WAIT_STAT(e, field, value) wait_stat(e, offsetof(struct sync_stats, field), value)
static void wait_stat(struct env *e, size_t off, uint64_t want)
{
	struct wait w = {e, off, want};
	if (!unit_run_until(e->base, stat_reached, &w, 5, 1000000))
		fail_msg("a sync counter did not reach %llu", (unsigned long long)want);
}

static int never(void *ctx)
{
	(void)ctx;
	return 0;
}

/* One tick's work now, then the loop briefly so that what it sent is written. */
static void run_a_tick(struct env *e)
{
	sync_tick(e->s);
	unit_run_until(e->base, never, NULL, 0.02, 1000000);
}

static uint64_t started(struct env *e)
{
	struct sync_stats st;
	stats(e, &st);
	return st.started;
}

static void good_id(uint8_t id[32])
{
	random_bytes(id, 32);
	id[0] = 0; /* at least 8 leading zero bits */
}

static void low_id(uint8_t id[32])
{
	random_bytes(id, 32);
	id[0] = 0xff; /* none */
}

static void set_add(struct reconset *set, int64_t t, const uint8_t id[32])
{
	struct recon_item it;
	it.created_at = t;
	memcpy(it.id, id, 32);
	assert_true(reconset_insert(set, &it) >= 0);
}

static void store_msg(struct env *e, uint8_t id[32], int64_t created)
{
	struct sigmsg m;
	memset(&m, 0, sizeof(m));
	m.version = SIGMSG_FORMAT_VERSION;
	snprintf(m.topic, sizeof(m.topic), "sync");
	m.created_at = created;
	m.body_len = 8;
	m.body = malloc(m.body_len);
	assert_non_null(m.body);
	random_bytes(m.body, m.body_len);
	assert_int_equal(sigmsg_sign(&m, id, seckey, 0, 0), 0);
	assert_int_equal(msgstore_put(e->store, &m, id, created, false), 1);
	sigmsg_clear(&m);
}

static struct tpeer *peer_add(struct env *e, enum conn_type type, unsigned perms)
{
	assert_true(e->npeers < NPEERS);
	struct tpeer *t = &e->peers[e->npeers++];
	memset(t, 0, sizeof(*t));
	t->p.id = e->npeers;
	t->p.cm = e->cm;
	t->p.state = PEER_ESTABLISHED;
	t->p.type = type;
	t->p.perms = perms;
	t->p.relay = true;
	t->p.noban = true; /* offences are counted, the fake peer is never disconnected */
	t->p.transport = transport_v1_new(netparams_get(NET_REGTEST)->magic);
	assert_non_null(t->p.transport);
	/* What the module sends moves to pair[1]'s input at once (no deferred callbacks), where
	 * take_frame reads it (an output buffer cannot be read from: its start is frozen). */
	assert_int_equal(bufferevent_pair_new(e->base, 0, t->pair), 0);
	assert_int_equal(bufferevent_enable(t->pair[1], EV_READ), 0);
	t->p.bev = t->pair[0];
	t->set = reconset_new();
	assert_non_null(t->set);
	t->sp = sync_peer_new(e->s, &t->p);
	assert_non_null(t->sp);
	return t;
}

static void peer_remove(struct env *e, struct tpeer *t)
{
	if (!t->sp)
		return;
	sync_peer_free(e->s, t->sp);
	t->sp = NULL;
	bufferevent_free(t->pair[0]);
	bufferevent_free(t->pair[1]);
	transport_free(t->p.transport);
	reconset_free(t->set);
}

/* The next frame the module sent t: 1 with its payload in out (its command must be cmd), or 0
 * when there is none. The transport only ever reads here (the module writes frames with it). */
static int take_frame(struct tpeer *t, const char *cmd, struct bytebuf *out)
{
	struct evbuffer *in = bufferevent_get_input(t->pair[1]);
	struct net_frame f;
	enum frame_status why;
	memset(&f, 0, sizeof(f));
	enum transport_read r = t->p.transport->ops->read_frame(t->p.transport, in, &f, &why);
	if (r == TRANSPORT_NEED_MORE)
		return 0;
	assert_int_equal(r, TRANSPORT_FRAME);
	assert_true(f.checksum_ok);
	assert_string_equal(f.command, cmd);
	bytebuf_reset(out);
	bytebuf_append(out, f.payload, f.len);
	net_frame_clear(&f);
	return 1;
}

/* ---- answers ---- */

typedef void (*answer_fn)(struct env *e, struct tpeer *t, const struct bytebuf *req,
			  struct bytebuf *resp);

static void honest(struct env *e, struct tpeer *t, const struct bytebuf *req, struct bytebuf *resp)
{
	(void)e;
	assert_int_equal(recon_respond(t->set, req->data, req->len, resp), RECON_CONTINUE);
}

static int cmp32(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static void hostile(struct env *e, struct tpeer *t, const struct bytebuf *req, struct bytebuf *resp)
{
	struct recon_msg m;
	struct recon_range r[2];
	uint8_t ids[8][32];
	size_t n = 0, k = 0;
	(void)t;
	assert_int_equal(recon_decode(&m, true, req->data, req->len), 0);
	memset(r, 0, sizeof(r));
	switch (e->script) {
	case NEVER_AGREE:
		break;
	case LIST_FRESH:
	case LIST_LOW_POW:
		assert_true(e->nfresh <= 8);
		for (n = 0; n < e->nfresh; n++)
			(e->script == LIST_FRESH ? good_id : low_id)(ids[n]);
		break;
	case LIST_FIXED:
		memcpy(ids, e->fixed, sizeof(e->fixed));
		n = 2;
		break;
	case LACK_OURS:
		break;
	}
	qsort(ids, n, 32, cmp32);
	if (e->script != NEVER_AGREE) {
		/* The node's messages are at T0 - 100 + i: LACK_OURS's range covers them. */
		recon_bound_time(&r[k].upper, e->script == LACK_OURS ? T0 - 90 : m.since + 1);
		r[k].mode = RECON_IDLIST;
		r[k].ids = &ids[0][0];
		r[k].nids = n;
		k++;
	}
	recon_bound_end(&r[k].upper);
	r[k].mode = RECON_FINGERPRINT;
	random_bytes(r[k].fp, RECON_FP_LEN);
	k++;
	recon_msg_clear(&m);
	struct recon_msg out = {.request = false, .ranges = r, .nranges = k};
	bytebuf_reset(resp);
	recon_encode(resp, &out);
}

/* Answer what the module sends t with fn until it sends nothing more (at most max syncreqs;
 * each syncresp is processed at once, so a whole session runs here). Returns how many. */
static int answer(struct env *e, struct tpeer *t, answer_fn fn, int max)
{
	struct bytebuf req, resp;
	int n = 0;
	bytebuf_init(&req, RECON_MAX_PAYLOAD);
	bytebuf_init(&resp, RECON_MAX_PAYLOAD);
	while (n < max && take_frame(t, CMD_SYNCREQ, &req)) {
		fn(e, t, &req, &resp);
		assert_true(sync_on_message(e->s, t->sp, CMD_SYNCRESP, resp.data, resp.len));
		n++;
	}
	bytebuf_free(&req);
	bytebuf_free(&resp);
	return n;
}

/* ---- setup ---- */

static int setup_with(void **state, int64_t interval)
{
	static struct env e;
	char err[256];
	memset(&e, 0, sizeof(e));
	random_seed_insecure(77);
	e.base = event_base_new();
	clock_set_mock(&e.clock, T0);
	assert_non_null(unit_mkdtemp(e.dir, sizeof(e.dir), "sync"));
	e.db = unit_open_db(e.dir);
	e.store = msgstore_open(e.db, err, sizeof(err));
	assert_non_null(e.store);
	for (int i = 0; i < NSTORED; i++)
		store_msg(&e, e.stored[i], T0 - 100 + i);
	struct connman_config cc;
	unit_connman_config(&cc, e.base, &e.clock, 0);
	cc.listen = false;
	e.cm = connman_new(&cc, err, sizeof(err));
	assert_non_null(e.cm);
	e.fetch_room = SIZE_MAX;
	struct sync_config sc = {
		.base = e.base,
		.clock = &e.clock,
		.store = e.store,
		.retention = RETENTION,
		.interval = interval,
		.min_pow = MIN_POW,
		.fetch = cb_fetch,
		.announce = cb_announce,
		.ctx = &e,
	};
	e.s = sync_new(&sc, err, sizeof(err));
	assert_non_null(e.s);
	*state = &e;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, 0);
}

static int setup_periodic(void **state)
{
	return setup_with(state, 600);
}

static int teardown(void **state)
{
	struct env *e = *state;
	for (size_t i = 0; i < e->npeers; i++)
		peer_remove(e, &e->peers[i]);
	sync_free(e->s);
	connman_free(e->cm);
	msgstore_free(e->store);
	db_close(e->db);
	unit_rm_rf(e->dir);
	event_base_free(e->base);
	free(e->fetched.ids);
	free(e->announced.ids);
	return 0;
}

static void load(struct env *e)
{
	assert_true(unit_run_until(e->base, is_loaded, e, 5, 1000000));
}

/* ---- tests ---- */

/* Loading, busy, limit: the three reasons a session does not start, and a session that ends
 * frees its slot. */
static void test_start_errors(void **state)
{
	struct env *e = *state;
	struct tpeer *t[SYNC_MAX_SESSIONS + 1];
	const char *why = NULL;
	struct sync_stats st;

	t[0] = peer_add(e, CONN_INBOUND, 0);
	assert_int_equal(sync_start(e->s, t[0]->sp, &why), -1);
	assert_string_equal(why, "loading");
	load(e);
	stats(e, &st);
	assert_int_equal(st.items, NSTORED);
	assert_int_equal(sync_start(e->s, t[0]->sp, &why), 0);
	assert_int_equal(sync_start(e->s, t[0]->sp, &why), -1);
	assert_string_equal(why, "busy");
	for (int i = 1; i < SYNC_MAX_SESSIONS; i++) {
		t[i] = peer_add(e, CONN_INBOUND, 0);
		assert_int_equal(sync_start(e->s, t[i]->sp, NULL), 0);
	}
	t[SYNC_MAX_SESSIONS] = peer_add(e, CONN_INBOUND, 0);
	assert_int_equal(sync_start(e->s, t[SYNC_MAX_SESSIONS]->sp, &why), -1);
	assert_string_equal(why, "limit");
	stats(e, &st);
	assert_int_equal(st.active, SYNC_MAX_SESSIONS);
	assert_int_equal(st.started, SYNC_MAX_SESSIONS);
	/* One session converges (the peer holds what we hold): its slot is free again. */
	for (int i = 0; i < NSTORED; i++)
		set_add(t[0]->set, T0 - 100 + i, e->stored[i]);
	assert_int_equal(answer(e, t[0], honest, 10), 1);
	stats(e, &st);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.active, SYNC_MAX_SESSIONS - 1);
	assert_int_equal(sync_start(e->s, t[SYNC_MAX_SESSIONS]->sp, &why), 0);
}

/* A session's results: the window; ids outside it, below -minpow or stored are not fetched;
 * the node's ids the peer lacks are announced. */
static void test_results(void **state)
{
	struct env *e = *state;
	struct bytebuf req;
	struct recon_msg m;
	struct sync_stats st;
	uint8_t in[10][32], low[5][32], old[32], future[32];

	load(e);
	struct tpeer *t = peer_add(e, CONN_INBOUND, 0);
	for (int i = 0; i < 10; i++) {
		good_id(in[i]);
		set_add(t->set, T0 - 5000 + i, in[i]);
	}
	for (int i = 0; i < 5; i++) {
		low_id(low[i]);
		set_add(t->set, T0 - 4000 + i, low[i]);
	}
	good_id(old);
	set_add(t->set, SINCE - 1, old);
	good_id(future);
	set_add(t->set, UNTIL, future);
	/* One of the node's messages, at another time in the peer's set: listed, but stored. */
	set_add(t->set, T0 - 3000, e->stored[0]);

	assert_int_equal(sync_start(e->s, t->sp, NULL), 0);
	bytebuf_init(&req, RECON_MAX_PAYLOAD);
	assert_int_equal(take_frame(t, CMD_SYNCREQ, &req), 1);
	assert_int_equal(recon_decode(&m, true, req.data, req.len), 0);
	assert_int_equal(m.since, SINCE);
	assert_int_equal(m.until, UNTIL);
	recon_msg_clear(&m);
	struct bytebuf resp;
	bytebuf_init(&resp, RECON_MAX_PAYLOAD);
	honest(e, t, &req, &resp);
	assert_true(sync_on_message(e->s, t->sp, CMD_SYNCRESP, resp.data, resp.len));
	bytebuf_free(&req);
	bytebuf_free(&resp);
	answer(e, t, honest, 64);

	stats(e, &st);
	assert_int_equal(st.completed, 1);
	assert_int_equal(e->fetched.n, 10);
	for (int i = 0; i < 10; i++)
		assert_true(idlist_has(&e->fetched, in[i]));
	assert_int_equal(st.ids_need, 10);
	/* The node's other two messages are not in the peer's set (whether the first one is
	 * announced depends on whether a range compared holds it at both times). */
	assert_true(idlist_has(&e->announced, e->stored[1]));
	assert_true(idlist_has(&e->announced, e->stored[2]));
	assert_int_equal(st.ids_have, e->announced.n);
	assert_int_equal(st.announced, e->announced.n);
	/* Delivered bodies of listed ids count as fetched. */
	sync_on_delivered(e->s, t->sp, in[0]);
	sync_on_delivered(e->s, t->sp, in[0]);
	stats(e, &st);
	assert_int_equal(st.fetched, 1);
}

/* No syncresp within SYNC_RESPONSE_TIMEOUT: abandoned without points; a late answer is out of
 * order. */
static void test_timeout(void **state)
{
	struct env *e = *state;
	struct sync_stats st;

	load(e);
	struct tpeer *t = peer_add(e, CONN_INBOUND, 0);
	assert_int_equal(sync_start(e->s, t->sp, NULL), 0);
	clock_set_mock(&e->clock, T0 + SYNC_RESPONSE_TIMEOUT - 1);
	run_a_tick(e);
	stats(e, &st);
	assert_int_equal(st.active, 1);
	assert_int_equal(st.timed_out, 0);
	clock_set_mock(&e->clock, T0 + SYNC_RESPONSE_TIMEOUT);
	WAIT_STAT(e, timed_out, 1);
	stats(e, &st);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.failed, 0);
	assert_true(t->p.misbehaviour == 0);
	assert_int_equal(answer(e, t, honest, 1), 1);
	assert_int_equal(t->p.offences[OFF_PROTOCOL_ORDER], 1);
}

/* Run a session with a hostile peer to RECON_MAX_ROUNDS: it must be sync-endless and never
 * continue. */
static void expect_endless(struct env *e, enum script script, const char *what)
{
	struct sync_stats before, st;
	stats(e, &before);
	e->script = script;
	struct tpeer *t = peer_add(e, CONN_INBOUND, 0);
	assert_int_equal(sync_start(e->s, t->sp, NULL), 0);
	if (answer(e, t, hostile, 1000) != RECON_MAX_ROUNDS)
		fail_msg("%s: not %d round trips", what, RECON_MAX_ROUNDS);
	stats(e, &st);
	if (t->p.offences[OFF_SYNC_ENDLESS] != 1)
		fail_msg("%s: not sync-endless", what);
	assert_int_equal(st.failed, before.failed + 1);
	assert_int_equal(st.continued, before.continued);
	assert_int_equal(st.active, 0);
	peer_remove(e, t);
}

static void test_endless(void **state)
{
	struct env *e = *state;
	load(e);
	expect_endless(e, NEVER_AGREE, "fingerprints that never agree");
	e->nfresh = 2;
	expect_endless(e, LIST_LOW_POW, "two new ids below -minpow a round");
	memcpy(e->fixed[0], e->stored[0], 32);
	memcpy(e->fixed[1], e->stored[1], 32);
	expect_endless(e, LIST_FIXED, "two stored ids a round");
	good_id(e->fixed[0]);
	good_id(e->fixed[1]);
	expect_endless(e, LIST_FIXED, "the same two new ids every round");
	expect_endless(e, LACK_OURS, "claims to lack the same ids of ours every round");
	/* No session was left to go on with. */
	uint64_t n = started(e);
	clock_set_mock(&e->clock, T0 + 1000);
	run_a_tick(e);
	assert_int_equal(started(e), n);
}

/* One new id a round, the 64th round's included, is a large difference: a new session goes
 * on once the queues are empty and the back-off (1, 2, 4 ... s) has passed; the ninth session
 * in a row to reach the limit ends the run. No points all along. */
static void test_continued(void **state)
{
	struct env *e = *state;
	struct sync_stats st;
	int64_t now = T0;

	load(e);
	e->script = LIST_FRESH;
	e->nfresh = 1;
	struct tpeer *t = peer_add(e, CONN_INBOUND, 0);
	assert_int_equal(sync_start(e->s, t->sp, NULL), 0);
	e->fetch_room = 0; /* the first session's ids wait in its queue */
	for (unsigned k = 1; k <= SYNC_MAX_CONTINUED + 1; k++) {
		assert_int_equal(answer(e, t, hostile, 1000), RECON_MAX_ROUNDS);
		stats(e, &st);
		assert_int_equal(st.started, k);
		assert_int_equal(st.active, 0);
		if (k == SYNC_MAX_CONTINUED + 1)
			break;
		assert_int_equal(st.continued, k);
		assert_int_equal(st.failed, 0);
		int64_t delay = (int64_t)SYNC_CONTINUE_DELAY << (k - 1);
		if (k <= 2) {
			/* Not before the back-off has passed. */
			clock_set_mock(&e->clock, now + delay - 1);
			run_a_tick(e);
			assert_int_equal(started(e), k);
		}
		now += delay;
		clock_set_mock(&e->clock, now);
		if (k == 1) {
			/* Nor while the last session's ids wait to be fetched. */
			run_a_tick(e);
			assert_int_equal(started(e), k);
			assert_int_equal(e->fetched.n, 0);
			e->fetch_room = SIZE_MAX;
		}
		WAIT_STAT(e, started, k + 1);
	}
	assert_int_equal(e->fetched.n, (SYNC_MAX_CONTINUED + 1) * RECON_MAX_ROUNDS);
	stats(e, &st);
	assert_int_equal(st.continued, SYNC_MAX_CONTINUED);
	assert_int_equal(st.failed, 1);
	clock_set_mock(&e->clock, now + 1000);
	run_a_tick(e);
	assert_int_equal(started(e), SYNC_MAX_CONTINUED + 1);
	assert_true(t->p.misbehaviour == 0);
	/* A run starts again on request, from a fresh count. */
	assert_int_equal(sync_start(e->s, t->sp, NULL), 0);
	assert_int_equal(answer(e, t, hostile, 1000), RECON_MAX_ROUNDS);
	stats(e, &st);
	assert_int_equal(st.continued, SYNC_MAX_CONTINUED + 1);
}

/* Every -syncinterval one peer we chose gets a session, also in the tick where another one
 * gets the catch-up it could not start when it arrived (the session limit was reached). */
static void test_periodic(void **state)
{
	struct env *e = *state;
	struct tpeer *busy[SYNC_MAX_SESSIONS];
	const char *why;
	int64_t now = T0;

	load(e);
	struct tpeer *c = peer_add(e, CONN_OUTBOUND_FULL, 0); /* its catch-up starts at once */
	assert_int_equal(started(e), 1);
	assert_int_equal(answer(e, c, honest, 10), 1);
	/* An inbound peer is never picked: one interval passes with the one candidate. */
	struct tpeer *in = peer_add(e, CONN_INBOUND, 0);
	now += 600;
	clock_set_mock(&e->clock, now);
	WAIT_STAT(e, started, 2);
	assert_int_equal(answer(e, c, honest, 10), 1);
	assert_int_equal(answer(e, in, honest, 10), 0);

	for (int round = 0; round < 8; round++) {
		uint64_t n = started(e);
		for (int i = 0; i < SYNC_MAX_SESSIONS; i++) {
			busy[i] = peer_add(e, CONN_INBOUND, 0);
			assert_int_equal(sync_start(e->s, busy[i]->sp, NULL), 0);
		}
		struct tpeer *a = peer_add(e, CONN_MANUAL, 0); /* no room for its catch-up */
		assert_int_equal(sync_start(e->s, a->sp, &why), -1);
		assert_int_equal(started(e), n + SYNC_MAX_SESSIONS);
		for (int i = 0; i < SYNC_MAX_SESSIONS; i++) {
			assert_int_equal(answer(e, busy[i], honest, 10), 1);
			peer_remove(e, busy[i]);
		}
		now += 600;
		clock_set_mock(&e->clock, now);
		/* a's catch-up and c's periodic session, in the same tick. */
		WAIT_STAT(e, started, n + SYNC_MAX_SESSIONS + 2);
		assert_int_equal(answer(e, a, honest, 10), 1);
		assert_int_equal(answer(e, c, honest, 10), 1);
		peer_remove(e, a);
		/* Slots of removed peers are reused. */
		e->npeers -= SYNC_MAX_SESSIONS + 1;
	}
}

/* A peer may make the node answer SYNC_REQ_BURST syncreqs at once; each one beyond is not
 * answered and is a flood offence. A peer with the relay permission is not limited. */
static void test_flood(void **state)
{
	struct env *e = *state;
	struct bytebuf req, resp;
	struct sync_stats st;
	const int sent = SYNC_REQ_BURST + 20;

	load(e);
	struct tpeer *t = peer_add(e, CONN_INBOUND, 0);
	struct tpeer *r = peer_add(e, CONN_INBOUND, NET_PERM_RELAY);
	bytebuf_init(&req, RECON_MAX_PAYLOAD);
	bytebuf_init(&resp, RECON_MAX_PAYLOAD);
	struct recon_session *sess = recon_initiate(t->set, SINCE, UNTIL, &req);
	assert_non_null(sess);
	for (int i = 0; i < sent; i++)
		assert_true(sync_on_message(e->s, t->sp, CMD_SYNCREQ, req.data, req.len));
	int answered = 0;
	while (take_frame(t, CMD_SYNCRESP, &resp))
		answered++;
	/* The bucket refills 0.2 a second: the loop above takes far less than 5 seconds. */
	assert_true(answered >= (int)SYNC_REQ_BURST && answered <= (int)SYNC_REQ_BURST + 1);
	assert_int_equal(t->p.offences[OFF_FLOOD], sent - answered);
	for (int i = 0; i < sent; i++)
		assert_true(sync_on_message(e->s, r->sp, CMD_SYNCREQ, req.data, req.len));
	int relay_answered = 0;
	while (take_frame(r, CMD_SYNCRESP, &resp))
		relay_answered++;
	assert_int_equal(relay_answered, sent);
	assert_int_equal(r->p.offences[OFF_FLOOD], 0);
	stats(e, &st);
	assert_int_equal(st.answered, (uint64_t)(answered + sent));
	recon_session_free(sess);
	bytebuf_free(&req);
	bytebuf_free(&resp);
}

/* Listed ids answered with notfound: SYNC_LIE_GRACE are forgiven, plus one per SYNC_LIE_RATIO
 * listed ids the peer delivered; each one beyond is sync-lie. */
static void test_lie_grace(void **state)
{
	struct env *e = *state;
	uint8_t ids[10 + 64][32];

	load(e);
	struct tpeer *t = peer_add(e, CONN_INBOUND, 0);
	for (int i = 0; i < 10; i++) {
		good_id(ids[i]);
		set_add(t->set, T0 - 5000 + i, ids[i]);
	}
	assert_int_equal(sync_start(e->s, t->sp, NULL), 0);
	answer(e, t, honest, 64);
	assert_int_equal(e->fetched.n, 10);
	/* Not asked for: not a lie. */
	uint8_t other[32];
	good_id(other);
	sync_on_notfound(e->s, t->sp, other);
	for (int i = 0; i < SYNC_LIE_GRACE; i++)
		sync_on_notfound(e->s, t->sp, ids[i]);
	assert_int_equal(t->p.offences[OFF_SYNC_LIE], 0);
	sync_on_notfound(e->s, t->sp, ids[SYNC_LIE_GRACE]);
	assert_int_equal(t->p.offences[OFF_SYNC_LIE], 1);
	/* The same id again: it is no longer awaited. */
	sync_on_notfound(e->s, t->sp, ids[SYNC_LIE_GRACE]);
	assert_int_equal(t->p.offences[OFF_SYNC_LIE], 1);
	for (int i = SYNC_LIE_GRACE + 1; i < 10; i++)
		sync_on_delivered(e->s, t->sp, ids[i]);
	/* A second session lists 64 more (and the first ten again: none was stored); 59 of the
	 * new ones arrive: 64 delivered in all, two more forgiven. */
	for (int i = 10; i < 74; i++) {
		good_id(ids[i]);
		set_add(t->set, T0 - 4000 + i, ids[i]);
	}
	assert_int_equal(sync_start(e->s, t->sp, NULL), 0);
	answer(e, t, honest, 64);
	assert_int_equal(e->fetched.n, 10 + 74);
	for (int i = 10; i < 69; i++)
		sync_on_delivered(e->s, t->sp, ids[i]);
	assert_int_equal(2 * SYNC_LIE_RATIO, 64);
	sync_on_notfound(e->s, t->sp, ids[69]);
	assert_int_equal(t->p.offences[OFF_SYNC_LIE], 1);
	sync_on_notfound(e->s, t->sp, ids[70]);
	assert_int_equal(t->p.offences[OFF_SYNC_LIE], 2);
}

/* messages_sent counts bodies served to a peer that sync told about the id: listed in our
 * syncresp, or announced after our session found it missing there. */
static void test_served(void **state)
{
	struct env *e = *state;
	struct bytebuf req, resp;
	struct sync_stats st;
	uint8_t stranger[32];

	load(e);
	/* Responder: a peer with nothing asks; our syncresp lists our three ids. */
	struct tpeer *t = peer_add(e, CONN_INBOUND, 0);
	struct tpeer *u = peer_add(e, CONN_INBOUND, 0);
	bytebuf_init(&req, RECON_MAX_PAYLOAD);
	bytebuf_init(&resp, RECON_MAX_PAYLOAD);
	struct recon_session *sess = recon_initiate(t->set, SINCE, UNTIL, &req);
	assert_non_null(sess);
	assert_true(sync_on_message(e->s, t->sp, CMD_SYNCREQ, req.data, req.len));
	assert_int_equal(take_frame(t, CMD_SYNCRESP, &resp), 1);
	recon_session_free(sess);
	sync_on_served(e->s, t->sp, e->stored[0]);
	sync_on_served(e->s, t->sp, e->stored[1]);
	good_id(stranger);
	sync_on_served(e->s, t->sp, stranger);     /* never listed */
	sync_on_served(e->s, u->sp, e->stored[2]); /* listed to another peer */
	sync_on_served(e->s, NULL, e->stored[2]);
	stats(e, &st);
	assert_int_equal(st.served, 2);
	/* Initiator: our session finds the peer lacks our ids and announces them. */
	assert_int_equal(sync_start(e->s, u->sp, NULL), 0);
	answer(e, u, honest, 64);
	assert_int_equal(e->announced.n, NSTORED);
	sync_on_served(e->s, u->sp, e->stored[2]);
	stats(e, &st);
	assert_int_equal(st.served, 3);
	bytebuf_free(&req);
	bytebuf_free(&resp);
}

static int global_setup(void **state)
{
	(void)state;
	return random_init() == 0 && keys_init() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_endless, setup, teardown),
		cmocka_unit_test_setup_teardown(test_continued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic, setup_periodic, teardown),
		cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lie_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_served, setup, teardown),
	};
	return cmocka_run_group_tests(tests, global_setup, NULL);
}
