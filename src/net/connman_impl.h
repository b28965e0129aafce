/* The connection manager's private state, shared by the files of src/net/ only. */
#ifndef P2PD_NET_CONNMAN_IMPL_H
#define P2PD_NET_CONNMAN_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/connman.h"
#include "net/transport.h"

struct evconnlistener;

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
	struct netaddr listen_addrs[CONNMAN_MAX_LISTEN];
	size_t nlisteners;
	struct added_node added[CONNMAN_MAX_ADDED];
	size_t nadded;
	struct event *tick;   /* housekeeping, every second */
	struct event *reaper; /* frees disconnected peers at the end of a loop turn */
	uint64_t total_recv, total_sent;
	uint64_t bytes_saved; /* by compression, both directions */
	struct net_handler handler;
	int32_t start_height;
	uint8_t group_key[16]; /* secret SipHash key for eviction's keyed network groups */
};

/* Open an outbound connection to "host[:port]". Returns the new peer, or NULL (logged). */
struct peer *connman_dial(struct connman *cm, const char *dest, enum conn_type type);
/* Whether nonce is the nonce of one of our own version messages (self-connection). */
bool connman_is_local_nonce(const struct connman *cm, uint64_t nonce);
/* Schedule the reaper to free disconnected peers. */
void connman_schedule_reap(struct connman *cm);

/* Message handling (process.c). */
void process_frame(struct peer *p, struct net_frame *f);
int process_send_version(struct peer *p);
void process_housekeeping(struct peer *p, int64_t now);
void process_ping(struct peer *p);

#endif
