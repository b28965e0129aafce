/* Unit tests for wire/messages: the exact bytes of version (every field at its offset, the port
 * big-endian), round trips, truncation at every byte, each malformed case doc/protocol.md names
 * (user agent too long or holding a NUL, relay byte 2, non-canonical length), the optional relay
 * byte, trailing bytes, ping/pong nonces, the 26-byte address and sockaddr conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "util/bytes.h"
#include "wire/messages.h"

/* Bound for encode buffers in these tests: far above any message built here. */
#define TEST_BUF_MAX 4096

/* The version built by sample_version(), field by field as doc/protocol.md lays it out, written
 * by hand (and checked against Python's struct.pack). A field that moves breaks the match. */
static const char *const sample_version_hex[] = {
	"81380100",                         /* version 80001, int32 LE */
	"0100000000000000",                 /* services NODE_MSGSTORE, uint64 LE */
	"00f1536500000000",                 /* timestamp 1700000000, int64 LE */
	"0000000000000000",                 /* addr_recv.services 0 */
	"00000000000000000000ffff7f000001", /* addr_recv.ip ::ffff:127.0.0.1 */
	"7425",                             /* addr_recv.port 29733, big-endian */
	"0100000000000000",                 /* addr_from.services 1 */
	"20010db8000000000000000000000001", /* addr_from.ip 2001:db8::1 */
	"2605",                             /* addr_from.port 9733, big-endian */
	"0807060504030201",                 /* nonce 0x0102030405060708, uint64 LE */
	"0c",                               /* user agent length 12, compactsize */
	"2f703270643a302e312e302f",         /* "/p2pd:0.1.0/" */
	"05000000",                         /* start_height 5, int32 LE */
	"00",                               /* relay 0 */
};
/* Offset of the user agent's length byte (4 + 8 + 8 + 26 + 26 + 8) and the total length. */
#define SAMPLE_UA_OFFSET 80
#define SAMPLE_LEN       98

static void sample_version(struct msg_version *v)
{
	memset(v, 0, sizeof(*v));
	v->version = PROTOCOL_VERSION;
	v->services = NODE_MSGSTORE;
	v->timestamp = 1700000000;
	v->addr_recv.services = 0;
	static const uint8_t recv_ip[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	memcpy(v->addr_recv.ip, recv_ip, 16);
	v->addr_recv.port = 29733;
	v->addr_from.services = 1;
	static const uint8_t from_ip[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					    0,    0,    0,    0,    0, 0, 0, 1};
	memcpy(v->addr_from.ip, from_ip, 16);
	v->addr_from.port = 9733;
	v->nonce = UINT64_C(0x0102030405060708);
	strcpy(v->user_agent, CLIENT_SUBVERSION);
	v->start_height = 5;
	v->relay = false;
}

/* Decode the concatenation of hex pieces into a malloc'd buffer. */
static uint8_t *hex_concat(const char *const *pieces, size_t n, size_t *outlen)
{
	char all[2 * SAMPLE_LEN + 1] = "";
	for (size_t i = 0; i < n; i++) {
		assert_true(strlen(all) + strlen(pieces[i]) < sizeof(all));
		strcat(all, pieces[i]);
	}
	uint8_t *out = NULL;
	assert_int_equal(hex_decode_alloc(all, SAMPLE_LEN, &out, outlen), 0);
	return out;
}

static void encode_version(struct bytebuf *b, const struct msg_version *v)
{
	bytebuf_init(b, TEST_BUF_MAX);
	wire_encode_version(b, v);
	assert_true(bytebuf_ok(b));
}

static void assert_addr_equal(const struct wire_addr *a, const struct wire_addr *b)
{
	assert_int_equal(a->services, b->services);
	assert_memory_equal(a->ip, b->ip, 16);
	assert_int_equal(a->port, b->port);
}

static void assert_version_equal(const struct msg_version *a, const struct msg_version *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->services, b->services);
	assert_int_equal(a->timestamp, b->timestamp);
	assert_addr_equal(&a->addr_recv, &b->addr_recv);
	assert_addr_equal(&a->addr_from, &b->addr_from);
	assert_int_equal(a->nonce, b->nonce);
	assert_string_equal(a->user_agent, b->user_agent);
	assert_int_equal(a->start_height, b->start_height);
	assert_int_equal(a->relay, b->relay);
}

/* A decode that must fail: -1, and every byte of the output zeroed. */
static void assert_version_malformed(const uint8_t *p, size_t len)
{
	struct msg_version v;
	static const struct msg_version zero;
	memset(&v, 0xaa, sizeof(v));
	assert_int_equal(wire_decode_version(&v, p, len), -1);
	assert_memory_equal(&v, &zero, sizeof(v));
}

