/* Randomness: libsodium's CSPRNG, or a deterministic ChaCha20 stream in tests.
 *
 * This module keeps process-wide state (the documented exception next to the logger): the
 * insecure seed and a position in its stream. A mutex guards it, so worker threads may draw
 * random bytes while tests reseed; the default (unseeded) path takes the lock only to read
 * the mode flag. */
#include "util/random.h"

#include <math.h>

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

/* Deterministic mode: a ChaCha20 keystream keyed by the seed, consumed in order. */
static pthread_mutex_t random_lock = PTHREAD_MUTEX_INITIALIZER;
static bool random_seeded;
static uint8_t random_key[crypto_stream_chacha20_KEYBYTES];
static uint64_t random_block; /* next 64-byte keystream block */

/* Keystream is produced one block at a time; a request is served from whole blocks and any
 * unused tail is dropped, which keeps the stream deterministic for a fixed call sequence. */
#define RANDOM_BLOCK_BYTES 64

int random_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static void stream_fill(uint8_t *out, size_t len)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES]; /* all zero: key is unique */
	while (len > 0) {
		uint8_t block[RANDOM_BLOCK_BYTES];
		memset(block, 0, sizeof(block));
		crypto_stream_chacha20_xor_ic(block, block, sizeof(block), nonce, random_block,
					      random_key);
		random_block++;
		size_t n = len < sizeof(block) ? len : sizeof(block);
		memcpy(out, block, n);
		out += n;
		len -= n;
		sodium_memzero(block, sizeof(block));
	}
}

void random_bytes(void *buf, size_t len)
{
	if (len == 0)
		return;
	pthread_mutex_lock(&random_lock);
	if (random_seeded) {
		stream_fill(buf, len);
		pthread_mutex_unlock(&random_lock);
		return;
	}
	pthread_mutex_unlock(&random_lock);
	randombytes_buf(buf, len);
}

uint64_t random_u64(void)
{
	uint8_t b[8];
	random_bytes(b, sizeof(b));
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

uint64_t random_range(uint64_t range)
{
	if (range <= 1)
		return 0; /* range 0 breaks the contract; 0 is the only safe answer */
	/* Rejection sampling: accept only values below the largest multiple of range, so every
	 * residue is equally likely. 2^64 mod range == (2^64 - range) mod range. */
	uint64_t threshold = (0 - range) % range;
	for (;;) {
		uint64_t v = random_u64();
		if (v >= threshold)
			return v % range;
	}
}

void random_seed_insecure(uint64_t seed)
{
	uint8_t s[8];
	for (int i = 0; i < 8; i++)
		s[i] = (uint8_t)(seed >> (8 * i));
	pthread_mutex_lock(&random_lock);
	/* Key = SHA-256 of the seed, so nearby seeds give unrelated streams. */
	crypto_hash_sha256(random_key, s, sizeof(s));
	random_block = 0;
	random_seeded = true;
	pthread_mutex_unlock(&random_lock);
}

double random_exponential(double mean)
{
	if (mean <= 0)
		return 0;
	/* u uniform in (0, 1]: 53 random bits, never 0, so log(u) is finite. */
	double u = ((double)(random_u64() >> 11) + 1.0) / 9007199254740992.0;
	return -log(u) * mean;
}
