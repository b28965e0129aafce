/* Catch-up sync: range-based set reconciliation sessions with peers (doc/protocol.md, "Catch-up
 * sync (syncreq / syncresp)"; the algorithm is msg/recon.h, the index msg/reconset.h).
 *
 * The sync module keeps the reconciliation index of the node's message store (filled from the
 * store's time index in slices after start-up, then kept in step by the store's observer), runs
 * one initiator session at a time per peer, and answers the peers' syncreqs. It does not fetch
 * or announce by itself: the gossip engine gives it two functions (fetch ids from a peer,
 * announce ids to a peer) and feeds it the peer events and sync messages.
 *
 * Sessions start with every new outbound full-relay peer once the index is loaded, every
 * SYNC interval with one random outbound peer, and on request (syncwithpeer). The ids a step
 * finds wait in per-session queues and are passed to gossip a slice at a time; the next syncreq
 * goes out only when the queues have room for the next step's ids. So a large catch-up is paced
 * by how fast the messages arrive and never floods the request machinery, and relay of fresh
 * messages goes on meanwhile.
 *
 * Reactions (doc/scoring.md): a syncreq or syncresp that does not decode is `malformed`; a
 * syncresp with no syncreq outstanding is `protocol-order`; a session that has not converged
 * after RECON_MAX_ROUNDS is abandoned, and is `sync-endless` unless it queued at least one new
 * id per round on average (ids to fetch that pass -minpow and are not stored, ids to announce;
 * each id counted once per run of sessions). Then the difference is just large: a new session
 * over the same window goes on once the queues are empty, after a back-off that doubles from
 * SYNC_CONTINUE_DELAY, at most SYNC_MAX_CONTINUED times in a row (then the run stops without
 * points; periodic sessions go on). Ids a peer listed in a sync session and then answered with
 * notfound are `sync-lie`, beyond SYNC_LIE_GRACE plus one per SYNC_LIE_RATIO of its listed ids
 * it did deliver (an honest peer may prune a message before our getdata). Each syncreq beyond
 * the per-peer rate limit is not answered and is one `flood` offence. A session whose syncresp
 * does not come within SYNC_RESPONSE_TIMEOUT seconds is abandoned without points (the peer may
 * be slow). */
#ifndef P2PD_MSG_SYNC_H
#define P2PD_MSG_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct event_base;
struct msgstore;
struct peer;
struct sync;
struct sync_peer;

/* Limits (each with its reason in sync.c). */
#define SYNC_MAX_SESSIONS     8     /* initiator sessions at once, node-wide */
#define SYNC_RESPONSE_TIMEOUT 60    /* seconds to wait for a syncresp */
#define SYNC_QUEUE_MAX        32768 /* ids waiting per session, to fetch and to announce */
#define SYNC_MAX_PROMISED     32768 /* ids per peer remembered as listed by it (sync-lie) */
#define SYNC_LOAD_SLICE       20000 /* index entries read from the store per loop turn */
#define SYNC_REQ_RATE         0.2   /* syncreqs per second a peer may send us ... */
#define SYNC_REQ_BURST        128   /* ... with this burst (two sessions' worth of rounds) */
#define DEFAULT_SYNC_INTERVAL 600   /* -syncinterval: seconds between periodic sessions */
#define SYNC_MAX_CONTINUED    8     /* sessions in a row that go on after RECON_MAX_ROUNDS */
#define SYNC_CONTINUE_DELAY   1     /* seconds before the first of them; doubles each time */
#define SYNC_SEEN_FILTER      4096  /* recent ids a run of sessions counts once as progress */
#define SYNC_LIE_GRACE        4     /* listed ids a peer may leave unserved (notfound) ... */
#define SYNC_LIE_RATIO        32    /* ... plus one per this many listed ids it delivered */
#define SYNC_OFFERED_FILTER   65536 /* recent (peer, id) pairs sync told a peer about */

