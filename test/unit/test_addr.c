/* Unit tests for wire/addr (addrv2, BIP155): exact bytes of a small message, round trips for
 * each supported network and across the compactsize forms of services, WIRE_MAX_ADDR entries
 * accepted and one more refused, wrong address lengths for every known network, unknown
 * networks and Tor v2 skipped (and counted), address lengths above 512 refused, truncation at
 * every byte, non-canonical compactsizes in each of the three places, and trailing bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/addr.h"

/* Room for WIRE_MAX_ADDR + 1 of the largest entries this test builds (an address of 600 bytes
 * with a 9-byte services field) and their count. */
#define TEST_BUF_MAX ((WIRE_MAX_ADDR + 1) * (4 + 9 + 1 + 3 + 600 + 2) + 9)

/* The networks an entry may decode to, in BIP155 order. */
static const uint8_t supported[] = {ADDR_NET_IPV4, ADDR_NET_TORV3, ADDR_NET_IPV6, ADDR_NET_I2P,
				    ADDR_NET_CJDNS};

/* Every network id BIP155 defines (Tor v2 included: it is length-checked). */
static const uint8_t known[] = {ADDR_NET_IPV4,  ADDR_NET_IPV6, ADDR_NET_TORV2,
				ADDR_NET_TORV3, ADDR_NET_I2P,  ADDR_NET_CJDNS};

static void fill_entry(struct wire_addrv2 *e, size_t i, uint8_t net)
{
	memset(e, 0, sizeof(*e));
	e->time = (uint32_t)(1700000000u + i);
	e->services = (uint64_t)i * 0x10001u;
	e->net = net;
	e->addrlen = (uint8_t)wire_addrv2_net_len(net);
	for (size_t j = 0; j < e->addrlen; j++)
		e->addr[j] = (uint8_t)(i * 7 + j + 1);
	e->port = (uint16_t)(1000 + i);
}

/* n entries cycling through the supported networks. */
static struct wire_addrv2 *make_entries(size_t n)
{
	struct wire_addrv2 *e = calloc(n ? n : 1, sizeof(*e));
	assert_non_null(e);
	for (size_t i = 0; i < n; i++)
		fill_entry(&e[i], i, supported[i % sizeof(supported)]);
	return e;
}

static void encode(struct bytebuf *b, const struct wire_addrv2 *e, size_t n)
{
	bytebuf_init(b, TEST_BUF_MAX);
	wire_encode_addrv2(b, e, n);
	assert_true(bytebuf_ok(b));
}

/* Append one entry as raw fields, so tests can write lengths the struct cannot hold. */
static void put_raw(struct bytebuf *b, uint8_t net, size_t addrlen, uint16_t port)
{
	bytebuf_u32le(b, 1700000000u);
	bytebuf_compactsize(b, 1);
	bytebuf_u8(b, net);
	bytebuf_compactsize(b, addrlen);
	for (size_t j = 0; j < addrlen; j++)
		bytebuf_u8(b, (uint8_t)(0xa0 + j));
	bytebuf_u16be(b, port);
	assert_true(bytebuf_ok(b));
}

/* Append one entry field by field, as BIP155 lays it out (independently of the encoder). */
static void put_entry(struct bytebuf *b, const struct wire_addrv2 *e)
{
	bytebuf_u32le(b, e->time);
	bytebuf_compactsize(b, e->services);
	bytebuf_u8(b, e->net);
	bytebuf_compactsize(b, e->addrlen);
	bytebuf_append(b, e->addr, e->addrlen);
	bytebuf_u16be(b, e->port);
	assert_true(bytebuf_ok(b));
}

static void assert_malformed(const uint8_t *p, size_t len)
{
	/* Non-NULL and non-zero going in, so the test sees that all three are cleared. */
	static struct wire_addrv2 dummy;
	struct wire_addrv2 *out = &dummy;
	size_t count = 99, skipped = 99;

	assert_int_equal(wire_decode_addrv2(&out, &count, &skipped, p, len), -1);
	assert_null(out);
	assert_int_equal(count, 0);
	assert_int_equal(skipped, 0);
}

/* Decode and expect success with the given counts; returns the entries (caller frees). */
static struct wire_addrv2 *decode_ok(const struct bytebuf *b, size_t want_count,
				     size_t want_skipped)
{
	struct wire_addrv2 *out = NULL;
	size_t count = 99, skipped = 99;

	assert_int_equal(wire_decode_addrv2(&out, &count, &skipped, b->data, b->len), 0);
	assert_int_equal(count, want_count);
	assert_int_equal(skipped, want_skipped);
	if (want_count == 0)
		assert_null(out);
	else
		assert_non_null(out);
	return out;
}

