/* Unit tests for wire/frame: the exact header bytes, the checksum (SHA-256d, first 4 bytes, as
 * Bitcoin: 5df6e0e2 for an empty payload), round trips, and every way a header can be refused
 * (each magic byte, each kind of bad command byte, length at and past the maximum) with the
 * check order doc/protocol.md implies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/frame.h"

static const uint8_t regtest_magic[4] = {0xfb, 0xc4, 0xe9, 0xa7};
static const uint8_t main_magic[4] = {0xf7, 0xa2, 0xd6, 0x93};

static void assert_hex_equal(const uint8_t *got, size_t len, const char *expect_hex)
{
	uint8_t expect[64];
	assert_true(len <= sizeof(expect));
	assert_int_equal(hex_decode(expect, len, expect_hex), 0);
	assert_memory_equal(got, expect, len);
}

static void test_checksum(void **state)
{
	(void)state;
	uint8_t sum[4];
	frame_checksum(sum, NULL, 0);
	assert_hex_equal(sum, 4, "5df6e0e2");
	frame_checksum(sum, (const uint8_t *)"", 0);
	assert_hex_equal(sum, 4, "5df6e0e2");
	/* SHA-256d("abc") = 4f8b42c2... */
	frame_checksum(sum, (const uint8_t *)"abc", 3);
	assert_hex_equal(sum, 4, "4f8b42c2");
}

/* A verack on regtest, byte for byte. */
static void test_header_exact_bytes(void **state)
{
	(void)state;
	uint8_t h[WIRE_HEADER_SIZE];
	frame_header_encode(h, regtest_magic, "verack", NULL, 0);
	assert_hex_equal(h, WIRE_HEADER_SIZE,
			 "fbc4e9a7"                 /* magic */
			 "76657261636b000000000000" /* "verack", NUL-padded to 12 */
			 "00000000"                 /* length 0, LE */
			 "5df6e0e2");               /* checksum of nothing */

	/* Length is little-endian; a 12-character command has no NUL. */
	static const uint8_t payload[0x0102] = {7};
	frame_header_encode(h, main_magic, "abcdefghijkl", payload, sizeof(payload));
	assert_hex_equal(h, 20,
			 "f7a2d693"
			 "6162636465666768696a6b6c"
			 "02010000");
	uint8_t sum[4];
	frame_checksum(sum, payload, sizeof(payload));
	assert_memory_equal(h + 20, sum, 4);
}

static void test_header_round_trip(void **state)
{
	(void)state;
	static const char *const commands[] = {"version", "verack", "ping",        "sendaddrv2",
					       "a",       "!~",     "abcdefghijkl"};
	static const size_t lens[] = {0, 1, 8, 1000, 65536};
	uint8_t *payload = malloc(65536);
	assert_non_null(payload);
	for (size_t i = 0; i < 65536; i++)
		payload[i] = (uint8_t)(i * 31 + 7);

	for (size_t ci = 0; ci < sizeof(commands) / sizeof(commands[0]); ci++) {
		for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++) {
			uint8_t raw[WIRE_HEADER_SIZE];
			struct frame_header h;
			frame_header_encode(raw, regtest_magic, commands[ci], payload, lens[li]);
			assert_int_equal(
				frame_header_decode(&h, raw, regtest_magic, WIRE_MAX_PAYLOAD),
				FRAME_OK);
			assert_memory_equal(h.magic, regtest_magic, 4);
			assert_string_equal(h.command, commands[ci]);
			assert_int_equal(h.length, lens[li]);
			assert_true(frame_checksum_ok(&h, payload, lens[li]));
			/* One flipped payload bit, or a different length, fails the check. */
			if (lens[li] > 0) {
				payload[lens[li] - 1] ^= 0x01;
				assert_false(frame_checksum_ok(&h, payload, lens[li]));
				payload[lens[li] - 1] ^= 0x01;
				assert_false(frame_checksum_ok(&h, payload, lens[li] - 1));
			}
			assert_false(frame_checksum_ok(&h, payload, lens[li] + 1));
		}
	}
	free(payload);
}

static void good_header(uint8_t raw[WIRE_HEADER_SIZE])
{
	frame_header_encode(raw, regtest_magic, "ping", (const uint8_t *)"12345678", 8);
}

