/* Fuzz the byte cursor: compactsize and fixed-width reads must never read out of bounds, and a
 * value that decodes must re-encode to the same bytes. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c;
	cursor_init(&c, data, size);
	while (cursor_ok(&c) && c.left > 0) {
		const uint8_t *start = c.p;
		uint64_t v = cursor_compactsize(&c, UINT64_MAX);
		if (!cursor_ok(&c))
			break;
		size_t used = (size_t)(c.p - start);
		assert(used == compactsize_len(v));
		struct bytebuf b;
		bytebuf_init(&b, 9);
		bytebuf_compactsize(&b, v);
		assert(bytebuf_ok(&b) && b.len == used && memcmp(b.data, start, used) == 0);
		bytebuf_free(&b);
		(void)cursor_u32le(&c);
	}
	return 0;
}
