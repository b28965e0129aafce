/* Catch-up sync sessions (include/msg/sync.h).
 *
 * The index: a reconset of the store's (created_at, id) pairs. sync_new registers as the
 * store's observer (every message added or pruned from then on reaches the index) and arms
 * load_ev, which reads SYNC_LOAD_SLICE entries of the store's time index per loop turn until
 * the walk ends; an entry the observer already inserted is simply found present. Until the
 * index is loaded no session starts and syncreqs are left unanswered (the peer's session times
 * out; a node answers once it is up).
 *
 * A session (initiator): recon_initiate, then per syncresp recon_initiator_step; the have and
 * need ids of a step go into the session's queues; pump_ev (armed while any session has work)
 * hands the queues to gossip (fetch: as many as the peer's request machinery takes; announce:
 * SYNC_ANNOUNCE_SLICE per turn) and sends the next syncreq once both queues have room for a
 * whole step (RECON_MAX_STEP_IDS each). The responder role is stateless apart from the
 * per-peer token bucket that bounds how many syncreqs a peer can make us answer.
 *
 * Progress. A session that reaches RECON_MAX_ROUNDS is a large difference, not an endless
 * peer, only if it queued at least RECON_MAX_ROUNDS new ids (one per round on average): need
 * ids that pass -minpow and are not stored, and have ids, each counted once per run of
 * sessions (the per-peer `seen` filter), so a peer cannot list the same or worthless ids over
 * and over. A run goes on for at most SYNC_MAX_CONTINUED sessions in a row, each after the
 * queues are empty and a back-off that doubles from SYNC_CONTINUE_DELAY: an honest difference
 * too large for that (millions of ids one way, about 600,000 scattered both ways) is left to
 * the next periodic session, and a peer that games the count costs at most that many rounds.
 *
 * Limits and their reasons: SYNC_SEEN_FILTER (4,096 recent ids: only a peer repeating ids
 * needs remembering, and 64 rounds of repeats fit; 22 KB per run of sessions);
 * SYNC_OFFERED_FILTER (65,536 (peer, id) pairs node-wide, 350 KB: about four full syncresps of
 * ids, the most a peer catching up asks for before its next syncreq; only messages_sent
 * depends on it); SYNC_LIE_GRACE and SYNC_LIE_RATIO (an honest peer prunes a few listed ids
 * before our getdata: those of the oldest or the pruned-for-space messages, a tiny share). */
#include "msg/sync.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "idmap.h"
#include "msg/recon.h"
#include "msg/reconset.h"
#include "msg/store.h"
#include "msg/validate.h"
#include "net/connman.h"
#include "net/peer.h"
#include "net/scoring.h"
#include "util/bloom.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"
#include "util/tokenbucket.h"
#include "wire/recon.h"
#include "wire/sigmsg.h"

/* Ids announced per pump turn and session: an inv of 1,000 ids is one frame of 36 KB. */
#define SYNC_ANNOUNCE_SLICE 1000
/* How often the pump runs while sessions have work (fetch slots free up as messages arrive). */
#define SYNC_PUMP_MS 50
/* How often timeouts and the periodic session are checked. */
#define SYNC_TICK_SECS 1
/* False-positive rate of the seen and offered filters (a repeated id wrongly taken as new, or
 * a body wrongly counted as served because of sync, once in a thousand). */
#define SYNC_FILTER_FP 0.001
/* Value stored in the promised map (the map needs a non-NULL value). */
static int promised_mark;

/* A queue of ids (ring buffer), at most SYNC_QUEUE_MAX. */
struct idq {
	uint8_t (*ids)[32];
	size_t head, n, cap;
};

