/* Address gossip payloads (doc/protocol.md, "addrv2"; BIP155): a compactsize count of at most
 * WIRE_MAX_ADDR, then count variable-length entries, and nothing after.
 *
 * BIP155 separates two kinds of odd entry. An entry of a network id we do not know, or of Tor
 * v2 (known, but retired), is skipped: a newer peer may gossip networks this build has never
 * heard of. An entry of a known network whose address has the wrong length, or any address
 * longer than WIRE_ADDRV2_MAX_ADDRLEN, makes the whole message malformed. Before it allocates,
 * the decoder checks that the payload could hold count entries of the smallest size, so a short
 * payload claiming 1,000 entries costs nothing. */
#include "wire/addr.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Fewest bytes one entry takes on the wire: time (4), services (1), network id (1), address
 * length (1) with an empty address (0), port (2). */
#define ADDRV2_MIN_ENTRY_SIZE 9

size_t wire_addrv2_net_len(uint8_t net)
{
	switch (net) {
	case ADDR_NET_IPV4:
		return ADDR_LEN_IPV4;
	case ADDR_NET_IPV6:
		return ADDR_LEN_IPV6;
	case ADDR_NET_TORV2:
		return ADDR_LEN_TORV2;
	case ADDR_NET_TORV3:
		return ADDR_LEN_TORV3;
	case ADDR_NET_I2P:
		return ADDR_LEN_I2P;
	case ADDR_NET_CJDNS:
		return ADDR_LEN_CJDNS;
	default:
		return 0; /* net is a byte from the wire: any other value is an unknown network */
	}
}

/* Read one entry. Returns true when *e holds an address of a supported network; false when the
 * entry is skipped (unknown network, Tor v2) or the cursor has failed. */
static bool read_entry(struct cursor *c, struct wire_addrv2 *e)
{
	const uint8_t *p;
	size_t want, len;

	memset(e, 0, sizeof(*e));
	e->time = cursor_u32le(c);
	e->services = cursor_compactsize(c, UINT64_MAX);
	e->net = cursor_u8(c);
	len = (size_t)cursor_compactsize(c, WIRE_ADDRV2_MAX_ADDRLEN);
	p = cursor_borrow(c, len);
	e->port = cursor_u16be(c);
	want = wire_addrv2_net_len(e->net);
	if (want != 0 && len != want)
		cursor_fail(c);
	if (!cursor_ok(c) || want == 0 || e->net == ADDR_NET_TORV2)
		return false;
	/* want is a known length, at most 32: it fits addr and addrlen. */
	memcpy(e->addr, p, len);
	e->addrlen = (uint8_t)len;
	return true;
}

int wire_decode_addrv2(struct wire_addrv2 **out, size_t *count, size_t *skipped,
		       const uint8_t *payload, size_t len)
{
	struct wire_addrv2 *e = NULL, one;
	struct cursor c;
	size_t n, kept = 0, nskip = 0;

	*out = NULL;
	*count = 0;
	*skipped = 0;
	cursor_init(&c, payload, len);
	n = (size_t)cursor_compactsize(&c, WIRE_MAX_ADDR);
	if (!cursor_ok(&c) || c.left < n * ADDRV2_MIN_ENTRY_SIZE)
		return -1;
	if (n > 0) {
		e = calloc(n, sizeof(*e));
		if (!e)
			return -1;
	}
	for (size_t i = 0; i < n && cursor_ok(&c); i++) {
		if (read_entry(&c, &one))
			e[kept++] = one;
		else
			nskip++;
	}
	if (!cursor_ok(&c) || c.left != 0) {
		free(e);
		return -1;
	}
	if (kept == 0) { /* all skipped: the contract promises NULL with a zero count */
		free(e);
		e = NULL;
	}
	*out = e;
	*count = kept;
	*skipped = nskip;
	return 0;
}

void wire_encode_addrv2(struct bytebuf *b, const struct wire_addrv2 *a, size_t count)
{
	bytebuf_compactsize(b, count);
	for (size_t i = 0; i < count; i++) {
		/* A longer addrlen would read past addr: a bug in the caller, not peer data. */
		assert(a[i].addrlen <= sizeof(a[i].addr));
		bytebuf_u32le(b, a[i].time);
		bytebuf_compactsize(b, a[i].services);
		bytebuf_u8(b, a[i].net);
		bytebuf_compactsize(b, a[i].addrlen);
		bytebuf_append(b, a[i].addr, a[i].addrlen);
		bytebuf_u16be(b, a[i].port);
	}
}
