/* Signed messages (doc/protocol.md, "Signed messages"): decode, encode, id, proof-of-work,
 * signing and signature checks.
 *
 * The decoder reads every field through one sticky-failure cursor, adds the format rules with
 * cursor_fail() and looks at the cursor once at the end; on failure the struct is cleared, so
 * no half-filled message (or its body) escapes. The body is the only allocation; its size is
 * bounded by SIGMSG_MAX_BODY before anything is allocated.
 *
 * Mining hashes the fixed part of the message once (the tag prefix and every field before the
 * nonce, which is the last field the id covers) and then only the 8 nonce bytes per try, so
 * the cost of a try does not grow with the body. That needs SHA-256's streaming interface,
 * which crypto/hash.h does not expose, so it comes from libsodium directly; sigmsg_sign
 * recomputes the final id with sigmsg_id, the one definition of the id. */
#include "wire/sigmsg.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/keys.h"

/* Size of the fields the id covers that come after the body: the nonce. */
#define SIGMSG_NONCE_SIZE 8
/* Leading zero bits an id can have at most: all of its 256 bits. */
#define SIGMSG_POW_MAX 256

static bool topic_char_ok(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
	       ch == '/' || ch == '-';
}

bool sigmsg_topic_valid(const char *topic, size_t len)
{
	if (len < 1 || len > SIGMSG_TOPIC_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!topic_char_ok((unsigned char)topic[i]))
			return false;
	}
	return true;
}

void sigmsg_clear(struct sigmsg *m)
{
	if (!m)
		return;
	free(m->body);
	memset(m, 0, sizeof(*m));
}

