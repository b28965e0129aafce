/* Hashes: SHA-256, double SHA-256, BIP340-style tagged hashes and HMAC-SHA256 (libsodium). */
#ifndef P2PD_CRYPTO_HASH_H
#define P2PD_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

void sha256(uint8_t out[32], const void *data, size_t len);
/* SHA-256(SHA-256(data)): the frame checksum's hash. */
void sha256d(uint8_t out[32], const void *data, size_t len);
/* SHA-256(SHA-256(tag) || SHA-256(tag) || data), as BIP340 defines tagged hashes. */
void tagged_hash(uint8_t out[32], const char *tag, const void *data, size_t len);
/* A tag's fixed prefix (SHA-256(tag) twice: one 64-byte block) hashed once, so that each
 * tagged_hash_with() call costs only the data's blocks. Opaque: it holds libsodium's SHA-256
 * state. Initialised once, then read-only: safe to share between threads. */
struct tagged_hasher {
	uint64_t opaque[16];
};
void tagged_hasher_init(struct tagged_hasher *h, const char *tag);
/* The same result as tagged_hash(out, tag, data, len) for the hasher's tag. */
void tagged_hash_with(uint8_t out[32], const struct tagged_hasher *h, const void *data, size_t len);
/* Streaming SHA-256, for data that arrives in pieces. Opaque: it holds libsodium's state. */
struct sha256_ctx {
	uint64_t opaque[16];
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, uint8_t out[32]);
void hmac_sha256(uint8_t out[32], const void *key, size_t keylen, const void *data, size_t len);
/* Constant-time comparison of two equal-length buffers: 1 if equal, 0 otherwise. */
int ct_equal(const void *a, const void *b, size_t len);
/* Overwrite a secret so the compiler cannot optimise the write away. */
void secure_wipe(void *p, size_t len);

#endif
