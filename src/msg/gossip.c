/* The gossip engine (include/msg/gossip.h): fetch, validate, store and announce messages.
 *
 * State:
 *   - tracked: id -> struct fetch, every id announced to us that we do not have yet, with its
 *     announcers (in order of announcement) and the one request in flight, if any;
 *   - verifying: ids whose signature is on the verify pool (so they are not fetched again);
 *   - rejected: a rolling filter of ids that failed validation recently;
 *   - per peer (peer->app, struct gpeer): the known-ids filter, the queue of ids to announce and
 *     its Poisson timer, the queue of requested ids to serve, counters.
 * One housekeeping timer per second retries timed-out requests, asks delayed inbound
 * announcers, and prunes the store every prune_interval seconds. */
#include "msg/gossip.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "idmap.h"
#include "msg/store.h"
#include "msg/sync.h"
#include "msg/verify.h"
#include "net/connman.h"
#include "net/peer.h"
#include "net/scoring.h"
#include "util/bloom.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"
#include "util/tokenbucket.h"
#include "wire/frame.h"
#include "wire/inv.h"

/* Per-peer rate limits (doc/scoring.md "Rate limits"). An honest peer relays what the network
 * produces, which is bounded by what nodes verify (about 10,000 signatures per second per core):
 * 1,000 announced ids and 1,000 requests per second with bursts of 50,000 (a full inv or getdata
 * of a peer catching up), and 4 MiB/s of message bodies (burst 16 MiB). Beyond them items are
 * dropped; every FLOOD_PENALTY_ITEMS dropped cost one OFF_FLOOD. */
#define PEER_INV_RATE       1000.0
#define PEER_INV_BURST      50000.0
#define PEER_GETDATA_RATE   1000.0
#define PEER_GETDATA_BURST  50000.0
#define PEER_BYTES_RATE     (4.0 * 1024 * 1024)
#define PEER_BYTES_BURST    (16.0 * 1024 * 1024)
#define FLOOD_PENALTY_ITEMS 1000

/* False-positive rate of the per-peer known filter: a false positive only means one peer does
 * not get one announcement from us (it will hear it from others). */
#define KNOWN_FILTER_FP  0.000001
#define REJECT_FILTER_FP 0.000001

/* A bounded FIFO of ids. */
struct idring {
	uint8_t (*ids)[32];
	size_t head, n, cap;
};

struct gpeer {
	struct peer *peer;
	struct gossip *g;
	bool outbound;
	struct rolling_bloom *known;
	uint8_t (*invq)[32]; /* ids to announce */
	size_t ninvq, capinvq;
	struct event *inv_timer;
	bool inv_armed;
	struct idmap *requested; /* ids we asked it for and it has not answered (late answers
				  * are still welcome); at most GOSSIP_MAX_REQUESTED_PER_PEER */
	uint8_t (*serveq)[32];   /* requested ids to serve, from serve_head */
	size_t serve_head, nserveq, capserveq;
	size_t tracked;                 /* fetch entries listing this peer as announcer */
	struct token_bucket inv_tb;     /* announced ids it may send us */
	struct token_bucket getdata_tb; /* ids it may request */
	struct token_bucket bytes_tb;   /* message bytes it may send us */
	uint64_t flood_dropped;         /* items dropped by the buckets since the last penalty */
	struct idring pendq;  /* ids it announced that wait for one of its request slots */
	uint8_t (*batch)[32]; /* getdata entries to send it at the end of this turn */
	size_t nbatch;
	struct gossip_peer_stats st;
	struct sync_peer *sync; /* its catch-up sync state (msg/sync.h) */
};

struct fetch {
	uint8_t id[32];
	uint64_t announcers[GOSSIP_MAX_ANNOUNCERS];
	uint8_t nann;
	uint64_t inflight;    /* peer id asked and not answered, 0 when none */
	int64_t requested_at; /* node clock */
	int64_t first_seen_us;
};

struct vjob {
	struct gossip *g;
	uint64_t peer_id;
	uint8_t id[32];
	/* Stored meanwhile by another path (publish, sendrawmessage). Until then the id is known
	 * not to be stored: on_msg checked, and every other store of an id in g->verifying sets
	 * this, so that flush_accepted looks the batch up instead of trusting that. */
	bool stored_elsewhere;
	struct sigmsg m;
};

/* Verified messages stored together in one database batch (a burst from the verify pool). */
#define ACCEPT_BATCH_MAX 256

struct listener {
	gossip_listener_fn fn;
	void *ctx;
};

struct gossip {
	struct gossip_config cfg;
	struct idmap *tracked;
	struct idmap *verifying;
	struct rolling_bloom *rejected;
	struct verify_pool *pool;
	struct event *tick;
	struct event *flush_ev; /* sends the getdata batches once the loop's current work is done */
	struct sync *sync;      /* catch-up sync (msg/sync.h) */
	int64_t next_prune;
	bool prune_more;
	struct listener listeners[GOSSIP_MAX_LISTENERS];
	struct gossip_stats stats;
	size_t inflight_total; /* requests in flight to all peers */
	bool batched;          /* some peer has getdata entries to flush */
	struct idring waitq;   /* ids waiting for room in the verification backlog */
	struct vjob *accepted[ACCEPT_BATCH_MAX]; /* verified, waiting for one store batch */
	size_t naccepted;
};

/* Ids waiting for a free request slot of one peer (its announcement cap), and node-wide for room
 * in the verification backlog. */
#define WAITQ_MAX 65536
/* getdata entries sent in one message (the rest go in the next). */
#define GETDATA_BATCH 1000

/* Value stored in a peer's requested map (the map needs a non-NULL value). */
static int requested_mark;

/* ---- helpers ---- */

static int64_t now_secs(const struct gossip *g)
{
	return clock_now(g->cfg.clock);
}

static struct gpeer *gpeer_of(struct peer *p)
{
	return p && p->state == PEER_ESTABLISHED ? p->app : NULL;
}

