/* Gossip: validation flow, storage, inventory-based flood relay and request scheduling of
 * signed messages (doc/protocol.md, "Relay").
 *
 * The gossip engine plugs into the connection manager as its message handler (inv, getdata,
 * notfound, msg). For every message it learns of it:
 *   - fetches it once: one announcer at a time, outbound announcers first, the next announcer
 *     when a request times out or is answered with notfound; per-peer caps on requests in
 *     flight and on announcements tracked;
 *   - validates it (cheap policy checks on the loop, the signature on the verify pool), stores
 *     it, and announces its id to every peer not known to have it, batched on per-peer
 *     randomised (Poisson) timers of mean -relaydelay;
 *   - remembers what each peer has announced or been told (a rolling filter per peer) and what
 *     was rejected recently (one rolling filter), so nothing is announced or fetched twice.
 * It runs on the loop thread only. */
#ifndef P2PD_MSG_GOSSIP_H
#define P2PD_MSG_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg/validate.h"
#include "wire/sigmsg.h"

struct clock;
struct connman;
struct event_base;
struct gossip;
struct msgstore;

/* Limits (each with its reason in gossip.c). */
#define GOSSIP_MAX_INFLIGHT_PER_PEER  100  /* getdata entries awaiting an answer from one peer */
#define GOSSIP_INFLIGHT_START         16   /* the same for an unproven peer (slow start) */
#define GOSSIP_MAX_INFLIGHT_PERMITTED 1000 /* the same with noban or relay permission */
#define GOSSIP_PROBATION_ANNOUNCED    100  /* ids tracked for a peer whose address misbehaved */
#define GOSSIP_MAX_ANNOUNCED_PER_PEER 5000 /* ids a peer announced that we still track */
#define GOSSIP_MAX_REQUESTED_PER_PEER                                                         \
	5000                             /* asked of a peer, not answered: timed-out requests \
					  * stay so a late answer is not "unrequested";       \
					  * a peer with this many is not asked again */
#define GOSSIP_MAX_QUEUED_INV     10000  /* ids waiting to be announced to one peer */
#define GOSSIP_MAX_GETDATA_QUEUE  50000  /* requested ids waiting to be served to one peer */
#define GOSSIP_KNOWN_FILTER_SIZE  50000  /* ids remembered per peer as known to it */
#define GOSSIP_REJECT_FILTER_SIZE 120000 /* ids remembered as recently rejected */
#define DEFAULT_REQUEST_TIMEOUT   30     /* seconds before asking the next announcer */
#define DEFAULT_RELAY_DELAY_MS    2000   /* -relaydelay on main and testnet; 0 on regtest */
#define INBOUND_REQUEST_DELAY_MS  2000   /* prefer outbound announcers (main, testnet) */
#define GOSSIP_MAX_TRACKED        200000 /* ids being fetched, node-wide */
#define GOSSIP_MAX_ANNOUNCERS     8      /* announcers remembered per id */
#define GOSSIP_PRUNE_BATCH        1000   /* messages deleted per prune step */

struct gossip_config {
	struct event_base *base;
	struct clock *clock;
	struct connman *connman;
	struct msgstore *store;
	int verify_threads;       /* -verifythreads (0: verify on the loop) */
	int64_t relay_delay_ms;   /* -relaydelay: mean of the per-peer announcement timers */
	int64_t inbound_delay_ms; /* wait this long for an outbound announcer before asking an
				   * inbound one (INBOUND_REQUEST_DELAY; 0 on regtest) */
	int64_t request_timeout;  /* seconds (node clock) */
	struct msg_policy policy; /* policy.now is ignored: the clock is read per message */
	int64_t prune_interval;   /* seconds between prunes (node clock) */
	uint64_t max_store_bytes; /* -maxstoremb in bytes; 0: no cap */
	int64_t sync_interval;    /* -syncinterval: seconds between periodic catch-up sessions */
};

/* Start the engine and register it as the connection manager's message handler. Returns NULL
 * with err set on failure. */
struct gossip *gossip_new(const struct gossip_config *cfg, char *err, size_t errlen);
/* Unregister and free. NULL is a no-op. */
void gossip_free(struct gossip *g);

/* Accept a message from this node (RPC publish / sendrawmessage): validate synchronously,
 * store durably (fsync) and announce. Returns the verdict; *already is set when the message was
 * already stored (then it is MSG_VALID and nothing is written). Returns MSG_VALID with
 * *db_error set if the database write failed. */
enum msg_verdict gossip_submit_local(struct gossip *g, const struct sigmsg *m, const uint8_t id[32],
				     bool *already, bool *db_error);

/* Per-peer message counters (getpeerinfo). Returns false for an unknown peer. */
struct gossip_peer_stats {
	uint64_t announced;   /* ids the peer announced to us */
	uint64_t requested;   /* ids we requested from the peer */
	uint64_t received;    /* message bodies received from the peer */
	uint64_t sent;        /* message bodies sent to the peer */
	uint64_t duplicates;  /* bodies received that we already had */
	uint64_t invalid;     /* bodies that failed validation by the sender's fault */
	uint64_t notfound;    /* notfound answers received */
	uint64_t unrequested; /* bodies we had not asked the peer for (dropped) */
	size_t inflight;      /* our requests it has not answered yet */
};
bool gossip_peer_stats(const struct gossip *g, uint64_t peer_id, struct gossip_peer_stats *out);

/* Node-wide counters (getstoreinfo / getnettotals). */
struct gossip_stats {
	uint64_t accepted;     /* messages stored since start */
	uint64_t rejected;     /* messages refused since start */
	uint64_t pruned;       /* messages pruned since start */
	size_t tracked;        /* ids announced to us that we are fetching or will fetch */
	size_t verify_pending; /* signatures waiting for the verify pool */
};
void gossip_stats(const struct gossip *g, struct gossip_stats *out);

/* Listeners are told of every newly stored message (waitformessage). The message and id are
 * only valid during the call. */
typedef void (*gossip_listener_fn)(void *ctx, const struct sigmsg *m, const uint8_t id[32]);
/* Register; returns a handle > 0, or 0 when GOSSIP_MAX_LISTENERS are registered. */
#define GOSSIP_MAX_LISTENERS 64
int gossip_listen(struct gossip *g, gossip_listener_fn fn, void *ctx);
void gossip_unlisten(struct gossip *g, int handle);

/* The catch-up sync module the engine runs (msg/sync.h), for the RPC view. */
struct sync *gossip_sync(struct gossip *g);
/* Start a catch-up session with the peer now. Returns 0, or -1 with why set ("no peer": not a
 * relaying peer; else sync_start's reasons). */
int gossip_sync_with(struct gossip *g, uint64_t peer_id, const char **why);

/* Prune now (expired messages, then the size cap); returns the number deleted or -1. */
long gossip_prune_now(struct gossip *g);

#endif
