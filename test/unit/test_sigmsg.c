/* Unit tests for wire/sigmsg: two fixed vectors of our own (serialization, id, signature with a
 * fixed aux; also in doc/protocol-vectors.md and computed independently with the functional
 * framework's pure-Python BIP340), round trips with every field at its maximum, each format
 * rule at its bound and one past it, non-canonical compact sizes, truncation at every byte,
 * trailing bytes, proof-of-work counting, signing with mining and verifying. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "util/bytes.h"
#include "util/random.h"
#include "wire/sigmsg.h"

/* The secret key of both vectors: the bytes 0x01 to 0x20 (valid: below the group order). */
static const char vec_seckey_hex[] =
	"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
static const char vec_author_hex[] =
	"84bf7562262bbd6940085748f3be6afa52ae317155181ece31b66351ccffa4b0";
/* Both vectors are signed with 32 zero bytes of auxiliary randomness. */
static const uint8_t vec_aux[32];

/* Vector 1, minimal: topic "a", created_at 0, no references, empty body, nonce 0 (pow 0). */
static const char vec_min_hex[] =
	"01"                                                               /* version */
	"0161"                                                             /* topic "a" */
	"0000000000000000"                                                 /* created_at 0 */
	"84bf7562262bbd6940085748f3be6afa52ae317155181ece31b66351ccffa4b0" /* author */
	"00"                                                               /* no references */
	"00"                                                               /* empty body */
	"0000000000000000"                                                 /* nonce 0 */
	"f31ca2a50ff975a45e8ccad5036a9615286421901043599ad71999ae5f707f40" /* sig */
	"c5e1af82bc0b24e2bf7d64e0910fac37ddd7d6a0d96b087bd51357450e5fdbc4";
static const char vec_min_id_hex[] =
	"c65074d7d381b25392317adf8ac3371510967cc5357ed0aa74e7edb9d45c87e5";

/* Vector 2, full: topic "p2pd/test-vector", created_at 1700000000, references 0xaa x 32 and
 * 0xbb x 32, body "hello, p2pd", mined from nonce 0 to 8 bits of proof-of-work: nonce 375. */
static const char vec_full_hex[] =
	"01"                                                               /* version */
	"10703270642f746573742d766563746f72"                               /* topic */
	"00f1536500000000"                                                 /* 1700000000 */
	"84bf7562262bbd6940085748f3be6afa52ae317155181ece31b66351ccffa4b0" /* author */
	"02"                                                               /* 2 references */
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	"0b68656c6c6f2c2070327064"                                         /* body "hello, p2pd" */
	"7701000000000000"                                                 /* nonce 375 */
	"cba7966ba3b612f130704721b757ccbf2562ba08d9dd3bba4e65606467227f80" /* sig */
	"c0876d6fe39348fa3090d3d04855a7d8c9ccf5bacabcf411c44c6d6ccdd5808a";
static const char vec_full_id_hex[] =
	"00a149e267f407c265bbc73dc2d44f111ac7fde6f0bc7fd7d53a9a5184ad9ae5";
#define VEC_FULL_LEN   207
#define VEC_FULL_NONCE 375
#define VEC_FULL_POW   8

/* Bound for encode buffers: the largest message. */
#define TEST_BUF_MAX SIGMSG_MAX_SIZE

static int setup(void **state)
{
	(void)state;
	if (random_init() != 0)
		return -1;
	random_seed_insecure(4);
	return keys_init() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	keys_shutdown();
	return 0;
}

static void from_hex(uint8_t *out, size_t len, const char *hex)
{
	assert_int_equal(hex_decode(out, len, hex), 0);
}

static uint8_t *from_hex_alloc(const char *hex, size_t *len)
{
	uint8_t *p = NULL;
	assert_int_equal(hex_decode_alloc(hex, SIGMSG_MAX_SIZE + 16, &p, len), 0);
	return p;
}