struct sync_peer {
	struct sync *s;
	struct peer *peer;
	struct sync_peer *next;
	struct token_bucket req_tb; /* syncreqs it may make us answer */
	struct idmap *promised;     /* ids it listed in our session and we asked for */
	/* the initiator session with it, if any */
	struct recon_session *sess;
	bool waiting; /* a syncreq is outstanding */
	bool ready;   /* next_req holds a syncreq to send when the queues have room */
	struct bytebuf next_req;
	bool tried;                 /* a session with it was started once (outbound catch-up) */
	bool resume;                /* start a new session when the queues are empty and ... */
	int64_t resume_at;          /* ... the node clock has reached this */
	unsigned chain;             /* sessions continued in a row so far */
	uint64_t useful;            /* new ids the current session queued (progress) */
	struct rolling_bloom *seen; /* ids counted as progress in this run of sessions */
	int64_t started;            /* node clock */
	int64_t sent_at;            /* node clock of the outstanding syncreq */
	struct idq needq, haveq;
	uint64_t listed_served, listed_unserved; /* promised ids delivered / answered notfound */
};

struct sync {
	struct sync_config cfg;
	struct reconset *set;
	bool loaded;
	bool load_started;
	int64_t load_t; /* resume the walk after (load_t, load_id) */
	uint8_t load_id[32];
	struct event *load_ev, *pump_ev, *tick_ev;
	int64_t next_periodic; /* node clock */
	struct sync_peer *peers;
	struct rolling_bloom *offered; /* (peer id, msg id) pairs sync told a peer about */
	struct sync_stats st;
};

/* Peers we chose (automatic outbound and manual -connect/-addnode): the ones catch-up sync
 * runs with by itself. */
static bool chosen(const struct peer *p)
{
	return p->type == CONN_OUTBOUND_FULL || p->type == CONN_MANUAL;
}

static int64_t now_secs(const struct sync *s)
{
	return clock_now(s->cfg.clock);
}

/* ---- id queues ---- */

static bool idq_push(struct idq *q, const uint8_t id[32])
{
	if (q->n == q->cap) {
		if (q->cap >= SYNC_QUEUE_MAX)
			return false;
		size_t ncap = q->cap ? q->cap * 2 : 256;
		if (ncap > SYNC_QUEUE_MAX)
			ncap = SYNC_QUEUE_MAX;
		uint8_t(*nids)[32] = malloc(ncap * 32);
		if (!nids)
			return false;
		for (size_t i = 0; i < q->n; i++)
			memcpy(nids[i], q->ids[(q->head + i) % q->cap], 32);
		free(q->ids);
		q->ids = nids;
		q->head = 0;
		q->cap = ncap;
	}
	memcpy(q->ids[(q->head + q->n) % q->cap], id, 32);
	q->n++;
	return true;
}

/* Copy up to max ids from the front into out (contiguous); returns how many. */
static size_t idq_peek(const struct idq *q, uint8_t (*out)[32], size_t max)
{
	size_t n = q->n < max ? q->n : max;
	for (size_t i = 0; i < n; i++)
		memcpy(out[i], q->ids[(q->head + i) % q->cap], 32);
	return n;
}

static void idq_drop(struct idq *q, size_t n)
{
	if (n > q->n)
		n = q->n;
	q->head = q->cap ? (q->head + n) % q->cap : 0;
	q->n -= n;
}

static void idq_free(struct idq *q)
{
	free(q->ids);
	memset(q, 0, sizeof(*q));
}

/* ---- the index ---- */

static void item_of(struct recon_item *it, int64_t t, const uint8_t id[32])
{
	it->created_at = t;
	memcpy(it->id, id, 32);
}

static void on_added(void *ctx, int64_t t, const uint8_t id[32])
{
	struct sync *s = ctx;
	struct recon_item it;
	item_of(&it, t, id);
	if (reconset_insert(s->set, &it) < 0)
		log_error("sync: cannot index a message (out of memory)");
}

static void on_removed(void *ctx, int64_t t, const uint8_t id[32])
{
	struct sync *s = ctx;
	struct recon_item it;
	item_of(&it, t, id);
	reconset_erase(s->set, &it);
}

static int load_one(void *ctx, int64_t t, const uint8_t id[32])
{
	struct sync *s = ctx;
	struct recon_item it;
	item_of(&it, t, id);
	/* In order, so appending is the rule; a newer message the observer indexed meanwhile
	 * makes it an insert. */
	if (reconset_append(s->set, &it) != 0 && reconset_insert(s->set, &it) < 0)
		return -1;
	s->load_t = t;
	memcpy(s->load_id, id, 32);
	return 0;
}