static struct gpeer *gpeer_by_id(const struct gossip *g, uint64_t id)
{
	for (struct peer *p = connman_peers(g->cfg.connman); p; p = p->next)
		if (p->id == id)
			return gpeer_of(p);
	return NULL;
}

/* Request slots a peer earned beyond GOSSIP_INFLIGHT_START: one per valid message it gave us
 * first on this connection, plus the good reputation its address brought from earlier ones. */
static uint64_t earned_slots(const struct gpeer *gp)
{
	const struct peer *p = gp->peer;
	double remembered = p->remembered_good > GOSSIP_MAX_INFLIGHT_PER_PEER
				    ? GOSSIP_MAX_INFLIGHT_PER_PEER
				    : (p->remembered_good > 0 ? p->remembered_good : 0);
	return p->first_deliveries + (uint64_t)remembered;
}

/* Given noban or relay permission by the operator. */
static bool permitted(const struct gpeer *gp)
{
	return (gp->peer->perms & (NET_PERM_NOBAN | NET_PERM_RELAY)) != 0;
}

/* Outbound (we chose it) or permitted. */
static bool trusted(const struct gpeer *gp)
{
	return gp->outbound || permitted(gp);
}

/* A peer that proved itself: we chose it (outbound), the operator trusts it (noban or relay
 * permission), or it earned GOSSIP_INFLIGHT_START slots. Its messages are verified before those
 * of unproven peers, so a flood of junk signatures from new connections cannot delay them
 * (doc/scoring.md, "Rate limits"). */
static bool proven(const struct gpeer *gp)
{
	return trusted(gp) || earned_slots(gp) >= GOSSIP_INFLIGHT_START;
}

/* An inbound peer whose address misbehaved before (remembered points, or discouraged): it
 * starts with one request in flight and GOSSIP_PROBATION_ANNOUNCED tracked announcements, so
 * an offender that reconnects again and again costs one verification and a few lookups per
 * connection before its first offence ends it. */
static bool on_probation(const struct gpeer *gp)
{
	return !trusted(gp) && (gp->peer->remembered_bad > 0 || gp->peer->discouraged);
}

/* Requests a peer may have in flight: GOSSIP_MAX_INFLIGHT_PERMITTED for a peer the operator
 * vouches for (noban or relay permission), the full GOSSIP_MAX_INFLIGHT_PER_PEER for outbound
 * peers; anyone else starts with GOSSIP_INFLIGHT_START (1 on probation) and earns a slot per
 * valid first delivery (slow start), so a new peer full of invalid signatures costs a few
 * verifications before its first one fails and it is cut off.
 *
 * The window is a bandwidth-delay product: one peer delivers at most window / round trip
 * messages a second (100 over a 100 ms link: 1,000/s; on a loaded machine the round trip
 * includes the time the peer waits for a core). A permitted peer is a bulk source or a node of
 * the operator's own, so it gets ten times the window. Memory does not grow with it: bodies
 * are fetched only while the verification backlog has room (have_capacity). */
static size_t inflight_cap(const struct gpeer *gp)
{
	if (permitted(gp))
		return GOSSIP_MAX_INFLIGHT_PERMITTED;
	if (gp->outbound)
		return GOSSIP_MAX_INFLIGHT_PER_PEER;
	uint64_t cap = (on_probation(gp) ? 1 : GOSSIP_INFLIGHT_START) + earned_slots(gp);
	return cap > GOSSIP_MAX_INFLIGHT_PER_PEER ? GOSSIP_MAX_INFLIGHT_PER_PEER : (size_t)cap;
}

/* Announced ids tracked per peer (fetched, or waiting for one of its request slots). */
static size_t tracked_cap(const struct gpeer *gp)
{
	return on_probation(gp) && earned_slots(gp) < GOSSIP_INFLIGHT_START
		       ? GOSSIP_PROBATION_ANNOUNCED
		       : GOSSIP_MAX_ANNOUNCED_PER_PEER;
}

static bool have(struct gossip *g, const uint8_t id[32])
{
	return msgstore_has(g->cfg.store, id);
}

static void send_inv_list(struct peer *p, const char *cmd, const uint8_t (*ids)[32], size_t n)
{
	while (n > 0) {
		size_t chunk = n > WIRE_MAX_INV ? WIRE_MAX_INV : n;
		struct inv_entry *e = malloc(chunk * sizeof(*e));
		if (!e)
			return;
		for (size_t i = 0; i < chunk; i++) {
			e[i].type = INV_SIGNED_MSG;
			memcpy(e[i].hash, ids[i], 32);
		}
		struct bytebuf b;
		bytebuf_init(&b, WIRE_MAX_PAYLOAD);
		wire_encode_inv(&b, e, chunk);
		if (bytebuf_ok(&b))
			peer_send(p, cmd, b.data, b.len);
		bytebuf_free(&b);
		free(e);
		ids += chunk;
		n -= chunk;
	}
}

/* Count items a rate limit dropped; every FLOOD_PENALTY_ITEMS cost one flood offence. */
static void flood_drop(struct gpeer *gp, uint64_t n, const char *what)
{
	gp->flood_dropped += n;
	while (gp->flood_dropped >= FLOOD_PENALTY_ITEMS) {
		gp->flood_dropped -= FLOOD_PENALTY_ITEMS;
		peer_misbehaving(gp->peer, OFF_FLOOD, what);
	}
}

/* ---- announcing ---- */

static void flush_inv(struct gpeer *gp)
{
	gp->inv_armed = false;
	if (gp->ninvq == 0)
		return;
	send_inv_list(gp->peer, CMD_INV, (const uint8_t(*)[32])gp->invq, gp->ninvq);
	gp->ninvq = 0;
}

static void inv_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush_inv(arg);
}

/* Exponentially distributed delay with the given mean (Poisson announcement times). */
static struct timeval poisson_delay(int64_t mean_ms)
{
	struct timeval tv = {0, 0};
	if (mean_ms <= 0)
		return tv;
	double ms = random_exponential((double)mean_ms);
	if (ms > 60.0 * mean_ms)
		ms = 60.0 * mean_ms;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((int64_t)(ms * 1000) % 1000000);
	return tv;
}

