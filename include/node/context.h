/* The node context: everything one running node owns, passed to every subsystem.
 *
 * There is no global node state: a test can build two nodes in one process. The event-loop
 * thread owns every field; worker threads receive copies of what they need. */
#ifndef P2PD_NODE_CONTEXT_H
#define P2PD_NODE_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "msg/validate.h"
#include "util/clock.h"
#include "util/fs.h"

struct addrman;
struct args;
struct banman;
struct connman;
struct db;
struct event;
struct event_base;
struct gossip;
struct msgstore;
struct evdns_base;
struct netparams;
struct reputation;
struct rpc_auth;
struct rpc_server;

/* Signals the node handles on its loop: SIGINT, SIGTERM, SIGHUP. */
#define NODE_NSIGNALS 3

struct node {
	const struct netparams *params;
	struct args *args;  /* parsed options; owned by the main */
	struct clock clock; /* mockable wall clock (setmocktime) */
	struct event_base *base;
	struct evdns_base *dns;  /* resolver for -connect/-addnode host names; may be NULL */
	struct connman *connman; /* peers; NULL until the network starts */
	struct addrman *addrman; /* the address book; NULL until the network starts */
	struct reputation
		*reputation;   /* remembered peer reputation; NULL until the network starts */
	struct banman *banman; /* bans and discouragement; NULL until the network starts */
	int64_t bantime;       /* -bantime: seconds a setban without a bantime lasts */
	struct db *db;
	struct msgstore *msgstore; /* messages; NULL until the database is open */
	struct gossip *gossip;     /* relay engine; NULL when the network is not started */
	struct msg_policy policy;  /* -msgretention, -maxmsgsize, -minpow (policy.now unused) */
	uint64_t max_store_bytes;  /* -maxstoremb in bytes; 0 = no cap */
	struct rpc_auth *rpc_auth;
	struct rpc_server *rpc;
	char datadir[FS_MAX_PATH]; /* -datadir */
	char netdir[FS_MAX_PATH];  /* datadir/<network subdir> */
	char pidfile[FS_MAX_PATH]; /* "" when none was written */
	int lock_fd;               /* holds netdir/.lock; -1 when not held */
	int64_t start_us;          /* clock_mono_us() at start, for uptime */
	uint8_t node_seckey[32];   /* the node key (secret; wiped at shutdown) */
	uint8_t node_pubkey[32];   /* its x-only public key */
	struct event *signals[NODE_NSIGNALS];
	struct event *save_timer; /* saves the address book periodically */
	bool shutdown_requested;
	bool fatal_error; /* a database write failed: stop, and exit with status 1 */
};

/* Ask the loop to stop at its next turn (RPC stop, signals). Safe from the loop thread only. */
void node_request_shutdown(struct node *node);

#endif
