/* Fuzz the message payload decoders. The first input byte picks the decoder, the rest is the
 * payload, so one target and one corpus grow with the protocol (add a case per new message).
 * Whatever the bytes, a decoder must not read out of bounds, and a payload that decodes must
 * re-encode to the bytes it was read from (each field has one encoding) and decode again to the
 * same fields. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/messages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum fuzz_decoder {
	FUZZ_VERSION,
	FUZZ_NONCE,
	FUZZ_ADDR,
	FUZZ_DECODERS, /* how many; the selector byte is taken modulo this */
};

/* Re-encodings are bounded well above the largest version (about 360 bytes). */
#define FUZZ_ENCODE_MAX 4096

static bool addr_equal(const struct wire_addr *a, const struct wire_addr *b)
{
	return a->services == b->services && memcmp(a->ip, b->ip, 16) == 0 && a->port == b->port;
}

static bool version_equal(const struct msg_version *a, const struct msg_version *b)
{
	return a->version == b->version && a->services == b->services &&
	       a->timestamp == b->timestamp && addr_equal(&a->addr_recv, &b->addr_recv) &&
	       addr_equal(&a->addr_from, &b->addr_from) && a->nonce == b->nonce &&
	       strcmp(a->user_agent, b->user_agent) == 0 && a->start_height == b->start_height &&
	       a->relay == b->relay;
}

static void fuzz_version(const uint8_t *p, size_t len)
{
	struct msg_version v, again;
	struct bytebuf b;

	if (wire_decode_version(&v, p, len) != 0)
		return;
	assert(strlen(v.user_agent) <= WIRE_MAX_USER_AGENT);
	bytebuf_init(&b, FUZZ_ENCODE_MAX);
	wire_encode_version(&b, &v);
	assert(bytebuf_ok(&b));
	/* The encoding is the input up to relay; an input without relay lacks only that byte. */
	if (len >= b.len) {
		assert(memcmp(b.data, p, b.len) == 0);
	} else {
		assert(len == b.len - 1 && v.relay && b.data[len] == 1);
		assert(memcmp(b.data, p, len) == 0);
	}
	assert(wire_decode_version(&again, b.data, b.len) == 0);
	assert(version_equal(&v, &again));
	bytebuf_free(&b);
}

static void fuzz_nonce(const uint8_t *p, size_t len)
{
	uint64_t nonce, again;
	struct bytebuf b;

	if (wire_decode_nonce(&nonce, p, len) != 0) {
		assert(len < 8 && nonce == 0);
		return;
	}
	bytebuf_init(&b, FUZZ_ENCODE_MAX);
	wire_encode_nonce(&b, nonce);
	assert(bytebuf_ok(&b) && b.len == 8 && memcmp(b.data, p, 8) == 0);
	assert(wire_decode_nonce(&again, b.data, b.len) == 0 && again == nonce);
	bytebuf_free(&b);
}

/* A run of addresses, as a future addr-style message would hold them. */
static void fuzz_addr(const uint8_t *p, size_t len)
{
	struct cursor c;
	struct bytebuf b;

	cursor_init(&c, p, len);
	bytebuf_init(&b, FUZZ_ENCODE_MAX);
	while (c.left > 0) {
		const uint8_t *start = c.p;
		struct wire_addr a;
		wire_read_addr(&c, &a);
		if (!cursor_ok(&c)) {
			assert(len % 26 != 0);
			break;
		}
		bytebuf_reset(&b);
		wire_write_addr(&b, &a);
		assert(bytebuf_ok(&b) && b.len == 26 && memcmp(b.data, start, 26) == 0);
	}
	bytebuf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	switch ((enum fuzz_decoder)(data[0] % FUZZ_DECODERS)) {
	case FUZZ_VERSION:
		fuzz_version(p, len);
		break;
	case FUZZ_NONCE:
		fuzz_nonce(p, len);
		break;
	case FUZZ_ADDR:
		fuzz_addr(p, len);
		break;
	case FUZZ_DECODERS:
		break;
	}
	return 0;
}
