/* Fuzz the inv/getdata/notfound decoder. Whatever the bytes, it must not read out of bounds,
 * leak or allocate for entries that are not there; a payload that decodes holds at most
 * WIRE_MAX_INV entries and re-encodes to exactly the bytes it was read from. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/inv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inv_entry *e = NULL;
	size_t count = 0;
	struct bytebuf b;

	if (wire_decode_inv(&e, &count, data, size) != 0) {
		assert(e == NULL && count == 0);
		return 0;
	}
	assert(count <= WIRE_MAX_INV);
	assert((count == 0) == (e == NULL));
	assert(size == compactsize_len(count) + 36 * count);
	bytebuf_init(&b, size);
	wire_encode_inv(&b, e, count);
	assert(bytebuf_ok(&b) && b.len == size && memcmp(b.data, data, size) == 0);
	bytebuf_free(&b);
	free(e);
	return 0;
}