static void encode(struct bytebuf *b, const struct sigmsg *m)
{
	bytebuf_init(b, TEST_BUF_MAX);
	sigmsg_encode(b, m);
	assert_true(bytebuf_ok(b));
}

static void assert_sigmsg_equal(const struct sigmsg *a, const struct sigmsg *b)
{
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->topic, b->topic);
	assert_int_equal(a->created_at, b->created_at);
	assert_memory_equal(a->author, b->author, 32);
	assert_int_equal(a->nrefs, b->nrefs);
	if (a->nrefs > 0)
		assert_memory_equal(a->refs, b->refs, (size_t)a->nrefs * 32);
	assert_int_equal(a->body_len, b->body_len);
	if (a->body_len > 0)
		assert_memory_equal(a->body, b->body, a->body_len);
	assert_int_equal(a->nonce, b->nonce);
	assert_memory_equal(a->sig, b->sig, 64);
}

static void assert_malformed(const uint8_t *p, size_t len)
{
	struct sigmsg m;
	static const struct sigmsg zero;

	memset(&m, 0xaa, sizeof(m));
	assert_int_equal(sigmsg_decode(&m, p, len), -1);
	assert_memory_equal(&m, &zero, sizeof(m));
}

/* The full vector's fields, built by hand (the signature comes from the vector). */
static void vec_full_fields(struct sigmsg *m)
{
	static uint8_t body[] = "hello, p2pd";

	memset(m, 0, sizeof(*m));
	m->version = SIGMSG_FORMAT_VERSION;
	strcpy(m->topic, "p2pd/test-vector");
	m->created_at = 1700000000;
	from_hex(m->author, 32, vec_author_hex);
	m->nrefs = 2;
	memset(m->refs[0], 0xaa, 32);
	memset(m->refs[1], 0xbb, 32);
	m->body = body; /* not owned: never sigmsg_clear this struct */
	m->body_len = sizeof(body) - 1;
	m->nonce = VEC_FULL_NONCE;
}

/* Check one vector: decode, fields, re-encode to the same bytes, id, pow, a signature made
 * with the fixed aux equal to the vector's, and the signature verifies. */
static void check_vector(const char *hex, const char *id_hex, struct sigmsg *m)
{
	uint8_t *raw, id[32], want_id[32], sk[32], sig[64];
	size_t len;
	struct bytebuf b;

	raw = from_hex_alloc(hex, &len);
	from_hex(want_id, 32, id_hex);
	from_hex(sk, 32, vec_seckey_hex);
	assert_int_equal(sigmsg_decode(m, raw, len), 0);
	encode(&b, m);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, raw, len);
	assert_int_equal(sigmsg_id(id, m), 0);
	assert_memory_equal(id, want_id, 32);
	/* The id hashed from the bytes is the same, with the same fields decoded. */
	{
		struct sigmsg again;
		uint8_t id2[32];
		assert_int_equal(sigmsg_decode_id(&again, id2, raw, len), 0);
		assert_memory_equal(id2, want_id, 32);
		assert_int_equal(again.created_at, m->created_at);
		sigmsg_clear(&again);
		raw[len - 1] ^= 1; /* the signature is not part of the id */
		assert_int_equal(sigmsg_decode_id(&again, id2, raw, len), 0);
		assert_memory_equal(id2, want_id, 32);
		sigmsg_clear(&again);
		raw[len - 1] ^= 1;
		assert_int_equal(sigmsg_decode_id(&again, id2, raw, len - 1), -1);
	}
	assert_int_equal(sigmsg_verify_sig(m, id), 1);
	assert_int_equal(key_sign_schnorr(sig, id, sk, vec_aux), 0);
	assert_memory_equal(sig, m->sig, 64);
	bytebuf_free(&b);
	free(raw);
}

