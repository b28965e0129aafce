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

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <sodium.h>

#include "crypto/hash.h"
#include "util/bytes.h"
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

/* Hex digits of a secret key in text. */
#define KEY_SECKEY_HEX_LEN 64

int key_seckey_parse(uint8_t seckey[32], const char *text, size_t len)
{
	char hex[KEY_SECKEY_HEX_LEN + 1];

	memset(seckey, 0, 32);
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		len--;
	if (len != KEY_SECKEY_HEX_LEN)
		return -1;
	memcpy(hex, text, KEY_SECKEY_HEX_LEN);
	hex[KEY_SECKEY_HEX_LEN] = '\0';
	/* hex_decode refuses a NUL or any other non-digit among the 64 and clears seckey. */
	int bad = hex_decode(seckey, 32, hex) != 0 || !key_seckey_valid(seckey);
	secure_wipe(hex, sizeof(hex));
	if (bad) {
		secure_wipe(seckey, 32);
		return -1;
	}
	return 0;
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
	return key_verify_schnorr_cached(NULL, sig, msg, msglen, pubkey);
}

struct key_cache_entry {
	bool used;
	uint8_t key[32];
	secp256k1_xonly_pubkey parsed;
};

struct key_cache {
	size_t slots;
	uint8_t salt[crypto_shorthash_siphash24_KEYBYTES];
	struct key_cache_entry *e;
};

struct key_cache *key_cache_new(size_t slots)
{
	if (slots == 0 || slots > KEY_CACHE_MAX_SLOTS)
		return NULL;
	struct key_cache *kc = calloc(1, sizeof(*kc));
	if (!kc)
		return NULL;
	kc->e = calloc(slots, sizeof(*kc->e));
	if (!kc->e) {
		free(kc);
		return NULL;
	}
	kc->slots = slots;
	random_bytes(kc->salt, sizeof(kc->salt));
	return kc;
}

void key_cache_free(struct key_cache *kc)
{
	if (!kc)
		return;
	free(kc->e);
	free(kc);
}

/* The parsed form of pubkey in *out: from the cache, or parsed (and then stored). Returns 1, or
 * 0 if pubkey is not a valid x-only key. */
static int parse_cached(const secp256k1_context *ctx, struct key_cache *kc,
			secp256k1_xonly_pubkey *out, const uint8_t pubkey[32])
{
	if (!kc)
		return secp256k1_xonly_pubkey_parse(ctx, out, pubkey);
	uint8_t h[crypto_shorthash_siphash24_BYTES];
	crypto_shorthash_siphash24(h, pubkey, 32, kc->salt);
	uint64_t v;
	memcpy(&v, h, sizeof(v));
	struct key_cache_entry *e = &kc->e[v % kc->slots];
	if (e->used && memcmp(e->key, pubkey, 32) == 0) {
		*out = e->parsed;
		return 1;
	}
	if (!secp256k1_xonly_pubkey_parse(ctx, out, pubkey))
		return 0;
	e->used = true;
	memcpy(e->key, pubkey, 32);
	e->parsed = *out;
	return 1;
}

int key_verify_schnorr_cached(struct key_cache *kc, const uint8_t sig[64], const uint8_t *msg,
			      size_t msglen, const uint8_t pubkey[32])
{
	const secp256k1_context *ctx = ctx_get();
	secp256k1_xonly_pubkey xonly;

	if (!ctx || (!msg && msglen > 0))
		return 0;
	if (!parse_cached(ctx, kc, &xonly, pubkey))
		return 0;
	return secp256k1_schnorrsig_verify(ctx, sig, msg, msglen, &xonly) == 1;
}