struct sync_config {
	struct event_base *base;
	struct clock *clock; /* node clock: the window is [now - retention, now + future) */
	struct msgstore *store;
	int64_t retention; /* -msgretention, seconds */
	int64_t interval;  /* -syncinterval, seconds; 0: no periodic sessions */
	int min_pow;       /* -minpow: ids with fewer leading zero bits are not fetched */
	/* The gossip engine's side. fetch tracks ids announced by p and returns how many it took
	 * (it stops when p's request machinery is full: the rest are offered again later);
	 * announce queues ids for an inv to p. */
	size_t (*fetch)(void *ctx, struct peer *p, const uint8_t (*ids)[32], size_t n);
	void (*announce)(void *ctx, struct peer *p, const uint8_t (*ids)[32], size_t n);
	void *ctx;
};

/* Returns NULL with err set on failure (out of memory). Registers itself as the store's
 * observer and starts filling the index. */
struct sync *sync_new(const struct sync_config *cfg, char *err, size_t errlen);
/* Ends every session and unregisters from the store. NULL is a no-op. */
void sync_free(struct sync *s);

/* Per-peer state, made when the peer's handshake completes and freed when it goes. */
struct sync_peer *sync_peer_new(struct sync *s, struct peer *p);
void sync_peer_free(struct sync *s, struct sync_peer *sp);

/* A message from the peer: returns false if cmd is not a sync command (not handled). */
bool sync_on_message(struct sync *s, struct sync_peer *sp, const char *cmd, const uint8_t *payload,
		     size_t len);
/* The peer delivered a message body (id), or answered notfound for it: lets the module count
 * fetched messages and catch ids a peer listed but cannot serve (sync-lie). */
void sync_on_delivered(struct sync *s, struct sync_peer *sp, const uint8_t id[32]);
void sync_on_notfound(struct sync *s, struct sync_peer *sp, const uint8_t id[32]);
/* We sent the peer the body of message id (it asked with getdata): counted in messages_sent if
 * sync told the peer about the id (announced as missing at the peer by our session, or listed
 * in our syncresp to it). sp may be NULL. */
void sync_on_served(struct sync *s, struct sync_peer *sp, const uint8_t id[32]);

/* Start a session with the peer now. Returns 0, or -1 with why set ("busy": a session with it
 * is running; "limit": SYNC_MAX_SESSIONS are running; "loading": the index is not loaded yet;
 * "nomem"). */
int sync_start(struct sync *s, struct sync_peer *sp, const char **why);
/* The once-a-second work: answer timeouts, delayed catch-ups, continued and periodic sessions.
 * The module's own timer calls it every second; tests call it to step without waiting
 * for the timer. Loop thread only. */
void sync_tick(struct sync *s);

struct sync_stats {
	bool loaded;                            /* the index holds the whole store */
	uint64_t items;                         /* index entries */
	uint64_t memory;                        /* index bytes */
	uint64_t started, completed, timed_out; /* initiator sessions */
	uint64_t failed;    /* ... ended by the peer's error, or at RECON_MAX_ROUNDS and not
			     * continued (too little progress, or SYNC_MAX_CONTINUED in a row) */
	uint64_t continued; /* ... that reached RECON_MAX_ROUNDS finding new ids all along: a new
			     * session goes on */
	uint64_t answered;  /* syncreqs answered (responder) */
	uint64_t rounds;    /* syncresps processed (initiator) */
	/* syncreq + syncresp payload bytes, both roles; the inv, getdata and msg traffic that
	 * sync causes is counted with all such traffic (getpeerinfo), not here */
	uint64_t bytes_sent, bytes_recv;
	uint64_t ids_need, ids_have; /* ids queued: to fetch (missing here) / to announce */
	uint64_t fetched;            /* messages that arrived after a sync session listed them */
	uint64_t announced; /* ids announced to peers because a session found them missing */
	uint64_t served;    /* message bodies sent to peers that sync told about them (an
			     * estimate: see SYNC_OFFERED_FILTER) */
	size_t active;      /* initiator sessions running */
};
void sync_stats(const struct sync *s, struct sync_stats *out);

/* One running session, for the RPC view. */
struct sync_session_info {
	uint64_t peer_id;
	int64_t started; /* node clock */
	uint32_t rounds;
	uint64_t bytes_sent, bytes_recv, need, have;
	size_t need_queued, have_queued; /* ids waiting to be fetched / announced */
	bool waiting;                    /* a syncreq is outstanding */
};
/* Fill up to max entries; returns how many sessions are running. */
size_t sync_sessions(const struct sync *s, struct sync_session_info *out, size_t max);

#endif