static void load_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sync *s = arg;
	(void)fd;
	(void)what;
	long n = msgstore_walk_time(s->cfg.store, s->load_t, s->load_started ? s->load_id : NULL,
				    SYNC_LOAD_SLICE, load_one, s);
	if (n < 0) {
		log_error("sync: cannot read the message index; catch-up sync stays off");
		return;
	}
	if (n > 0)
		s->load_started = true;
	if (n == SYNC_LOAD_SLICE) {
		event_active(s->load_ev, EV_TIMEOUT, 0); /* the next slice after other events */
		return;
	}
	s->loaded = true;
	log_info("Catch-up sync index: %zu messages, %zu KiB", reconset_count(s->set),
		 reconset_memory(s->set) / 1024);
}

/* ---- sessions ---- */

static void session_end(struct sync_peer *sp)
{
	if (!sp->sess)
		return;
	recon_session_free(sp->sess);
	sp->sess = NULL;
	sp->waiting = sp->ready = false;
	if (sp->s->st.active > 0)
		sp->s->st.active--;
	if (!sp->resume) { /* the run of sessions is over */
		rolling_bloom_free(sp->seen);
		sp->seen = NULL;
	}
	/* Queued ids are still worth fetching and announcing: the pump drains them. */
}

/* Remember that sync told the peer about id (messages_sent). */
static void offer(struct sync *s, const struct sync_peer *sp, const uint8_t id[32])
{
	uint8_t key[40];
	memcpy(key, id, 32);
	memcpy(key + 32, &sp->peer->id, 8);
	rolling_bloom_insert(s->offered, key, sizeof(key));
}

static void send_req(struct sync_peer *sp)
{
	struct sync *s = sp->s;
	peer_send(sp->peer, CMD_SYNCREQ, sp->next_req.data, sp->next_req.len);
	s->st.bytes_sent += sp->next_req.len;
	sp->waiting = true;
	sp->ready = false;
	sp->sent_at = now_secs(s);
}

static void arm_pump(struct sync *s)
{
	if (!evtimer_pending(s->pump_ev, NULL)) {
		struct timeval tv = {0, SYNC_PUMP_MS * 1000};
		evtimer_add(s->pump_ev, &tv);
	}
}

/* Hand queued ids to gossip; send the next syncreq when the queues can take a whole step.
 * Returns true if the peer still has work queued. */
static bool pump_peer(struct sync_peer *sp)
{
	struct sync *s = sp->s;
	static uint8_t buf[SYNC_ANNOUNCE_SLICE][32];
	if (sp->haveq.n > 0) {
		size_t n = idq_peek(&sp->haveq, buf, SYNC_ANNOUNCE_SLICE);
		s->cfg.announce(s->cfg.ctx, sp->peer, (const uint8_t(*)[32])buf, n);
		for (size_t i = 0; i < n; i++)
			offer(s, sp, buf[i]);
		s->st.announced += n;
		idq_drop(&sp->haveq, n);
	}
	while (sp->needq.n > 0) {
		size_t n = idq_peek(&sp->needq, buf, SYNC_ANNOUNCE_SLICE);
		for (size_t i = 0; i < n; i++)
			if (idmap_count(sp->promised) < SYNC_MAX_PROMISED)
				idmap_put(sp->promised, buf[i], &promised_mark);
		size_t took = s->cfg.fetch(s->cfg.ctx, sp->peer, (const uint8_t(*)[32])buf, n);
		for (size_t i = took; i < n; i++)
			idmap_remove(sp->promised, buf[i]);
		idq_drop(&sp->needq, took);
		if (took < n)
			break; /* its request machinery is full: more when messages arrive */
	}
	if (sp->sess && sp->ready && SYNC_QUEUE_MAX - sp->needq.n >= RECON_MAX_STEP_IDS &&
	    SYNC_QUEUE_MAX - sp->haveq.n >= RECON_MAX_STEP_IDS)
		send_req(sp);
	return sp->needq.n > 0 || sp->haveq.n > 0 || sp->ready;
}

static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sync *s = arg;
	(void)fd;
	(void)what;
	bool more = false;
	for (struct sync_peer *sp = s->peers; sp; sp = sp->next)
		more |= pump_peer(sp);
	if (more)
		arm_pump(s);
}

