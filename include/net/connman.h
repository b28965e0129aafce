/* The connection manager: listening sockets, outbound connections (-connect, -addnode and the
 * addnode RPC), connection limits, the per-second housekeeping (handshake and inactivity
 * timeouts, pings, addnode retries) and the list of peers.
 *
 * It lives on the node's event loop and takes what it needs from the node in its config, so
 * net/ does not depend on the node layer. */
#ifndef P2PD_NET_CONNMAN_H
#define P2PD_NET_CONNMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addrman.h"
#include "net/banman.h"
#include "net/netaddr.h"
#include "net/peer.h"

struct banman;
struct reputation;
struct clock;
struct event_base;
struct evdns_base;
struct netparams;

/* Outbound slots reserved out of -maxconnections (8 full-relay, 1 feeler, 1 address fetch);
 * the rest is the inbound share. */
#define CONNMAN_OUTBOUND_SLOTS 10
/* Automatic outbound full-relay connections kept (Bitcoin's 8: enough diversity that an
 * attacker must control many network groups to surround us). */
#define CONNMAN_OUTBOUND_FULL 8
/* Anchors saved at shutdown and dialled first at start-up. */
#define CONNMAN_MAX_ANCHORS 2
/* Manual connections (-connect, -addnode, addnode RPC), on top of -maxconnections, as Bitcoin. */
#define CONNMAN_MAX_MANUAL 8
/* Entries in the added-node list (-addnode and addnode add); each is a host name to keep
 * connected, so a handful is plenty. */
#define CONNMAN_MAX_ADDED 32
/* -whitelist entries kept. */
#define CONNMAN_MAX_WHITELIST 64
/* Listening sockets (-bind and -whitebind entries). */
#define CONNMAN_MAX_LISTEN 16
/* File descriptors kept free for the database, the RPC server, logs and DNS. */
#define CONNMAN_RESERVED_FDS 160
/* The fewest connections the node accepts to run with when file descriptors are short. */
#define CONNMAN_MIN_CONNECTIONS 8

/* Defaults of the options that tune connections. */
#define DEFAULT_MAX_CONNECTIONS       125
#define DEFAULT_MAX_RECEIVE_BUFFER_KB 5000
#define DEFAULT_MAX_SEND_BUFFER_KB    5000
#define DEFAULT_PEER_TIMEOUT          60        /* handshake must finish within this many seconds */
#define PING_INTERVAL                 120       /* seconds between pings to a peer */
#define INACTIVITY_TIMEOUT            (20 * 60) /* nothing received, or ping unanswered, this long */
/* Messages processed from one peer before the loop turns to the others. */
#define PEER_MSGS_PER_TURN 16

/* The upper layer's hooks (the gossip engine). All are called on the loop thread; any may be
 * NULL. peer->app belongs to the handler: set it in peer_ready, free it in peer_gone. */
struct net_handler {
	void *ctx;
	/* The handshake finished. */
	void (*peer_ready)(void *ctx, struct peer *p);
	/* The peer is about to be freed (after peer_ready or not). */
	void (*peer_gone)(void *ctx, struct peer *p);
	/* A message of an established peer that the net layer does not handle. Return false if
	 * the command is unknown to the handler too (the net layer then counts it as unknown). */
	bool (*message)(void *ctx, struct peer *p, const char *command, const uint8_t *payload,
			size_t len);
	/* The peer's send buffer drained below half of -maxsendbuffer: it can take more. */
	void (*peer_writable)(void *ctx, struct peer *p);
};

/* Permissions (-whitelist, -whitebind; doc/scoring.md "Permissions"). */
enum net_perm {
	NET_PERM_NOBAN = 1u << 0, /* never discouraged */
	NET_PERM_ADDR = 1u << 1,  /* addrv2 entries not rate limited */
	NET_PERM_RELAY = 1u << 2, /* announcements, requests and bytes not rate limited */
};
/* Parse "[perm,perm@]rest" (perms: noban, addr, relay, all; none given: noban). Fills *flags
 * and *rest (the part after '@'). Returns 0, or -1 with err for an unknown permission. */
int net_perm_parse(const char *s, unsigned *flags, const char **rest, char *err, size_t errlen);

struct net_whitelist {
	struct subnet subnet;
	unsigned flags; /* enum net_perm */
};

struct connman_config {
	struct event_base *base;
	struct evdns_base *dns; /* for host names in -connect / -addnode; may be NULL */
	struct clock *clock;
	const struct netparams *params;
	uint64_t local_services;
	int max_connections;
	bool listen;
	const char *const *bind; /* "addr" or "addr:port"; none means 0.0.0.0 and :: */
	size_t nbind;
	uint16_t port;
	const char *const *connect; /* -connect: only these outbound peers */
	size_t nconnect;
	const char *const *addnode; /* -addnode: kept connected */
	size_t naddnode;
	size_t max_receive_buffer; /* bytes */
	size_t max_send_buffer;    /* bytes */
	int peer_timeout;          /* seconds */
	bool compression;          /* offer zlib frames (send sendzlib) */