static void test_version_exact_bytes(void **state)
{
	(void)state;
	struct msg_version v, back;
	struct bytebuf b;
	size_t explen;
	uint8_t *expect =
		hex_concat(sample_version_hex,
			   sizeof(sample_version_hex) / sizeof(sample_version_hex[0]), &explen);
	assert_int_equal(explen, SAMPLE_LEN);

	sample_version(&v);
	encode_version(&b, &v);
	assert_int_equal(b.len, SAMPLE_LEN);
	assert_memory_equal(b.data, expect, SAMPLE_LEN);
	assert_int_equal(b.data[SAMPLE_UA_OFFSET], strlen(CLIENT_SUBVERSION));

	/* And the hand-built bytes decode to the same fields. */
	assert_int_equal(wire_decode_version(&back, expect, explen), 0);
	assert_version_equal(&back, &v);
	bytebuf_free(&b);
	free(expect);
}

static void test_version_round_trip(void **state)
{
	(void)state;
	struct msg_version v, back;
	struct bytebuf b;

	/* Extremes of every field: negative signed values, all-ones, an empty user agent. */
	sample_version(&v);
	v.version = INT32_MIN;
	v.services = UINT64_MAX;
	v.timestamp = INT64_MIN;
	v.addr_recv.port = 0xffff;
	memset(v.addr_from.ip, 0xff, 16);
	v.nonce = UINT64_MAX;
	v.user_agent[0] = '\0';
	v.start_height = -1;
	v.relay = true;
	encode_version(&b, &v);
	assert_int_equal(b.len, SAMPLE_LEN - strlen(CLIENT_SUBVERSION));
	assert_int_equal(wire_decode_version(&back, b.data, b.len), 0);
	assert_version_equal(&back, &v);
	bytebuf_free(&b);

	/* The longest user agent allowed, which needs a 3-byte compactsize. */
	sample_version(&v);
	v.timestamp = INT64_MAX;
	v.start_height = INT32_MAX;
	memset(v.user_agent, 'u', WIRE_MAX_USER_AGENT);
	v.user_agent[WIRE_MAX_USER_AGENT] = '\0';
	encode_version(&b, &v);
	assert_int_equal(b.len,
			 SAMPLE_LEN - strlen(CLIENT_SUBVERSION) - 1 + 3 + WIRE_MAX_USER_AGENT);
	assert_int_equal(b.data[SAMPLE_UA_OFFSET], 0xfd);
	assert_int_equal(wire_decode_version(&back, b.data, b.len), 0);
	assert_version_equal(&back, &v);
	bytebuf_free(&b);
}

/* Every proper prefix fails cleanly, except the one that stops right before relay. */
static void test_version_truncated(void **state)
{
	(void)state;
	struct msg_version v, back;
	struct bytebuf b;

	sample_version(&v);
	encode_version(&b, &v);
	for (size_t n = 0; n < b.len - 1; n++) {
		/* An exact-size copy, so ASan sees any read past the end. */
		uint8_t *p = malloc(n ? n : 1);
		assert_non_null(p);
		memcpy(p, b.data, n);
		assert_version_malformed(p, n);
		free(p);
	}
	assert_version_malformed(NULL, 0);

	/* Without relay: accepted, relay taken as 1 (Bitcoin's rule). */
	assert_int_equal(wire_decode_version(&back, b.data, b.len - 1), 0);
	assert_true(back.relay);
	v.relay = true;
	assert_version_equal(&back, &v);
	bytebuf_free(&b);
}

static void test_version_relay(void **state)
{
	(void)state;
	struct msg_version v, back;
	struct bytebuf b;

	sample_version(&v);
	encode_version(&b, &v);
	assert_int_equal(b.data[b.len - 1], 0);
	assert_int_equal(wire_decode_version(&back, b.data, b.len), 0);
	assert_false(back.relay);

	b.data[b.len - 1] = 1;
	assert_int_equal(wire_decode_version(&back, b.data, b.len), 0);
	assert_true(back.relay);

	b.data[b.len - 1] = 2;
	assert_version_malformed(b.data, b.len);
	b.data[b.len - 1] = 0xff;
	assert_version_malformed(b.data, b.len);
	bytebuf_free(&b);
}