/* Start a session: a new run of sessions, or the next of a run (cont). */
static int start(struct sync *s, struct sync_peer *sp, bool cont, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!s->loaded) {
		*why = "loading";
		return -1;
	}
	if (sp->sess) {
		*why = "busy";
		return -1;
	}
	if (s->st.active >= SYNC_MAX_SESSIONS) {
		*why = "limit";
		return -1;
	}
	int64_t now = now_secs(s);
	int64_t since = now - s->cfg.retention;
	if (since < 0)
		since = 0;
	int64_t until = now + MSG_MAX_FUTURE_SECS + 1;
	if (!cont) {
		sp->chain = 0;
		if (sp->seen)
			rolling_bloom_reset(sp->seen);
	}
	if (!sp->seen)
		sp->seen = rolling_bloom_new(SYNC_SEEN_FILTER, SYNC_FILTER_FP);
	bytebuf_reset(&sp->next_req);
	sp->sess = sp->seen ? recon_initiate(s->set, since, until, &sp->next_req) : NULL;
	if (!sp->sess) {
		*why = "nomem";
		return -1;
	}
	sp->resume = false;
	sp->useful = 0;
	s->st.started++;
	s->st.active++;
	sp->tried = true;
	sp->started = now;
	log_debug(LOG_MSG,
		  "sync: session with peer=%" PRIu64 " started (window %" PRId64 "..%" PRId64
		  ", %zu messages here)",
		  sp->peer->id, since, until, reconset_count(s->set));
	send_req(sp);
	return 0;
}

int sync_start(struct sync *s, struct sync_peer *sp, const char **why)
{
	return start(s, sp, false, why);
}

/* An id the current session queued: progress the first time in this run of sessions. */
static void count_useful(struct sync_peer *sp, const uint8_t id[32])
{
	if (rolling_bloom_contains(sp->seen, id, 32))
		return;
	rolling_bloom_insert(sp->seen, id, 32);
	sp->useful++;
}

/* Queue a step's ids: need ids we would accept and do not store, to fetch; have ids, to
 * announce. At most RECON_MAX_STEP_IDS store lookups (doc/protocol.md, "Limits"). */
static void queue_step(struct sync *s, struct sync_peer *sp, const struct recon_ids *need,
		       const struct recon_ids *have)
{
	for (size_t i = 0; i < need->n; i++) {
		if (sigmsg_pow(need->ids[i]) < s->cfg.min_pow)
			continue; /* we would not accept it: not worth fetching */
		if (msgstore_has(s->cfg.store, need->ids[i]))
			continue;
		if (!idq_push(&sp->needq, need->ids[i]))
			break;
		s->st.ids_need++;
		count_useful(sp, need->ids[i]);
	}
	for (size_t i = 0; i < have->n; i++) {
		if (!idq_push(&sp->haveq, have->ids[i]))
			break;
		s->st.ids_have++;
		count_useful(sp, have->ids[i]);
	}
}

/* The session reached RECON_MAX_ROUNDS: a large difference goes on in a new session (after a
 * back-off, SYNC_MAX_CONTINUED in a row at most); too little progress is sync-endless. */
static void on_rounds_limit(struct sync *s, struct sync_peer *sp)
{
	if (sp->useful < RECON_MAX_ROUNDS) {
		s->st.failed++;
		session_end(sp);
		peer_misbehaving(sp->peer, OFF_SYNC_ENDLESS, "no convergence");
		return;
	}
	if (sp->chain >= SYNC_MAX_CONTINUED) {
		log_debug(LOG_MSG,
			  "sync: session with peer=%" PRIu64 " reached %d rounds with %" PRIu64
			  " new ids, the %u-th in a row: not continued (the next periodic session "
			  "goes on)",
			  sp->peer->id, RECON_MAX_ROUNDS, sp->useful, sp->chain + 1);
		s->st.failed++;
		session_end(sp);
		return;
	}
	int64_t delay = (int64_t)SYNC_CONTINUE_DELAY << sp->chain;
	sp->chain++;
	log_debug(LOG_MSG,
		  "sync: session with peer=%" PRIu64 " reached %d rounds with %" PRIu64
		  " new ids; continuing in a new session (%u in a row) in %" PRId64
		  " s, once its ids are fetched and announced",
		  sp->peer->id, RECON_MAX_ROUNDS, sp->useful, sp->chain, delay);
	s->st.continued++;
	sp->resume = true;
	sp->resume_at = now_secs(s) + delay;
	session_end(sp);
}

