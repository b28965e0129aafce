/* Unit tests for wire/compress: wrap and unwrap round trips, the exact header, when wrapping is
 * refused, and every unwrap status: a real decompression bomb (stopped at the declared length,
 * with the memory it may use measured in a child process), a stream one byte over or under the
 * declared length, corrupt and truncated streams, bytes after the stream, a preset dictionary,
 * bad inner commands, nesting and a declared length above WIRE_MAX_PAYLOAD. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include "util/bytes.h"
#include "wire/compress.h"

/* Room for any payload built here: a frame's maximum and a little more. */
#define TEST_BUF_MAX (2 * WIRE_MAX_PAYLOAD)
/* Zeros are deflated in chunks this big, so a bomb never sits in memory uncompressed. */
#define ZERO_CHUNK 65536

/* Append the zlib header fields for (command, declared). */
static void put_header(struct bytebuf *b, const char *command, uint32_t declared)
{
	bytebuf_compactsize(b, strlen(command));
	bytebuf_append(b, command, strlen(command));
	bytebuf_u32le(b, declared);
}

/* Append a zlib stream of n bytes: data, or zeros when data is NULL. dict, if not NULL, is set
 * as a preset dictionary. */
static void put_stream(struct bytebuf *b, const uint8_t *data, size_t n, const char *dict)
{
	static const uint8_t zeros[ZERO_CHUNK];
	uint8_t out[ZERO_CHUNK];
	z_stream z;
	size_t done = 0;
	int ret;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit(&z, Z_BEST_COMPRESSION), Z_OK);
	if (dict)
		assert_int_equal(deflateSetDictionary(&z, (const Bytef *)dict, (uInt)strlen(dict)),
				 Z_OK);
	do {
		size_t chunk = n - done < ZERO_CHUNK ? n - done : ZERO_CHUNK;
		z.next_in = (Bytef *)(uintptr_t)(data ? data + done : zeros);
		z.avail_in = (uInt)chunk;
		done += chunk;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			ret = deflate(&z, done == n ? Z_FINISH : Z_NO_FLUSH);
			assert_true(ret == Z_OK || ret == Z_STREAM_END || ret == Z_BUF_ERROR);
			bytebuf_append(b, out, sizeof(out) - z.avail_out);
		} while (z.avail_out == 0);
	} while (done < n);
	assert_int_equal(ret, Z_STREAM_END);
	deflateEnd(&z);
	assert_true(bytebuf_ok(b));
}

/* A zlib payload: header (command, declared) and a stream of n bytes (data or zeros). */
static void build(struct bytebuf *b, const char *command, uint32_t declared, const uint8_t *data,
		  size_t n)
{
	bytebuf_init(b, TEST_BUF_MAX);
	put_header(b, command, declared);
	put_stream(b, data, n, NULL);
}

static enum zlib_unwrap_status unwrap(const uint8_t *p, size_t len)
{
	char cmd[WIRE_COMMAND_SIZE + 1];
	static const char nocmd[WIRE_COMMAND_SIZE + 1];
	uint8_t *out = NULL;
	size_t outlen = 7;
	enum zlib_unwrap_status st = wire_zlib_unwrap(cmd, &out, &outlen, p, len);

	if (st != ZLIB_OK) {
		assert_null(out);
		assert_int_equal(outlen, 0);
		assert_memory_equal(cmd, nocmd, sizeof(cmd));
	}
	free(out);
	return st;
}

/* Text that deflates well. */
static uint8_t *sample_text(size_t n)
{
	static const char words[] = "the quick brown fox jumps over the lazy dog; ";
	uint8_t *p = malloc(n);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)words[(i * 7 + i / 45) % (sizeof(words) - 1)];
	return p;
}

