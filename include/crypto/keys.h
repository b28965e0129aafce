/* Keys and BIP340 Schnorr signatures over secp256k1 (libsecp256k1).
 *
 * One secp256k1 context is created on first use, randomised, and shared read-only by all
 * threads afterwards (call keys_init() from the main thread before starting workers). */
#ifndef P2PD_CRYPTO_KEYS_H
#define P2PD_CRYPTO_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* Create the shared context. Returns 0, or -1 if it cannot be created. */
int keys_init(void);
void keys_shutdown(void);

/* Check that seckey is a valid secret key (non-zero, below the group order). Returns 1/0. */
int key_seckey_valid(const uint8_t seckey[32]);
/* Make a fresh random secret key. Returns 0 (or -1 if randomness fails repeatedly). */
int key_generate(uint8_t seckey[32]);
/* Parse a secret key written as text, as in the node key file: exactly 64 hex digits (either
 * case) of a valid secret key, then any number of spaces, CRs and LFs, and nothing else (no
 * leading blank, no NUL). text is len bytes and need not be NUL-terminated. Returns 0 with
 * seckey set, or -1 with seckey cleared. Wipes its own copy of the digits. */
int key_seckey_parse(uint8_t seckey[32], const char *text, size_t len);
/* Derive the x-only public key of seckey. Returns 0, or -1 (out cleared) if seckey is invalid. */
int key_xonly_pubkey(uint8_t out[32], const uint8_t seckey[32]);
/* BIP340-sign a 32-byte message. aux is 32 bytes of auxiliary randomness (NULL: fresh random).
 * Returns 0, or -1 (sig cleared) if seckey is invalid. */
int key_sign_schnorr(uint8_t sig[64], const uint8_t msg32[32], const uint8_t seckey[32],
		     const uint8_t aux[32]);
/* BIP340-verify a signature over a message of msglen bytes against an x-only public key.
 * Returns 1 if valid, 0 if not (including an invalid public key). */
int key_verify_schnorr(const uint8_t sig[64], const uint8_t *msg, size_t msglen,
		       const uint8_t pubkey[32]);

/* Parsed public keys, for a thread that verifies many signatures by the same authors.
 * Parsing an x-only key (lifting x to a curve point: a field square root) costs about an
 * eighth of a verification; an author who publishes many messages is parsed once. A
 * direct-mapped table of `slots` entries (about 100 bytes each), the slot chosen by SipHash
 * under a random key, so nobody can aim keys at one slot; a key that collides merely evicts
 * another, which is then parsed again. Invalid keys are never stored. Not thread-safe: one
 * cache per thread; the table never grows. */
struct key_cache;
/* A cache of `slots` entries (1 to KEY_CACHE_MAX_SLOTS). NULL if out of memory or slots is out
 * of range. */
struct key_cache *key_cache_new(size_t slots);
void key_cache_free(struct key_cache *kc);
/* The largest table: 1,048,576 entries are about 100 MiB, far above any sensible use. */
#define KEY_CACHE_MAX_SLOTS (1u << 20)
/* key_verify_schnorr, with pubkey parsed through the cache kc (NULL: no cache). The same
 * result in every case. */
int key_verify_schnorr_cached(struct key_cache *kc, const uint8_t sig[64], const uint8_t *msg,
			      size_t msglen, const uint8_t pubkey[32]);

#endif