static void queue_announce(struct gpeer *gp, const uint8_t id[32])
{
	if (!gp->peer->relay || rolling_bloom_contains(gp->known, id, 32))
		return;
	rolling_bloom_insert(gp->known, id, 32);
	if (gp->ninvq == gp->capinvq) {
		if (gp->capinvq >= GOSSIP_MAX_QUEUED_INV)
			return; /* the peer will get it through reconciliation or another peer */
		size_t ncap = gp->capinvq ? gp->capinvq * 2 : 16;
		if (ncap > GOSSIP_MAX_QUEUED_INV)
			ncap = GOSSIP_MAX_QUEUED_INV;
		void *nq = realloc(gp->invq, ncap * 32);
		if (!nq)
			return;
		gp->invq = nq;
		gp->capinvq = ncap;
	}
	memcpy(gp->invq[gp->ninvq++], id, 32);
	if (!gp->inv_armed) {
		int64_t mean = gp->g->cfg.relay_delay_ms;
		if (gp->outbound)
			mean /= 2; /* outbound peers are less likely to be spies (as Bitcoin) */
		struct timeval tv = poisson_delay(mean);
		event_add(gp->inv_timer, &tv);
		gp->inv_armed = true;
	}
}

static void relay(struct gossip *g, const uint8_t id[32])
{
	for (struct peer *p = connman_peers(g->cfg.connman); p; p = p->next) {
		struct gpeer *gp = gpeer_of(p);
		if (gp)
			queue_announce(gp, id);
	}
}

static void notify(struct gossip *g, const struct sigmsg *m, const uint8_t id[32])
{
	for (int i = 0; i < GOSSIP_MAX_LISTENERS; i++)
		if (g->listeners[i].fn)
			g->listeners[i].fn(g->listeners[i].ctx, m, id);
}

static void update_start_height(struct gossip *g)
{
	struct msgstore_stats st;
	if (msgstore_stats(g->cfg.store, &st) == 0)
		connman_set_start_height(g->cfg.connman,
					 st.count > INT32_MAX ? INT32_MAX : (int32_t)st.count);
}

/* A message was just stored: count it, announce it, tell the listeners. */
static void stored(struct gossip *g, const struct sigmsg *m, const uint8_t id[32])
{
	g->stats.accepted++;
	char hex[65];
	hex_encode(hex, id, 32);
	log_debug(LOG_MSG, "accepted message %s topic=%s", hex, m->topic);
	relay(g, id);
	notify(g, m, id);
}

/* Store a valid message and pass it on. Returns 1 stored, 0 already there, -1 db error. */
static int accept_msg(struct gossip *g, const struct sigmsg *m, const uint8_t id[32], bool sync)
{
	int r = msgstore_put(g->cfg.store, m, id, now_secs(g), sync);
	if (r <= 0)
		return r;
	stored(g, m, id);
	update_start_height(g);
	return 1;
}

static void reject(struct gossip *g, const uint8_t id[32], enum msg_verdict v, struct gpeer *gp)
{
	rolling_bloom_insert(g->rejected, id, 32);
	g->stats.rejected++;
	if (gp && msg_verdict_is_offence(v)) {
		gp->st.invalid++;
		peer_misbehaving(gp->peer, OFF_INVALID_SIG, msg_verdict_name(v));
	}
	char hex[65];
	hex_encode(hex, id, 32);
	log_debug(LOG_MSG, "rejected message %s: %s (peer=%" PRIu64 ")", hex, msg_verdict_name(v),
		  gp ? gp->peer->id : 0);
}

/* ---- fetching ---- */

static bool ring_push(struct idring *r, size_t max, const uint8_t id[32])
{
	if (r->n == r->cap) {
		if (r->cap >= max)
			return false;
		size_t ncap = r->cap ? r->cap * 2 : 64;
		if (ncap > max)
			ncap = max;
		uint8_t(*nids)[32] = malloc(ncap * 32);
		if (!nids)
			return false;
		for (size_t i = 0; i < r->n; i++)
			memcpy(nids[i], r->ids[(r->head + i) % r->cap], 32);
		free(r->ids);
		r->ids = nids;
		r->cap = ncap;
		r->head = 0;
	}
	memcpy(r->ids[(r->head + r->n) % r->cap], id, 32);
	r->n++;
	return true;
}

static bool ring_pop(struct idring *r, uint8_t id[32])
{
	if (r->n == 0)
		return false;
	memcpy(id, r->ids[r->head], 32);
	r->head = (r->head + 1) % r->cap;
	r->n--;
	return true;
}

static void fetch_forget(struct gossip *g, struct fetch *f);

static void flush_batch(struct gpeer *gp)
{
	if (gp->nbatch == 0)
		return;
	send_inv_list(gp->peer, CMD_GETDATA, (const uint8_t(*)[32])gp->batch, gp->nbatch);
	gp->nbatch = 0;
}

/* Send every peer's pending getdata batch (end of a loop callback). */
static void flush_all(struct gossip *g)
{
	if (!g->batched)
		return;
	g->batched = false;
	for (struct peer *p = connman_peers(g->cfg.connman); p; p = p->next) {
		struct gpeer *gp = gpeer_of(p);
		if (gp)
			flush_batch(gp);
	}
}

/* Runs after the callbacks of the current loop iteration: every message a read brought in has
 * been handled, so each peer gets one getdata with all of them instead of one per message. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	flush_all(arg);
}

static void schedule_flush(struct gossip *g)
{
	if (g->batched && !event_pending(g->flush_ev, EV_READ, NULL))
		event_active(g->flush_ev, EV_READ, 0);
}

/* Room to request one more message: requests in flight plus signatures waiting for the verify
 * pool stay below its bound, so a message we fetch is never dropped for want of room. */
static bool have_capacity(const struct gossip *g)
{
	return g->inflight_total + verify_pool_pending(g->pool) < VERIFY_MAX_PENDING;
}