static void round_trip(const struct wire_addrv2 *e, size_t n)
{
	struct wire_addrv2 *out;
	struct bytebuf b;

	encode(&b, e, n);
	out = decode_ok(&b, n, 0);
	if (n > 0)
		assert_memory_equal(out, e, n * sizeof(*e));
	free(out);
	bytebuf_free(&b);
}

static void test_net_len(void **state)
{
	(void)state;
	assert_int_equal(wire_addrv2_net_len(ADDR_NET_IPV4), 4);
	assert_int_equal(wire_addrv2_net_len(ADDR_NET_IPV6), 16);
	assert_int_equal(wire_addrv2_net_len(ADDR_NET_TORV2), 10);
	assert_int_equal(wire_addrv2_net_len(ADDR_NET_TORV3), 32);
	assert_int_equal(wire_addrv2_net_len(ADDR_NET_I2P), 32);
	assert_int_equal(wire_addrv2_net_len(ADDR_NET_CJDNS), 16);
	assert_int_equal(wire_addrv2_net_len(0), 0);
	assert_int_equal(wire_addrv2_net_len(7), 0);
	assert_int_equal(wire_addrv2_net_len(255), 0);
}

/* Two entries written by hand from BIP155's layout: 1.2.3.4:9733 seen at 1,700,000,000 with
 * services 1, and [2001:db8::1]:29733 at time 2^32-1 with services 253 (a 3-byte compactsize). */
static const char small_hex[] = "02"
				"00f15365"
				"01"
				"01"
				"04"
				"01020304"
				"2605"
				"ffffffff"
				"fdfd00"
				"02"
				"10"
				"20010db8000000000000000000000001"
				"7425";

static void small_entries(struct wire_addrv2 e[2])
{
	memset(e, 0, 2 * sizeof(*e));
	e[0].time = 1700000000u;
	e[0].services = 1;
	e[0].net = ADDR_NET_IPV4;
	e[0].addrlen = 4;
	memcpy(e[0].addr, "\x01\x02\x03\x04", 4);
	e[0].port = 9733;
	e[1].time = UINT32_MAX;
	e[1].services = 253;
	e[1].net = ADDR_NET_IPV6;
	e[1].addrlen = 16;
	e[1].addr[0] = 0x20;
	e[1].addr[1] = 0x01;
	e[1].addr[2] = 0x0d;
	e[1].addr[3] = 0xb8;
	e[1].addr[15] = 0x01;
	e[1].port = 29733;
}

static void test_exact_bytes(void **state)
{
	struct wire_addrv2 e[2], *out = NULL;
	uint8_t raw[sizeof(small_hex) / 2];
	char hex[sizeof(small_hex)];
	size_t count, skipped;
	struct bytebuf b;
	(void)state;

	small_entries(e);
	encode(&b, e, 2);
	assert_int_equal(b.len, sizeof(raw));
	hex_encode(hex, b.data, b.len);
	assert_string_equal(hex, small_hex);
	bytebuf_free(&b);

	assert_int_equal(hex_decode(raw, sizeof(raw), small_hex), 0);
	assert_int_equal(wire_decode_addrv2(&out, &count, &skipped, raw, sizeof(raw)), 0);
	assert_int_equal(count, 2);
	assert_int_equal(skipped, 0);
	assert_memory_equal(out, e, sizeof(e));
	free(out);
}

static void test_round_trip_each_network(void **state)
{
	/* Services values at each edge of the compactsize forms. */
	static const uint64_t services[] = {0,       0xfc,        0xfd,        0xffff,
					    0x10000, 0xffffffffu, 0x100000000, UINT64_MAX};
	struct wire_addrv2 e[sizeof(services) / sizeof(services[0])];
	(void)state;

	for (size_t k = 0; k < sizeof(supported); k++) {
		for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
			fill_entry(&e[i], i, supported[k]);
			e[i].services = services[i];
		}
		round_trip(e, 1);
		round_trip(e, sizeof(services) / sizeof(services[0]));
	}
}

static void test_counts(void **state)
{
	struct wire_addrv2 *e = make_entries(WIRE_MAX_ADDR + 1);
	struct bytebuf b;
	(void)state;

	round_trip(e, 0);
	round_trip(e, 252);
	round_trip(e, 253); /* first count with a 3-byte compactsize */
	round_trip(e, WIRE_MAX_ADDR);
	encode(&b, e, WIRE_MAX_ADDR + 1);
	assert_malformed(b.data, b.len);
	bytebuf_free(&b);
	free(e);
}

