/* Unit tests for crypto/hash: SHA-256 (FIPS 180-2 examples), double SHA-256, BIP340 tagged
 * hashes (against values computed independently with Python's hashlib, and rebuilt here from
 * plain SHA-256), HMAC-SHA256 (RFC 4231 test cases 1, 2 and 6: a key longer than a block),
 * constant-time comparison and wiping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "crypto/hash.h"
#include "util/bytes.h"
#include "util/random.h"

static void assert_hex(const uint8_t got[32], const char *expect_hex)
{
	uint8_t expect[32];
	assert_int_equal(hex_decode(expect, sizeof(expect), expect_hex), 0);
	assert_memory_equal(got, expect, 32);
}

static void test_sha256(void **state)
{
	(void)state;
	uint8_t h[32];
	sha256(h, "", 0);
	assert_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256(h, "abc", 3);
	assert_hex(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256(h, two_blocks, strlen(two_blocks));
	assert_hex(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* One bit of difference changes the hash. */
	sha256(h, "abd", 3);
	uint8_t abc[32];
	sha256(abc, "abc", 3);
	assert_memory_not_equal(h, abc, 32);
}

static void test_sha256d(void **state)
{
	(void)state;
	uint8_t h[32], once[32], twice[32];
	sha256d(h, "", 0);
	assert_hex(h, "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
	sha256d(h, "abc", 3);
	assert_hex(h, "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358");
	sha256(once, "abc", 3);
	sha256(twice, once, 32);
	assert_memory_equal(h, twice, 32);
	assert_memory_not_equal(h, once, 32);
}

/* SHA-256(SHA-256(tag) || SHA-256(tag) || data), from plain SHA-256 of a concatenation. */
static void tagged_by_hand(uint8_t out[32], const char *tag, const void *data, size_t len)
{
	uint8_t buf[64 + 256];
	assert_true(len <= 256);
	sha256(buf, tag, strlen(tag));
	memcpy(buf + 32, buf, 32);
	memcpy(buf + 64, data, len);
	sha256(out, buf, 64 + len);
}

static void test_tagged_hash(void **state)
{
	(void)state;
	uint8_t h[32], ref[32];
	/* Values from Python: t = sha256(tag); sha256(t + t + data). */
	tagged_hash(h, "BIP0340/challenge", "abc", 3);
	assert_hex(h, "770a5b7e7c304bbcc3ea107343ff951dd404312ef418db0c3b94e2ebfbb50087");
	tagged_hash(h, "p2pd/msgid", "", 0);
	assert_hex(h, "42dc8fbd4a4a64920b937ca878e1b680ba043acd569ab042c9477e14a975a5ee");

	static const uint8_t data[100] = {1, 2, 3};
	tagged_hash(h, "BIP0340/aux", data, sizeof(data));
	tagged_by_hand(ref, "BIP0340/aux", data, sizeof(data));
	assert_memory_equal(h, ref, 32);

	/* A hasher with the tag's prefix hashed once gives the same ids, for data of every length
	 * around SHA-256's 64-byte blocks. */
	struct tagged_hasher th;
	tagged_hasher_init(&th, "BIP0340/aux");
	for (size_t n = 0; n <= sizeof(data); n++) {
		tagged_hash(ref, "BIP0340/aux", data, n);
		tagged_hash_with(h, &th, data, n);
		assert_memory_equal(h, ref, 32);
	}

	/* The tag matters, and it is not a plain prefix of the data. */
	tagged_hash(h, "BIP0340/nonce", data, sizeof(data));
	assert_memory_not_equal(h, ref, 32);
	sha256(ref, data, sizeof(data));
	assert_memory_not_equal(h, ref, 32);
}

static void test_hmac_rfc4231(void **state)
{
	(void)state;
	uint8_t mac[32];
	/* Test case 1. */
	uint8_t key1[20];
	memset(key1, 0x0b, sizeof(key1));
	hmac_sha256(mac, key1, sizeof(key1), "Hi There", 8);
	assert_hex(mac, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* Test case 2: a key shorter than the 32 bytes crypto_auth_hmacsha256() expects. */
	static const char data2[] = "what do ya want for nothing?";
	hmac_sha256(mac, "Jefe", 4, data2, strlen(data2));
	assert_hex(mac, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Test case 6: a 131-byte key, hashed first. */
	uint8_t key6[131];
	memset(key6, 0xaa, sizeof(key6));
	static const char data6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	hmac_sha256(mac, key6, sizeof(key6), data6, strlen(data6));
	assert_hex(mac, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* A different key gives a different MAC. */
	hmac_sha256(mac, "Jeff", 4, data2, strlen(data2));
	uint8_t good[32];
	hmac_sha256(good, "Jefe", 4, data2, strlen(data2));
	assert_memory_not_equal(mac, good, 32);
}

static void test_ct_equal_and_wipe(void **state)
{
	(void)state;
	uint8_t a[32], b[32];
	random_bytes(a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(ct_equal(a, b, sizeof(a)), 1);
	b[31] ^= 1;
	assert_int_equal(ct_equal(a, b, sizeof(a)), 0);
	b[31] ^= 1;
	b[0] ^= 0x80;
	assert_int_equal(ct_equal(a, b, sizeof(a)), 0);
	assert_int_equal(ct_equal(a, b, 0), 1);

	uint8_t secret[48];
	memset(secret, 0xa5, sizeof(secret));
	secure_wipe(secret, sizeof(secret));
	static const uint8_t zero[48];
	assert_memory_equal(secret, zero, sizeof(secret));
}

int main(void)
{
	if (random_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_sha256d),
		cmocka_unit_test(test_tagged_hash),
		cmocka_unit_test(test_hmac_rfc4231),
		cmocka_unit_test(test_ct_equal_and_wipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
