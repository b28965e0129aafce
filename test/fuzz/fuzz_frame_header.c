/* Fuzz the frame header decoder: any 24 bytes (the regtest magic is the expected one, so inputs
 * need not guess it) must decode without reading out of bounds, give the status of the first bad
 * field, and leave a printable command. A header that decodes re-encodes to the same 20 bytes,
 * and its checksum matches the rest of the input exactly when frame_checksum_ok says so. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_magic[4] = {0xfb, 0xc4, 0xe9, 0xa7};

/* Whether a logged command is at most 12 bytes of 0x21-0x7e. */
static bool printable(const char *s)
{
	size_t n = strlen(s);
	if (n > WIRE_COMMAND_SIZE)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((uint8_t)s[i] < 0x21 || (uint8_t)s[i] > 0x7e)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t raw[WIRE_HEADER_SIZE] = {0};
	struct frame_header h;

	/* Short inputs are padded with zeros, so every input reaches the decoder. */
	memcpy(raw, data, size < WIRE_HEADER_SIZE ? size : WIRE_HEADER_SIZE);
	const uint8_t *payload = size > WIRE_HEADER_SIZE ? data + WIRE_HEADER_SIZE : NULL;
	size_t plen = size > WIRE_HEADER_SIZE ? size - WIRE_HEADER_SIZE : 0;

	enum frame_status st = frame_header_decode(&h, raw, fuzz_magic, WIRE_MAX_PAYLOAD);
	assert(frame_status_name(st) != NULL);
	assert(printable(h.command));
	assert(memcmp(h.magic, raw, 4) == 0);
	assert(memcmp(h.checksum, raw + 20, 4) == 0);
	assert((st == FRAME_BAD_MAGIC) == (memcmp(raw, fuzz_magic, 4) != 0));
	if (st != FRAME_BAD_MAGIC && st != FRAME_BAD_COMMAND)
		assert(frame_command_valid(h.command));
	if (st == FRAME_TOO_LARGE)
		assert(h.length > WIRE_MAX_PAYLOAD);
	if (st == FRAME_OK)
		assert(h.length <= WIRE_MAX_PAYLOAD);
	if (st != FRAME_OK)
		return 0;

	uint8_t again[WIRE_HEADER_SIZE];
	size_t n = h.length <= plen ? h.length : plen;
	frame_header_encode(again, fuzz_magic, h.command, payload, n);
	assert(memcmp(again, raw, 16) == 0);
	if (n == h.length) {
		assert(memcmp(again, raw, 20) == 0);
		bool same = memcmp(again + 20, raw + 20, 4) == 0;
		assert(frame_checksum_ok(&h, payload, n) == same);
	} else {
		assert(!frame_checksum_ok(&h, payload, n));
	}
	return 0;
}
