/* Unit tests for crypto/keys: every row of the official BIP340 test vectors
 * (test/vectors/bip340-test-vectors.csv), invalid secret keys, the text form of a secret key,
 * key generation, and signatures that must not verify. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "util/bytes.h"
#include "util/random.h"

/* Longest line of the vectors file (the longest today is about 420 characters). */
#define VEC_MAX_LINE 2048
/* Longest message in a vector, in bytes (today: 0 to 100). */
#define VEC_MAX_MSG 1024
/* The official file has 15 rows (0-14) or, in its newer revision, 19; fewer means it was
 * truncated. */
#define VEC_MIN_ROWS 15

struct vector {
	long index;
	bool has_seckey;
	uint8_t seckey[32];
	uint8_t pubkey[32];
	bool has_aux;
	uint8_t aux[32];
	uint8_t *msg; /* malloc'd */
	size_t msglen;
	uint8_t sig[64];
	bool expected;
};

/* The secp256k1 group order n, and n-1 and n+1. */
static const uint8_t order_n[32] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
	0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static FILE *open_vectors(void)
{
	char path[1024];
	const char *dir = getenv("TEST_VECTORS_DIR");
	const char *top = getenv("top_srcdir");

	if (dir && *dir)
		snprintf(path, sizeof(path), "%s/bip340-test-vectors.csv", dir);
	else if (top && *top)
		snprintf(path, sizeof(path), "%s/test/vectors/bip340-test-vectors.csv", top);
	else
		snprintf(path, sizeof(path), "test/vectors/bip340-test-vectors.csv");
	FILE *f = fopen(path, "r");
	if (!f)
		print_error("cannot open %s (set TEST_VECTORS_DIR or top_srcdir)\n", path);
	return f;
}

/* Split line in place at commas into at most max fields; the last field keeps any further
 * commas (the comment column). Returns the number of fields. */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		fields[n++] = p;
		if (n == max)
			break;
		char *comma = strchr(p, ',');
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return n;
}

/* Parse one data row into v. Returns 0, or -1 if the row is malformed. */
static int parse_row(char *line, struct vector *v)
{
	char *f[8];
	char *end;

	memset(v, 0, sizeof(*v));
	if (split_fields(line, f, 8) < 7)
		return -1;
	v->index = strtol(f[0], &end, 10);
	if (end == f[0] || *end)
		return -1;
	v->has_seckey = f[1][0] != '\0';
	if (v->has_seckey && hex_decode(v->seckey, 32, f[1]) != 0)
		return -1;
	if (hex_decode(v->pubkey, 32, f[2]) != 0)
		return -1;
	v->has_aux = f[3][0] != '\0';
	if (v->has_aux && hex_decode(v->aux, 32, f[3]) != 0)
		return -1;
	if (hex_decode_alloc(f[4], VEC_MAX_MSG, &v->msg, &v->msglen) != 0)
		return -1;
	if (hex_decode(v->sig, 64, f[5]) != 0)
		return -1;
	if (strcmp(f[6], "TRUE") == 0)
		v->expected = true;
	else if (strcmp(f[6], "FALSE") == 0)
		v->expected = false;
	else
		return -1;
	return 0;
}

/* big holds every row's key; tiny has one slot, so consecutive rows evict each other. */
static void check_vector(const struct vector *v, size_t *signed_rows, struct key_cache *big,
			 struct key_cache *tiny)
{
	if (v->has_seckey) {
		uint8_t pub[32], sig[64];

		assert_int_equal(key_seckey_valid(v->seckey), 1);
		assert_int_equal(key_xonly_pubkey(pub, v->seckey), 0);
		if (memcmp(pub, v->pubkey, 32) != 0)
			fail_msg("row %ld: derived public key differs", v->index);
		/* The API signs 32-byte message ids only; rows with other lengths are verified
		 * below but cannot be signed through it. */
		if (v->msglen == 32) {
			assert_true(v->has_aux);
			assert_int_equal(key_sign_schnorr(sig, v->msg, v->seckey, v->aux), 0);
			if (memcmp(sig, v->sig, 64) != 0)
				fail_msg("row %ld: signature differs", v->index);
			(*signed_rows)++;
		}
	}
	int got = key_verify_schnorr(v->sig, v->msg, v->msglen, v->pubkey);
	if (got != (v->expected ? 1 : 0))
		fail_msg("row %ld: verify returned %d, expected %s", v->index, got,
			 v->expected ? "TRUE" : "FALSE");
	/* The same verdict through the parsed-key caches: a miss, then a hit (or a second
	 * refusal: an invalid key is never stored). */
	for (int k = 0; k < 2; k++) {
		if (key_verify_schnorr_cached(big, v->sig, v->msg, v->msglen, v->pubkey) != got ||
		    key_verify_schnorr_cached(tiny, v->sig, v->msg, v->msglen, v->pubkey) != got)
			fail_msg("row %ld: a cached verification differs", v->index);
	}
}

