/* P2P frames: the 24-byte header of every message (doc/protocol.md, "Frames").
 *
 * The header is read with a cursor, field by field; nothing is cast onto the input. Checks run
 * in the order of the fields (magic, command, length), so the first thing wrong is what the
 * status reports. The checksum is not checked here: the payload has not arrived when the header
 * is decoded, and the protocol's reaction to a bad checksum (drop the frame, keep the
 * connection) differs from the reaction to a bad header (disconnect). */
#include "wire/frame.h"

#include <assert.h>
#include <string.h>

#include "crypto/hash.h"
#include "util/bytes.h"

/* Printable ASCII without space: the bytes a command may hold before its NUL padding. */
#define COMMAND_CHAR_MIN 0x21
#define COMMAND_CHAR_MAX 0x7e
/* What a byte outside that range shows as in a logged bad command. */
#define COMMAND_CHAR_SUBST '?'

static bool command_char_ok(uint8_t ch)
{
	return ch >= COMMAND_CHAR_MIN && ch <= COMMAND_CHAR_MAX;
}

const char *frame_status_name(enum frame_status st)
{
	switch (st) {
	case FRAME_OK:
		return "ok";
	case FRAME_BAD_MAGIC:
		return "bad magic";
	case FRAME_BAD_COMMAND:
		return "bad command";
	case FRAME_TOO_LARGE:
		return "payload too large";
	}
	return "unknown";
}

bool frame_command_valid(const char *command)
{
	size_t n = 0;
	while (n <= WIRE_COMMAND_SIZE && command[n] != '\0') {
		if (!command_char_ok((uint8_t)command[n]))
			return false;
		n++;
	}
	return n >= 1 && n <= WIRE_COMMAND_SIZE;
}

/* Whether the 12 command bytes of a header are 1-12 command characters then only NULs. */
static bool command_bytes_valid(const uint8_t raw[WIRE_COMMAND_SIZE])
{
	size_t n = 0;
	while (n < WIRE_COMMAND_SIZE && raw[n] != 0) {
		if (!command_char_ok(raw[n]))
			return false;
		n++;
	}
	if (n == 0)
		return false;
	for (size_t i = n; i < WIRE_COMMAND_SIZE; i++) {
		if (raw[i] != 0)
			return false;
	}
	return true;
}

/* Copy the command bytes into a NUL-terminated string that is safe to log: trailing NULs are
 * dropped and any other byte outside the command range (an inner NUL included) shows as '?'.
 * For a valid command this is the command itself. */
static void command_copy(char out[WIRE_COMMAND_SIZE + 1], const uint8_t raw[WIRE_COMMAND_SIZE])
{
	size_t end = WIRE_COMMAND_SIZE;
	while (end > 0 && raw[end - 1] == 0)
		end--;
	for (size_t i = 0; i < end; i++)
		out[i] = command_char_ok(raw[i]) ? (char)raw[i] : COMMAND_CHAR_SUBST;
	memset(out + end, 0, WIRE_COMMAND_SIZE + 1 - end);
}

enum frame_status frame_header_decode(struct frame_header *out, const uint8_t in[WIRE_HEADER_SIZE],
				      const uint8_t magic[4], uint32_t max_payload)
{
	uint8_t raw_command[WIRE_COMMAND_SIZE];
	struct cursor c;

	cursor_init(&c, in, WIRE_HEADER_SIZE);
	cursor_bytes(&c, out->magic, sizeof(out->magic));
	cursor_bytes(&c, raw_command, sizeof(raw_command));
	out->length = cursor_u32le(&c);
	cursor_bytes(&c, out->checksum, sizeof(out->checksum));
	/* The input is a fixed-size array: the cursor cannot run out. */
	assert(cursor_ok(&c));
	command_copy(out->command, raw_command);

	if (memcmp(out->magic, magic, sizeof(out->magic)) != 0)
		return FRAME_BAD_MAGIC;
	if (!command_bytes_valid(raw_command))
		return FRAME_BAD_COMMAND;
	if (out->length > max_payload)
		return FRAME_TOO_LARGE;
	return FRAME_OK;
}

void frame_header_encode(uint8_t out[WIRE_HEADER_SIZE], const uint8_t magic[4], const char *command,
			 const uint8_t *payload, size_t len)
{
	/* Both are the caller's bug, never a peer's: we only send what we built. */
	assert(frame_command_valid(command));
	assert(len <= WIRE_MAX_PAYLOAD);

	size_t cmdlen = strlen(command);
	memcpy(out, magic, 4);
	memset(out + 4, 0, WIRE_COMMAND_SIZE);
	memcpy(out + 4, command, cmdlen); /* NOLINT: a NUL-padded field, not a string */
	uint32_t n = (uint32_t)len;
	for (size_t i = 0; i < 4; i++)
		out[16 + i] = (uint8_t)(n >> (8 * i));
	frame_checksum(out + 20, payload, len);
}

void frame_checksum(uint8_t out[4], const uint8_t *payload, size_t len)
{
	uint8_t h[32];
	/* sha256d of zero bytes must not touch the pointer; give it a valid one anyway. */
	sha256d(h, len ? (const void *)payload : (const void *)"", len);
	memcpy(out, h, 4);
}

void frame_hasher_start(struct frame_hasher *fh)
{
	sha256_init(&fh->sha);
	fh->done = 0;
}

void frame_hasher_add(struct frame_hasher *fh, const uint8_t *data, size_t len)
{
	sha256_update(&fh->sha, data, len);
	fh->done += len;
}

bool frame_hasher_matches(struct frame_hasher *fh, const struct frame_header *h)
{
	uint8_t first[32], second[32];
	bool ok = fh->done == h->length;
	sha256_final(&fh->sha, first);
	sha256(second, first, sizeof(first));
	return ok && memcmp(second, h->checksum, sizeof(h->checksum)) == 0;
}

bool frame_checksum_ok(const struct frame_header *h, const uint8_t *payload, size_t len)
{
	uint8_t sum[4];
	if (len != h->length)
		return false;
	frame_checksum(sum, payload, len);
	return memcmp(sum, h->checksum, sizeof(sum)) == 0;
}