	/* discovery (doc/discovery.md); all optional */
	struct addrman *addrman;       /* the address book (borrowed); NULL: no automatic outbound,
					* no address gossip */
	bool automatic_outbound;       /* fill CONNMAN_OUTBOUND_FULL slots from the book */
	bool allow_local;              /* regtest: local addresses, loopback grouped per port */
	int64_t addr_trickle_ms;       /* mean delay of address announcements */
	bool discover;                 /* learn our address from interfaces and peers */
	const char *const *externalip; /* our public addresses */
	size_t nexternalip;
	const char *const *seednodes; /* -seednode: addr-fetch connections */
	size_t nseednodes;
	const char *const *dnsseeds; /* DNS seed names (already chosen by -dnsseed*) */
	size_t ndnsseeds;
	bool forcednsseed;
	const char *const *fixedseeds; /* "ip:port" fallbacks */
	size_t nfixedseeds;
	const struct peer_addr *anchors; /* dialled first */
	size_t nanchors;
	struct banman *banman;         /* bans and discouragement (borrowed); may be NULL */
	struct reputation *reputation; /* remembered peer reputation (borrowed); may be NULL */
	const struct net_whitelist *whitelist; /* -whitelist entries (copied) */
	size_t nwhitelist;
	const char *const *whitebind; /* -whitebind "[perms@]addr[:port]": extra listeners */
	size_t nwhitebind;
};

struct connman;

/* Create the manager, raise the file-descriptor limit as needed, and start listening. Returns
 * NULL with err set on failure (a -bind that cannot be bound, no usable descriptors). The
 * effective -maxconnections may be lowered (logged) when descriptors are short. */
struct connman *connman_new(const struct connman_config *cfg, char *err, size_t errlen);
/* The start_height our version messages carry: the number of stored messages. */
void connman_set_start_height(struct connman *cm, int32_t height);

/* Install the message handler (copied); NULL removes it. */
void connman_set_handler(struct connman *cm, const struct net_handler *h);
/* Whether the peer's send buffer is over -maxsendbuffer (stop queueing bulk data to it). */
bool peer_send_full(const struct peer *p);

/* Begin outbound connections (-connect, -addnode) and housekeeping. */
void connman_start(struct connman *cm);
/* Disconnect everyone and free. NULL is a no-op. */
void connman_free(struct connman *cm);

/* Peers, newest first (follow ->next). */
struct peer *connman_peers(const struct connman *cm);
size_t connman_count(const struct connman *cm, size_t *inbound, size_t *outbound);
int connman_max_connections(const struct connman *cm);
/* The service bits this node announces in its version messages. */
uint64_t connman_local_services(const struct connman *cm);
size_t connman_max_inbound(const struct connman *cm);

/* Totals over the node's life (getnettotals). */
void connman_totals(const struct connman *cm, uint64_t *recv, uint64_t *sent);
/* Bytes compression kept off the wire (uncompressed minus compressed sizes), sent and
 * received, over the node's life. */
uint64_t connman_bytes_saved(const struct connman *cm);

/* Listening addresses: fills up to max, returns the count. */
size_t connman_listening(const struct connman *cm, struct netaddr *out, size_t max);

enum addnode_op { ADDNODE_ADD, ADDNODE_REMOVE, ADDNODE_ONETRY };
enum addnode_result {
	ADDNODE_OK,
	ADDNODE_ALREADY_ADDED, /* add of a node already in the list */
	ADDNODE_NOT_ADDED,     /* remove of a node not in the list */
	ADDNODE_LIST_FULL,     /* CONNMAN_MAX_ADDED reached */
	ADDNODE_BAD_ADDRESS,   /* not "host[:port]" */
};
enum addnode_result connman_addnode(struct connman *cm, const char *node, enum addnode_op op);

struct added_node_info {
	const char *name;        /* as added */
	const struct peer *peer; /* connected peer, or NULL */
};
/* The added-node list: fills up to max entries, returns the count. */
size_t connman_added_nodes(const struct connman *cm, struct added_node_info *out, size_t max);

/* Disconnect by address ("ip:port" as getpeerinfo shows it) or by id. Return 0, or -1 when no
 * such peer is connected. */
int connman_disconnect_addr(struct connman *cm, const char *addr);
int connman_disconnect_id(struct connman *cm, uint64_t id);

/* Network activity on/off: off disconnects everyone, refuses inbound and dials nothing. */
void connman_set_active(struct connman *cm, bool active);
bool connman_active(const struct connman *cm);

/* Send a ping to every established peer now (RPC ping). */
void connman_ping_all(struct connman *cm);

/* The addresses of up to max outbound full-relay peers, longest connected first (anchors to
 * save at shutdown). Returns the count. */
size_t connman_anchors(const struct connman *cm, struct peer_addr *out, size_t max);

#endif