static void test_vector_minimal(void **state)
{
	struct sigmsg m;
	uint8_t author[32], id[32];
	(void)state;

	check_vector(vec_min_hex, vec_min_id_hex, &m);
	from_hex(author, 32, vec_author_hex);
	assert_int_equal(m.version, 1);
	assert_string_equal(m.topic, "a");
	assert_int_equal(m.created_at, 0);
	assert_memory_equal(m.author, author, 32);
	assert_int_equal(m.nrefs, 0);
	assert_int_equal(m.body_len, 0);
	assert_null(m.body);
	assert_int_equal(m.nonce, 0);
	assert_int_equal(sigmsg_id(id, &m), 0);
	assert_int_equal(sigmsg_pow(id), 0);
	sigmsg_clear(&m);
}

static void test_vector_full(void **state)
{
	struct sigmsg m, built;
	uint8_t id[32];
	struct bytebuf b;
	(void)state;

	check_vector(vec_full_hex, vec_full_id_hex, &m);
	vec_full_fields(&built);
	memcpy(built.sig, m.sig, 64);
	assert_sigmsg_equal(&m, &built);
	encode(&b, &built);
	assert_int_equal(b.len, VEC_FULL_LEN);
	bytebuf_free(&b);
	assert_int_equal(sigmsg_id(id, &m), 0);
	assert_int_equal(sigmsg_pow(id), VEC_FULL_POW);
	sigmsg_clear(&m);
}

/* Mining the full vector from nonce 0 finds its nonce and id; the signature differs (fresh
 * aux) but verifies. */
static void test_sign_reproduces_vector(void **state)
{
	struct sigmsg m;
	uint8_t sk[32], id[32], want_id[32], author[32];
	(void)state;

	vec_full_fields(&m);
	memset(m.author, 0, 32);
	m.nonce = 12345;
	from_hex(sk, 32, vec_seckey_hex);
	from_hex(want_id, 32, vec_full_id_hex);
	from_hex(author, 32, vec_author_hex);
	assert_int_equal(sigmsg_sign(&m, id, sk, VEC_FULL_POW, 0), 0);
	assert_memory_equal(m.author, author, 32);
	assert_int_equal(m.nonce, VEC_FULL_NONCE);
	assert_memory_equal(id, want_id, 32);
	assert_int_equal(sigmsg_verify_sig(&m, id), 1);
}

/* A message with every field at its maximum. Caller frees m->body. */
static void max_message(struct sigmsg *m)
{
	memset(m, 0, sizeof(*m));
	m->version = SIGMSG_FORMAT_VERSION;
	memset(m->topic, 'z', SIGMSG_TOPIC_MAX);
	m->topic[SIGMSG_TOPIC_MAX] = '\0';
	m->created_at = INT64_MAX;
	memset(m->author, 0x5c, 32);
	m->nrefs = SIGMSG_MAX_REFS;
	for (size_t i = 0; i < SIGMSG_MAX_REFS; i++)
		memset(m->refs[i], (int)i + 1, 32);
	m->body_len = SIGMSG_MAX_BODY;
	m->body = malloc(SIGMSG_MAX_BODY);
	assert_non_null(m->body);
	for (size_t i = 0; i < SIGMSG_MAX_BODY; i++)
		m->body[i] = (uint8_t)(i * 7 + 3);
	m->nonce = UINT64_MAX;
	memset(m->sig, 0xee, 64);
}

static void test_round_trip_max(void **state)
{
	struct sigmsg m, back;
	struct bytebuf b, again;
	(void)state;

	max_message(&m);
	encode(&b, &m);
	/* SIGMSG_MAX_SIZE counts every field at its maximum. */
	assert_int_equal(b.len, SIGMSG_MAX_SIZE);
	assert_int_equal(sigmsg_decode(&back, b.data, b.len), 0);
	assert_sigmsg_equal(&back, &m);
	encode(&again, &back);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.data, b.data, b.len);
	/* The unsigned serialization is the full one without the last 64 bytes. */
	bytebuf_reset(&again);
	sigmsg_encode_unsigned(&again, &m);
	assert_int_equal(again.len, b.len - 64);
	assert_memory_equal(again.data, b.data, again.len);
	bytebuf_free(&again);
	bytebuf_free(&b);
	sigmsg_clear(&back);
	sigmsg_clear(&m);
}