static void test_round_trip(void **state)
{
	static const size_t sizes[] = {ZLIB_MIN_PAYLOAD, 4000, 300000};
	(void)state;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		uint8_t *text = sample_text(n), *out = NULL;
		char cmd[WIRE_COMMAND_SIZE + 1];
		size_t outlen = 0;
		struct bytebuf b;

		bytebuf_init(&b, TEST_BUF_MAX);
		assert_int_equal(wire_zlib_wrap(&b, "msg", text, n), 0);
		assert_true(b.len < n);
		/* Header: 03 "msg", the length LE, then a zlib stream (CMF 0x78: deflate, 32K). */
		assert_int_equal(b.data[0], 3);
		assert_memory_equal(b.data + 1, "msg", 3);
		assert_int_equal(b.data[4] | b.data[5] << 8 | b.data[6] << 16 | b.data[7] << 24, n);
		assert_int_equal(b.data[8], 0x78);
		assert_int_equal(wire_zlib_unwrap(cmd, &out, &outlen, b.data, b.len), ZLIB_OK);
		assert_string_equal(cmd, "msg");
		assert_int_equal(outlen, n);
		assert_memory_equal(out, text, n);
		free(out);
		free(text);
		bytebuf_free(&b);
	}
}

static void test_wrap_refused(void **state)
{
	uint8_t noise[2048];
	uint8_t *text = sample_text(4096);
	struct bytebuf b;
	(void)state;

	/* Bytes that do not compress (a fixed xorshift stream): not smaller, so -1. */
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < sizeof(noise); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		noise[i] = (uint8_t)x;
	}
	bytebuf_init(&b, TEST_BUF_MAX);
	assert_int_equal(wire_zlib_wrap(&b, "msg", noise, sizeof(noise)), -1);
	assert_int_equal(b.len, 0);
	/* Tiny payloads cannot shrink below themselves plus a header. */
	assert_int_equal(wire_zlib_wrap(&b, "ping", text, 8), -1);
	assert_int_equal(wire_zlib_wrap(&b, "ping", text, 0), -1);
	/* No nesting, no invalid command. */
	assert_int_equal(wire_zlib_wrap(&b, CMD_ZLIB, text, 4096), -1);
	assert_int_equal(wire_zlib_wrap(&b, "", text, 4096), -1);
	assert_int_equal(wire_zlib_wrap(&b, "has space", text, 4096), -1);
	assert_int_equal(wire_zlib_wrap(&b, "thirteen_char", text, 4096), -1);
	assert_int_equal(b.len, 0);
	/* A 12-character command is fine. */
	assert_int_equal(wire_zlib_wrap(&b, "twelve_chars", text, 4096), 0);
	assert_int_equal(b.data[0], 12);
	free(text);
	bytebuf_free(&b);
}

static void test_empty_payload(void **state)
{
	char cmd[WIRE_COMMAND_SIZE + 1];
	uint8_t *out = (uint8_t *)cmd;
	size_t outlen = 5;
	struct bytebuf b;
	(void)state;

	build(&b, "verack", 0, NULL, 0);
	assert_int_equal(wire_zlib_unwrap(cmd, &out, &outlen, b.data, b.len), ZLIB_OK);
	assert_string_equal(cmd, "verack");
	assert_null(out);
	assert_int_equal(outlen, 0);
	bytebuf_free(&b);
	/* Declared empty, one byte inside: a (tiny) bomb. */
	build(&b, "verack", 0, NULL, 1);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_BOMB);
	bytebuf_free(&b);
}

/* The child's resident-set growth, in KiB, while it unwraps p: the peak RSS since fork (Linux
 * starts a child's peak at its RSS when forked) minus the RSS at the start. Returns the growth,
 * or -1 if the status was not ZLIB_BOMB. */
static long child_growth_kib(const uint8_t *p, size_t len)
{
	int pipefd[2], wstatus;
	long growth = -1;
	pid_t pid;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rusage before, after;
		char cmd[WIRE_COMMAND_SIZE + 1];
		uint8_t *out = NULL;
		size_t outlen = 0;
		long g = -1;

		close(pipefd[0]);
		getrusage(RUSAGE_SELF, &before);
		if (wire_zlib_unwrap(cmd, &out, &outlen, p, len) == ZLIB_BOMB) {
			getrusage(RUSAGE_SELF, &after);
			g = after.ru_maxrss - before.ru_maxrss;
		}
		free(out);
		_exit(write(pipefd[1], &g, sizeof(g)) == (ssize_t)sizeof(g) ? 0 : 1);
	}
	close(pipefd[1]);
	assert_int_equal(read(pipefd[0], &growth, sizeof(growth)), sizeof(growth));
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
	return growth;
}

