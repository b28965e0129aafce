/* The connection manager's private state, shared by the files of src/net/ only. */
#ifndef P2PD_NET_CONNMAN_IMPL_H
#define P2PD_NET_CONNMAN_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/connman.h"
#include "net/transport.h"

struct reconnect_gate;

struct evconnlistener;
struct evdns_getaddrinfo_request;
struct wire_addr;

/* Addresses waiting to be announced to one peer (one addrv2 message). */
#define ADDR_QUEUE_MAX 1000
/* Candidate local addresses kept (externalip, interfaces, what peers report). */
#define CONNMAN_MAX_LOCAL 16
/* Score a candidate needs before we announce it: -externalip and interfaces score high at once,
 * an address reported by peers needs two of them. */
#define LOCAL_MIN_SCORE    2
#define LOCAL_SCORE_MANUAL 100
#define LOCAL_SCORE_IFACE  10

struct local_addr {
	struct peer_addr addr;
	int score;
};

struct added_node {
	char name[NETADDR_STRLEN + 192]; /* "host:port" as given */
	bool from_config;                /* -connect / -addnode: cannot be removed by RPC */
	int64_t next_attempt;            /* node clock */
	int backoff;                     /* seconds until the next retry after a failure */
	uint64_t peer_id;                /* connected or connecting peer, 0 when none */
};

struct connman {
	struct connman_config cfg; /* string lists are not kept: see added[] */
	int max_connections;
	size_t max_inbound;
	bool active;
	bool started;
	uint64_t next_id;
	struct peer *peers; /* newest first */
	size_t npeers;
	struct evconnlistener *listeners[CONNMAN_MAX_LISTEN];
	unsigned listen_perms[CONNMAN_MAX_LISTEN]; /* -whitebind permissions per listener */
	struct net_whitelist whitelist[CONNMAN_MAX_WHITELIST];
	size_t nwhitelist;
	struct netaddr listen_addrs[CONNMAN_MAX_LISTEN];
	size_t nlisteners;
	struct added_node added[CONNMAN_MAX_ADDED];
	size_t nadded;
	struct event *tick;   /* housekeeping, every second */
	struct event *reaper; /* frees disconnected peers at the end of a loop turn */
	uint64_t total_recv, total_sent;
	uint64_t bytes_saved; /* by compression, both directions */
	struct net_handler handler;
	int64_t next_colocation_us;
	int32_t start_height;
	/* discovery */
	struct local_addr local[CONNMAN_MAX_LOCAL];
	size_t nlocal;
	uint8_t relay_key[16]; /* SipHash key choosing the peers an address is relayed to */
	struct peer_addr *getaddr_cache;
	size_t ngetaddr_cache;
	int64_t getaddr_cache_expiry;
	int64_t start_mono;       /* seconds */
	int64_t next_feeler_us;   /* monotonic */
	int64_t next_outbound_us; /* one automatic connection per second at most */
	bool dns_queried, fixed_used, seeds_started;
	int dns_pending;
	struct peer_addr anchors[CONNMAN_MAX_ANCHORS];
	size_t nanchors;
	uint8_t group_key[16]; /* secret SipHash key for eviction's keyed network groups */
	struct reconnect_gate *reconnect_gate; /* discouraged addresses' reconnections */
};

/* Open an outbound connection to "host[:port]". Returns the new peer, or NULL (logged). */
struct peer *connman_dial(struct connman *cm, const char *dest, enum conn_type type);
/* Whether nonce is the nonce of one of our own version messages (self-connection). */
bool connman_is_local_nonce(const struct connman *cm, uint64_t nonce);
/* Discourage the peer's address (misbehaviour threshold reached). */
void connman_discourage(struct connman *cm, struct peer *p);
/* Schedule the reaper to free disconnected peers. */
void connman_schedule_reap(struct connman *cm);

/* Address gossip (addrrelay.c). */
void addrrelay_peer_ready(struct connman *cm, struct peer *p);
void addrrelay_peer_free(struct peer *p);
bool addrrelay_message(struct connman *cm, struct peer *p, const char *cmd, const uint8_t *payload,
		       size_t len);
void addrrelay_tick(struct connman *cm, struct peer *p, int64_t now, int64_t now_us);
void addrrelay_seen_as(struct connman *cm, const struct peer *p, const struct wire_addr *seen);
void addrrelay_add_local(struct connman *cm, const struct peer_addr *a, int score);
bool addrrelay_is_local(const struct connman *cm, const struct peer_addr *a);

/* Automatic outbound connections, feelers, seeds, anchors (outbound.c). */
void outbound_start(struct connman *cm);
void outbound_tick(struct connman *cm);
void outbound_peer_ready(struct connman *cm, struct peer *p);
void outbound_peer_closed(struct connman *cm, struct peer *p);
/* Dial a book address as the given type. Returns the peer or NULL. */
struct peer *outbound_dial(struct connman *cm, const struct peer_addr *a, enum conn_type type);

/* Message handling (process.c). */
void process_frame(struct peer *p, struct net_frame *f);
int process_send_version(struct peer *p);
void process_housekeeping(struct peer *p, int64_t now);
void process_ping(struct peer *p);

#endif
