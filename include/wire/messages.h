/* P2P message payloads: encoding and decoding of each command (doc/protocol.md, "Messages").
 *
 * Decoders take a payload and fill a struct; they return 0, or -1 when the payload is malformed
 * (the struct is then zeroed). They never allocate on behalf of the peer beyond the struct and
 * never read past the payload. Encoders append to a struct bytebuf. */
#ifndef P2PD_WIRE_MESSAGES_H
#define P2PD_WIRE_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "util/version.h"

/* Command names. */
#define CMD_VERSION    "version"
#define CMD_VERACK     "verack"
#define CMD_SENDADDRV2 "sendaddrv2"
#define CMD_PING       "ping"
#define CMD_PONG       "pong"

/* Service bits (doc/protocol.md, "Protocol versions and services"). */
#define NODE_MSGSTORE (UINT64_C(1) << 0)

/* The oldest protocol version a peer may announce (PROTOCOL_VERSION is in util/version.h). */
#define MIN_PEER_PROTO_VERSION 80001

/* Longest user agent in `version` (Bitcoin's MAX_SUBVERSION_LENGTH). */
#define WIRE_MAX_USER_AGENT 256

/* The 26-byte address of `version` (no time field). */
struct wire_addr {
	uint64_t services;
	uint8_t ip[16]; /* IPv6, or IPv4-mapped ::ffff:a.b.c.d */
	uint16_t port;  /* host order here; big-endian on the wire */
};

struct msg_version {
	int32_t version;
	uint64_t services;
	int64_t timestamp;
	struct wire_addr addr_recv;
	struct wire_addr addr_from;
	uint64_t nonce;
	char user_agent[WIRE_MAX_USER_AGENT + 1]; /* NUL-terminated; NUL bytes inside are refused */
	int32_t start_height;
	bool relay;
};

/* version: malformed when shorter than the layout up to start_height, when the user agent is
 * longer than WIRE_MAX_USER_AGENT or holds a NUL byte, or when relay is neither 0 nor 1. A
 * payload that ends after start_height gives relay = true; bytes after relay are ignored. The
 * encoder always writes relay; v->user_agent must be NUL-terminated within its array. */
int wire_decode_version(struct msg_version *out, const uint8_t *payload, size_t len);
void wire_encode_version(struct bytebuf *b, const struct msg_version *v);

/* ping and pong carry one 64-bit nonce: malformed when shorter than 8 bytes; bytes after the
 * nonce are ignored. */
int wire_decode_nonce(uint64_t *nonce, const uint8_t *payload, size_t len);
void wire_encode_nonce(struct bytebuf *b, uint64_t nonce);

/* Read/write the 26-byte address. The reader fails the cursor (and leaves zeros) when fewer
 * than 26 bytes are left. */
void wire_read_addr(struct cursor *c, struct wire_addr *a);
void wire_write_addr(struct bytebuf *b, const struct wire_addr *a);

/* Fill a wire_addr from a sockaddr_in or sockaddr_in6 (IPv4 becomes IPv4-mapped ::ffff:a.b.c.d;
 * the port in host order). Return 0, or -1 (out zeroed) for any other address family. */
struct sockaddr;
int wire_addr_from_sockaddr(struct wire_addr *out, const struct sockaddr *sa, uint64_t services);

#endif