static void test_bip340_vectors(void **state)
{
	(void)state;
	char line[VEC_MAX_LINE];
	size_t rows = 0, signed_rows = 0, valid_rows = 0;
	FILE *f = open_vectors();
	struct key_cache *big = key_cache_new(64), *tiny = key_cache_new(1);

	assert_non_null(f);
	assert_non_null(big);
	assert_non_null(tiny);
	assert_non_null(fgets(line, sizeof(line), f)); /* header */
	assert_int_equal(strncmp(line, "index,secret key,public key", 27), 0);
	while (fgets(line, sizeof(line), f)) {
		struct vector v;

		if (line[0] == '\n' || line[0] == '\r' || line[0] == '\0')
			continue;
		if (!strchr(line, '\n') && !feof(f))
			fail_msg("line after row %zu longer than %d", rows, VEC_MAX_LINE);
		if (parse_row(line, &v) != 0)
			fail_msg("malformed vector row after %zu rows: %s", rows, line);
		if ((size_t)v.index != rows)
			fail_msg("row %ld out of order", v.index);
		check_vector(&v, &signed_rows, big, tiny);
		if (v.expected)
			valid_rows++;
		free(v.msg);
		rows++;
	}
	fclose(f);
	key_cache_free(big);
	key_cache_free(tiny);
	assert_true(rows >= VEC_MIN_ROWS);
	assert_true(signed_rows >= 4);
	assert_true(valid_rows >= 5);
	assert_true(rows > valid_rows); /* the file has rows that must fail too */
}

static void expect_invalid_seckey(const uint8_t sk[32])
{
	uint8_t pub[32], sig[64], msg[32] = {0}, aux[32] = {0};

	assert_int_equal(key_seckey_valid(sk), 0);
	memset(pub, 0xaa, sizeof(pub));
	assert_int_equal(key_xonly_pubkey(pub, sk), -1);
	for (size_t i = 0; i < sizeof(pub); i++)
		assert_int_equal(pub[i], 0);
	memset(sig, 0xaa, sizeof(sig));
	assert_int_equal(key_sign_schnorr(sig, msg, sk, aux), -1);
	for (size_t i = 0; i < sizeof(sig); i++)
		assert_int_equal(sig[i], 0);
}

static void test_invalid_seckeys(void **state)
{
	(void)state;
	uint8_t sk[32];

	memset(sk, 0, sizeof(sk)); /* zero */
	expect_invalid_seckey(sk);
	memcpy(sk, order_n, 32); /* n */
	expect_invalid_seckey(sk);
	sk[31]++; /* n + 1 */
	expect_invalid_seckey(sk);
	memset(sk, 0xff, sizeof(sk)); /* 2^256 - 1 */
	expect_invalid_seckey(sk);

	/* The edges of the valid range: 1 and n - 1. */
	uint8_t pub[32];
	memset(sk, 0, sizeof(sk));
	sk[31] = 1;
	assert_int_equal(key_seckey_valid(sk), 1);
	assert_int_equal(key_xonly_pubkey(pub, sk), 0);
	memcpy(sk, order_n, 32);
	sk[31]--;
	assert_int_equal(key_seckey_valid(sk), 1);
	assert_int_equal(key_xonly_pubkey(pub, sk), 0);
}

