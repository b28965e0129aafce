/* zlib frames (doc/protocol.md, "zlib"): wrap a message into a compressed payload and unwrap
 * one with bounded inflation.
 *
 * Unwrapping allocates exactly the declared length (at most WIRE_MAX_PAYLOAD) and inflates into
 * it. When that buffer is full and the stream has not ended, inflation goes on into a single
 * probe byte: if the stream yields one more byte it is a decompression bomb, and nothing beyond
 * the declared length was ever allocated. zlib's own state (a 32 KiB window and its tables) is
 * the only other memory, whatever the input. */
#include "wire/compress.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* zlib's default level (6): most of the gain of level 9 at a fraction of its time, which
 * matters because a relaying node compresses every large message once per peer. */
#define ZLIB_LEVEL Z_DEFAULT_COMPRESSION
/* Header of a zlib payload: compactsize command length (1 byte, as 1-12 < 0xfd), the command
 * (at most WIRE_COMMAND_SIZE) and the uint32 uncompressed length. */
#define ZLIB_HEADER_MAX (1 + WIRE_COMMAND_SIZE + 4)

static bool command_byte_ok(uint8_t ch)
{
	return ch >= 0x21 && ch <= 0x7e;
}

/* Deflate in into out (at most outcap bytes). Returns the compressed length, or 0 if it does not
 * fit or zlib fails. */
static size_t deflate_bounded(uint8_t *out, size_t outcap, const uint8_t *in, size_t len)
{
	z_stream z;
	size_t n = 0;

	memset(&z, 0, sizeof(z));
	if (deflateInit(&z, ZLIB_LEVEL) != Z_OK)
		return 0;
	/* len and outcap are at most WIRE_MAX_PAYLOAD, which fits a uInt. */
	z.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const; it does not write input */
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)outcap;
	if (deflate(&z, Z_FINISH) == Z_STREAM_END)
		n = outcap - z.avail_out;
	deflateEnd(&z);
	return n;
}

int wire_zlib_wrap(struct bytebuf *out, const char *command, const uint8_t *payload, size_t len)
{
	size_t cmdlen, hdrlen, cap, n;
	uint8_t *tmp;

	if (!frame_command_valid(command) || strcmp(command, CMD_ZLIB) == 0 ||
	    len > WIRE_MAX_PAYLOAD)
		return -1;
	cmdlen = strlen(command);
	hdrlen = 1 + cmdlen + 4;
	/* Only a result smaller than the original is worth sending. */
	if (len <= hdrlen + 1)
		return -1;
	cap = len - hdrlen - 1;
	tmp = malloc(cap);
	if (!tmp)
		return -1;
	n = deflate_bounded(tmp, cap, payload, len);
	if (n > 0) {
		bytebuf_compactsize(out, cmdlen);
		bytebuf_append(out, command, cmdlen);
		bytebuf_u32le(out, (uint32_t)len);
		bytebuf_append(out, tmp, n);
	}
	free(tmp);
	return n > 0 && bytebuf_ok(out) ? 0 : -1;
}

/* Read the header: inner command into command, declared length into *declared. Returns
 * ZLIB_OK, ZLIB_MALFORMED or ZLIB_TOO_LARGE; *c is left at the start of the stream. */
static enum zlib_unwrap_status read_header(struct cursor *c, char command[WIRE_COMMAND_SIZE + 1],
					   uint32_t *declared)
{
	size_t n = (size_t)cursor_compactsize(c, WIRE_COMMAND_SIZE);
	const uint8_t *p = cursor_borrow(c, n);

	*declared = cursor_u32le(c);
	if (!cursor_ok(c) || n == 0)
		return ZLIB_MALFORMED;
	for (size_t i = 0; i < n; i++) {
		if (!command_byte_ok(p[i]))
			return ZLIB_MALFORMED;
	}
	memcpy(command, p, n);
	command[n] = '\0';
	/* No nesting: a zlib inside a zlib could multiply the work one frame costs. */
	if (strcmp(command, CMD_ZLIB) == 0)
		return ZLIB_MALFORMED;
	if (*declared > WIRE_MAX_PAYLOAD)
		return ZLIB_TOO_LARGE;
	return ZLIB_OK;
}

/* Inflate the stream in (len bytes) into buf of exactly declared bytes. */
static enum zlib_unwrap_status inflate_bounded(uint8_t *buf, size_t declared, const uint8_t *in,
					       size_t len)
{
	z_stream z;
	uint8_t probe;
	bool probing = false;
	enum zlib_unwrap_status st;

	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return ZLIB_CORRUPT;
	/* A stream longer than a uInt cannot occur: the frame payload is at most WIRE_MAX_PAYLOAD.
	 */
	z.next_in = (Bytef *)(uintptr_t)in; /* zlib's API is not const; it does not write input */
	z.avail_in = (uInt)len;
	z.next_out = buf;
	z.avail_out = (uInt)declared;
	for (;;) {
		if (z.avail_out == 0) {
			if (probing) {
				/* The probe byte was written: more output than declared. */
				st = ZLIB_BOMB;
				break;
			}
			probing = true;
			z.next_out = &probe;
			z.avail_out = 1;
		}
		uInt in_before = z.avail_in, out_before = z.avail_out;
		int ret = inflate(&z, Z_NO_FLUSH);
		if (ret == Z_STREAM_END) {
			/* total_out counts the probe byte too. */
			if (z.total_out > declared)
				st = ZLIB_BOMB;
			else if (z.total_out < declared || z.avail_in != 0)
				st = ZLIB_CORRUPT; /* ended short, or bytes after the stream */
			else
				st = ZLIB_OK;
			break;
		}
		/* Z_NEED_DICT (a preset dictionary is not part of the protocol), Z_DATA_ERROR,
		 * Z_MEM_ERROR and Z_STREAM_ERROR all end here. */
		if (ret != Z_OK && ret != Z_BUF_ERROR) {
			st = ZLIB_CORRUPT;
			break;
		}
		if (z.avail_in == in_before && z.avail_out == out_before) {
			/* No progress with output room left: the input ended mid-stream. */
			st = ZLIB_CORRUPT;
			break;
		}
	}
	inflateEnd(&z);
	return st;
}

enum zlib_unwrap_status wire_zlib_unwrap(char command[WIRE_COMMAND_SIZE + 1], uint8_t **out,
					 size_t *outlen, const uint8_t *payload, size_t len)
{
	struct cursor c;
	uint32_t declared;
	uint8_t *buf = NULL;
	enum zlib_unwrap_status st;

	memset(command, 0, WIRE_COMMAND_SIZE + 1);
	*out = NULL;
	*outlen = 0;
	cursor_init(&c, payload, len);
	st = read_header(&c, command, &declared);
	if (st != ZLIB_OK)
		goto fail;
	if (declared > 0) {
		buf = malloc(declared);
		if (!buf) {
			st = ZLIB_CORRUPT;
			goto fail;
		}
	}
	st = inflate_bounded(buf, declared, c.p, c.left);
	if (st != ZLIB_OK)
		goto fail;
	*out = buf;
	*outlen = declared;
	return ZLIB_OK;
fail:
	free(buf);
	memset(command, 0, WIRE_COMMAND_SIZE + 1);
	return st;
}

const char *zlib_unwrap_status_name(enum zlib_unwrap_status s)
{
	switch (s) {
	case ZLIB_OK:
		return "ok";
	case ZLIB_MALFORMED:
		return "malformed";
	case ZLIB_TOO_LARGE:
		return "too large";
	case ZLIB_BOMB:
		return "decompression bomb";
	case ZLIB_CORRUPT:
		return "corrupt";
	}
	return "unknown";
}
