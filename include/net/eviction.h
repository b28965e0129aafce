/* Inbound eviction: when every inbound slot is taken, which inbound peer makes room for a new
 * one (doc/design.md, "Inbound eviction"; Bitcoin Core's algorithm, adapted).
 *
 * From the inbound candidates, protect in turn: the EVICT_PROTECT_SCORE best reputation
 * scores, the EVICT_PROTECT_NETGROUP peers whose network
 * groups sort highest under a secret keyed hash (diversity an attacker cannot choose), the
 * EVICT_PROTECT_PING lowest minimum pings, the EVICT_PROTECT_USEFUL peers that most recently
 * sent us a new valid message, and half of the rest by longest uptime. Among those left, take the
 * network group with the most candidates (ties: the group whose newest member connected most
 * recently) and evict its youngest member. A pure function over a candidate array, so the choice
 * is unit-tested without sockets. */
#ifndef P2PD_NET_EVICTION_H
#define P2PD_NET_EVICTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVICT_PROTECT_SCORE    4
#define EVICT_PROTECT_NETGROUP 4
#define EVICT_PROTECT_PING     8
#define EVICT_PROTECT_USEFUL   4

struct evict_candidate {
	uint64_t id;
	int64_t connected;    /* when it connected (any monotonic unit; smaller = older) */
	int64_t min_ping_us;  /* -1 when unknown (sorts last) */
	int64_t last_useful;  /* when it last sent a new valid message; 0 never */
	uint64_t netgroup;    /* network group id (netaddr_group) */
	uint64_t keyed_group; /* netgroup under the node's secret key */
	bool discouraged;     /* a misbehaving peer: evicted before anyone else */
	double score;         /* reputation score (net/scoring.h): the best are protected first */
};

/* Pick the peer to evict, or return 0 when every candidate is protected (then refuse the new
 * connection). The array is reordered. */
uint64_t evict_select(struct evict_candidate *c, size_t n);

#endif
