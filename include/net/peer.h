/* A peer: one P2P connection, its explicit state machine, its buffers and its statistics.
 *
 * States and their transitions (doc/protocol.md, "Connection life"):
 *   CONNECTING -> AWAIT_VERSION -> AWAIT_VERACK -> ESTABLISHED, and any state -> DISCONNECTING.
 * Every transition goes through peer_set_state(), which logs it under -debug=net. The fields are
 * readable by the RPC layer (getpeerinfo); only net/ writes them. */
#ifndef P2PD_NET_PEER_H
#define P2PD_NET_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addrman.h"
#include "net/netaddr.h"
#include "net/scoring.h"
#include "wire/messages.h"

struct bufferevent;
struct rolling_bloom;
struct connman;
struct event;
struct transport;

enum peer_state {
	PEER_CONNECTING,    /* outbound TCP connect in progress */
	PEER_AWAIT_VERSION, /* connected; their version not yet received */
	PEER_AWAIT_VERACK,  /* their version received, our verack sent; waiting for theirs */
	PEER_ESTABLISHED,   /* handshake done */
	PEER_DISCONNECTING, /* closed; freed at the end of this loop turn */
};

enum conn_type {
	CONN_INBOUND,       /* they connected to us */
	CONN_MANUAL,        /* -connect, -addnode, addnode RPC */
	CONN_OUTBOUND_FULL, /* chosen from the address book; messages and addresses relayed */
	CONN_FEELER,        /* tests an address, then disconnects */
	CONN_ADDR_FETCH,    /* -seednode: getaddr, then disconnect */
};

/* Commands counted separately in bytessent_per_msg / bytesrecv_per_msg; everything else is
 * counted as "*other*" (the last slot). */
enum msg_stat {
	STAT_VERSION,
	STAT_VERACK,
	STAT_SENDADDRV2,
	STAT_PING,
	STAT_PONG,
	STAT_SENDZLIB,
	STAT_ZLIB,
	STAT_INV,
	STAT_GETDATA,
	STAT_NOTFOUND,
	STAT_MSG,
	STAT_OTHER,
	STAT_COUNT,
};

const char *peer_state_name(enum peer_state s);
const char *conn_type_name(enum conn_type t);
const char *msg_stat_name(enum msg_stat s);
enum msg_stat msg_stat_from_command(const char *command);

struct peer {
	uint64_t id;
	struct connman *cm;
	enum peer_state state;
	enum conn_type type;
	struct bufferevent *bev;
	struct transport *transport;
	struct event *process_ev; /* continues message processing on the next loop turn */
	struct peer *next;        /* connman's list */

	struct netaddr addr;             /* remote address */
	struct netaddr addr_bind;        /* our end of the connection */
	char dest[NETADDR_STRLEN + 192]; /* outbound: the "host:port" we dialled */

	/* times: node clock (mockable) seconds, and monotonic microseconds for latency */
	int64_t conn_time, last_send, last_recv;

	/* traffic */
	uint64_t bytes_sent, bytes_recv;
	uint64_t sent_per_msg[STAT_COUNT], recv_per_msg[STAT_COUNT];

	/* what the peer told us in its version */
	int32_t version;
	uint64_t services;
	char subver[WIRE_MAX_USER_AGENT + 1]; /* printable ASCII only; others become '?' */
	int32_t start_height;
	bool relay;
	int64_t time_offset; /* their timestamp minus our clock, seconds */

	/* handshake */
	uint64_t local_nonce; /* nonce of our version (self-connection detection) */
	bool version_sent, wants_addrv2;
	bool zlib_sent; /* we sent sendzlib */
	bool zlib_ok;   /* both sides sent sendzlib: zlib frames may be used both ways */

	/* ping */
	uint64_t ping_nonce;    /* outstanding ping, 0 when none */
	int64_t ping_start_us;  /* clock_mono_us() when it was sent */
	int64_t ping_sent_time; /* node clock when it was sent */
	int64_t next_ping_time; /* node clock when the next ping is due */
	int64_t last_ping_us;   /* latest round trip, -1 when none yet */
	int64_t min_ping_us;    /* smallest round trip, -1 when none yet */

	/* misbehaviour counters (net/scoring.h gives each its points) */
	uint32_t checksum_errors, malformed, protocol_violations, unknown_messages;
	double misbehaviour; /* points at misbehaviour_us; read with peer_misbehaviour() */
	int64_t misbehaviour_us;
	uint32_t offences[OFF_COUNT]; /* per enum offence */
	bool noban;                   /* never discouraged (-whitelist / -whitebind noban) */
	unsigned perms;               /* enum net_perm of the connection */
	/* reputation (doc/scoring.md "Reputation") */
	uint64_t first_deliveries; /* new valid messages it gave us first */
	uint64_t answers;          /* our requests it answered with the message */
	uint32_t colocated;        /* other peers from the same IP (refreshed by the tick) */
	double remembered_good, remembered_bad; /* from earlier connections of its address */
	bool discouraged;                       /* its address was discouraged when it connected */

	bool send_paused;     /* our send buffer to it is over -maxsendbuffer: not served */
	int64_t connected_us; /* clock_mono_us() at connection (eviction: age) */
	int64_t last_useful;  /* node clock when it last gave us a new valid message; 0 never */
	char disconnect_reason[128];
	void *app; /* the message handler's per-peer state (owned by it; see net_handler) */

	/* address gossip (addrrelay.c) */
	bool addr_relay_enabled; /* we send it addresses (it sent sendaddrv2) */
	bool getaddr_sent;       /* we asked it for addresses */
	bool getaddr_answered;   /* we answered its getaddr (once per connection) */
	uint64_t addr_processed, addr_rate_limited;
	double addr_tokens;               /* token bucket: addresses it may still send us */
	int64_t addr_tokens_us;           /* clock_mono_us() of the last refill */
	struct rolling_bloom *addr_known; /* addresses it knows (sent or told) */
	struct peer_addr *addr_queue;     /* to send, at most ADDR_QUEUE_MAX */
	size_t naddr_queue, cap_addr_queue;
	int64_t next_addr_send_us;  /* when the queue is flushed next (monotonic) */
	int64_t next_self_announce; /* node clock: next announcement of our own address */
};

/* Queue a message to the peer through its transport. Returns 0, or -1 if the peer is
 * disconnecting or out of memory. */
int peer_send(struct peer *p, const char *command, const uint8_t *payload, size_t len);

/* Move to a new state (logged under -debug=net with the reason). */
void peer_set_state(struct peer *p, enum peer_state s, const char *reason);

/* Close the connection (logged); the peer is freed at the end of the loop turn. Idempotent. */
void peer_disconnect(struct peer *p, const char *reason);

#endif
