/* Fuzz zlib frame unwrapping. Whatever the bytes, wire_zlib_unwrap must not read out of bounds,
 * leak, or produce more than the declared length (at most WIRE_MAX_PAYLOAD); on success the
 * inner command is valid and not `zlib`, and wrapping the result again (when that pays) unwraps
 * to the same command and payload. Failures leave every output empty. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/compress.h"
#include "wire/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char nocmd[WIRE_COMMAND_SIZE + 1];
	char cmd[WIRE_COMMAND_SIZE + 1], cmd2[WIRE_COMMAND_SIZE + 1];
	uint8_t *out = NULL, *out2 = NULL;
	size_t outlen = 0, outlen2 = 0;
	struct bytebuf b;
	enum zlib_unwrap_status st = wire_zlib_unwrap(cmd, &out, &outlen, data, size);

	assert(zlib_unwrap_status_name(st) != NULL);
	if (st != ZLIB_OK) {
		assert(out == NULL && outlen == 0 && memcmp(cmd, nocmd, sizeof(cmd)) == 0);
		return 0;
	}
	assert(frame_command_valid(cmd) && strcmp(cmd, CMD_ZLIB) != 0);
	assert(outlen <= WIRE_MAX_PAYLOAD && (outlen == 0) == (out == NULL));
	/* The declared length is the uint32 after the command. */
	size_t at = 1 + strlen(cmd);
	uint32_t declared = (uint32_t)data[at] | (uint32_t)data[at + 1] << 8 |
			    (uint32_t)data[at + 2] << 16 | (uint32_t)data[at + 3] << 24;
	assert(outlen == declared);

	bytebuf_init(&b, WIRE_MAX_PAYLOAD);
	if (wire_zlib_wrap(&b, cmd, out, outlen) == 0) {
		assert(b.len < outlen);
		assert(wire_zlib_unwrap(cmd2, &out2, &outlen2, b.data, b.len) == ZLIB_OK);
		assert(strcmp(cmd, cmd2) == 0 && outlen2 == outlen &&
		       memcmp(out, out2, outlen) == 0);
	}
	free(out2);
	bytebuf_free(&b);
	free(out);
	return 0;
}
