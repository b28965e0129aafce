/* Inventory payloads (doc/protocol.md, "inv, getdata, notfound"): a compactsize count of at
 * most WIRE_MAX_INV, then count entries of (uint32 LE type, 32-byte hash), and nothing after.
 *
 * The decoder checks that the payload holds exactly count entries before it allocates, so a
 * short payload claiming 50,000 entries costs nothing. Entry types are not checked here: the
 * protocol says entries of other types are ignored, which is the caller's decision. */
#include "wire/inv.h"

#include <stdlib.h>
#include <string.h>

/* Bytes of one entry on the wire: type (4) and hash (32). */
#define INV_ENTRY_SIZE 36

int wire_decode_inv(struct inv_entry **out, size_t *count, const uint8_t *payload, size_t len)
{
	struct cursor c;
	struct inv_entry *e = NULL;
	size_t n;

	*out = NULL;
	*count = 0;
	cursor_init(&c, payload, len);
	n = (size_t)cursor_compactsize(&c, WIRE_MAX_INV);
	/* Truncated and trailing both mean the rest is not exactly n entries. */
	if (!cursor_ok(&c) || c.left != n * INV_ENTRY_SIZE)
		return -1;
	if (n == 0)
		return 0;
	e = calloc(n, sizeof(*e));
	if (!e)
		return -1;
	for (size_t i = 0; i < n; i++) {
		e[i].type = cursor_u32le(&c);
		cursor_bytes(&c, e[i].hash, sizeof(e[i].hash));
	}
	if (!cursor_ok(&c) || c.left != 0) {
		free(e);
		return -1;
	}
	*out = e;
	*count = n;
	return 0;
}

void wire_encode_inv(struct bytebuf *b, const struct inv_entry *e, size_t count)
{
	bytebuf_compactsize(b, count);
	for (size_t i = 0; i < count; i++) {
		bytebuf_u32le(b, e[i].type);
		bytebuf_append(b, e[i].hash, sizeof(e[i].hash));
	}
}