static void test_wrong_lengths(void **state)
{
	struct bytebuf b;
	(void)state;

	for (size_t k = 0; k < sizeof(known); k++) {
		size_t want = wire_addrv2_net_len(known[k]);
		const size_t lens[] = {0, 1, want - 1, want + 1, 32, WIRE_ADDRV2_MAX_ADDRLEN};

		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			if (lens[i] == want)
				continue; /* 32 is right for Tor v3 and I2P */
			bytebuf_init(&b, TEST_BUF_MAX);
			bytebuf_compactsize(&b, 1);
			put_raw(&b, known[k], lens[i], 1);
			assert_malformed(b.data, b.len);
			bytebuf_free(&b);
		}
		/* The right length decodes (Tor v2 to a skipped entry). */
		bytebuf_init(&b, TEST_BUF_MAX);
		bytebuf_compactsize(&b, 1);
		put_raw(&b, known[k], want, 1);
		free(decode_ok(&b, known[k] == ADDR_NET_TORV2 ? 0 : 1,
			       known[k] == ADDR_NET_TORV2 ? 1 : 0));
		bytebuf_free(&b);
	}
}

static void test_unknown_networks_skipped(void **state)
{
	static const uint8_t unknown[] = {0, 7, 8, 0x7f, 0xff};
	static const size_t lens[] = {0, 1, 4, 33, 253, WIRE_ADDRV2_MAX_ADDRLEN};
	struct wire_addrv2 e[2], *out;
	struct bytebuf b;
	(void)state;

	fill_entry(&e[0], 1, ADDR_NET_IPV4);
	fill_entry(&e[1], 2, ADDR_NET_CJDNS);
	for (size_t u = 0; u < sizeof(unknown); u++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			/* known, unknown, known: the unknown one goes, the order stays. */
			bytebuf_init(&b, TEST_BUF_MAX);
			bytebuf_compactsize(&b, 3);
			put_entry(&b, &e[0]);
			put_raw(&b, unknown[u], lens[i], 8);
			put_entry(&b, &e[1]);
			out = decode_ok(&b, 2, 1);
			assert_memory_equal(out, e, sizeof(e));
			free(out);
			bytebuf_free(&b);
		}
	}
	/* A message of only unknown entries is valid and yields nothing. */
	bytebuf_init(&b, TEST_BUF_MAX);
	bytebuf_compactsize(&b, 3);
	put_raw(&b, 0, 0, 1);
	put_raw(&b, 9, 64, 2);
	put_raw(&b, 200, WIRE_ADDRV2_MAX_ADDRLEN, 3);
	free(decode_ok(&b, 0, 3));
	bytebuf_free(&b);
}

static void test_torv2_skipped(void **state)
{
	struct wire_addrv2 e, *out;
	struct bytebuf b;
	(void)state;

	fill_entry(&e, 5, ADDR_NET_TORV3);
	bytebuf_init(&b, TEST_BUF_MAX);
	bytebuf_compactsize(&b, 3);
	put_raw(&b, ADDR_NET_TORV2, ADDR_LEN_TORV2, 9001);
	put_raw(&b, ADDR_NET_TORV2, ADDR_LEN_TORV2, 9002);
	put_entry(&b, &e);
	out = decode_ok(&b, 1, 2);
	assert_memory_equal(out, &e, sizeof(e));
	free(out);
	bytebuf_free(&b);
}

static void test_addrlen_limit(void **state)
{
	/* A huge length with nothing behind it: refused, nothing read or allocated for it. */
	static const uint8_t huge[] = {0x01, 0,    0,    0,    0,    0x01, 0x2a, 0xff, 0xff,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00};
	struct bytebuf b;
	(void)state;

	/* 512 is the limit, 513 is over it, for an unknown network and a known one. */
	bytebuf_init(&b, TEST_BUF_MAX);
	bytebuf_compactsize(&b, 1);
	put_raw(&b, 42, WIRE_ADDRV2_MAX_ADDRLEN, 1);
	free(decode_ok(&b, 0, 1));
	bytebuf_free(&b);

	bytebuf_init(&b, TEST_BUF_MAX);
	bytebuf_compactsize(&b, 1);
	put_raw(&b, 42, WIRE_ADDRV2_MAX_ADDRLEN + 1, 1);
	assert_malformed(b.data, b.len);
	bytebuf_free(&b);

	bytebuf_init(&b, TEST_BUF_MAX);
	bytebuf_compactsize(&b, 1);
	put_raw(&b, ADDR_NET_IPV6, WIRE_ADDRV2_MAX_ADDRLEN + 1, 1);
	assert_malformed(b.data, b.len);
	bytebuf_free(&b);

	assert_malformed(huge, sizeof(huge));
}