/* Expect key_seckey_parse to refuse text (len bytes) and leave the key cleared. */
static void expect_parse_refused(const char *text, size_t len)
{
	uint8_t sk[32];
	memset(sk, 0xaa, sizeof(sk));
	if (key_seckey_parse(sk, text, len) != -1)
		fail_msg("accepted %zu bytes: %.*s", len, (int)len, text);
	for (size_t i = 0; i < sizeof(sk); i++)
		assert_int_equal(sk[i], 0);
}

/* The node key file's text form: 64 hex digits, then only blanks that end lines. */
static void test_seckey_parse(void **state)
{
	(void)state;
	static const char one[] =
		"0000000000000000000000000000000000000000000000000000000000000001";
	static const char mixed[] =
		"B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190cfef";
	uint8_t sk[32], want[32];
	char text[160];

	memset(want, 0, sizeof(want));
	want[31] = 1;
	assert_int_equal(key_seckey_parse(sk, one, 64), 0);
	assert_memory_equal(sk, want, 32);
	/* Trailing LF, CRLF, spaces: as written by hand or by another system. */
	static const char *const tails[] = {"\n", "\r\n", "  \n\n", " "};
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", one, tails[i]);
		assert_int_equal(key_seckey_parse(sk, text, strlen(text)), 0);
		assert_memory_equal(sk, want, 32);
	}
	/* Either case. */
	assert_int_equal(hex_decode(want, 32, mixed), 0);
	assert_int_equal(key_seckey_parse(sk, mixed, 64), 0);
	assert_memory_equal(sk, want, 32);
	/* Not NUL-terminated: only len bytes are read. */
	memcpy(text, one, 64);
	text[64] = 'x';
	assert_int_equal(key_seckey_parse(sk, text, 64), 0);

	expect_parse_refused("", 0);
	expect_parse_refused("\n", 1);
	expect_parse_refused(one, 63);            /* one digit short */
	expect_parse_refused(text, 65);           /* a 65th character */
	snprintf(text, sizeof(text), " %s", one); /* a leading blank */
	expect_parse_refused(text, strlen(text));
	snprintf(text, sizeof(text), "%s\t", one); /* a tab is not allowed */
	expect_parse_refused(text, strlen(text));
	snprintf(text, sizeof(text), "%s00", one); /* 66 digits */
	expect_parse_refused(text, strlen(text));
	memcpy(text, one, 65);
	text[10] = '\0'; /* a NUL among the digits */
	expect_parse_refused(text, 64);
	text[10] = 'g'; /* a non-digit */
	expect_parse_refused(text, 64);
	/* Hex of an invalid key: zero, the group order n. */
	expect_parse_refused("0000000000000000000000000000000000000000000000000000000000000000",
			     64);
	hex_encode(text, order_n, 32);
	expect_parse_refused(text, 64);
}

static void test_generate_sign_verify(void **state)
{
	(void)state;
	uint8_t a[32], b[32], pa[32], pb[32], msg[32], s1[64], s2[64];

	assert_int_equal(key_generate(a), 0);
	assert_int_equal(key_generate(b), 0);
	assert_int_equal(key_seckey_valid(a), 1);
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(key_xonly_pubkey(pa, a), 0);
	assert_int_equal(key_xonly_pubkey(pb, b), 0);
	assert_memory_not_equal(pa, pb, 32);

	random_bytes(msg, sizeof(msg));
	/* NULL aux draws fresh randomness: two signatures differ, both verify. */
	assert_int_equal(key_sign_schnorr(s1, msg, a, NULL), 0);
	assert_int_equal(key_sign_schnorr(s2, msg, a, NULL), 0);
	assert_memory_not_equal(s1, s2, 64);
	assert_int_equal(key_verify_schnorr(s1, msg, 32, pa), 1);
	assert_int_equal(key_verify_schnorr(s2, msg, 32, pa), 1);

	/* Wrong key, changed message, changed signature, wrong length: all rejected. */
	assert_int_equal(key_verify_schnorr(s1, msg, 32, pb), 0);
	msg[0] ^= 1;
	assert_int_equal(key_verify_schnorr(s1, msg, 32, pa), 0);
	msg[0] ^= 1;
	assert_int_equal(key_verify_schnorr(s1, msg, 31, pa), 0);
	s1[63] ^= 0x80;
	assert_int_equal(key_verify_schnorr(s1, msg, 32, pa), 0);
	s1[63] ^= 0x80;
	assert_int_equal(key_verify_schnorr(s1, msg, 32, pa), 1);
	/* A NULL message with a non-zero length is refused, not dereferenced. */
	assert_int_equal(key_verify_schnorr(s1, NULL, 32, pa), 0);
}

