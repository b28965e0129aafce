/* Byte streams: a bounded growable writer and a sticky-failure reader cursor.
 *
 * Integers are little-endian as on the wire. compactsize is Bitcoin's variable-length integer
 * (1, 3, 5 or 9 bytes), and a reader refuses non-canonical encodings. A reader that runs past
 * its end, or meets a bad encoding, sets its failed flag; every later read returns zeros and
 * fails too, so a decoder reads everything and checks cursor_ok() once at the end. */
#ifndef P2PD_UTIL_BYTES_H
#define P2PD_UTIL_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;
	size_t left;
	bool failed;
};

void cursor_init(struct cursor *c, const void *data, size_t len);
static inline bool cursor_ok(const struct cursor *c)
{
	return !c->failed;
}
/* Mark the cursor failed (a decoder found a semantic error). */
void cursor_fail(struct cursor *c);
uint8_t cursor_u8(struct cursor *c);
uint16_t cursor_u16le(struct cursor *c);
uint16_t cursor_u16be(struct cursor *c);
uint32_t cursor_u32le(struct cursor *c);
uint64_t cursor_u64le(struct cursor *c);
int32_t cursor_i32le(struct cursor *c);
int64_t cursor_i64le(struct cursor *c);
bool cursor_bool(struct cursor *c); /* one byte, 0 or 1; anything else fails */
/* Read a compactsize; fails if non-canonical or above max. */
uint64_t cursor_compactsize(struct cursor *c, uint64_t max);
/* Copy len bytes into out (zeroed on failure). */
void cursor_bytes(struct cursor *c, void *out, size_t len);
/* Borrow len bytes in place; returns NULL on failure. */
const uint8_t *cursor_borrow(struct cursor *c, size_t len);

struct bytebuf {
	uint8_t *data;
	size_t len, cap;
	size_t max; /* hard limit on len; an append beyond it fails the buffer */
	bool failed;
};

/* Start an empty buffer that may grow up to max bytes. */
void bytebuf_init(struct bytebuf *b, size_t max);
void bytebuf_free(struct bytebuf *b);
/* Drop the contents and clear a failure; keep the allocation. */
void bytebuf_reset(struct bytebuf *b);
static inline bool bytebuf_ok(const struct bytebuf *b)
{
	return !b->failed;
}
void bytebuf_u8(struct bytebuf *b, uint8_t v);
void bytebuf_u16le(struct bytebuf *b, uint16_t v);
void bytebuf_u16be(struct bytebuf *b, uint16_t v);
void bytebuf_u32le(struct bytebuf *b, uint32_t v);
void bytebuf_u64le(struct bytebuf *b, uint64_t v);
void bytebuf_i32le(struct bytebuf *b, int32_t v);
void bytebuf_i64le(struct bytebuf *b, int64_t v);
void bytebuf_bool(struct bytebuf *b, bool v);
void bytebuf_compactsize(struct bytebuf *b, uint64_t v);
void bytebuf_append(struct bytebuf *b, const void *data, size_t len);

/* Size of the compactsize encoding of v. */
size_t compactsize_len(uint64_t v);

/* Hex: lowercase encode into out (2*len+1 bytes, NUL-terminated). */
void hex_encode(char *out, const void *data, size_t len);
/* Decode exactly outlen bytes from a hex string of exactly 2*outlen characters (either case).
 * Returns 0, or -1 on any other input. */
int hex_decode(void *out, size_t outlen, const char *hex);
/* Decode a hex string of any even length up to maxlen bytes into a malloc'd buffer. Returns 0
 * with *out (caller frees) and *outlen, or -1. */
int hex_decode_alloc(const char *hex, size_t maxlen, uint8_t **out, size_t *outlen);

#endif