static void inflight_done(struct gossip *g, struct gpeer *gp)
{
	if (gp && gp->st.inflight > 0)
		gp->st.inflight--;
	if (g->inflight_total > 0)
		g->inflight_total--;
}

static void fetch_drop_announcer(struct gossip *g, struct fetch *f, uint64_t peer_id)
{
	for (uint8_t i = 0; i < f->nann; i++) {
		if (f->announcers[i] != peer_id)
			continue;
		memmove(&f->announcers[i], &f->announcers[i + 1],
			(size_t)(f->nann - i - 1) * sizeof(f->announcers[0]));
		f->nann--;
		struct gpeer *gp = gpeer_by_id(g, peer_id);
		if (gp && gp->tracked > 0)
			gp->tracked--;
		return;
	}
}

static void fetch_release(struct gossip *g, struct fetch *f)
{
	if (f->inflight) {
		inflight_done(g, gpeer_by_id(g, f->inflight));
		f->inflight = 0;
	}
	while (f->nann > 0)
		fetch_drop_announcer(g, f, f->announcers[0]);
}

/* Ask the best announcer for f's id, if no request is in flight. Returns true if the fetch
 * should be forgotten (no announcer left). Requests are queued into the chosen peer's getdata
 * batch (batch_add). */
static bool fetch_schedule(struct gossip *g, struct fetch *f, bool *sent_any)
{
	if (f->inflight)
		return false;
	if (f->nann == 0)
		return true;
	if (!have_capacity(g)) {
		ring_push(&g->waitq, WAITQ_MAX, f->id); /* when full, the tick retries it */
		return false;
	}
	/* Outbound announcers first, then the best reputation score. */
	struct gpeer *best = NULL, *busy = NULL;
	double best_score = 0;
	int64_t now = now_secs(g), now_us = clock_mono_us();
	for (uint8_t i = 0; i < f->nann; i++) {
		struct gpeer *gp = gpeer_by_id(g, f->announcers[i]);
		if (!gp)
			continue;
		if (gp->st.inflight >= inflight_cap(gp) ||
		    idmap_count(gp->requested) >= GOSSIP_MAX_REQUESTED_PER_PEER) {
			if (!busy)
				busy = gp;
			continue;
		}
		double score = peer_score(gp->peer, now, now_us, NULL);
		if (!best || (gp->outbound && !best->outbound) ||
		    (gp->outbound == best->outbound && score > best_score)) {
			best = gp;
			best_score = score;
		}
	}
	if (!best) {
		/* Every announcer is at its cap: wait for the first one's next free slot. */
		if (busy)
			ring_push(&busy->pendq, GOSSIP_MAX_ANNOUNCED_PER_PEER, f->id);
		return false;
	}
	if (!best->outbound && clock_mono_us() - f->first_seen_us < g->cfg.inbound_delay_ms * 1000)
		return false; /* give outbound announcers a chance first (the tick retries) */
	f->inflight = best->peer->id;
	f->requested_at = now_secs(g);
	if (idmap_put(best->requested, f->id, &requested_mark) != 0) {
		f->inflight = 0;
		return false;
	}
	best->st.inflight++;
	best->st.requested++;
	g->inflight_total++;
	if (!best->batch) {
		best->batch = malloc(GETDATA_BATCH * 32); /* lazily: idle peers stay small */
		if (!best->batch) {
			idmap_remove(best->requested, f->id);
			inflight_done(g, best);
			best->st.requested--;
			f->inflight = 0;
			return false;
		}
	}
	if (best->nbatch == GETDATA_BATCH)
		flush_batch(best);
	memcpy(best->batch[best->nbatch++], f->id, 32);
	g->batched = true;
	*sent_any = true;
	return false;
}

/* Schedule fetches that were waiting: this peer's own queue (a request slot of it freed), then
 * the node-wide queue (room in the verification backlog). */
static void pump(struct gossip *g, struct gpeer *gp)
{
	uint8_t id[32];
	bool sent = false;
	while (gp && gp->st.inflight < inflight_cap(gp) && have_capacity(g) &&
	       ring_pop(&gp->pendq, id)) {
		struct fetch *f = idmap_get(g->tracked, id);
		if (f && fetch_schedule(g, f, &sent))
			fetch_forget(g, f);
	}
	size_t rounds = g->waitq.n;
	while (rounds-- > 0 && have_capacity(g) && ring_pop(&g->waitq, id)) {
		struct fetch *f = idmap_get(g->tracked, id);
		if (f && fetch_schedule(g, f, &sent))
			fetch_forget(g, f);
	}
}

static void fetch_forget(struct gossip *g, struct fetch *f)
{
	fetch_release(g, f);
	idmap_remove(g->tracked, f->id);
	free(f);
}

/* An id gp announced (in an inv, or listed in a catch-up sync session): remember it as known
 * to gp, track it with gp as an announcer and schedule its fetch. Returns false when gp's
 * tracking cap is reached (nothing done).
 *
 * Invariant: a tracked id is neither stored nor being verified. It is tracked only here, after
 * both checks; its body's arrival forgets it before verification (on_msg); a local publish
 * that stores it forgets it (gossip_submit_local). on_msg relies on this to skip the store
 * lookup, and flush_accepted on that lookup to write without one (MSGSTORE_KNOWN_NEW). */