static void test_verify_bad_pubkey(void **state)
{
	(void)state;
	uint8_t sk[32], msg[32] = {1}, sig[64], pub[32];

	assert_int_equal(key_generate(sk), 0);
	assert_int_equal(key_sign_schnorr(sig, msg, sk, NULL), 0);
	/* x >= p is not a field element; all zeros is not on the curve. */
	memset(pub, 0xff, sizeof(pub));
	assert_int_equal(key_verify_schnorr(sig, msg, 32, pub), 0);
	memset(pub, 0, sizeof(pub));
	assert_int_equal(key_verify_schnorr(sig, msg, 32, pub), 0);
}

/* A cached key gives the verdicts of a parsed one: right key, wrong key in the same slot, a
 * signature by another key, sizes out of range refused. */
static void test_key_cache(void **state)
{
	(void)state;
	uint8_t ska[32], skb[32], pa[32], pb[32], msg[32] = {7}, sa[64], sb[64], bad[32];
	struct key_cache *kc = key_cache_new(1);

	assert_null(key_cache_new(0));
	assert_null(key_cache_new((size_t)KEY_CACHE_MAX_SLOTS + 1));
	assert_non_null(kc);
	assert_int_equal(key_generate(ska), 0);
	assert_int_equal(key_generate(skb), 0);
	assert_int_equal(key_xonly_pubkey(pa, ska), 0);
	assert_int_equal(key_xonly_pubkey(pb, skb), 0);
	assert_int_equal(key_sign_schnorr(sa, msg, ska, NULL), 0);
	assert_int_equal(key_sign_schnorr(sb, msg, skb, NULL), 0);
	memset(bad, 0xff, sizeof(bad));
	for (int round = 0; round < 3; round++) {
		assert_int_equal(key_verify_schnorr_cached(kc, sa, msg, 32, pa), 1);
		assert_int_equal(key_verify_schnorr_cached(kc, sa, msg, 32, pa), 1);
		assert_int_equal(key_verify_schnorr_cached(kc, sa, msg, 32, pb), 0);
		assert_int_equal(key_verify_schnorr_cached(kc, sb, msg, 32, pb), 1);
		assert_int_equal(key_verify_schnorr_cached(kc, sb, msg, 32, pa), 0);
		assert_int_equal(key_verify_schnorr_cached(kc, sb, msg, 32, bad), 0);
		assert_int_equal(key_verify_schnorr_cached(NULL, sa, msg, 32, pa), 1);
	}
	key_cache_free(kc);
	key_cache_free(NULL);
}

static void test_init_idempotent(void **state)
{
	(void)state;
	uint8_t sk[32], pub[32];

	assert_int_equal(keys_init(), 0);
	assert_int_equal(keys_init(), 0);
	keys_shutdown();
	keys_shutdown();
	/* Used again after shutdown: the context is created on first use. */
	assert_int_equal(key_generate(sk), 0);
	assert_int_equal(key_xonly_pubkey(pub, sk), 0);
	assert_int_equal(keys_init(), 0);
}

static int setup(void **state)
{
	(void)state;
	if (random_init() != 0 || keys_init() != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	keys_shutdown();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bip340_vectors),
		cmocka_unit_test(test_invalid_seckeys),
		cmocka_unit_test(test_seckey_parse),
		cmocka_unit_test(test_generate_sign_verify),
		cmocka_unit_test(test_verify_bad_pubkey),
		cmocka_unit_test(test_key_cache),
		cmocka_unit_test(test_init_idempotent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