static void on_syncresp(struct sync *s, struct sync_peer *sp, const uint8_t *payload, size_t len)
{
	if (!sp->sess || !sp->waiting) {
		peer_misbehaving(sp->peer, OFF_PROTOCOL_ORDER, "syncresp without a syncreq");
		return;
	}
	s->st.bytes_recv += len;
	struct recon_ids have = {0}, need = {0};
	bytebuf_reset(&sp->next_req);
	enum recon_status st =
		recon_initiator_step(sp->sess, s->set, payload, len, &sp->next_req, &have, &need);
	sp->waiting = false;
	if (st >= 0 || st == RECON_ERR_ROUNDS) {
		s->st.rounds++;
		queue_step(s, sp, &need, &have);
	}
	recon_ids_free(&have);
	recon_ids_free(&need);
	const struct recon_stats *rs = recon_session_stats(sp->sess);
	switch (st) {
	case RECON_CONTINUE:
		sp->ready = true;
		break;
	case RECON_DONE:
		s->st.completed++;
		log_debug(LOG_MSG,
			  "sync: session with peer=%" PRIu64 " done: %" PRIu32 " rounds, %" PRIu64
			  " bytes sent, %" PRIu64 " received, %" PRIu64 " ids needed, %" PRIu64
			  " to announce",
			  sp->peer->id, rs->rounds, rs->bytes_sent, rs->bytes_recv, rs->need,
			  rs->have);
		session_end(sp);
		break;
	case RECON_ERR_MALFORMED:
		s->st.failed++;
		session_end(sp);
		peer_misbehaving(sp->peer, OFF_MALFORMED, "syncresp");
		break;
	case RECON_ERR_PROTOCOL:
		s->st.failed++;
		session_end(sp);
		peer_misbehaving(sp->peer, OFF_PROTOCOL_ORDER, "syncresp out of order");
		break;
	case RECON_ERR_ROUNDS:
		on_rounds_limit(s, sp);
		break;
	default:
		s->st.failed++;
		session_end(sp);
		log_error("sync: out of memory in a session with peer=%" PRIu64, sp->peer->id);
		break;
	}
	pump_peer(sp);
	arm_pump(s);
}

/* Remember the ids our syncresp lists for the peer (its IDLIST ranges and the ids of its
 * IDLIST_REPLY ranges): the ones it may ask us for next (messages_sent). */
static void offer_listed(struct sync *s, const struct sync_peer *sp, const struct bytebuf *resp)
{
	struct recon_msg m;
	if (recon_decode(&m, false, resp->data, resp->len) != 0)
		return; /* out of memory: only the statistic misses them */
	for (size_t i = 0; i < m.nranges; i++) {
		const struct recon_range *r = &m.ranges[i];
		if (r->mode == RECON_IDLIST || r->mode == RECON_IDLIST_REPLY)
			for (size_t k = 0; k < r->nids; k++)
				offer(s, sp, r->ids + k * RECON_ID_LEN);
	}
	recon_msg_clear(&m);
}

static void on_syncreq(struct sync *s, struct sync_peer *sp, const uint8_t *payload, size_t len)
{
	s->st.bytes_recv += len;
	if (!(sp->peer->perms & NET_PERM_RELAY) && !tb_take(&sp->req_tb, 1, clock_mono_us())) {
		peer_misbehaving(sp->peer, OFF_FLOOD, "syncreq"); /* not answered */
		return;
	}
	if (!s->loaded)
		return; /* not ready to answer: the peer's session times out */
	struct bytebuf out;
	bytebuf_init(&out, RECON_MAX_PAYLOAD);
	enum recon_status st = recon_respond(s->set, payload, len, &out);
	if (st == RECON_ERR_MALFORMED) {
		peer_misbehaving(sp->peer, OFF_MALFORMED, "syncreq");
	} else if (st >= 0 && bytebuf_ok(&out)) {
		peer_send(sp->peer, CMD_SYNCRESP, out.data, out.len);
		s->st.answered++;
		s->st.bytes_sent += out.len;
		offer_listed(s, sp, &out);
	}
	bytebuf_free(&out);
}