/* Fields of a serialization built with controlled, possibly invalid, values. */
struct raw_msg {
	uint8_t version;
	const char *topic;
	size_t topic_len;
	int64_t created_at;
	size_t nrefs;
	size_t body_len;
	/* Write this compactsize in its 3-byte form (non-canonical below 0xfd). */
	bool long_topic_len, long_nrefs, long_body_len;
};

static void raw_defaults(struct raw_msg *r)
{
	memset(r, 0, sizeof(*r));
	r->version = SIGMSG_FORMAT_VERSION;
	r->topic = "chat";
	r->topic_len = 4;
	r->created_at = 1700000000;
	r->nrefs = 1;
	r->body_len = 5;
}

static void put_size(struct bytebuf *b, size_t v, bool long_form)
{
	if (long_form) {
		bytebuf_u8(b, 0xfd);
		bytebuf_u16le(b, (uint16_t)v);
	} else {
		bytebuf_compactsize(b, v);
	}
}

static void raw_build(struct bytebuf *b, const struct raw_msg *r)
{
	static const uint8_t filler[32] = {7};

	bytebuf_init(b, 2 * SIGMSG_MAX_SIZE);
	bytebuf_u8(b, r->version);
	put_size(b, r->topic_len, r->long_topic_len);
	bytebuf_append(b, r->topic, r->topic_len);
	bytebuf_i64le(b, r->created_at);
	bytebuf_append(b, filler, 32);
	put_size(b, r->nrefs, r->long_nrefs);
	for (size_t i = 0; i < r->nrefs; i++)
		bytebuf_append(b, filler, 32);
	put_size(b, r->body_len, r->long_body_len);
	for (size_t i = 0; i < r->body_len; i++)
		bytebuf_u8(b, (uint8_t)i);
	bytebuf_u64le(b, 99);
	for (size_t i = 0; i < 64; i++)
		bytebuf_u8(b, 0x33);
	assert_true(bytebuf_ok(b));
}

static bool raw_decodes(const struct raw_msg *r)
{
	struct bytebuf b;
	struct sigmsg m;
	int rc;

	raw_build(&b, r);
	rc = sigmsg_decode(&m, b.data, b.len);
	if (rc == 0) {
		assert_int_equal(m.created_at, r->created_at);
		assert_int_equal(m.nrefs, r->nrefs);
		assert_int_equal(m.body_len, r->body_len);
		assert_int_equal(strlen(m.topic), r->topic_len);
		sigmsg_clear(&m);
	} else {
		assert_malformed(b.data, b.len);
	}
	bytebuf_free(&b);
	return rc == 0;
}

static void test_version_field(void **state)
{
	struct raw_msg r;
	(void)state;

	raw_defaults(&r);
	assert_true(raw_decodes(&r));
	for (unsigned v = 0; v < 256; v++) {
		r.version = (uint8_t)v;
		assert_int_equal(raw_decodes(&r), v == SIGMSG_FORMAT_VERSION);
	}
}

static void test_topic_bounds(void **state)
{
	char topic[SIGMSG_TOPIC_MAX + 2];
	struct raw_msg r;
	(void)state;

	memset(topic, 'x', sizeof(topic));
	raw_defaults(&r);
	r.topic = topic;
	r.topic_len = 0;
	assert_false(raw_decodes(&r));
	r.topic_len = 1;
	assert_true(raw_decodes(&r));
	r.topic_len = SIGMSG_TOPIC_MAX;
	assert_true(raw_decodes(&r));
	r.topic_len = SIGMSG_TOPIC_MAX + 1;
	assert_false(raw_decodes(&r));
	r.topic_len = 4;
	r.long_topic_len = true; /* fd 04 00 */
	assert_false(raw_decodes(&r));
}

