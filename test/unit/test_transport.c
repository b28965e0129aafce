/* Unit tests for the plain transport (net/transport_v1.c): frames come out whole whatever
 * pieces the bytes arrive in; a large payload hashed while it arrives gives the same checksum
 * verdict as one hashed at the end, for intact and corrupted payloads; the hashing state does
 * not leak into the next frame. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "net/transport.h"
#include "wire/frame.h"

static const uint8_t magic[4] = {0xfa, 0xbf, 0xb5, 0xda};

/* The frame for payload (len bytes) under command, in a malloc'd buffer of *wire_len bytes. */
static uint8_t *build_frame(const char *command, const uint8_t *payload, size_t len,
			    size_t *wire_len)
{
	struct transport *t = transport_v1_new(magic);
	struct evbuffer *b = evbuffer_new();
	assert_non_null(t);
	assert_non_null(b);
	assert_int_equal(t->ops->write_frame(t, b, command, payload, len),
			 (int)(WIRE_HEADER_SIZE + len));
	*wire_len = evbuffer_get_length(b);
	uint8_t *out = malloc(*wire_len);
	assert_non_null(out);
	evbuffer_remove(b, out, *wire_len);
	evbuffer_free(b);
	transport_free(t);
	return out;
}

static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len);
	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 131 + (i >> 9));
	return p;
}

/* Feed wire in pieces of piece bytes; every call before the last byte must ask for more (with
 * the frame's size), the last must give the frame. Returns it. */
static struct net_frame feed(struct transport *t, struct evbuffer *in, const uint8_t *wire,
			     size_t wire_len, size_t piece)
{
	struct net_frame f;
	enum frame_status why = FRAME_OK;
	for (size_t at = 0; at < wire_len;) {
		size_t n = wire_len - at < piece ? wire_len - at : piece;
		assert_int_equal(evbuffer_add(in, wire + at, n), 0);
		at += n;
		enum transport_read r = t->ops->read_frame(t, in, &f, &why);
		if (at < wire_len) {
			assert_int_equal(r, TRANSPORT_NEED_MORE);
			if (at >= WIRE_HEADER_SIZE)
				assert_int_equal(f.wire_len, wire_len);
		} else {
			assert_int_equal(r, TRANSPORT_FRAME);
		}
	}
	return f;
}

static void check_pieces(size_t len, size_t piece, bool corrupt)
{
	size_t wire_len;
	uint8_t *payload = pattern(len);
	uint8_t *wire = build_frame("inv", payload, len, &wire_len);
	if (corrupt)
		wire[WIRE_HEADER_SIZE + len / 3] ^= 0x01; /* in the part hashed early */
	struct transport *t = transport_v1_new(magic);
	struct evbuffer *in = evbuffer_new();
	struct net_frame f = feed(t, in, wire, wire_len, piece);
	assert_string_equal(f.command, "inv");
	assert_int_equal(f.len, len);
	assert_int_equal(f.wire_len, wire_len);
	assert_int_equal(f.checksum_ok, !corrupt);
	assert_memory_equal(f.payload, wire + WIRE_HEADER_SIZE, len);
	net_frame_clear(&f);

	/* The next frame, small and whole, is not judged by the previous one's hashing. */
	size_t small_len;
	static const uint8_t nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	uint8_t *small = build_frame("ping", nonce, sizeof(nonce), &small_len);
	f = feed(t, in, small, small_len, small_len);
	assert_string_equal(f.command, "ping");
	assert_true(f.checksum_ok);
	net_frame_clear(&f);
	assert_int_equal(evbuffer_get_length(in), 0);

	free(small);
	evbuffer_free(in);
	transport_free(t);
	free(wire);
	free(payload);
}

static void test_whole_frames(void **state)
{
	(void)state;
	check_pieces(0, 1000, false);
	check_pieces(100, 1000, false);
	check_pieces(300000, 400000, false);
	check_pieces(300000, 400000, true);
}

static void test_large_frame_in_pieces(void **state)
{
	(void)state;
	/* Pieces below, at and above the hashing step, and byte-odd sizes. */
	static const size_t pieces[] = {16384, 65536, 70001, 200000};
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		check_pieces(1000000, pieces[i], false);
		check_pieces(1000000, pieces[i], true);
	}
	check_pieces(WIRE_MAX_PAYLOAD, 1 << 20, false);
}

static void test_hasher_matches_oneshot(void **state)
{
	(void)state;
	size_t len = 150000;
	uint8_t *p = pattern(len);
	struct frame_header h;
	memset(&h, 0, sizeof(h));
	h.length = (uint32_t)len;
	frame_checksum(h.checksum, p, len);
	assert_true(frame_checksum_ok(&h, p, len));
	struct frame_hasher fh;
	frame_hasher_start(&fh);
	for (size_t at = 0; at < len; at += 777)
		frame_hasher_add(&fh, p + at, len - at < 777 ? len - at : 777);
	assert_true(frame_hasher_matches(&fh, &h));
	/* Too few bytes never match, even with a checksum of those bytes. */
	frame_checksum(h.checksum, p, len - 1);
	frame_hasher_start(&fh);
	frame_hasher_add(&fh, p, len - 1);
	assert_false(frame_hasher_matches(&fh, &h));
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_frames),
		cmocka_unit_test(test_large_frame_in_pieces),
		cmocka_unit_test(test_hasher_matches_oneshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