static bool track_announced(struct gossip *g, struct gpeer *gp, const uint8_t *id, bool *sent)
{
	rolling_bloom_insert(gp->known, id, 32);
	struct fetch *f = idmap_get(g->tracked, id);
	/* The caps first: an id we would not track costs no database lookup, so a peer
	 * announcing 50,000 ids at once costs 5,000 lookups at most. */
	if (!f && (gp->tracked >= tracked_cap(gp) || idmap_count(g->tracked) >= GOSSIP_MAX_TRACKED))
		return false; /* counted in announced; fetched once the peer answers */
	if (!f && (rolling_bloom_contains(g->rejected, id, 32) || idmap_get(g->verifying, id) ||
		   have(g, id)))
		return true;
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return true;
		memcpy(f->id, id, 32);
		f->first_seen_us = clock_mono_us();
		if (idmap_put(g->tracked, id, f) != 0) {
			free(f);
			return true;
		}
	}
	bool listed = false;
	for (uint8_t k = 0; k < f->nann; k++)
		listed |= f->announcers[k] == gp->peer->id;
	if (!listed && f->nann < GOSSIP_MAX_ANNOUNCERS && gp->tracked < tracked_cap(gp)) {
		f->announcers[f->nann++] = gp->peer->id;
		gp->tracked++;
	}
	if (fetch_schedule(g, f, sent))
		fetch_forget(g, f);
	return true;
}

static void on_inv(struct gossip *g, struct gpeer *gp, const struct inv_entry *e, size_t n)
{
	bool sent = false;
	int64_t now_us = clock_mono_us();
	for (size_t i = 0; i < n; i++) {
		if (e[i].type != INV_SIGNED_MSG)
			continue;
		gp->st.announced++;
		if (!(gp->peer->perms & NET_PERM_RELAY) && !tb_take(&gp->inv_tb, 1, now_us)) {
			size_t rest = 0;
			for (size_t k = i + 1; k < n; k++)
				rest += e[k].type == INV_SIGNED_MSG;
			gp->st.announced += rest; /* every entry counts as announced */
			flood_drop(gp, rest + 1, "announcements");
			break;
		}
		track_announced(g, gp, e[i].hash, &sent);
	}
	(void)sent;
}

/* ---- catch-up sync's side (struct sync_config) ---- */

static size_t sync_fetch(void *ctx, struct peer *p, const uint8_t (*ids)[32], size_t n)
{
	struct gossip *g = ctx;
	struct gpeer *gp = gpeer_of(p);
	bool sent = false;
	size_t i = 0;
	if (!gp)
		return n; /* gone: nothing to fetch from it */
	for (; i < n; i++) {
		gp->st.announced++;
		if (!track_announced(g, gp, ids[i], &sent)) {
			gp->st.announced--;
			break;
		}
	}
	schedule_flush(g);
	return i;
}

static void sync_announce(void *ctx, struct peer *p, const uint8_t (*ids)[32], size_t n)
{
	(void)ctx;
	struct gpeer *gp = gpeer_of(p);
	for (size_t i = 0; gp && i < n; i++)
		queue_announce(gp, ids[i]);
}

static void release_vjob(void *p)
{
	struct vjob *j = p;
	sigmsg_clear(&j->m);
	free(j);
}

/* Store the verified messages waiting in g->accepted in one batch, then relay each. */
static void flush_accepted(void *ctx)
{
	struct gossip *g = ctx;
	size_t n = g->naccepted;
	if (n == 0)
		return;
	g->naccepted = 0;
	const struct sigmsg *msgs[ACCEPT_BATCH_MAX];
	uint8_t ids[ACCEPT_BATCH_MAX][32];
	int result[ACCEPT_BATCH_MAX];
	/* Each id is known not to be stored (on_msg), unless a local publish stored it since:
	 * then the store looks every id of this batch up and finds that one. */
	unsigned flags = MSGSTORE_KNOWN_NEW;
	for (size_t i = 0; i < n; i++) {
		msgs[i] = &g->accepted[i]->m;
		memcpy(ids[i], g->accepted[i]->id, 32);
		if (g->accepted[i]->stored_elsewhere)
			flags = 0;
	}
	if (msgstore_put_many(g->cfg.store, msgs, (const uint8_t(*)[32])ids, n, now_secs(g), flags,
			      result) < 0)
		log_error("cannot store %zu messages: database error", n);
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		struct vjob *j = g->accepted[i];
		idmap_remove(g->verifying, j->id);
		if (result[i] == 1) {
			any = true;
			stored(g, &j->m, j->id);
			struct gpeer *gp = gpeer_by_id(g, j->peer_id);
			if (gp) {
				gp->peer->last_useful = now_secs(g); /* protects it from eviction */
				gp->peer->first_deliveries++;
			}
		}
		release_vjob(j);
	}
	if (any)
		update_start_height(g);
	pump(g, NULL); /* room in the verification backlog */
	flush_all(g);
}

struct cancel_ctx {
	struct gossip *g;
	uint64_t peer_id;
};

static bool job_of_peer(void *ctx, void *job)
{
	const struct cancel_ctx *c = ctx;
	struct vjob *j = job;
	if (j->peer_id != c->peer_id)
		return false;
	idmap_remove(c->g->verifying, j->id);
	return true;
}

static void verified(void *ctx, void *job, bool valid)
{
	struct gossip *g = ctx;
	struct vjob *j = job;
	if (!valid) {
		/* Its other messages still waiting are not worth a verification each: withdrawn
		 * (their ids may be fetched again from an honest announcer). */
		struct cancel_ctx c = {g, j->peer_id};
		size_t n = verify_pool_cancel(g->pool, job_of_peer, &c, release_vjob);
		if (n > 0)
			log_debug(LOG_MSG,
				  "peer=%" PRIu64
				  ": %zu queued messages withdrawn after a bad signature",
				  j->peer_id, n);
		idmap_remove(g->verifying, j->id);
		reject(g, j->id, MSG_BAD_SIG, gpeer_by_id(g, j->peer_id));
		release_vjob(j);
		return;
	}
	/* Stays in verifying until stored, so it is not fetched again meanwhile. */
	g->accepted[g->naccepted++] = j;
	if (g->naccepted == ACCEPT_BATCH_MAX)
		flush_accepted(g);
}