bool sync_on_message(struct sync *s, struct sync_peer *sp, const char *cmd, const uint8_t *payload,
		     size_t len)
{
	if (strcmp(cmd, CMD_SYNCREQ) == 0) {
		if (sp)
			on_syncreq(s, sp, payload, len);
		return true;
	}
	if (strcmp(cmd, CMD_SYNCRESP) == 0) {
		if (sp)
			on_syncresp(s, sp, payload, len);
		return true;
	}
	return false;
}

void sync_on_delivered(struct sync *s, struct sync_peer *sp, const uint8_t id[32])
{
	if (sp && idmap_remove(sp->promised, id)) {
		s->st.fetched++;
		sp->listed_served++;
		if (sp->needq.n > 0)
			arm_pump(s);
	}
}

void sync_on_notfound(struct sync *s, struct sync_peer *sp, const uint8_t id[32])
{
	(void)s;
	if (!sp || !idmap_remove(sp->promised, id))
		return;
	char hex[65];
	hex_encode(hex, id, 32);
	sp->listed_unserved++;
	/* An honest peer may have pruned a few listed messages before our getdata came. */
	if (sp->listed_unserved <= SYNC_LIE_GRACE + sp->listed_served / SYNC_LIE_RATIO) {
		log_debug(LOG_MSG,
			  "sync: peer=%" PRIu64 " listed %s and then answered notfound (%" PRIu64
			  " such, %" PRIu64 " listed ids delivered): within what pruning explains",
			  sp->peer->id, hex, sp->listed_unserved, sp->listed_served);
		return;
	}
	peer_misbehaving(sp->peer, OFF_SYNC_LIE, hex);
}

void sync_on_served(struct sync *s, struct sync_peer *sp, const uint8_t id[32])
{
	uint8_t key[40];
	if (!sp)
		return;
	memcpy(key, id, 32);
	memcpy(key + 32, &sp->peer->id, 8);
	if (rolling_bloom_contains(s->offered, key, sizeof(key)))
		s->st.served++;
}

/* ---- housekeeping ---- */

static bool periodic_candidate(const struct sync_peer *sp)
{
	return !sp->sess && !sp->resume && chosen(sp->peer);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	sync_tick(arg);
}

void sync_tick(struct sync *s)
{
	int64_t now = now_secs(s);
	for (struct sync_peer *sp = s->peers; sp; sp = sp->next) {
		if (sp->sess && sp->waiting && now - sp->sent_at >= SYNC_RESPONSE_TIMEOUT) {
			log_debug(LOG_MSG,
				  "sync: peer=%" PRIu64 " did not answer; session abandoned",
				  sp->peer->id);
			s->st.timed_out++;
			sp->resume = false;
			session_end(sp);
		}
		if (sp->sess || !s->loaded)
			continue;
		/* A peer we chose that arrived while the index was loading or the session limit
		 * was reached: its catch-up now. */
		if (!sp->tried && chosen(sp->peer))
			sync_start(s, sp, NULL);
		/* The next session of a large difference, once its back-off is over and the last
		 * one's ids are fetched and announced ("limit": the next tick tries again). */
		else if (sp->resume && now >= sp->resume_at && sp->needq.n == 0 && sp->haveq.n == 0)
			start(s, sp, true, NULL);
	}
	if (!s->loaded || s->cfg.interval <= 0 || now < s->next_periodic)
		return;
	s->next_periodic = now + s->cfg.interval;
	/* Candidates are counted after the loop above, so a peer whose session just started
	 * there is not one (the pick could land on it and the periodic session be lost). A peer
	 * waiting to continue a run is not one either: it syncs anyway. */
	size_t candidates = 0;
	for (struct sync_peer *sp = s->peers; sp; sp = sp->next)
		candidates += periodic_candidate(sp);
	if (candidates == 0)
		return;
	uint64_t pick = random_range(candidates);
	for (struct sync_peer *sp = s->peers; sp; sp = sp->next) {
		if (periodic_candidate(sp) && pick-- == 0) {
			sync_start(s, sp, NULL);
			break;
		}
	}
}