static void test_header_bad_magic(void **state)
{
	(void)state;
	uint8_t raw[WIRE_HEADER_SIZE];
	struct frame_header h;

	/* Every single bit of every magic byte matters. */
	for (size_t i = 0; i < 4; i++) {
		for (int bit = 0; bit < 8; bit++) {
			good_header(raw);
			raw[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(
				frame_header_decode(&h, raw, regtest_magic, WIRE_MAX_PAYLOAD),
				FRAME_BAD_MAGIC);
			/* out is still filled, for logs. */
			assert_memory_equal(h.magic, raw, 4);
			assert_string_equal(h.command, "ping");
			assert_int_equal(h.length, 8);
		}
	}
	/* Another network's magic. */
	good_header(raw);
	assert_int_equal(frame_header_decode(&h, raw, main_magic, WIRE_MAX_PAYLOAD),
			 FRAME_BAD_MAGIC);
}

/* Set the 12 command bytes of a good header. */
static void header_with_command(uint8_t raw[WIRE_HEADER_SIZE], const uint8_t cmd[12])
{
	good_header(raw);
	memcpy(raw + 4, cmd, 12);
}

static void assert_bad_command(const uint8_t cmd[12], const char *logged)
{
	uint8_t raw[WIRE_HEADER_SIZE];
	struct frame_header h;
	header_with_command(raw, cmd);
	assert_int_equal(frame_header_decode(&h, raw, regtest_magic, WIRE_MAX_PAYLOAD),
			 FRAME_BAD_COMMAND);
	assert_string_equal(h.command, logged);
}

static void assert_good_command(const uint8_t cmd[12], const char *expect)
{
	uint8_t raw[WIRE_HEADER_SIZE];
	struct frame_header h;
	header_with_command(raw, cmd);
	assert_int_equal(frame_header_decode(&h, raw, regtest_magic, WIRE_MAX_PAYLOAD), FRAME_OK);
	assert_string_equal(h.command, expect);
	assert_true(frame_command_valid(h.command));
}

static void test_header_bad_command(void **state)
{
	(void)state;
	uint8_t cmd[12];

	/* No character at all. */
	memset(cmd, 0, 12);
	assert_bad_command(cmd, "");
	/* A non-NUL byte after the first NUL: leading NUL, inner NUL, NUL before the last byte. */
	memcpy(cmd, "\0ping\0\0\0\0\0\0\0", 12);
	assert_bad_command(cmd, "?ping");
	memcpy(cmd, "pi\0ng\0\0\0\0\0\0\0", 12);
	assert_bad_command(cmd, "pi?ng");
	memcpy(cmd, "abcdefghijk\0", 12);
	assert_good_command(cmd, "abcdefghijk");
	memcpy(cmd, "abcdefghij\0l", 12);
	assert_bad_command(cmd, "abcdefghij?l");
	/* Bytes outside 0x21-0x7e, at the edges of the range and beyond. */
	static const uint8_t bad_chars[] = {0x01, 0x09, 0x0a, 0x1f, 0x20, 0x7f, 0x80, 0xff};
	for (size_t i = 0; i < sizeof(bad_chars); i++) {
		memcpy(cmd, "ping\0\0\0\0\0\0\0\0", 12);
		cmd[1] = bad_chars[i];
		assert_bad_command(cmd, "p?ng");
		/* Also as the byte after the command, where a NUL belongs. */
		memcpy(cmd, "ping\0\0\0\0\0\0\0\0", 12);
		cmd[4] = bad_chars[i];
		assert_bad_command(cmd, "ping?");
		/* And in the padding after a NUL: stays bad, even when printable would be. */
		memcpy(cmd, "ping\0\0\0\0\0\0\0\0", 12);
		cmd[11] = bad_chars[i];
		assert_bad_command(cmd, "ping???????\?");
	}
	/* The range's edges are good. */
	memcpy(cmd, "!~\0\0\0\0\0\0\0\0\0\0", 12);
	assert_good_command(cmd, "!~");
	memcpy(cmd, "abcdefghijkl", 12);
	assert_good_command(cmd, "abcdefghijkl");
	/* A space is not a command character (Bitcoin allows it; we do not). */
	memcpy(cmd, "get data\0\0\0\0", 12);
	assert_bad_command(cmd, "get?data");
}

static void test_header_length(void **state)
{
	(void)state;
	uint8_t raw[WIRE_HEADER_SIZE];
	struct frame_header h;
	static const struct {
		uint32_t length, max;
		enum frame_status expect;
	} cases[] = {
		{0, WIRE_MAX_PAYLOAD, FRAME_OK},
		{WIRE_MAX_PAYLOAD, WIRE_MAX_PAYLOAD, FRAME_OK},
		{WIRE_MAX_PAYLOAD + 1, WIRE_MAX_PAYLOAD, FRAME_TOO_LARGE},
		{UINT32_MAX, WIRE_MAX_PAYLOAD, FRAME_TOO_LARGE},
		{0x80000000u, WIRE_MAX_PAYLOAD, FRAME_TOO_LARGE},
		{1000, 1000, FRAME_OK},
		{1001, 1000, FRAME_TOO_LARGE},
		{0, 0, FRAME_OK},
		{1, 0, FRAME_TOO_LARGE},
		{UINT32_MAX, UINT32_MAX, FRAME_OK},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		good_header(raw);
		for (size_t b = 0; b < 4; b++)
			raw[16 + b] = (uint8_t)(cases[i].length >> (8 * b));
		assert_int_equal(frame_header_decode(&h, raw, regtest_magic, cases[i].max),
				 cases[i].expect);
		assert_int_equal(h.length, cases[i].length);
	}
}

/* Several problems at once: the first field in header order decides the status. */
static void test_header_check_order(void **state)
{
	(void)state;
	uint8_t raw[WIRE_HEADER_SIZE];
	struct frame_header h;

	memset(raw, 0xff, sizeof(raw));
	assert_int_equal(frame_header_decode(&h, raw, regtest_magic, WIRE_MAX_PAYLOAD),
			 FRAME_BAD_MAGIC);
	memcpy(raw, regtest_magic, 4);
	assert_int_equal(frame_header_decode(&h, raw, regtest_magic, WIRE_MAX_PAYLOAD),
			 FRAME_BAD_COMMAND);
	assert_string_equal(h.command, "????????????");
	memcpy(raw + 4, "ping\0\0\0\0\0\0\0\0", 12);
	assert_int_equal(frame_header_decode(&h, raw, regtest_magic, WIRE_MAX_PAYLOAD),
			 FRAME_TOO_LARGE);
	/* The checksum is copied, never checked here. */
	assert_hex_equal(h.checksum, 4, "ffffffff");
	raw[16] = raw[17] = raw[18] = raw[19] = 0;
	assert_int_equal(frame_header_decode(&h, raw, regtest_magic, WIRE_MAX_PAYLOAD), FRAME_OK);
	assert_false(frame_checksum_ok(&h, NULL, 0));
}

static void test_command_valid(void **state)
{
	(void)state;
	assert_true(frame_command_valid("version"));
	assert_true(frame_command_valid("x"));
	assert_true(frame_command_valid("abcdefghijkl"));
	assert_true(frame_command_valid("!\"#$%&'()*+~"));
	assert_false(frame_command_valid(""));
	assert_false(frame_command_valid("abcdefghijklm"));
	assert_false(frame_command_valid("a very long command name indeed"));
	assert_false(frame_command_valid("get data"));
	assert_false(frame_command_valid("tab\t"));
	assert_false(frame_command_valid("del\x7f"));
	assert_false(frame_command_valid("caf\xc3\xa9"));
}

static void test_status_name(void **state)
{
	(void)state;
	assert_string_equal(frame_status_name(FRAME_OK), "ok");
	assert_string_equal(frame_status_name(FRAME_BAD_MAGIC), "bad magic");
	assert_string_equal(frame_status_name(FRAME_BAD_COMMAND), "bad command");
	assert_string_equal(frame_status_name(FRAME_TOO_LARGE), "payload too large");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum),
		cmocka_unit_test(test_header_exact_bytes),
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_header_bad_magic),
		cmocka_unit_test(test_header_bad_command),
		cmocka_unit_test(test_header_length),
		cmocka_unit_test(test_header_check_order),
		cmocka_unit_test(test_command_valid),
		cmocka_unit_test(test_status_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
