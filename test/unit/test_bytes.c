/* Unit tests for util/bytes: fixed-width reads and writes, canonical compactsize at every
 * boundary, sticky failure, the bytebuf's bound and growth, and hex. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

static void test_fixed_width_roundtrip(void **state)
{
	(void)state;
	struct bytebuf b;
	bytebuf_init(&b, 1024);
	bytebuf_u8(&b, 0xab);
	bytebuf_u16le(&b, 0x1234);
	bytebuf_u16be(&b, 0x1234);
	bytebuf_u32le(&b, 0xdeadbeef);
	bytebuf_u64le(&b, 0x0102030405060708ull);
	bytebuf_i32le(&b, -2);
	bytebuf_i64le(&b, INT64_MIN);
	bytebuf_bool(&b, true);
	bytebuf_bool(&b, false);
	assert_true(bytebuf_ok(&b));
	assert_int_equal(b.len, 1 + 2 + 2 + 4 + 8 + 4 + 8 + 1 + 1);

	static const uint8_t expect[] = {
		0xab, 0x34, 0x12, 0x12, 0x34, 0xef, 0xbe, 0xad, 0xde, 0x08, 0x07,
		0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0xfe, 0xff, 0xff, 0xff, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00,
	};
	assert_memory_equal(b.data, expect, sizeof(expect));

	struct cursor c;
	cursor_init(&c, b.data, b.len);
	assert_int_equal(cursor_u8(&c), 0xab);
	assert_int_equal(cursor_u16le(&c), 0x1234);
	assert_int_equal(cursor_u16be(&c), 0x1234);
	assert_int_equal(cursor_u32le(&c), 0xdeadbeef);
	assert_true(cursor_u64le(&c) == 0x0102030405060708ull);
	assert_int_equal(cursor_i32le(&c), -2);
	assert_true(cursor_i64le(&c) == INT64_MIN);
	assert_true(cursor_bool(&c));
	assert_false(cursor_bool(&c));
	assert_true(cursor_ok(&c));
	assert_int_equal(c.left, 0);
	bytebuf_free(&b);
}

static void test_read_past_end_is_sticky(void **state)
{
	(void)state;
	static const uint8_t data[] = {1, 2, 3};
	struct cursor c;
	cursor_init(&c, data, sizeof(data));
	assert_int_equal(cursor_u16le(&c), 0x0201);
	assert_int_equal(cursor_u32le(&c), 0); /* only one byte left */
	assert_false(cursor_ok(&c));
	/* Every later read fails too, even one that would fit. */
	assert_int_equal(cursor_u8(&c), 0);
	assert_false(cursor_ok(&c));

	uint8_t out[4] = {9, 9, 9, 9};
	cursor_init(&c, data, sizeof(data));
	cursor_bytes(&c, out, 4);
	assert_false(cursor_ok(&c));
	static const uint8_t zero[4];
	assert_memory_equal(out, zero, 4); /* cleared on failure */

	cursor_init(&c, data, sizeof(data));
	assert_non_null(cursor_borrow(&c, 3));
	assert_null(cursor_borrow(&c, 1));
	assert_false(cursor_ok(&c));

	cursor_init(&c, data, sizeof(data));
	cursor_fail(&c);
	assert_false(cursor_ok(&c));
	assert_int_equal(cursor_u8(&c), 0);
}

static void test_borrow_in_place(void **state)
{
	(void)state;
	static const uint8_t data[] = {1, 2, 3, 4};
	struct cursor c;
	cursor_init(&c, data, sizeof(data));
	assert_ptr_equal(cursor_borrow(&c, 1), data);
	assert_ptr_equal(cursor_borrow(&c, 3), data + 1);
	assert_true(cursor_ok(&c));
	/* Zero bytes from an empty cursor is fine, and not NULL. */
	cursor_init(&c, NULL, 0);
	assert_non_null(cursor_borrow(&c, 0));
	assert_true(cursor_ok(&c));
}

static void test_bool_rejects_other_values(void **state)
{
	(void)state;
	static const uint8_t two[] = {2};
	struct cursor c;
	cursor_init(&c, two, 1);
	assert_false(cursor_bool(&c));
	assert_false(cursor_ok(&c));
}

struct cs_case {
	uint64_t v;
	size_t len;
	uint8_t enc[9];
};

