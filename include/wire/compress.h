/* Compressed frames (doc/protocol.md, "zlib").
 *
 * Peers that both sent `sendzlib` during the handshake may wrap any message in a `zlib` frame:
 * payload = compactsize length of the inner command (1-12), the inner command, uint32 LE
 * uncompressed length, then a zlib stream of the inner payload. Inflation is bounded by the
 * declared length and by WIRE_MAX_PAYLOAD: a stream that would inflate to more (a
 * decompression bomb), to less, or that is corrupt is rejected without allocating beyond the
 * declared length. */
#ifndef P2PD_WIRE_COMPRESS_H
#define P2PD_WIRE_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "wire/frame.h"

#define CMD_SENDZLIB "sendzlib"
#define CMD_ZLIB     "zlib"
/* Payloads smaller than this are sent as they are: deflate would not pay for its header. */
#define ZLIB_MIN_PAYLOAD 512

/* Build a zlib frame payload for (command, payload). Returns 0, or -1 if the compressed form is
 * not smaller than the original (then send it uncompressed) or on error. */
int wire_zlib_wrap(struct bytebuf *out, const char *command, const uint8_t *payload, size_t len);

enum zlib_unwrap_status {
	ZLIB_OK,
	ZLIB_MALFORMED, /* bad header fields or inner command */
	ZLIB_TOO_LARGE, /* declared length above WIRE_MAX_PAYLOAD */
	ZLIB_BOMB,      /* inflates past the declared length */
	ZLIB_CORRUPT,   /* not a valid zlib stream, or shorter than declared */
};

/* Unwrap a zlib frame payload: inner command into command (WIRE_COMMAND_SIZE+1 bytes) and the
 * inflated payload into *out (malloc'd, caller frees; NULL when empty) / *outlen. */
enum zlib_unwrap_status wire_zlib_unwrap(char command[WIRE_COMMAND_SIZE + 1], uint8_t **out,
					 size_t *outlen, const uint8_t *payload, size_t len);
const char *zlib_unwrap_status_name(enum zlib_unwrap_status s);

#endif
