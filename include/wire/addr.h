/* Address gossip messages (BIP155): `getaddr` (empty payload) and `addrv2`, a compactsize count
 * of at most WIRE_MAX_ADDR, then per entry: uint32 LE time, compactsize services, uint8 network
 * id, compactsize address length + address bytes, uint16 port big-endian (doc/protocol.md,
 * "addrv2"). */
#ifndef P2PD_WIRE_ADDR_H
#define P2PD_WIRE_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define CMD_ADDRV2  "addrv2"
#define CMD_GETADDR "getaddr"

/* Most entries in one addrv2 (Bitcoin's MAX_ADDR_TO_SEND). More is malformed: the sender
 * breaks the protocol, it is not a policy difference. */
#define WIRE_MAX_ADDR 1000

/* Longest address field BIP155 lets any network have; longer is malformed (BIP155's
 * MAX_ADDRV2_SIZE). Known networks are far shorter; this bounds unknown ones. */
#define WIRE_ADDRV2_MAX_ADDRLEN 512

/* BIP155 network ids. */
#define ADDR_NET_IPV4  1
#define ADDR_NET_IPV6  2
#define ADDR_NET_TORV2 3 /* length-checked, then skipped: Tor retired v2 onion services */
#define ADDR_NET_TORV3 4
#define ADDR_NET_I2P   5
#define ADDR_NET_CJDNS 6

/* BIP155 address lengths of the known networks. */
#define ADDR_LEN_IPV4  4
#define ADDR_LEN_IPV6  16
#define ADDR_LEN_TORV2 10
#define ADDR_LEN_TORV3 32
#define ADDR_LEN_I2P   32
#define ADDR_LEN_CJDNS 16

/* One decoded entry. Only supported networks (IPv4, IPv6, Tor v3, I2P, CJDNS) appear here, so
 * addrlen is always the network's BIP155 length and fits addr. */
struct wire_addrv2 {
	uint32_t time;     /* unix seconds the sender last saw the address */
	uint64_t services; /* service bits, as in version */
	uint8_t net;       /* ADDR_NET_* */
	uint8_t addr[32];  /* the first addrlen bytes are the address, network byte order */
	uint8_t addrlen;
	uint16_t port; /* host order here; big-endian on the wire */
};

/* The BIP155 address length of network id net, or 0 when net is not a known network (Tor v2
 * is known: ADDR_LEN_TORV2). */
size_t wire_addrv2_net_len(uint8_t net);

/* Decode an addrv2 payload into a malloc'd array (*out, caller frees; NULL when *count is 0) of
 * the entries of supported networks. Entries of unknown networks and Tor v2 are skipped, as
 * BIP155 says, and counted in *skipped. Returns 0, or -1 when malformed: truncated, trailing
 * bytes, a non-canonical compactsize, a count above WIRE_MAX_ADDR, an address length above
 * WIRE_ADDRV2_MAX_ADDRLEN, or a known network with the wrong address length. On -1 (or when
 * out of memory, also -1) *out is NULL and *count and *skipped are 0. */
int wire_decode_addrv2(struct wire_addrv2 **out, size_t *count, size_t *skipped,
		       const uint8_t *payload, size_t len);

/* Append an addrv2 payload of count entries. The caller keeps count at most WIRE_MAX_ADDR and
 * each addrlen at most sizeof(addr); entries are written as given (the encoder does not check
 * lengths against networks, so tests can build malformed payloads with it). */
void wire_encode_addrv2(struct bytebuf *b, const struct wire_addrv2 *a, size_t count);

#endif
