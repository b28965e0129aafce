/* Hashes: thin wrappers over libsodium's SHA-256 and HMAC-SHA256.
 *
 * Nothing is implemented here: every primitive is libsodium's. The functions cannot fail
 * (libsodium's SHA-256 and HMAC functions return 0 unconditionally), so they return nothing. */
#include "crypto/hash.h"

#include <string.h>

#include <sodium.h>

void sha256(uint8_t out[32], const void *data, size_t len)
{
	crypto_hash_sha256(out, data, len);
}

void sha256d(uint8_t out[32], const void *data, size_t len)
{
	uint8_t first[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(first, data, len);
	crypto_hash_sha256(out, first, sizeof(first));
}

void tagged_hash(uint8_t out[32], const char *tag, const void *data, size_t len)
{
	uint8_t taghash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	crypto_hash_sha256(taghash, (const uint8_t *)tag, strlen(tag));
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, taghash, sizeof(taghash));
	crypto_hash_sha256_update(&st, taghash, sizeof(taghash));
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(struct tagged_hasher),
	       "struct tagged_hasher must hold a SHA-256 state");

void tagged_hasher_init(struct tagged_hasher *h, const char *tag)
{
	uint8_t taghash[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_state st;
	crypto_hash_sha256(taghash, (const uint8_t *)tag, strlen(tag));
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, taghash, sizeof(taghash));
	crypto_hash_sha256_update(&st, taghash, sizeof(taghash));
	memset(h, 0, sizeof(*h));
	memcpy(h->opaque, &st, sizeof(st));
}

void tagged_hash_with(uint8_t out[32], const struct tagged_hasher *h, const void *data, size_t len)
{
	crypto_hash_sha256_state st;
	memcpy(&st, h->opaque, sizeof(st));
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(struct sha256_ctx),
	       "struct sha256_ctx must hold a SHA-256 state");

void sha256_init(struct sha256_ctx *c)
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	memset(c, 0, sizeof(*c));
	memcpy(c->opaque, &st, sizeof(st));
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	crypto_hash_sha256_state st;
	memcpy(&st, c->opaque, sizeof(st));
	crypto_hash_sha256_update(&st, data, len);
	memcpy(c->opaque, &st, sizeof(st));
}

void sha256_final(struct sha256_ctx *c, uint8_t out[32])
{
	crypto_hash_sha256_state st;
	memcpy(&st, c->opaque, sizeof(st));
	crypto_hash_sha256_final(&st, out);
	memset(c, 0, sizeof(*c));
}

void hmac_sha256(uint8_t out[32], const void *key, size_t keylen, const void *data, size_t len)
{
	/* The _init/_update/_final interface takes a key of any length (a key longer than the
	 * block is hashed first, as RFC 2104 says); crypto_auth_hmacsha256() wants exactly 32. */
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, data, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st)); /* the state holds the key's pads */
}

int ct_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

void secure_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}