/* Bytes after relay are ignored, whatever they are. */
static void test_version_trailing(void **state)
{
	(void)state;
	struct msg_version v, back;
	struct bytebuf b;

	sample_version(&v);
	encode_version(&b, &v);
	static const uint8_t extra[] = {0xff, 0x00, 0x02, 0xfd};
	bytebuf_append(&b, extra, sizeof(extra));
	assert_true(bytebuf_ok(&b));
	assert_int_equal(wire_decode_version(&back, b.data, b.len), 0);
	assert_version_equal(&back, &v);
	bytebuf_free(&b);
}

/* Build a version payload around a raw user-agent field (length prefix included). */
static void version_with_raw_ua(struct bytebuf *b, const uint8_t *ua_field, size_t n)
{
	struct msg_version v;
	struct bytebuf full;

	sample_version(&v);
	encode_version(&full, &v);
	bytebuf_init(b, TEST_BUF_MAX);
	bytebuf_append(b, full.data, SAMPLE_UA_OFFSET);
	bytebuf_append(b, ua_field, n);
	bytebuf_append(b, full.data + SAMPLE_UA_OFFSET + 1 + strlen(CLIENT_SUBVERSION),
		       full.len - SAMPLE_UA_OFFSET - 1 - strlen(CLIENT_SUBVERSION));
	assert_true(bytebuf_ok(b));
	bytebuf_free(&full);
}

static void test_version_user_agent(void **state)
{
	(void)state;
	struct msg_version back;
	struct bytebuf b;
	uint8_t field[3 + WIRE_MAX_USER_AGENT + 1];

	/* 256 bytes: the limit, accepted. */
	field[0] = 0xfd;
	field[1] = WIRE_MAX_USER_AGENT & 0xff;
	field[2] = WIRE_MAX_USER_AGENT >> 8;
	memset(field + 3, 'a', WIRE_MAX_USER_AGENT + 1);
	version_with_raw_ua(&b, field, 3 + WIRE_MAX_USER_AGENT);
	assert_int_equal(wire_decode_version(&back, b.data, b.len), 0);
	assert_int_equal(strlen(back.user_agent), WIRE_MAX_USER_AGENT);
	bytebuf_free(&b);

	/* 257 bytes: malformed, though the bytes are all there. */
	field[1] = (WIRE_MAX_USER_AGENT + 1) & 0xff;
	field[2] = (WIRE_MAX_USER_AGENT + 1) >> 8;
	version_with_raw_ua(&b, field, 3 + WIRE_MAX_USER_AGENT + 1);
	assert_version_malformed(b.data, b.len);
	bytebuf_free(&b);

	/* A huge announced length with few bytes behind it. */
	static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'x'};
	version_with_raw_ua(&b, huge, sizeof(huge));
	assert_version_malformed(b.data, b.len);
	bytebuf_free(&b);

	/* A non-canonical length (fd 04 00 for 4) is malformed. */
	static const uint8_t noncanon[] = {0xfd, 0x04, 0x00, 'a', 'b', 'c', 'd'};
	version_with_raw_ua(&b, noncanon, sizeof(noncanon));
	assert_version_malformed(b.data, b.len);
	bytebuf_free(&b);

	/* A NUL inside, at the start or at the end of the user agent is malformed. */
	static const uint8_t nul_mid[] = {4, 'a', 0, 'c', 'd'};
	static const uint8_t nul_first[] = {4, 0, 'b', 'c', 'd'};
	static const uint8_t nul_last[] = {4, 'a', 'b', 'c', 0};
	const uint8_t *nuls[] = {nul_mid, nul_first, nul_last};
	for (size_t i = 0; i < 3; i++) {
		version_with_raw_ua(&b, nuls[i], 5);
		assert_version_malformed(b.data, b.len);
		bytebuf_free(&b);
	}

	/* Any other byte is kept as sent (display code sanitises it). */
	static const uint8_t odd[] = {4, 0x01, 0x7f, 0xc3, 0xff};
	version_with_raw_ua(&b, odd, sizeof(odd));
	assert_int_equal(wire_decode_version(&back, b.data, b.len), 0);
	assert_memory_equal(back.user_agent, "\x01\x7f\xc3\xff", 5);
	bytebuf_free(&b);

	/* Empty user agent. */
	static const uint8_t empty[] = {0};
	version_with_raw_ua(&b, empty, sizeof(empty));
	assert_int_equal(wire_decode_version(&back, b.data, b.len), 0);
	assert_string_equal(back.user_agent, "");
	bytebuf_free(&b);
}

