/* Byte streams: the sticky-failure reader cursor, the bounded growable writer, and hex.
 *
 * Nothing here casts a pointer onto wire data: integers are assembled byte by byte, so
 * alignment and host endianness never matter. */
#include "util/bytes.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* First allocation of a bytebuf: large enough for a frame header and a small message, so
 * most short messages need one allocation; the buffer doubles from there up to its max. */
#define BYTEBUF_INITIAL_CAP 64

/* ---- reader ---- */

void cursor_init(struct cursor *c, const void *data, size_t len)
{
	c->p = data;
	c->left = data ? len : 0;
	c->failed = false;
}

void cursor_fail(struct cursor *c)
{
	c->failed = true;
	c->left = 0;
}

/* Consume n bytes: a pointer to them, or NULL (and the cursor failed) if they are not there. */
static const uint8_t *take(struct cursor *c, size_t n)
{
	if (c->failed || n > c->left) {
		cursor_fail(c);
		return NULL;
	}
	const uint8_t *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static uint64_t read_le(struct cursor *c, size_t n)
{
	const uint8_t *p = take(c, n);
	uint64_t v = 0;
	if (!p)
		return 0;
	for (size_t i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

uint8_t cursor_u8(struct cursor *c)
{
	return (uint8_t)read_le(c, 1);
}

uint16_t cursor_u16le(struct cursor *c)
{
	return (uint16_t)read_le(c, 2);
}

uint16_t cursor_u16be(struct cursor *c)
{
	const uint8_t *p = take(c, 2);
	return p ? (uint16_t)((p[0] << 8) | p[1]) : 0;
}

uint32_t cursor_u32le(struct cursor *c)
{
	return (uint32_t)read_le(c, 4);
}

uint64_t cursor_u64le(struct cursor *c)
{
	return read_le(c, 8);
}

int32_t cursor_i32le(struct cursor *c)
{
	/* Two's complement conversion without implementation-defined behaviour. */
	uint32_t u = cursor_u32le(c);
	return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - INT32_MAX - 1) + INT32_MIN;
}

int64_t cursor_i64le(struct cursor *c)
{
	uint64_t u = cursor_u64le(c);
	return u <= INT64_MAX ? (int64_t)u : (int64_t)(u - INT64_MAX - 1) + INT64_MIN;
}

bool cursor_bool(struct cursor *c)
{
	uint8_t v = cursor_u8(c);
	if (v > 1) {
		cursor_fail(c);
		return false;
	}
	return v == 1;
}

uint64_t cursor_compactsize(struct cursor *c, uint64_t max)
{
	uint8_t first = cursor_u8(c);
	uint64_t v, min;
	switch (first) {
	case 0xfd:
		v = cursor_u16le(c);
		min = 0xfd;
		break;
	case 0xfe:
		v = cursor_u32le(c);
		min = 0x10000;
		break;
	case 0xff:
		v = cursor_u64le(c);
		min = 0x100000000;
		break;
	default:
		v = first;
		min = 0;
		break;
	}
	/* Canonical: each value has exactly one encoding, the shortest. */
	if (c->failed || v < min || v > max) {
		cursor_fail(c);
		return 0;
	}
	return v;
}

void cursor_bytes(struct cursor *c, void *out, size_t len)
{
	const uint8_t *p = take(c, len);
	if (len == 0)
		return;
	if (p)
		memcpy(out, p, len);
	else
		memset(out, 0, len);
}

const uint8_t *cursor_borrow(struct cursor *c, size_t len)
{
	static const uint8_t empty[1];
	const uint8_t *p = take(c, len);
	if (p == NULL && !c->failed)
		return empty; /* zero bytes borrowed from a cursor over no data */
	return p;
}

/* ---- writer ---- */

void bytebuf_init(struct bytebuf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
}

void bytebuf_free(struct bytebuf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}

void bytebuf_reset(struct bytebuf *b)
{
	b->len = 0;
	b->failed = false;
}

/* Make room for n more bytes: grow geometrically, never past max. Returns a pointer to the n
 * bytes after the current contents, or NULL (and the buffer failed). */
static uint8_t *reserve(struct bytebuf *b, size_t n)
{
	if (b->failed || n > b->max - b->len) {
		b->failed = true;
		return NULL;
	}
	size_t need = b->len + n;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : BYTEBUF_INITIAL_CAP;
		while (cap < need)
			cap = cap > b->max / 2 ? b->max : cap * 2;
		if (cap > b->max)
			cap = b->max; /* need <= max was checked above */
		uint8_t *p = realloc(b->data, cap);
		if (!p) {
			b->failed = true;
			return NULL;
		}
		b->data = p;
		b->cap = cap;
	}
	uint8_t *at = b->data + b->len;
	b->len = need;
	return at;
}

static void write_le(struct bytebuf *b, uint64_t v, size_t n)
{
	uint8_t *p = reserve(b, n);
	if (!p)
		return;
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void bytebuf_u8(struct bytebuf *b, uint8_t v)
{
	write_le(b, v, 1);
}

void bytebuf_u16le(struct bytebuf *b, uint16_t v)
{
	write_le(b, v, 2);
}

void bytebuf_u16be(struct bytebuf *b, uint16_t v)
{
	uint8_t *p = reserve(b, 2);
	if (!p)
		return;
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void bytebuf_u32le(struct bytebuf *b, uint32_t v)
{
	write_le(b, v, 4);
}

void bytebuf_u64le(struct bytebuf *b, uint64_t v)
{
	write_le(b, v, 8);
}

void bytebuf_i32le(struct bytebuf *b, int32_t v)
{
	write_le(b, (uint32_t)v, 4);
}

void bytebuf_i64le(struct bytebuf *b, int64_t v)
{
	write_le(b, (uint64_t)v, 8);
}

void bytebuf_bool(struct bytebuf *b, bool v)
{
	write_le(b, v ? 1 : 0, 1);
}

size_t compactsize_len(uint64_t v)
{
	if (v < 0xfd)
		return 1;
	if (v <= 0xffff)
		return 3;
	if (v <= 0xffffffff)
		return 5;
	return 9;
}

void bytebuf_compactsize(struct bytebuf *b, uint64_t v)
{
	switch (compactsize_len(v)) {
	case 1:
		write_le(b, v, 1);
		break;
	case 3:
		bytebuf_u8(b, 0xfd);
		write_le(b, v, 2);
		break;
	case 5:
		bytebuf_u8(b, 0xfe);
		write_le(b, v, 4);
		break;
	default:
		bytebuf_u8(b, 0xff);
		write_le(b, v, 8);
		break;
	}
}

void bytebuf_append(struct bytebuf *b, const void *data, size_t len)
{
	uint8_t *p = reserve(b, len);
	if (p && len > 0)
		memcpy(p, data, len);
}

/* ---- hex ---- */

void hex_encode(char *out, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decode 2*n hex characters into n bytes; stops (returns -1) at the first non-hex character,
 * including a NUL, so it never reads past the end of a shorter string. */
static int hex_decode_n(uint8_t *out, size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit(hex[2 * i]);
		if (hi < 0)
			return -1;
		int lo = hex_digit(hex[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (uint8_t)((hi << 4) | lo);
	}
	return 0;
}

int hex_decode(void *out, size_t outlen, const char *hex)
{
	if (!hex || hex_decode_n(out, outlen, hex) != 0 || hex[2 * outlen] != '\0') {
		if (outlen > 0)
			memset(out, 0, outlen);
		return -1;
	}
	return 0;
}

int hex_decode_alloc(const char *hex, size_t maxlen, uint8_t **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (!hex)
		return -1;
	/* Never scan further than a string that could still fit (no object exceeds PTRDIFF_MAX). */
	if (maxlen > (size_t)PTRDIFF_MAX / 2 - 1)
		maxlen = (size_t)PTRDIFF_MAX / 2 - 1;
	size_t limit = 2 * maxlen + 1;
	size_t slen = strnlen(hex, limit);
	if (slen == limit || slen % 2 != 0)
		return -1;
	uint8_t *buf = malloc(slen / 2 ? slen / 2 : 1);
	if (!buf)
		return -1;
	if (hex_decode_n(buf, slen / 2, hex) != 0) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = slen / 2;
	return 0;
}