static void test_truncated_and_trailing(void **state)
{
	struct wire_addrv2 *e = make_entries(5);
	struct bytebuf b;
	uint8_t *copy;
	(void)state;

	/* One entry per supported network, with a skipped one in the middle. */
	bytebuf_init(&b, TEST_BUF_MAX);
	bytebuf_compactsize(&b, 6);
	for (size_t i = 0; i < 3; i++)
		put_entry(&b, &e[i]);
	put_raw(&b, 77, 3, 5);
	for (size_t i = 3; i < 5; i++)
		put_entry(&b, &e[i]);
	free(decode_ok(&b, 5, 1));
	for (size_t n = 0; n < b.len; n++) {
		copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, b.data, n);
		assert_malformed(copy, n);
		free(copy);
	}
	for (size_t extra = 1; extra <= 40; extra++) {
		copy = calloc(1, b.len + extra);
		assert_non_null(copy);
		memcpy(copy, b.data, b.len);
		assert_malformed(copy, b.len + extra);
		free(copy);
	}
	free(e);
	bytebuf_free(&b);
}

static void test_noncanonical(void **state)
{
	/* Count 1 as fd 01 00, then a valid IPv4 entry. */
	static const uint8_t count_fd[] = {0xfd, 0x01, 0x00, 0, 0, 0, 0, 0x01,
					   0x01, 0x04, 1,    2, 3, 4, 0, 0x01};
	/* Services 1 as fd 01 00. */
	static const uint8_t services_fd[] = {0x01, 0,    0, 0, 0, 0xfd, 0x01, 0x00,
					      0x01, 0x04, 1, 2, 3, 4,    0,    0x01};
	/* Services 0xffff as fe ff ff 00 00. */
	static const uint8_t services_fe[] = {0x01, 0,    0,    0, 0, 0xfe, 0xff, 0xff, 0x00,
					      0x00, 0x01, 0x04, 1, 2, 3,    4,    0,    0x01};
	/* Services 0xffffffff as ff ff ff ff ff 00 00 00 00. */
	static const uint8_t services_ff[] = {0x01, 0,    0,    0, 0, 0xff, 0xff, 0xff,
					      0xff, 0xff, 0x00, 0, 0, 0,    0,    0x01,
					      0x04, 1,    2,    3, 4, 0,    0x01};
	/* Address length 4 as fd 04 00. */
	static const uint8_t addrlen_fd[] = {0x01, 0, 0, 0, 0, 0x01, 0x01, 0xfd,
					     0x04, 0, 1, 2, 3, 4,    0,    0x01};
	/* The same entry written canonically decodes: the tests above fail for the encoding. */
	static const uint8_t canonical[] = {0x01, 0, 0, 0, 0, 0x01, 0x01,
					    0x04, 1, 2, 3, 4, 0,    0x01};
	struct wire_addrv2 *out = NULL;
	size_t count, skipped;
	(void)state;

	assert_malformed(count_fd, sizeof(count_fd));
	assert_malformed(services_fd, sizeof(services_fd));
	assert_malformed(services_fe, sizeof(services_fe));
	assert_malformed(services_ff, sizeof(services_ff));
	assert_malformed(addrlen_fd, sizeof(addrlen_fd));
	assert_int_equal(wire_decode_addrv2(&out, &count, &skipped, canonical, sizeof(canonical)),
			 0);
	assert_int_equal(count, 1);
	assert_int_equal(out[0].port, 1);
	assert_int_equal(out[0].services, 1);
	free(out);
}

static void test_bad_counts(void **state)
{
	/* 1,000 entries claimed (fd e8 03), none present: refused before allocating. */
	static const uint8_t claim[] = {0xfd, 0xe8, 0x03};
	/* 1,001 claimed with room for them: over the limit whatever follows. */
	static uint8_t over[3 + 1001 * 9] = {0xfd, 0xe9, 0x03};
	/* A count far beyond the limit in the 9-byte form. */
	static const uint8_t huge[] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0x80};
	/* An empty payload has no count at all. */
	static const uint8_t empty[1] = {0};
	struct bytebuf b;
	(void)state;

	assert_malformed(claim, sizeof(claim));
	assert_malformed(over, sizeof(over));
	assert_malformed(huge, sizeof(huge));
	assert_malformed(empty, 0);
	/* A zero count alone is a valid, empty message. */
	bytebuf_init(&b, 16);
	bytebuf_compactsize(&b, 0);
	free(decode_ok(&b, 0, 0));
	bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_len),
		cmocka_unit_test(test_exact_bytes),
		cmocka_unit_test(test_round_trip_each_network),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_wrong_lengths),
		cmocka_unit_test(test_unknown_networks_skipped),
		cmocka_unit_test(test_torv2_skipped),
		cmocka_unit_test(test_addrlen_limit),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_noncanonical),
		cmocka_unit_test(test_bad_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