static void test_nonce(void **state)
{
	(void)state;
	struct bytebuf b;
	uint64_t n = 1;
	static const uint8_t expect[8] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};

	bytebuf_init(&b, TEST_BUF_MAX);
	wire_encode_nonce(&b, UINT64_C(0x0123456789abcdef));
	assert_true(bytebuf_ok(&b));
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, expect, 8);
	assert_int_equal(wire_decode_nonce(&n, b.data, b.len), 0);
	assert_int_equal(n, UINT64_C(0x0123456789abcdef));

	/* Shorter than 8 bytes: malformed, nonce zeroed. */
	for (size_t len = 0; len < 8; len++) {
		n = 1;
		assert_int_equal(wire_decode_nonce(&n, expect, len), -1);
		assert_int_equal(n, 0);
	}
	n = 1;
	assert_int_equal(wire_decode_nonce(&n, NULL, 0), -1);
	assert_int_equal(n, 0);

	/* Longer: trailing bytes ignored. */
	bytebuf_u8(&b, 0xff);
	assert_int_equal(wire_decode_nonce(&n, b.data, b.len), 0);
	assert_int_equal(n, UINT64_C(0x0123456789abcdef));

	bytebuf_reset(&b);
	wire_encode_nonce(&b, 0);
	wire_encode_nonce(&b, UINT64_MAX);
	assert_int_equal(wire_decode_nonce(&n, b.data + 8, 8), 0);
	assert_int_equal(n, UINT64_MAX);
	bytebuf_free(&b);
}

static void test_addr(void **state)
{
	(void)state;
	struct wire_addr a = {.services = UINT64_C(0x8000000000000001), .port = 0x1234};
	struct wire_addr back;
	struct bytebuf b;
	struct cursor c;

	for (size_t i = 0; i < 16; i++)
		a.ip[i] = (uint8_t)(0xa0 + i);
	bytebuf_init(&b, TEST_BUF_MAX);
	wire_write_addr(&b, &a);
	assert_true(bytebuf_ok(&b));
	assert_int_equal(b.len, 26);
	static const uint8_t expect[26] = {
		0x01, 0,    0,    0,    0,    0,    0,    0x80, /* services LE */
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, /* ip */
		0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, /* ip */
		0x12, 0x34,                                     /* port, big-endian */
	};
	assert_memory_equal(b.data, expect, 26);

	cursor_init(&c, b.data, b.len);
	wire_read_addr(&c, &back);
	assert_true(cursor_ok(&c));
	assert_int_equal(c.left, 0);
	assert_addr_equal(&back, &a);

	/* 25 bytes: the cursor fails and the fields read nothing. */
	cursor_init(&c, b.data, 25);
	wire_read_addr(&c, &back);
	assert_false(cursor_ok(&c));
	assert_int_equal(back.port, 0);
	bytebuf_free(&b);
}

static void test_addr_from_sockaddr(void **state)
{
	(void)state;
	struct wire_addr a;

	struct sockaddr_in sin;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(29733);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr), 1);
	assert_int_equal(wire_addr_from_sockaddr(&a, (const struct sockaddr *)&sin, NODE_MSGSTORE),
			 0);
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 7};
	assert_memory_equal(a.ip, mapped, 16);
	assert_int_equal(a.port, 29733);
	assert_int_equal(a.services, NODE_MSGSTORE);

	/* On the wire the port is big-endian: 29733 = 0x7425. */
	struct bytebuf b;
	bytebuf_init(&b, TEST_BUF_MAX);
	wire_write_addr(&b, &a);
	assert_int_equal(b.data[24], 0x74);
	assert_int_equal(b.data[25], 0x25);
	bytebuf_free(&b);

	struct sockaddr_in6 sin6;
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(9733);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::42", &sin6.sin6_addr), 1);
	assert_int_equal(wire_addr_from_sockaddr(&a, (const struct sockaddr *)&sin6, 0), 0);
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				       0,    0,    0,    0,    0, 0, 0, 0x42};
	assert_memory_equal(a.ip, v6, 16);
	assert_int_equal(a.port, 9733);
	assert_int_equal(a.services, 0);

	/* Any other family: -1, output zeroed. */
	struct sockaddr_un sun;
	static const struct wire_addr zero;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(wire_addr_from_sockaddr(&a, (const struct sockaddr *)&sun, 1), -1);
	assert_memory_equal(&a, &zero, sizeof(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_exact_bytes),
		cmocka_unit_test(test_version_round_trip),
		cmocka_unit_test(test_version_truncated),
		cmocka_unit_test(test_version_relay),
		cmocka_unit_test(test_version_trailing),
		cmocka_unit_test(test_version_user_agent),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_addr),
		cmocka_unit_test(test_addr_from_sockaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