static void test_bomb(void **state)
{
	struct bytebuf b;
	/* 64 MiB of zeros, in about 64 KiB of stream. */
	const size_t bomb = 64u << 20;
	(void)state;

	/* The case: 4 MB of zeros declared as 1000 bytes. */
	build(&b, "msg", 1000, NULL, 4000000);
	assert_true(b.len < 8000);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_BOMB);
	bytebuf_free(&b);
	/* Declared one byte short of the stream. */
	build(&b, "msg", 999, NULL, 1000);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_BOMB);
	bytebuf_free(&b);
	/* Memory: inflating 64 MiB would grow the child by 64 MiB; stopping at the declared 1000
	 * bytes grows it by zlib's state only. 8 MiB leaves room for allocator noise. */
	build(&b, "msg", 1000, NULL, bomb);
	long growth = child_growth_kib(b.data, b.len);
	assert_true(growth >= 0);
	assert_true(growth < 8 * 1024);
	bytebuf_free(&b);
}

static void test_max_payload(void **state)
{
	char cmd[WIRE_COMMAND_SIZE + 1];
	uint8_t *out = NULL;
	size_t outlen = 0;
	struct bytebuf b;
	(void)state;

	/* Exactly WIRE_MAX_PAYLOAD: accepted. */
	build(&b, "msg", WIRE_MAX_PAYLOAD, NULL, WIRE_MAX_PAYLOAD);
	assert_int_equal(wire_zlib_unwrap(cmd, &out, &outlen, b.data, b.len), ZLIB_OK);
	assert_int_equal(outlen, WIRE_MAX_PAYLOAD);
	assert_int_equal(out[WIRE_MAX_PAYLOAD - 1], 0);
	free(out);
	bytebuf_free(&b);
	/* One byte more inflates past the declared maximum. */
	build(&b, "msg", WIRE_MAX_PAYLOAD, NULL, WIRE_MAX_PAYLOAD + 1);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_BOMB);
	bytebuf_free(&b);
	/* Declared above the maximum: refused before inflating, whatever follows. */
	build(&b, "msg", WIRE_MAX_PAYLOAD + 1, NULL, WIRE_MAX_PAYLOAD + 1);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_TOO_LARGE);
	bytebuf_free(&b);
	build(&b, "msg", UINT32_MAX, NULL, 10);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_TOO_LARGE);
	bytebuf_free(&b);
}

static void test_short_and_corrupt(void **state)
{
	uint8_t *text = sample_text(5000);
	struct bytebuf b, t;
	size_t hdr = 1 + 3 + 4;
	(void)state;

	/* Ends one byte short of the declared length. */
	build(&b, "msg", 5000, text, 4999);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_CORRUPT);
	bytebuf_free(&b);
	/* Every truncation of the stream: corrupt (it never reaches its end). */
	build(&b, "msg", 5000, text, 5000);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_OK);
	for (size_t n = hdr; n < b.len; n++) {
		uint8_t *copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, b.data, n);
		assert_int_equal(unwrap(copy, n), ZLIB_CORRUPT);
		free(copy);
	}
	/* Every truncation of the header: malformed. */
	for (size_t n = 0; n < hdr; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, b.data, n);
		assert_int_equal(unwrap(copy, n), ZLIB_MALFORMED);
		free(copy);
	}
	/* A wrong adler-32 checksum (the last 4 bytes). */
	b.data[b.len - 1] ^= 1;
	assert_int_equal(unwrap(b.data, b.len), ZLIB_CORRUPT);
	b.data[b.len - 1] ^= 1;
	/* A bad zlib header (CMF/FLG check fails). */
	b.data[hdr + 1] ^= 1;
	assert_int_equal(unwrap(b.data, b.len), ZLIB_CORRUPT);
	b.data[hdr + 1] ^= 1;
	/* Bytes after the end of the stream. */
	bytebuf_u8(&b, 0);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_CORRUPT);
	/* Not zlib at all: the plain text. */
	bytebuf_init(&t, TEST_BUF_MAX);
	put_header(&t, "msg", 5000);
	bytebuf_append(&t, text, 5000);
	assert_int_equal(unwrap(t.data, t.len), ZLIB_CORRUPT);
	/* No stream at all after a valid header. */
	assert_int_equal(unwrap(t.data, hdr), ZLIB_CORRUPT);
	bytebuf_free(&t);
	/* A stream that needs a preset dictionary. */
	bytebuf_init(&t, TEST_BUF_MAX);
	put_header(&t, "msg", 5000);
	put_stream(&t, text, 5000, "the quick brown fox");
	assert_int_equal(unwrap(t.data, t.len), ZLIB_CORRUPT);
	bytebuf_free(&t);
	bytebuf_free(&b);
	free(text);
}