static void on_msg(struct gossip *g, struct gpeer *gp, const uint8_t *payload, size_t len)
{
	struct sigmsg m;
	uint8_t id[32];
	if (!(gp->peer->perms & NET_PERM_RELAY) &&
	    !tb_take(&gp->bytes_tb, (double)len, clock_mono_us())) {
		flood_drop(gp, FLOOD_PENALTY_ITEMS / 10, "message bytes");
		return;
	}
	if (sigmsg_decode_id(&m, id, payload, len) != 0) {
		gp->st.invalid++;
		gp->peer->malformed++;
		peer_misbehaving(gp->peer, OFF_MALFORMED, "msg");
		return;
	}
	if (!idmap_remove(gp->requested, id)) {
		gp->st.unrequested++;
		peer_misbehaving(gp->peer, OFF_UNREQUESTED, NULL);
		sigmsg_clear(&m);
		return;
	}
	sync_on_delivered(g->sync, gp->sync, id);
	gp->st.received++;
	gp->peer->answers++;
	rolling_bloom_insert(gp->known, id, 32);
	struct fetch *f = idmap_get(g->tracked, id);
	/* A tracked id is not stored (see track_announced), so only an untracked one (a late
	 * answer after another copy arrived) needs the database lookup. */
	bool tracked = f != NULL;
	if (f)
		fetch_forget(g, f); /* the first answer, possibly a late one from another peer */
	if ((!tracked && have(g, id)) || idmap_get(g->verifying, id)) {
		gp->st.duplicates++;
		sigmsg_clear(&m);
		return;
	}
	struct msg_policy pol = g->cfg.policy;
	pol.now = now_secs(g);
	enum msg_verdict v = msg_check_policy(&m, id, &pol);
	if (v != MSG_VALID) {
		reject(g, id, v, gp);
		sigmsg_clear(&m);
		return;
	}
	struct vjob *j = malloc(sizeof(*j));
	if (!j) {
		sigmsg_clear(&m);
		return;
	}
	j->g = g;
	j->peer_id = gp->peer->id;
	j->stored_elsewhere = false;
	memcpy(j->id, id, 32);
	j->m = m;
	if (idmap_put(g->verifying, id, j) != 0 ||
	    verify_pool_submit(g->pool, m.sig, id, m.author, j, proven(gp)) != 0) {
		/* Queue full: drop it; a later announcement fetches it again. */
		idmap_remove(g->verifying, id);
		release_vjob(j);
	}
}

static void on_notfound(struct gossip *g, struct gpeer *gp, const struct inv_entry *e, size_t n)
{
	bool sent = false;
	for (size_t i = 0; i < n; i++) {
		if (e[i].type != INV_SIGNED_MSG)
			continue;
		if (!idmap_remove(gp->requested, e[i].hash))
			continue; /* not asked of this peer: ignored */
		gp->st.notfound++;
		sync_on_notfound(g->sync, gp->sync, e[i].hash);
		struct fetch *f = idmap_get(g->tracked, e[i].hash);
		if (!f || f->inflight != gp->peer->id)
			continue;
		inflight_done(g, gp);
		f->inflight = 0;
		fetch_drop_announcer(g, f, gp->peer->id);
		if (fetch_schedule(g, f, &sent))
			fetch_forget(g, f);
	}
}

/* ---- serving ---- */

static void serve(struct gossip *g, struct gpeer *gp)
{
	uint8_t(*missing)[32] = NULL;
	size_t nmissing = 0;
	while (gp->nserveq > 0 && !peer_send_full(gp->peer)) {
		const uint8_t *id = gp->serveq[gp->serve_head];
		uint8_t *raw;
		size_t rawlen;
		if (msgstore_get(g->cfg.store, id, &raw, &rawlen, NULL) == 1) {
			peer_send(gp->peer, CMD_MSG, raw, rawlen);
			gp->st.sent++;
			sync_on_served(g->sync, gp->sync, id);
			rolling_bloom_insert(gp->known, id, 32);
			free(raw);
		} else {
			void *nm = realloc(missing, (nmissing + 1) * 32);
			if (nm) {
				missing = nm;
				memcpy(missing[nmissing++], id, 32);
			}
		}
		gp->serve_head++;
		gp->nserveq--;
	}
	if (gp->nserveq == 0)
		gp->serve_head = 0;
	if (nmissing)
		send_inv_list(gp->peer, CMD_NOTFOUND, (const uint8_t(*)[32])missing, nmissing);
	free(missing);
}

static void on_getdata(struct gossip *g, struct gpeer *gp, const struct inv_entry *e, size_t n)
{
	int64_t now_us = clock_mono_us();
	for (size_t i = 0; i < n; i++) {
		if (e[i].type != INV_SIGNED_MSG)
			continue;
		if (gp->nserveq >= GOSSIP_MAX_GETDATA_QUEUE ||
		    (!(gp->peer->perms & NET_PERM_RELAY) && !tb_take(&gp->getdata_tb, 1, now_us))) {
			flood_drop(gp, n - i, "requests");
			break;
		}
		if (gp->serve_head + gp->nserveq == gp->capserveq) {
			if (gp->serve_head > 0) { /* compact first */
				memmove(gp->serveq, gp->serveq + gp->serve_head, gp->nserveq * 32);
				gp->serve_head = 0;
			} else {
				size_t ncap = gp->capserveq ? gp->capserveq * 2 : 16;
				void *nq = realloc(gp->serveq, ncap * 32);
				if (!nq)
					break;
				gp->serveq = nq;
				gp->capserveq = ncap;
			}
		}
		memcpy(gp->serveq[gp->serve_head + gp->nserveq++], e[i].hash, 32);
	}
	serve(g, gp);
}

/* ---- net handler hooks ---- */