static void test_topic_charset(void **state)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyz0123456789._/-";
	char topic[3] = {'a', 0, 'z'};
	struct raw_msg r;
	(void)state;

	raw_defaults(&r);
	r.topic = topic;
	r.topic_len = 3;
	/* Every byte value in the middle of a topic: exactly the charset passes. */
	for (unsigned ch = 0; ch < 256; ch++) {
		bool ok = ch != 0 && strchr(allowed, (int)ch) != NULL;
		topic[1] = (char)ch;
		assert_int_equal(raw_decodes(&r), ok);
		assert_int_equal(sigmsg_topic_valid(topic, 3), ok);
	}
	assert_true(sigmsg_topic_valid("a.b_c/d-e", 9));
	assert_false(sigmsg_topic_valid("Chat", 4));
	assert_false(sigmsg_topic_valid("chat room", 9));
	assert_false(sigmsg_topic_valid("", 0));
	char longest[SIGMSG_TOPIC_MAX + 1];
	memset(longest, 'q', sizeof(longest));
	assert_true(sigmsg_topic_valid(longest, SIGMSG_TOPIC_MAX));
	assert_false(sigmsg_topic_valid(longest, SIGMSG_TOPIC_MAX + 1));
}

static void test_created_at(void **state)
{
	struct raw_msg r;
	(void)state;

	raw_defaults(&r);
	r.created_at = 0;
	assert_true(raw_decodes(&r));
	r.created_at = INT64_MAX;
	assert_true(raw_decodes(&r));
	r.created_at = -1;
	assert_false(raw_decodes(&r));
	r.created_at = INT64_MIN;
	assert_false(raw_decodes(&r));
}

static void test_refs_bounds(void **state)
{
	struct raw_msg r;
	(void)state;

	raw_defaults(&r);
	for (size_t n = 0; n <= SIGMSG_MAX_REFS + 2; n++) {
		r.nrefs = n;
		assert_int_equal(raw_decodes(&r), n <= SIGMSG_MAX_REFS);
	}
	r.nrefs = 2;
	r.long_nrefs = true;
	assert_false(raw_decodes(&r));
}

static void test_body_bounds(void **state)
{
	struct raw_msg r;
	(void)state;

	raw_defaults(&r);
	r.body_len = 0;
	assert_true(raw_decodes(&r));
	r.body_len = 0xfd; /* the first length that needs the 3-byte form */
	assert_true(raw_decodes(&r));
	r.body_len = SIGMSG_MAX_BODY;
	assert_true(raw_decodes(&r));
	r.body_len = SIGMSG_MAX_BODY + 1;
	assert_false(raw_decodes(&r));
	r.body_len = 11;
	r.long_body_len = true; /* fd 0b 00 */
	assert_false(raw_decodes(&r));
	r.body_len = 0;
	assert_false(raw_decodes(&r)); /* fd 00 00 */
}

/* A body length of 0x10000 written as fe 00 00 01 00 is canonical, but fe-form for a value
 * below it is not; the 9-byte form is never canonical here. */
static void test_body_length_forms(void **state)
{
	uint8_t *raw;
	size_t len, at;
	struct bytebuf b;
	(void)state;

	raw = from_hex_alloc(vec_full_hex, &len);
	/* The body length byte (0x0b) sits after version, topic, time, author and references. */
	at = 1 + 17 + 8 + 32 + 1 + 64;
	assert_int_equal(raw[at], 0x0b);
	bytebuf_init(&b, 1024);
	bytebuf_append(&b, raw, at);
	bytebuf_u8(&b, 0xfe);
	bytebuf_u32le(&b, 0x0b);
	bytebuf_append(&b, raw + at + 1, len - at - 1);
	assert_malformed(b.data, b.len);
	bytebuf_reset(&b);
	bytebuf_append(&b, raw, at);
	bytebuf_u8(&b, 0xff);
	bytebuf_u64le(&b, 0x0b);
	bytebuf_append(&b, raw + at + 1, len - at - 1);
	assert_malformed(b.data, b.len);
	bytebuf_free(&b);
	free(raw);
}

