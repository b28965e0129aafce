/* P2P frames: the 24-byte header (magic, command, length, checksum) and its checks.
 *
 * Byte-compatible with Bitcoin's framing (doc/protocol.md, "Frames"). No I/O here: the
 * transport layer feeds bytes in and takes bytes out. */
#ifndef P2PD_WIRE_FRAME_H
#define P2PD_WIRE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/hash.h"

#define WIRE_HEADER_SIZE  24
#define WIRE_COMMAND_SIZE 12
/* Largest payload a frame may announce: Bitcoin's 4,000,000 bytes. Big enough for the largest
 * message (a 256 KiB signed message, a 50,000-entry inv), small enough that a peer cannot make
 * us reserve much memory. */
#define WIRE_MAX_PAYLOAD 4000000u

struct frame_header {
	uint8_t magic[4];
	char command[WIRE_COMMAND_SIZE + 1]; /* NUL-terminated */
	uint32_t length;
	uint8_t checksum[4];
};

enum frame_status {
	FRAME_OK,
	FRAME_BAD_MAGIC,   /* not our network's magic */
	FRAME_BAD_COMMAND, /* command bytes invalid */
	FRAME_TOO_LARGE,   /* length above max_payload */
};

/* Name of a status for logs ("ok", "bad magic", ...). */
const char *frame_status_name(enum frame_status st);

/* Decode and check a header: magic, then command bytes (1-12 characters 0x21-0x7e, then only
 * NULs), then length against max_payload (normally WIRE_MAX_PAYLOAD); the first check that fails
 * is the status. The checksum is only copied (check it with frame_checksum_ok once the payload
 * is in). out is filled even when the status is not FRAME_OK, for logs: a bad command is shown
 * with trailing NULs dropped and every other byte outside 0x21-0x7e replaced by '?'. */
enum frame_status frame_header_decode(struct frame_header *out, const uint8_t in[WIRE_HEADER_SIZE],
				      const uint8_t magic[4], uint32_t max_payload);

/* Whether command is a valid command string (1-12 printable ASCII characters 0x21-0x7e). */
bool frame_command_valid(const char *command);

/* Write the header for a frame carrying payload under command into out. command must be valid
 * and len at most WIRE_MAX_PAYLOAD (asserted: we never build a frame a peer must refuse). */
void frame_header_encode(uint8_t out[WIRE_HEADER_SIZE], const uint8_t magic[4], const char *command,
			 const uint8_t *payload, size_t len);

/* Compute the 4-byte checksum of a payload: SHA-256d, first 4 bytes. */
void frame_checksum(uint8_t out[4], const uint8_t *payload, size_t len);
/* Whether payload matches the header's checksum (constant time is not needed: public data).
 * False as well when len is not h->length. */
bool frame_checksum_ok(const struct frame_header *h, const uint8_t *payload, size_t len);

/* A payload's checksum computed piece by piece while the payload arrives, so a large frame is
 * hashed as it is read instead of in one go when it is complete (a 4 MB frame is about 28 ms
 * of SHA-256d: other peers' messages would wait that long). */
struct frame_hasher {
	struct sha256_ctx sha;
	size_t done; /* payload bytes hashed so far */
};
void frame_hasher_start(struct frame_hasher *fh);
void frame_hasher_add(struct frame_hasher *fh, const uint8_t *data, size_t len);
/* Finish: whether the bytes added (exactly h->length of them) match h's checksum. The hasher
 * must be started again before reuse. */
bool frame_hasher_matches(struct frame_hasher *fh, const struct frame_header *h);

#endif