static void h_peer_ready(void *ctx, struct peer *p)
{
	struct gossip *g = ctx;
	if (p->type == CONN_FEELER || p->type == CONN_ADDR_FETCH)
		return; /* short-lived: no message relay */
	struct gpeer *gp = calloc(1, sizeof(*gp));
	if (!gp)
		return;
	gp->peer = p;
	gp->g = g;
	gp->outbound = p->type != CONN_INBOUND;
	int64_t now_us = clock_mono_us();
	tb_init(&gp->inv_tb, PEER_INV_RATE, PEER_INV_BURST, now_us);
	tb_init(&gp->getdata_tb, PEER_GETDATA_RATE, PEER_GETDATA_BURST, now_us);
	tb_init(&gp->bytes_tb, PEER_BYTES_RATE, PEER_BYTES_BURST, now_us);
	gp->known = rolling_bloom_new(GOSSIP_KNOWN_FILTER_SIZE, KNOWN_FILTER_FP);
	gp->inv_timer = event_new(g->cfg.base, -1, 0, inv_timer_cb, gp);
	gp->requested = idmap_new();
	if (!gp->known || !gp->inv_timer || !gp->requested) {
		rolling_bloom_free(gp->known);
		if (gp->inv_timer)
			event_free(gp->inv_timer);
		idmap_free(gp->requested);
		free(gp);
		return;
	}
	p->app = gp;
	gp->sync = sync_peer_new(g->sync, p);
}

static void gpeer_free(struct gpeer *gp)
{
	sync_peer_free(gp->g->sync, gp->sync);
	free(gp->pendq.ids);
	free(gp->batch);
	event_free(gp->inv_timer);
	idmap_free(gp->requested);
	rolling_bloom_free(gp->known);
	free(gp->invq);
	free(gp->serveq);
	free(gp);
}

struct gone_ctx {
	struct gossip *g;
	uint64_t peer_id;
};

static bool forget_peer(void *ctx, const uint8_t id[32], void *value)
{
	struct gone_ctx *c = ctx;
	struct fetch *f = value;
	(void)id;
	if (f->inflight == c->peer_id) {
		f->inflight = 0;
		if (c->g->inflight_total > 0)
			c->g->inflight_total--;
	}
	for (uint8_t i = 0; i < f->nann; i++)
		if (f->announcers[i] == c->peer_id) {
			memmove(&f->announcers[i], &f->announcers[i + 1],
				(size_t)(f->nann - i - 1) * sizeof(f->announcers[0]));
			f->nann--;
			break;
		}
	if (f->nann == 0 && f->inflight == 0) {
		free(f);
		return true;
	}
	return false;
}

static void h_peer_gone(void *ctx, struct peer *p)
{
	struct gossip *g = ctx;
	struct gpeer *gp = p->app;
	if (!gp)
		return;
	p->app = NULL;
	struct gone_ctx c = {g, p->id};
	idmap_filter(g->tracked, forget_peer, &c);
	gpeer_free(gp);
}

static bool h_message(void *ctx, struct peer *p, const char *cmd, const uint8_t *payload,
		      size_t len)
{
	struct gossip *g = ctx;
	struct gpeer *gp = p->app;
	bool is_inv = strcmp(cmd, CMD_INV) == 0, is_getdata = strcmp(cmd, CMD_GETDATA) == 0,
	     is_notfound = strcmp(cmd, CMD_NOTFOUND) == 0;
	if (sync_on_message(g->sync, gp ? gp->sync : NULL, cmd, payload, len)) {
		schedule_flush(g);
		return true;
	}
	if (strcmp(cmd, CMD_MSG) == 0) {
		if (gp) {
			on_msg(g, gp, payload, len);
			pump(g, gp);
			schedule_flush(g);
		}
		return true;
	}
	if (!is_inv && !is_getdata && !is_notfound)
		return false;
	if (!gp)
		return true;
	struct inv_entry *e = NULL;
	size_t n = 0;
	if (wire_decode_inv(&e, &n, payload, len) != 0) {
		p->malformed++;
		peer_misbehaving(p, OFF_MALFORMED, cmd);
		return true;
	}
	if (is_inv)
		on_inv(g, gp, e, n);
	else if (is_getdata)
		on_getdata(g, gp, e, n);
	else
		on_notfound(g, gp, e, n);
	free(e);
	pump(g, gp);
	schedule_flush(g);
	return true;
}

static void h_peer_writable(void *ctx, struct peer *p)
{
	struct gpeer *gp = p->app;
	if (gp && gp->nserveq > 0)
		serve(ctx, gp);
}

/* ---- housekeeping ---- */

struct tick_ctx {
	struct gossip *g;
	int64_t now;
	bool sent;
};

static bool tick_fetch(void *ctx, const uint8_t id[32], void *value)
{
	struct tick_ctx *t = ctx;
	struct fetch *f = value;
	(void)id;
	if (f->inflight && t->now - f->requested_at >= t->g->cfg.request_timeout) {
		struct gpeer *gp = gpeer_by_id(t->g, f->inflight);
		char hex[65];
		hex_encode(hex, f->id, 32);
		log_debug(LOG_MSG, "request for %s timed out at peer=%" PRIu64, hex, f->inflight);
		inflight_done(t->g, gp);
		if (gp)
			peer_misbehaving(gp->peer, OFF_BROKEN_PROMISE, hex);
		uint64_t slow = f->inflight;
		f->inflight = 0;
		fetch_drop_announcer(t->g, f, slow);
	}
	if (fetch_schedule(t->g, f, &t->sent)) {
		fetch_release(t->g, f);
		free(f);
		return true;
	}
	return false;
}