/* ---- peers ---- */

struct sync_peer *sync_peer_new(struct sync *s, struct peer *p)
{
	struct sync_peer *sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->promised = idmap_new();
	if (!sp->promised) {
		free(sp);
		return NULL;
	}
	sp->s = s;
	sp->peer = p;
	tb_init(&sp->req_tb, SYNC_REQ_RATE, SYNC_REQ_BURST, clock_mono_us());
	bytebuf_init(&sp->next_req, RECON_MAX_PAYLOAD);
	sp->next = s->peers;
	s->peers = sp;
	/* A new peer we chose: catch up with it (the tick does it once the index is loaded, if
	 * it is not yet). */
	if (chosen(p))
		sync_start(s, sp, NULL);
	return sp;
}

void sync_peer_free(struct sync *s, struct sync_peer *sp)
{
	if (!sp)
		return;
	for (struct sync_peer **pp = &s->peers; *pp; pp = &(*pp)->next) {
		if (*pp == sp) {
			*pp = sp->next;
			break;
		}
	}
	sp->resume = false;
	session_end(sp);
	rolling_bloom_free(sp->seen);
	idq_free(&sp->needq);
	idq_free(&sp->haveq);
	bytebuf_free(&sp->next_req);
	idmap_free(sp->promised);
	free(sp);
}

/* ---- public ---- */

struct sync *sync_new(const struct sync_config *cfg, char *err, size_t errlen)
{
	struct sync *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->set = reconset_new();
	s->load_ev = event_new(cfg->base, -1, 0, load_cb, s);
	s->pump_ev = evtimer_new(cfg->base, pump_cb, s);
	s->tick_ev = event_new(cfg->base, -1, EV_PERSIST, tick_cb, s);
	s->offered = rolling_bloom_new(SYNC_OFFERED_FILTER, SYNC_FILTER_FP);
	if (!s->set || !s->load_ev || !s->pump_ev || !s->tick_ev || !s->offered) {
		sync_free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->next_periodic = now_secs(s) + cfg->interval;
	const struct msgstore_observer ob = {on_added, on_removed, s};
	msgstore_set_observer(cfg->store, &ob);
	struct timeval tick = {SYNC_TICK_SECS, 0};
	event_add(s->tick_ev, &tick);
	event_active(s->load_ev, EV_TIMEOUT, 0);
	return s;
}

void sync_free(struct sync *s)
{
	if (!s)
		return;
	while (s->peers)
		sync_peer_free(s, s->peers);
	if (s->cfg.store)
		msgstore_set_observer(s->cfg.store, NULL);
	if (s->load_ev)
		event_free(s->load_ev);
	if (s->pump_ev)
		event_free(s->pump_ev);
	if (s->tick_ev)
		event_free(s->tick_ev);
	reconset_free(s->set);
	rolling_bloom_free(s->offered);
	free(s);
}

void sync_stats(const struct sync *s, struct sync_stats *out)
{
	*out = s->st;
	out->loaded = s->loaded;
	out->items = reconset_count(s->set);
	out->memory = reconset_memory(s->set);
}

size_t sync_sessions(const struct sync *s, struct sync_session_info *out, size_t max)
{
	size_t n = 0;
	for (const struct sync_peer *sp = s->peers; sp; sp = sp->next) {
		if (!sp->sess && sp->needq.n == 0 && sp->haveq.n == 0)
			continue;
		if (n < max) {
			struct sync_session_info *i = &out[n];
			memset(i, 0, sizeof(*i));
			i->peer_id = sp->peer->id;
			i->started = sp->started;
			if (sp->sess) {
				const struct recon_stats *rs = recon_session_stats(sp->sess);
				i->rounds = rs->rounds;
				i->bytes_sent = rs->bytes_sent;
				i->bytes_recv = rs->bytes_recv;
				i->need = rs->need;
				i->have = rs->have;
			}
			i->need_queued = sp->needq.n;
			i->have_queued = sp->haveq.n;
			i->waiting = sp->waiting;
		}
		n++;
	}
	return n;
}