/* Read the topic: compactsize length 1-SIGMSG_TOPIC_MAX, then that many charset bytes. */
static void read_topic(struct cursor *c, char out[SIGMSG_TOPIC_MAX + 1])
{
	size_t n = (size_t)cursor_compactsize(c, SIGMSG_TOPIC_MAX);
	const uint8_t *p = cursor_borrow(c, n);

	if (!p || !sigmsg_topic_valid((const char *)p, n)) {
		cursor_fail(c);
		return;
	}
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Read the body: compactsize length up to SIGMSG_MAX_BODY, then the bytes into a malloc'd copy
 * (none when empty). The length is checked against the bytes present before allocating. */
static void read_body(struct cursor *c, struct sigmsg *m)
{
	size_t n = (size_t)cursor_compactsize(c, SIGMSG_MAX_BODY);
	const uint8_t *p = cursor_borrow(c, n);

	if (!p || n == 0)
		return;
	m->body = malloc(n);
	if (!m->body) {
		cursor_fail(c);
		return;
	}
	memcpy(m->body, p, n);
	m->body_len = (uint32_t)n;
}

int sigmsg_decode(struct sigmsg *out, const uint8_t *data, size_t len)
{
	struct cursor c;

	memset(out, 0, sizeof(*out));
	cursor_init(&c, data, len);
	out->version = cursor_u8(&c);
	if (out->version != SIGMSG_FORMAT_VERSION)
		cursor_fail(&c);
	read_topic(&c, out->topic);
	out->created_at = cursor_i64le(&c);
	if (out->created_at < 0)
		cursor_fail(&c);
	cursor_bytes(&c, out->author, sizeof(out->author));
	out->nrefs = (uint8_t)cursor_compactsize(&c, SIGMSG_MAX_REFS);
	for (size_t i = 0; i < out->nrefs; i++)
		cursor_bytes(&c, out->refs[i], sizeof(out->refs[i]));
	read_body(&c, out);
	out->nonce = cursor_u64le(&c);
	cursor_bytes(&c, out->sig, sizeof(out->sig));
	if (c.left != 0)
		cursor_fail(&c);
	if (!cursor_ok(&c)) {
		sigmsg_clear(out);
		return -1;
	}
	return 0;
}

void sigmsg_encode_unsigned(struct bytebuf *b, const struct sigmsg *m)
{
	size_t topic_len = strnlen(m->topic, sizeof(m->topic));
	/* A topic that fills the array has no terminator, and refs has SIGMSG_MAX_REFS slots:
	 * either is the caller's bug, not data. */
	assert(topic_len <= SIGMSG_TOPIC_MAX);
	assert(m->nrefs <= SIGMSG_MAX_REFS);

	bytebuf_u8(b, m->version);
	bytebuf_compactsize(b, topic_len);
	bytebuf_append(b, m->topic, topic_len);
	bytebuf_i64le(b, m->created_at);
	bytebuf_append(b, m->author, sizeof(m->author));
	bytebuf_compactsize(b, m->nrefs);
	for (size_t i = 0; i < m->nrefs; i++)
		bytebuf_append(b, m->refs[i], sizeof(m->refs[i]));
	bytebuf_compactsize(b, m->body_len);
	if (m->body_len > 0)
		bytebuf_append(b, m->body, m->body_len);
	bytebuf_u64le(b, m->nonce);
}

void sigmsg_encode(struct bytebuf *b, const struct sigmsg *m)
{
	sigmsg_encode_unsigned(b, m);
	bytebuf_append(b, m->sig, sizeof(m->sig));
}

static struct tagged_hasher id_hasher;
static pthread_once_t id_hasher_once = PTHREAD_ONCE_INIT;

static void id_hasher_init(void)
{
	tagged_hasher_init(&id_hasher, SIGMSG_TAG);
}

static void id_of_unsigned(uint8_t id[32], const uint8_t *data, size_t len)
{
	pthread_once(&id_hasher_once, id_hasher_init);
	tagged_hash_with(id, &id_hasher, data, len);
}

int sigmsg_decode_id(struct sigmsg *out, uint8_t id[32], const uint8_t *data, size_t len)
{
	if (sigmsg_decode(out, data, len) != 0)
		return -1;
	id_of_unsigned(id, data, len - sizeof(out->sig));
	return 0;
}

int sigmsg_id(uint8_t id[32], const struct sigmsg *m)
{
	struct bytebuf b;
	int rc = 0;

	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	sigmsg_encode_unsigned(&b, m);
	if (bytebuf_ok(&b))
		id_of_unsigned(id, b.data, b.len);
	else
		rc = -1;
	if (rc != 0)
		memset(id, 0, 32);
	bytebuf_free(&b);
	return rc;
}

int sigmsg_pow(const uint8_t id[32])
{
	int bits = 0;

	for (size_t i = 0; i < 32; i++) {
		if (id[i] == 0) {
			bits += 8;
			continue;
		}
		for (uint8_t mask = 0x80; (id[i] & mask) == 0; mask >>= 1)
			bits++;
		break;
	}
	return bits;
}

/* Find the first nonce from 0 whose id has at least pow_bits leading zero bits, hashing the
 * fixed prefix of the unsigned serialization u (ulen bytes, nonce last) once. Returns 0 with
 * *nonce, or -1 after max_tries nonces (0 = all 2^64). */
static int mine_nonce(uint64_t *nonce, const uint8_t *u, size_t ulen, int pow_bits,
		      uint64_t max_tries)
{
	crypto_hash_sha256_state prefix, st;
	uint8_t tag[32], id[32], le[SIGMSG_NONCE_SIZE];
	uint64_t n = 0;

	assert(ulen >= SIGMSG_NONCE_SIZE);
	sha256(tag, SIGMSG_TAG, strlen(SIGMSG_TAG));
	crypto_hash_sha256_init(&prefix);
	crypto_hash_sha256_update(&prefix, tag, sizeof(tag));
	crypto_hash_sha256_update(&prefix, tag, sizeof(tag));
	crypto_hash_sha256_update(&prefix, u, ulen - SIGMSG_NONCE_SIZE);
	for (;;) {
		for (size_t i = 0; i < sizeof(le); i++)
			le[i] = (uint8_t)(n >> (8 * i));
		st = prefix;
		crypto_hash_sha256_update(&st, le, sizeof(le));
		crypto_hash_sha256_final(&st, id);
		if (sigmsg_pow(id) >= pow_bits) {
			*nonce = n;
			return 0;
		}
		n++;
		/* n counts the tries made; it wraps to 0 only after all 2^64 nonces. */
		if (n == max_tries || n == 0)
			return -1;
	}
}

/* Whether m's fields are within the format, so that what sigmsg_sign makes decodes. */
static bool fields_valid(const struct sigmsg *m)
{
	size_t topic_len = strnlen(m->topic, sizeof(m->topic));

	return m->version == SIGMSG_FORMAT_VERSION && sigmsg_topic_valid(m->topic, topic_len) &&
	       m->created_at >= 0 && m->nrefs <= SIGMSG_MAX_REFS &&
	       m->body_len <= SIGMSG_MAX_BODY && (m->body_len == 0 || m->body != NULL);
}

int sigmsg_sign(struct sigmsg *m, uint8_t id[32], const uint8_t seckey[32], int pow_bits,
		uint64_t max_tries)
{
	struct bytebuf b;
	uint64_t nonce = 0;
	int rc;

	memset(id, 0, 32);
	memset(m->sig, 0, sizeof(m->sig));
	if (!fields_valid(m) || key_xonly_pubkey(m->author, seckey) != 0)
		return -1;
	if (pow_bits > SIGMSG_POW_MAX)
		return -2;
	m->nonce = 0;
	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	sigmsg_encode_unsigned(&b, m);
	if (!bytebuf_ok(&b)) {
		bytebuf_free(&b);
		return -1;
	}
	rc = mine_nonce(&nonce, b.data, b.len, pow_bits, max_tries);
	bytebuf_free(&b);
	if (rc != 0)
		return -2;
	m->nonce = nonce;
	if (sigmsg_id(id, m) != 0)
		return -1;
	/* The midstate and sigmsg_id hash the same bytes; a difference is our bug. */
	assert(sigmsg_pow(id) >= pow_bits);
	if (key_sign_schnorr(m->sig, id, seckey, NULL) != 0) {
		memset(id, 0, 32);
		return -1;
	}
	return 0;
}

int sigmsg_verify_sig(const struct sigmsg *m, const uint8_t id[32])
{
	return key_verify_schnorr(m->sig, id, 32, m->author) == 1 ? 1 : 0;
}