static void prune_step(struct gossip *g, int64_t now)
{
	if (!g->prune_more && now < g->next_prune)
		return;
	g->next_prune = now + g->cfg.prune_interval;
	long n = msgstore_prune(g->cfg.store, now - g->cfg.policy.retention, g->cfg.max_store_bytes,
				GOSSIP_PRUNE_BATCH);
	g->prune_more = n >= GOSSIP_PRUNE_BATCH;
	if (n > 0) {
		g->stats.pruned += (uint64_t)n;
		update_start_height(g);
		log_debug(LOG_MSG, "pruned %ld messages", n);
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct gossip *g = arg;
	(void)fd;
	(void)what;
	struct tick_ctx t = {g, now_secs(g), false};
	idmap_filter(g->tracked, tick_fetch, &t);
	flush_all(g);
	prune_step(g, t.now);
}

/* ---- public ---- */

struct gossip *gossip_new(const struct gossip_config *cfg, char *err, size_t errlen)
{
	struct gossip *g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->cfg = *cfg;
	g->tracked = idmap_new();
	g->verifying = idmap_new();
	g->rejected = rolling_bloom_new(GOSSIP_REJECT_FILTER_SIZE, REJECT_FILTER_FP);
	g->pool = verify_pool_new(cfg->base, cfg->verify_threads, verified, g);
	if (g->pool)
		verify_pool_set_batch_end(g->pool, flush_accepted);
	g->tick = event_new(cfg->base, -1, EV_PERSIST, tick_cb, g);
	g->flush_ev = event_new(cfg->base, -1, 0, flush_cb, g);
	const struct sync_config sc = {
		.base = cfg->base,
		.clock = cfg->clock,
		.store = cfg->store,
		.retention = cfg->policy.retention,
		.interval = cfg->sync_interval,
		.min_pow = cfg->policy.min_pow,
		.fetch = sync_fetch,
		.announce = sync_announce,
		.ctx = g,
	};
	char serr[128];
	g->sync = sync_new(&sc, serr, sizeof(serr));
	if (!g->tracked || !g->verifying || !g->rejected || !g->pool || !g->tick || !g->flush_ev ||
	    !g->sync) {
		snprintf(err, errlen, "cannot start the gossip engine (out of memory or threads)");
		gossip_free(g);
		return NULL;
	}
	struct timeval one = {1, 0};
	event_add(g->tick, &one);
	g->next_prune = now_secs(g);
	update_start_height(g);
	struct net_handler h = {
		.ctx = g,
		.peer_ready = h_peer_ready,
		.peer_gone = h_peer_gone,
		.message = h_message,
		.peer_writable = h_peer_writable,
	};
	connman_set_handler(cfg->connman, &h);
	/* Peers established before the handler was installed get their state now. */
	for (struct peer *p = connman_peers(cfg->connman); p; p = p->next)
		if (p->state == PEER_ESTABLISHED && !p->app)
			h_peer_ready(g, p);
	return g;
}

static bool free_fetch(void *ctx, const uint8_t id[32], void *value)
{
	(void)ctx;
	(void)id;
	free(value);
	return true;
}

void gossip_free(struct gossip *g)
{
	if (!g)
		return;
	if (g->cfg.connman) {
		connman_set_handler(g->cfg.connman, NULL);
		for (struct peer *p = connman_peers(g->cfg.connman); p; p = p->next)
			if (p->app) {
				gpeer_free(p->app);
				p->app = NULL;
			}
	}
	sync_free(g->sync); /* after the peers: gpeer_free ended their sync state */
	verify_pool_free(g->pool, release_vjob);
	for (size_t i = 0; i < g->naccepted; i++)
		release_vjob(g->accepted[i]);
	if (g->tick)
		event_free(g->tick);
	if (g->flush_ev)
		event_free(g->flush_ev);
	if (g->tracked) {
		idmap_filter(g->tracked, free_fetch, NULL);
		idmap_free(g->tracked);
	}
	idmap_free(g->verifying);
	rolling_bloom_free(g->rejected);
	free(g->waitq.ids);
	free(g);
}

enum msg_verdict gossip_submit_local(struct gossip *g, const struct sigmsg *m, const uint8_t id[32],
				     bool *already, bool *db_error)
{
	*already = false;
	*db_error = false;
	if (have(g, id)) {
		*already = true;
		return MSG_VALID;
	}
	struct msg_policy pol = g->cfg.policy;
	pol.now = now_secs(g);
	enum msg_verdict v = msg_validate(m, id, &pol);
	if (v != MSG_VALID) {
		reject(g, id, v, NULL);
		return v;
	}
	int r = accept_msg(g, m, id, true);
	if (r < 0)
		*db_error = true;
	else if (r == 0)
		*already = true;
	struct vjob *vj = r == 1 ? idmap_get(g->verifying, id) : NULL;
	if (vj)
		vj->stored_elsewhere = true; /* a peer's copy is being verified: not stored again */
	struct fetch *f = idmap_get(g->tracked, id);
	if (f)
		fetch_forget(g, f);
	return MSG_VALID;
}

bool gossip_peer_stats(const struct gossip *g, uint64_t peer_id, struct gossip_peer_stats *out)
{
	struct gpeer *gp = gpeer_by_id(g, peer_id);
	if (!gp)
		return false;
	*out = gp->st;
	return true;
}

void gossip_stats(const struct gossip *g, struct gossip_stats *out)
{
	*out = g->stats;
	out->tracked = idmap_count(g->tracked);
	out->verify_pending = verify_pool_pending(g->pool);
}

int gossip_listen(struct gossip *g, gossip_listener_fn fn, void *ctx)
{
	for (int i = 0; i < GOSSIP_MAX_LISTENERS; i++)
		if (!g->listeners[i].fn) {
			g->listeners[i].fn = fn;
			g->listeners[i].ctx = ctx;
			return i + 1;
		}
	return 0;
}

void gossip_unlisten(struct gossip *g, int handle)
{
	if (handle >= 1 && handle <= GOSSIP_MAX_LISTENERS)
		memset(&g->listeners[handle - 1], 0, sizeof(g->listeners[0]));
}

struct sync *gossip_sync(struct gossip *g)
{
	return g->sync;
}

int gossip_sync_with(struct gossip *g, uint64_t peer_id, const char **why)
{
	struct gpeer *gp = gpeer_by_id(g, peer_id);
	if (!gp || !gp->sync) {
		*why = "no peer";
		return -1;
	}
	return sync_start(g->sync, gp->sync, why);
}

long gossip_prune_now(struct gossip *g)
{
	int64_t now = now_secs(g);
	long total = 0, n;
	do {
		n = msgstore_prune(g->cfg.store, now - g->cfg.policy.retention,
				   g->cfg.max_store_bytes, GOSSIP_PRUNE_BATCH);
		if (n > 0)
			total += n;
	} while (n >= GOSSIP_PRUNE_BATCH);
	g->stats.pruned += (uint64_t)total;
	return n < 0 ? -1 : total;
}