static void test_compactsize_boundaries(void **state)
{
	(void)state;
	static const struct cs_case cases[] = {
		{0, 1, {0x00}},
		{0xfc, 1, {0xfc}},
		{0xfd, 3, {0xfd, 0xfd, 0x00}},
		{0xffff, 3, {0xfd, 0xff, 0xff}},
		{0x10000, 5, {0xfe, 0x00, 0x00, 0x01, 0x00}},
		{0xffffffff, 5, {0xfe, 0xff, 0xff, 0xff, 0xff}},
		{0x100000000ull, 9, {0xff, 0, 0, 0, 0, 1, 0, 0, 0}},
		{UINT64_MAX, 9, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cs_case *k = &cases[i];
		assert_int_equal(compactsize_len(k->v), k->len);

		struct bytebuf b;
		bytebuf_init(&b, 9);
		bytebuf_compactsize(&b, k->v);
		assert_true(bytebuf_ok(&b));
		assert_int_equal(b.len, k->len);
		assert_memory_equal(b.data, k->enc, k->len);
		bytebuf_free(&b);

		struct cursor c;
		cursor_init(&c, k->enc, k->len);
		assert_true(cursor_compactsize(&c, UINT64_MAX) == k->v);
		assert_true(cursor_ok(&c));
		assert_int_equal(c.left, 0);
	}
}

static void test_compactsize_non_canonical(void **state)
{
	(void)state;
	/* Each value encoded with a longer prefix than it needs. */
	static const uint8_t bad[][9] = {
		{0xfd, 0xfc, 0x00},                         /* 0xfc in 3 bytes */
		{0xfd, 0x00, 0x00},                         /* 0 in 3 bytes */
		{0xfe, 0xff, 0xff, 0x00, 0x00},             /* 0xffff in 5 bytes */
		{0xfe, 0xfd, 0x00, 0x00, 0x00},             /* 0xfd in 5 bytes */
		{0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, /* 0xffffffff in 9 bytes */
		{0xff, 0x01, 0, 0, 0, 0, 0, 0, 0},          /* 1 in 9 bytes */
	};
	static const size_t lens[] = {3, 3, 5, 5, 9, 9};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct cursor c;
		cursor_init(&c, bad[i], lens[i]);
		assert_true(cursor_compactsize(&c, UINT64_MAX) == 0);
		assert_false(cursor_ok(&c));
	}
}

static void test_compactsize_truncated_and_max(void **state)
{
	(void)state;
	static const uint8_t trunc[] = {0xfe, 0x00, 0x00, 0x01}; /* needs 4 bytes after 0xfe */
	struct cursor c;
	cursor_init(&c, trunc, sizeof(trunc));
	assert_true(cursor_compactsize(&c, UINT64_MAX) == 0);
	assert_false(cursor_ok(&c));

	cursor_init(&c, NULL, 0);
	cursor_compactsize(&c, UINT64_MAX);
	assert_false(cursor_ok(&c));

	static const uint8_t thousand[] = {0xfd, 0xe8, 0x03};
	cursor_init(&c, thousand, sizeof(thousand));
	assert_int_equal(cursor_compactsize(&c, 1000), 1000);
	assert_true(cursor_ok(&c));
	cursor_init(&c, thousand, sizeof(thousand));
	assert_int_equal(cursor_compactsize(&c, 999), 0);
	assert_false(cursor_ok(&c));
}

static void test_bytebuf_bound(void **state)
{
	(void)state;
	struct bytebuf b;
	bytebuf_init(&b, 10);
	bytebuf_append(&b, "0123456789", 10);
	assert_true(bytebuf_ok(&b));
	assert_int_equal(b.len, 10);
	assert_true(b.cap <= 10); /* never allocates past max */
	bytebuf_u8(&b, 1);
	assert_false(bytebuf_ok(&b));
	assert_int_equal(b.len, 10);
	/* Sticky: a write that would fit still fails. */
	bytebuf_reset(&b);
	assert_true(bytebuf_ok(&b)); /* reset starts over */
	assert_int_equal(b.len, 0);
	bytebuf_append(&b, "0123456789a", 11);
	assert_false(bytebuf_ok(&b));
	bytebuf_append(&b, "0", 1);
	assert_false(bytebuf_ok(&b));
	assert_int_equal(b.len, 0);
	bytebuf_free(&b);
	bytebuf_free(&b); /* twice is harmless */

	bytebuf_init(&b, 0);
	bytebuf_append(&b, NULL, 0);
	assert_true(bytebuf_ok(&b));
	bytebuf_u8(&b, 0);
	assert_false(bytebuf_ok(&b));
	bytebuf_free(&b);
}

static void test_bytebuf_grows_geometrically(void **state)
{
	(void)state;
	struct bytebuf b;
	const size_t max = 1 << 20;
	bytebuf_init(&b, max);
	size_t reallocs = 0, last_cap = 0;
	for (size_t i = 0; i < max; i++) {
		bytebuf_u8(&b, (uint8_t)i);
		if (b.cap != last_cap) {
			reallocs++;
			last_cap = b.cap;
		}
	}
	assert_true(bytebuf_ok(&b));
	assert_int_equal(b.len, max);
	assert_int_equal(b.cap, max);
	assert_true(reallocs <= 20); /* doubling: about log2(max / 64) + 1 */
	for (size_t i = 0; i < max; i += 4099)
		assert_int_equal(b.data[i], (uint8_t)i);
	bytebuf_u8(&b, 0);
	assert_false(bytebuf_ok(&b));
	bytebuf_free(&b);

	/* A huge append against a huge max fails cleanly (allocation failure or bound). */
	bytebuf_init(&b, SIZE_MAX);
	bytebuf_u8(&b, 1);
	bytebuf_append(&b, "x", SIZE_MAX);
	assert_false(bytebuf_ok(&b));
	bytebuf_free(&b);
}

static void test_hex(void **state)
{
	(void)state;
	static const uint8_t data[] = {0x00, 0x01, 0xab, 0xff};
	char hex[9];
	hex_encode(hex, data, sizeof(data));
	assert_string_equal(hex, "0001abff");
	hex_encode(hex, data, 0);
	assert_string_equal(hex, "");

	uint8_t out[4];
	assert_int_equal(hex_decode(out, 4, "0001ABff"), 0);
	assert_memory_equal(out, data, 4);

	/* Wrong length, odd length, bad characters, embedded NUL: all refused, out cleared. */
	static const char *const bad[] = {"0001abf", "0001abff00", "0001abgg", "0001ab f",
					  "",        "0x01abff",   "-001abff"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(out, 0x55, sizeof(out));
		assert_int_equal(hex_decode(out, 4, bad[i]), -1);
		static const uint8_t zero[4];
		assert_memory_equal(out, zero, 4);
	}
	assert_int_equal(hex_decode(out, 0, ""), 0);
	assert_int_equal(hex_decode(out, 0, "00"), -1);
}

static void test_hex_decode_alloc(void **state)
{
	(void)state;
	uint8_t *out;
	size_t len;
	assert_int_equal(hex_decode_alloc("deadBEEF", 4, &out, &len), 0);
	assert_int_equal(len, 4);
	static const uint8_t expect[] = {0xde, 0xad, 0xbe, 0xef};
	assert_memory_equal(out, expect, 4);
	free(out);

	assert_int_equal(hex_decode_alloc("", 4, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);

	assert_int_equal(hex_decode_alloc("deadbeef00", 4, &out, &len), -1); /* over maxlen */
	assert_null(out);
	assert_int_equal(len, 0);
	assert_int_equal(hex_decode_alloc("abc", 4, &out, &len), -1); /* odd */
	assert_null(out);
	assert_int_equal(hex_decode_alloc("zz", 4, &out, &len), -1);
	assert_null(out);
	assert_int_equal(hex_decode_alloc("00", 0, &out, &len), -1);
	assert_int_equal(hex_decode_alloc("00", SIZE_MAX, &out, &len), 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_width_roundtrip),
		cmocka_unit_test(test_read_past_end_is_sticky),
		cmocka_unit_test(test_borrow_in_place),
		cmocka_unit_test(test_bool_rejects_other_values),
		cmocka_unit_test(test_compactsize_boundaries),
		cmocka_unit_test(test_compactsize_non_canonical),
		cmocka_unit_test(test_compactsize_truncated_and_max),
		cmocka_unit_test(test_bytebuf_bound),
		cmocka_unit_test(test_bytebuf_grows_geometrically),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_hex_decode_alloc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
