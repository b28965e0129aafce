/* Fuzz the node key file's parser, key_seckey_parse (crypto/keys.c), fed the file's bytes as
 * load_node_key (src/node/init.c) feeds it. Properties:
 *   - it accepts exactly what a reference reading written here accepts: trailing spaces, CRs and
 *     LFs dropped, then exactly 64 hex digits (either case) whose value, big-endian, is neither
 *     zero nor at or above the group order n;
 *   - an accepted key is those digits (hex_encode gives them back, in lower case), and the form
 *     p2pd writes (the lower-case digits and a newline) parses back to the same key;
 *   - a refused input leaves the key all zero. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/keys.h"
#include "util/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The order of secp256k1's group, big-endian. */
static const uint8_t order_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
	0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static int nibble(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The reference reading: true with key set when the input is a valid key file. */
static bool reference(uint8_t key[32], const uint8_t *p, size_t len)
{
	static const uint8_t zero[32];
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r' || p[len - 1] == '\n'))
		len--;
	if (len != 64)
		return false;
	for (size_t i = 0; i < 32; i++) {
		int hi = nibble(p[2 * i]), lo = nibble(p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return memcmp(key, zero, 32) != 0 && memcmp(key, order_n, 32) < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[32];
	uint8_t sk[32], ref[32], again[32];
	char hex[64 + 2];

	memset(sk, 0x5a, sizeof(sk));
	int rc = key_seckey_parse(sk, (const char *)data, size);
	bool want = reference(ref, data, size);
	assert((rc == 0) == want);
	if (rc != 0) {
		assert(rc == -1 && memcmp(sk, zero, 32) == 0);
		return 0;
	}
	assert(memcmp(sk, ref, 32) == 0);
	hex_encode(hex, sk, 32);
	for (size_t i = 0; i < 64; i++)
		assert(hex[i] ==
		       (char)(data[i] >= 'A' && data[i] <= 'F' ? data[i] - 'A' + 'a' : data[i]));
	hex[64] = '\n';
	hex[65] = '\0';
	assert(key_seckey_parse(again, hex, 65) == 0 && memcmp(again, sk, 32) == 0);
	return 0;
}
