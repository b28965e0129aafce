/* Unit tests for wire/inv: exact bytes of a small inv, round trips with 0, 1 and WIRE_MAX_INV
 * entries, one entry too many, truncation at every byte, trailing bytes, a non-canonical
 * count, and a large claimed count with no entries behind it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/inv.h"

/* Room for WIRE_MAX_INV + 1 entries and their count. */
#define TEST_BUF_MAX ((WIRE_MAX_INV + 1) * 36 + 9)

static struct inv_entry *make_entries(size_t n)
{
	struct inv_entry *e = calloc(n ? n : 1, sizeof(*e));
	assert_non_null(e);
	for (size_t i = 0; i < n; i++) {
		e[i].type = i % 3 == 0 ? INV_SIGNED_MSG : (uint32_t)i;
		for (size_t j = 0; j < 32; j++)
			e[i].hash[j] = (uint8_t)(i * 31 + j);
	}
	return e;
}

static void encode(struct bytebuf *b, const struct inv_entry *e, size_t n)
{
	bytebuf_init(b, TEST_BUF_MAX);
	wire_encode_inv(b, e, n);
	assert_true(bytebuf_ok(b));
}

static void assert_malformed(const uint8_t *p, size_t len)
{
	/* Non-NULL and non-zero going in, so the test sees that both are cleared. */
	static struct inv_entry dummy;
	struct inv_entry *out = &dummy;
	size_t count = 99;

	assert_int_equal(wire_decode_inv(&out, &count, p, len), -1);
	assert_null(out);
	assert_int_equal(count, 0);
}

static void round_trip(size_t n)
{
	struct inv_entry *e = make_entries(n), *out = NULL;
	struct bytebuf b;
	size_t count = 0;

	encode(&b, e, n);
	assert_int_equal(b.len, compactsize_len(n) + 36 * n);
	assert_int_equal(wire_decode_inv(&out, &count, b.data, b.len), 0);
	assert_int_equal(count, n);
	if (n == 0) {
		assert_null(out);
	} else {
		assert_non_null(out);
		assert_memory_equal(out, e, n * sizeof(*e));
	}
	free(out);
	free(e);
	bytebuf_free(&b);
}

static void test_exact_bytes(void **state)
{
	static const char want[] =
		"02"
		"20000000"
		"0000000000000000000000000000000000000000000000000000000000000000"
		"01000000"
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
	struct inv_entry e[2];
	struct bytebuf b;
	char hex[sizeof(want)];
	(void)state;

	memset(e, 0, sizeof(e));
	e[0].type = INV_SIGNED_MSG;
	e[1].type = 1;
	memset(e[1].hash, 0xff, 32);
	encode(&b, e, 2);
	assert_int_equal(b.len, 1 + 2 * 36);
	hex_encode(hex, b.data, b.len);
	assert_string_equal(hex, want);
	bytebuf_free(&b);
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trip(0);
	round_trip(1);
	round_trip(252);
	round_trip(253); /* first count with a 3-byte compactsize */
	round_trip(WIRE_MAX_INV);
}

static void test_too_many(void **state)
{
	struct inv_entry *e = make_entries(WIRE_MAX_INV + 1);
	struct bytebuf b;
	(void)state;

	encode(&b, e, WIRE_MAX_INV + 1);
	assert_malformed(b.data, b.len);
	free(e);
	bytebuf_free(&b);
}

static void test_truncated_and_trailing(void **state)
{
	struct inv_entry *e = make_entries(3);
	struct bytebuf b;
	uint8_t *copy;
	(void)state;

	encode(&b, e, 3);
	for (size_t n = 0; n < b.len; n++) {
		copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, b.data, n);
		assert_malformed(copy, n);
		free(copy);
	}
	for (size_t extra = 1; extra <= 36; extra++) {
		copy = calloc(1, b.len + extra);
		assert_non_null(copy);
		memcpy(copy, b.data, b.len);
		assert_malformed(copy, b.len + extra);
		free(copy);
	}
	free(e);
	bytebuf_free(&b);
}

static void test_bad_counts(void **state)
{
	/* Count 1 written as fd 01 00: non-canonical. */
	uint8_t noncanon[3 + 36] = {0xfd, 0x01, 0x00};
	/* 50,000 entries claimed (fd 50 c3), none present: refused before allocating. */
	static const uint8_t claim[] = {0xfd, 0x50, 0xc3};
	/* A count far beyond the limit in the 9-byte form. */
	static const uint8_t huge[] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0x80};
	/* An empty payload has no count at all. */
	static const uint8_t empty[1] = {0};
	(void)state;

	assert_malformed(noncanon, sizeof(noncanon));
	assert_malformed(claim, sizeof(claim));
	assert_malformed(huge, sizeof(huge));
	assert_malformed(empty, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_bytes), cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_too_many),    cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_bad_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