static void test_bad_header(void **state)
{
	static const char *const bad[] = {
		"",              /* no command */
		"thirteen_char", /* 13 characters */
		"sp ace",        /* 0x20 */
		"del\x7f",       /* 0x7f */
		"hi\x80",        /* high byte */
		CMD_ZLIB,        /* nesting */
	};
	struct bytebuf b;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build(&b, bad[i], 10, NULL, 10);
		assert_int_equal(unwrap(b.data, b.len), ZLIB_MALFORMED);
		bytebuf_free(&b);
	}
	/* A NUL inside the command. */
	bytebuf_init(&b, TEST_BUF_MAX);
	bytebuf_compactsize(&b, 3);
	bytebuf_append(&b, "a\0b", 3);
	bytebuf_u32le(&b, 10);
	put_stream(&b, NULL, 10, NULL);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_MALFORMED);
	bytebuf_free(&b);
	/* The command length in a non-canonical form (fd 03 00). */
	bytebuf_init(&b, TEST_BUF_MAX);
	bytebuf_u8(&b, 0xfd);
	bytebuf_u16le(&b, 3);
	bytebuf_append(&b, "msg", 3);
	bytebuf_u32le(&b, 10);
	put_stream(&b, NULL, 10, NULL);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_MALFORMED);
	bytebuf_free(&b);
	/* Nesting, even when the declared length is also too large: malformed first. */
	build(&b, CMD_ZLIB, WIRE_MAX_PAYLOAD + 1, NULL, 10);
	assert_int_equal(unwrap(b.data, b.len), ZLIB_MALFORMED);
	bytebuf_free(&b);
}

/* The vectors of doc/protocol-vectors.md: a ping with 8 zero bytes, and the same header over
 * a stream of 9 zero bytes (one too many). */
static void test_vectors(void **state)
{
	static const char ok_hex[] = "0470696e6708000000789c636080000000080001";
	static const char bomb_hex[] = "0470696e6708000000789c636080020000090001";
	static const uint8_t zeros[8];
	char cmd[WIRE_COMMAND_SIZE + 1];
	uint8_t *raw, *out = NULL;
	size_t len, outlen = 0;
	(void)state;

	assert_int_equal(hex_decode_alloc(ok_hex, 64, &raw, &len), 0);
	assert_int_equal(wire_zlib_unwrap(cmd, &out, &outlen, raw, len), ZLIB_OK);
	assert_string_equal(cmd, "ping");
	assert_int_equal(outlen, 8);
	assert_memory_equal(out, zeros, 8);
	free(out);
	free(raw);
	assert_int_equal(hex_decode_alloc(bomb_hex, 64, &raw, &len), 0);
	assert_int_equal(unwrap(raw, len), ZLIB_BOMB);
	free(raw);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(zlib_unwrap_status_name(ZLIB_OK), "ok");
	assert_string_equal(zlib_unwrap_status_name(ZLIB_MALFORMED), "malformed");
	assert_string_equal(zlib_unwrap_status_name(ZLIB_TOO_LARGE), "too large");
	assert_string_equal(zlib_unwrap_status_name(ZLIB_BOMB), "decompression bomb");
	assert_string_equal(zlib_unwrap_status_name(ZLIB_CORRUPT), "corrupt");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bomb),         cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrap_refused), cmocka_unit_test(test_empty_payload),
		cmocka_unit_test(test_max_payload),  cmocka_unit_test(test_short_and_corrupt),
		cmocka_unit_test(test_bad_header),   cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