static void test_truncated_and_trailing(void **state)
{
	uint8_t *raw, *copy;
	size_t len;
	struct sigmsg m;
	(void)state;

	raw = from_hex_alloc(vec_full_hex, &len);
	assert_int_equal(len, VEC_FULL_LEN);
	/* Every proper prefix, each in an exact-size allocation so ASan sees over-reads. */
	for (size_t n = 0; n < len; n++) {
		copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, raw, n);
		assert_malformed(copy, n);
		free(copy);
	}
	copy = malloc(len + 1);
	assert_non_null(copy);
	memcpy(copy, raw, len);
	copy[len] = 0;
	assert_malformed(copy, len + 1);
	assert_int_equal(sigmsg_decode(&m, copy, len), 0);
	sigmsg_clear(&m);
	sigmsg_clear(NULL);
	free(copy);
	free(raw);
}

static void test_pow_counting(void **state)
{
	uint8_t id[32];
	(void)state;

	memset(id, 0, 32);
	assert_int_equal(sigmsg_pow(id), 256);
	id[31] = 0x01;
	assert_int_equal(sigmsg_pow(id), 255);
	id[31] = 0x80;
	assert_int_equal(sigmsg_pow(id), 248);
	memset(id, 0, 32);
	id[0] = 0x80;
	assert_int_equal(sigmsg_pow(id), 0);
	id[0] = 0xff;
	assert_int_equal(sigmsg_pow(id), 0);
	id[0] = 0x40;
	assert_int_equal(sigmsg_pow(id), 1);
	id[0] = 0x01;
	assert_int_equal(sigmsg_pow(id), 7);
	id[0] = 0x00;
	id[1] = 0xff;
	assert_int_equal(sigmsg_pow(id), 8);
	id[1] = 0x7f;
	assert_int_equal(sigmsg_pow(id), 9);
	/* Later bytes do not count once a one bit was seen. */
	id[1] = 0x40;
	memset(id + 2, 0, 30);
	assert_int_equal(sigmsg_pow(id), 9);
}

static void sample_message(struct sigmsg *m, const char *body)
{
	memset(m, 0, sizeof(*m));
	m->version = SIGMSG_FORMAT_VERSION;
	strcpy(m->topic, "chat");
	m->created_at = 1700000000;
	m->body_len = (uint32_t)strlen(body);
	m->body = malloc(m->body_len ? m->body_len : 1);
	assert_non_null(m->body);
	memcpy(m->body, body, m->body_len);
}

static void sign_and_verify(int pow_bits)
{
	struct sigmsg m, back;
	uint8_t sk[32], id[32], id2[32];
	struct bytebuf b;

	assert_int_equal(key_generate(sk), 0);
	sample_message(&m, "hello");
	assert_int_equal(sigmsg_sign(&m, id, sk, pow_bits, 0), 0);
	assert_true(sigmsg_pow(id) >= pow_bits);
	assert_int_equal(sigmsg_id(id2, &m), 0);
	assert_memory_equal(id, id2, 32);
	assert_int_equal(sigmsg_verify_sig(&m, id), 1);
	/* Through the wire and back. */
	encode(&b, &m);
	assert_int_equal(sigmsg_decode(&back, b.data, b.len), 0);
	assert_int_equal(sigmsg_id(id2, &back), 0);
	assert_memory_equal(id, id2, 32);
	assert_int_equal(sigmsg_verify_sig(&back, id2), 1);
	/* Any change breaks it: a body byte (new id), a signature bit, the author. */
	back.body[0] ^= 1;
	assert_int_equal(sigmsg_id(id2, &back), 0);
	assert_memory_not_equal(id, id2, 32);
	assert_int_equal(sigmsg_verify_sig(&back, id2), 0);
	back.body[0] ^= 1;
	back.sig[10] ^= 0x20;
	assert_int_equal(sigmsg_verify_sig(&back, id), 0);
	back.sig[10] ^= 0x20;
	back.author[5] ^= 1;
	assert_int_equal(sigmsg_verify_sig(&back, id), 0);
	bytebuf_free(&b);
	sigmsg_clear(&back);
	sigmsg_clear(&m);
}

