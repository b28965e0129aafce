/* P2P message payloads (doc/protocol.md, "Messages"): version, ping/pong and the 26-byte
 * address of version.
 *
 * Every decoder reads the whole layout through one sticky-failure cursor, adds its semantic
 * checks with cursor_fail(), and looks at the cursor once at the end; on failure the output is
 * zeroed so no half-filled struct escapes. Encoders append to a bytebuf whose failure flag the
 * caller checks. */
#include "wire/messages.h"

#include <assert.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* The IPv4-mapped IPv6 prefix ::ffff:0:0/96 (RFC 4291, 2.5.5.2). */
static const uint8_t ipv4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Relay flag assumed when a version payload ends right after start_height (Bitcoin's rule). */
#define VERSION_RELAY_DEFAULT true

void wire_read_addr(struct cursor *c, struct wire_addr *a)
{
	a->services = cursor_u64le(c);
	cursor_bytes(c, a->ip, sizeof(a->ip));
	a->port = cursor_u16be(c);
}

void wire_write_addr(struct bytebuf *b, const struct wire_addr *a)
{
	bytebuf_u64le(b, a->services);
	bytebuf_append(b, a->ip, sizeof(a->ip));
	bytebuf_u16be(b, a->port);
}

int wire_addr_from_sockaddr(struct wire_addr *out, const struct sockaddr *sa, uint64_t services)
{
	memset(out, 0, sizeof(*out));
	switch (sa->sa_family) {
	case AF_INET: {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		memcpy(out->ip, ipv4_mapped_prefix, sizeof(ipv4_mapped_prefix));
		/* s_addr is in network order: its bytes are a.b.c.d in that order. */
		memcpy(out->ip + sizeof(ipv4_mapped_prefix), &sin.sin_addr.s_addr, 4);
		out->port = ntohs(sin.sin_port);
		break;
	}
	case AF_INET6: {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(out->ip, sin6.sin6_addr.s6_addr, sizeof(out->ip));
		out->port = ntohs(sin6.sin6_port);
		break;
	}
	default:
		return -1;
	}
	out->services = services;
	return 0;
}

/* Read the user agent: a compactsize length of at most WIRE_MAX_USER_AGENT, then that many
 * bytes, none of them NUL (the struct holds it as a C string, which a NUL would cut short). */
static void read_user_agent(struct cursor *c, char out[WIRE_MAX_USER_AGENT + 1])
{
	size_t n = (size_t)cursor_compactsize(c, WIRE_MAX_USER_AGENT);
	const uint8_t *p = cursor_borrow(c, n);
	if (!p || memchr(p, 0, n) != NULL) {
		cursor_fail(c);
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

int wire_decode_version(struct msg_version *out, const uint8_t *payload, size_t len)
{
	struct cursor c;

	memset(out, 0, sizeof(*out));
	cursor_init(&c, payload, len);
	out->version = cursor_i32le(&c);
	out->services = cursor_u64le(&c);
	out->timestamp = cursor_i64le(&c);
	wire_read_addr(&c, &out->addr_recv);
	wire_read_addr(&c, &out->addr_from);
	out->nonce = cursor_u64le(&c);
	read_user_agent(&c, out->user_agent);
	out->start_height = cursor_i32le(&c);
	/* relay is optional at the end; anything after it is ignored so the message can grow. */
	if (cursor_ok(&c) && c.left == 0)
		out->relay = VERSION_RELAY_DEFAULT;
	else
		out->relay = cursor_bool(&c);
	if (!cursor_ok(&c)) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

void wire_encode_version(struct bytebuf *b, const struct msg_version *v)
{
	size_t ualen = strnlen(v->user_agent, sizeof(v->user_agent));
	/* A user agent that fills the whole array has no terminator: the caller's bug. */
	assert(ualen <= WIRE_MAX_USER_AGENT);

	bytebuf_i32le(b, v->version);
	bytebuf_u64le(b, v->services);
	bytebuf_i64le(b, v->timestamp);
	wire_write_addr(b, &v->addr_recv);
	wire_write_addr(b, &v->addr_from);
	bytebuf_u64le(b, v->nonce);
	bytebuf_compactsize(b, ualen);
	bytebuf_append(b, v->user_agent, ualen);
	bytebuf_i32le(b, v->start_height);
	bytebuf_bool(b, v->relay);
}

int wire_decode_nonce(uint64_t *nonce, const uint8_t *payload, size_t len)
{
	struct cursor c;

	cursor_init(&c, payload, len);
	/* Bytes after the nonce are ignored, as for version. */
	*nonce = cursor_u64le(&c);
	if (!cursor_ok(&c)) {
		*nonce = 0;
		return -1;
	}
	return 0;
}

void wire_encode_nonce(struct bytebuf *b, uint64_t nonce)
{
	bytebuf_u64le(b, nonce);
}
