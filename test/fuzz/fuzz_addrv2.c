/* Fuzz the addrv2 decoder (BIP155). Whatever the bytes, it must not read out of bounds or leak,
 * and failures leave every output empty. A payload that decodes holds at most WIRE_MAX_ADDR
 * entries, each of a supported network with that network's length; when nothing was skipped it
 * re-encodes to exactly the bytes it was read from, and in every case the re-encoding of what
 * was kept decodes to the same entries with nothing skipped. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_entry(const struct wire_addrv2 *e)
{
	assert(e->net == ADDR_NET_IPV4 || e->net == ADDR_NET_IPV6 || e->net == ADDR_NET_TORV3 ||
	       e->net == ADDR_NET_I2P || e->net == ADDR_NET_CJDNS);
	assert(e->addrlen == wire_addrv2_net_len(e->net));
	for (size_t i = e->addrlen; i < sizeof(e->addr); i++)
		assert(e->addr[i] == 0);
}

static bool entry_equal(const struct wire_addrv2 *a, const struct wire_addrv2 *b)
{
	return a->time == b->time && a->services == b->services && a->net == b->net &&
	       a->addrlen == b->addrlen && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0 &&
	       a->port == b->port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_addrv2 *e = NULL, *again = NULL;
	size_t count = 0, skipped = 0, count2 = 0, skipped2 = 0;
	struct bytebuf b;

	if (wire_decode_addrv2(&e, &count, &skipped, data, size) != 0) {
		assert(e == NULL && count == 0 && skipped == 0);
		return 0;
	}
	assert(count + skipped <= WIRE_MAX_ADDR);
	assert((count == 0) == (e == NULL));
	for (size_t i = 0; i < count; i++)
		check_entry(&e[i]);

	/* Never longer than the input: the kept entries are a subset of its bytes. */
	bytebuf_init(&b, size);
	wire_encode_addrv2(&b, e, count);
	assert(bytebuf_ok(&b));
	if (skipped == 0)
		assert(b.len == size && memcmp(b.data, data, size) == 0);
	else
		assert(b.len < size);
	assert(wire_decode_addrv2(&again, &count2, &skipped2, b.data, b.len) == 0);
	assert(count2 == count && skipped2 == 0);
	for (size_t i = 0; i < count; i++)
		assert(entry_equal(&again[i], &e[i]));
	free(again);
	bytebuf_free(&b);
	free(e);
	return 0;
}