static void test_sign_pow0(void **state)
{
	(void)state;
	sign_and_verify(0);
}

static void test_sign_pow12(void **state)
{
	(void)state;
	sign_and_verify(12);
}

static void test_sign_errors(void **state)
{
	struct sigmsg m;
	uint8_t sk[32], id[32];
	static const uint8_t zero[32];
	/* The group order n: not a valid secret key. */
	static const char order_hex[] =
		"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";
	(void)state;

	sample_message(&m, "x");
	memset(sk, 0, 32);
	assert_int_equal(sigmsg_sign(&m, id, sk, 0, 0), -1);
	assert_memory_equal(id, zero, 32);
	from_hex(sk, 32, order_hex);
	assert_int_equal(sigmsg_sign(&m, id, sk, 0, 0), -1);
	assert_int_equal(key_generate(sk), 0);
	/* 40 bits in 100 tries: out of tries (chance of success 100 / 2^40). */
	assert_int_equal(sigmsg_sign(&m, id, sk, 40, 100), -2);
	assert_int_equal(sigmsg_sign(&m, id, sk, 257, 0), -2);
	/* Fields the decoder would refuse are not signed. */
	strcpy(m.topic, "Bad");
	assert_int_equal(sigmsg_sign(&m, id, sk, 0, 0), -1);
	strcpy(m.topic, "chat");
	m.created_at = -5;
	assert_int_equal(sigmsg_sign(&m, id, sk, 0, 0), -1);
	m.created_at = 5;
	m.version = 2;
	assert_int_equal(sigmsg_sign(&m, id, sk, 0, 0), -1);
	m.version = SIGMSG_FORMAT_VERSION;
	assert_int_equal(sigmsg_sign(&m, id, sk, 0, 0), 0);
	assert_int_equal(sigmsg_verify_sig(&m, id), 1);
	sigmsg_clear(&m);
}

/* The format does not check that the author is a curve point: the signature check does. */
static void test_author_not_a_key(void **state)
{
	uint8_t *raw, id[32];
	size_t len;
	struct sigmsg m;
	(void)state;

	raw = from_hex_alloc(vec_min_hex, &len);
	memset(raw + 1 + 2 + 8, 0xff, 32);
	assert_int_equal(sigmsg_decode(&m, raw, len), 0);
	assert_int_equal(sigmsg_id(id, &m), 0);
	assert_int_equal(sigmsg_verify_sig(&m, id), 0);
	sigmsg_clear(&m);
	free(raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_minimal),
		cmocka_unit_test(test_vector_full),
		cmocka_unit_test(test_sign_reproduces_vector),
		cmocka_unit_test(test_round_trip_max),
		cmocka_unit_test(test_version_field),
		cmocka_unit_test(test_topic_bounds),
		cmocka_unit_test(test_topic_charset),
		cmocka_unit_test(test_created_at),
		cmocka_unit_test(test_refs_bounds),
		cmocka_unit_test(test_body_bounds),
		cmocka_unit_test(test_body_length_forms),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_pow_counting),
		cmocka_unit_test(test_sign_pow0),
		cmocka_unit_test(test_sign_pow12),
		cmocka_unit_test(test_sign_errors),
		cmocka_unit_test(test_author_not_a_key),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
