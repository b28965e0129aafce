/* Network parameters: what differs between main, testnet and regtest. */
#ifndef P2PD_UTIL_NETPARAMS_H
#define P2PD_UTIL_NETPARAMS_H

#include <stdbool.h>
#include <stdint.h>

enum network { NET_MAIN, NET_TESTNET, NET_REGTEST };

struct netparams {
	enum network id;
	const char *name;      /* "main", "testnet", "regtest": -chain= and config sections */
	const char *subdir;    /* data sub-directory; "" for main (the data directory itself) */
	uint8_t magic[4];      /* first bytes of every P2P frame */
	uint16_t p2p_port;     /* default -port */
	uint16_t rpc_port;     /* default -rpcport */
	bool mocktime_allowed; /* setmocktime accepted */
	int default_min_pow;   /* -minpow default: leading zero bits a message id needs */
	int default_relay_delay_ms;     /* -relaydelay default (mean announcement delay) */
	int inbound_request_delay_ms;   /* wait for an outbound announcer before an inbound one */
	int addr_trickle_ms;            /* mean delay of address announcements */
	bool allow_local;               /* local addresses in the book; loopback grouped per port */
	const char *const *dns_seeds;   /* NULL-terminated; empty when the network has none */
	const char *const *fixed_seeds; /* NULL-terminated "ip:port" list (contrib/seeds) */
};

/* Parameters by name, or NULL for an unknown network. */
const struct netparams *netparams_by_name(const char *name);
const struct netparams *netparams_get(enum network id);

#endif
