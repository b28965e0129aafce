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

#endif
