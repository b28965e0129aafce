/* Keys and BIP340 Schnorr signatures, on libsecp256k1's schnorrsig and extrakeys modules.
 *
 * The module owns one secp256k1 context for the whole process (the header's contract: it is
 * created once, randomised against side channels, then only read). It is the one piece of
 * file-level state here; libsecp256k1 documents a context as safe to share between threads
 * for every call this file makes once creation and randomisation are done.
 *
 * Every secret that passes through (keypairs, seeds, auxiliary randomness we drew) is wiped
 * with secure_wipe before the function returns, on every path. */
#include "crypto/keys.h"

#include <string.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "crypto/hash.h"
#include "util/random.h"

/* Draws key_generate makes before it gives up. A uniformly random 32-byte string is an invalid
 * secret key with probability below 2^-127, so needing even a second draw means the random
 * source is broken (e.g. a deterministic test stream stuck on zeros); 16 is generous. */
#define KEYS_GENERATE_TRIES 16

static secp256k1_context *keys_ctx;

int keys_init(void)
{
	uint8_t seed[32];

	if (keys_ctx)
		return 0;
	keys_ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!keys_ctx)
		return -1;
	random_bytes(seed, sizeof(seed));
	int ok = secp256k1_context_randomize(keys_ctx, seed);
	secure_wipe(seed, sizeof(seed));
	if (!ok) {
		secp256k1_context_destroy(keys_ctx);
		keys_ctx = NULL;
		return -1;
	}
	return 0;
}

void keys_shutdown(void)
{
	if (!keys_ctx)
		return;
	secp256k1_context_destroy(keys_ctx);
	keys_ctx = NULL;
}

/* The shared context, created on first use when keys_init was not called. NULL if it cannot
 * be created. */
static const secp256k1_context *ctx_get(void)
{
	if (!keys_ctx && keys_init() != 0)
		return NULL;
	return keys_ctx;
}

int key_seckey_valid(const uint8_t seckey[32])
{
	const secp256k1_context *ctx = ctx_get();

	if (!ctx)
		return 0;
	return secp256k1_ec_seckey_verify(ctx, seckey) == 1;
}

int key_generate(uint8_t seckey[32])
{
	for (int i = 0; i < KEYS_GENERATE_TRIES; i++) {
		random_bytes(seckey, 32);
		if (key_seckey_valid(seckey))
			return 0;
	}
	secure_wipe(seckey, 32);
	return -1;
}

int key_xonly_pubkey(uint8_t out[32], const uint8_t seckey[32])
{
	const secp256k1_context *ctx = ctx_get();
	secp256k1_keypair kp;
	secp256k1_xonly_pubkey xonly;
	int ok;

	memset(out, 0, 32);
	if (!ctx)
		return -1;
	ok = secp256k1_keypair_create(ctx, &kp, seckey) &&
	     secp256k1_keypair_xonly_pub(ctx, &xonly, NULL, &kp) &&
	     secp256k1_xonly_pubkey_serialize(ctx, out, &xonly);
	secure_wipe(&kp, sizeof(kp));
	if (!ok) {
		memset(out, 0, 32);
		return -1;
	}
	return 0;
}

int key_sign_schnorr(uint8_t sig[64], const uint8_t msg32[32], const uint8_t seckey[32],
		     const uint8_t aux[32])
{
	const secp256k1_context *ctx = ctx_get();
	secp256k1_keypair kp;
	secp256k1_xonly_pubkey xonly;
	uint8_t fresh[32];
	int ok;

	memset(sig, 0, 64);
	if (!ctx)
		return -1;
	if (!aux) {
		random_bytes(fresh, sizeof(fresh));
		aux = fresh;
	}
	ok = secp256k1_keypair_create(ctx, &kp, seckey) &&
	     secp256k1_schnorrsig_sign32(ctx, sig, msg32, &kp, aux) &&
	     secp256k1_keypair_xonly_pub(ctx, &xonly, NULL, &kp);
	/* Check our own signature before it leaves: a fault during signing (bad RAM, a glitch)
	 * must not publish a bad signature, which could also leak the key. */
	if (ok)
		ok = secp256k1_schnorrsig_verify(ctx, sig, msg32, 32, &xonly);
	secure_wipe(&kp, sizeof(kp));
	secure_wipe(fresh, sizeof(fresh));
	if (!ok) {
		memset(sig, 0, 64);
		return -1;
	}
	return 0;
}

int key_verify_schnorr(const uint8_t sig[64], const uint8_t *msg, size_t msglen,
		       const uint8_t pubkey[32])
{
	const secp256k1_context *ctx = ctx_get();
	secp256k1_xonly_pubkey xonly;

	if (!ctx || (!msg && msglen > 0))
		return 0;
	if (!secp256k1_xonly_pubkey_parse(ctx, &xonly, pubkey))
		return 0;
	return secp256k1_schnorrsig_verify(ctx, sig, msg, msglen, &xonly) == 1;
}
