/* Rolling bloom filter (include/util/bloom.h).
 *
 * Each of the filter's positions holds a 2-bit generation tag: 0 empty, or 1-3, the generation
 * that last set it. Inserting sets the item's k positions to the current generation; after
 * gen_size inserts the next generation starts and first empties every position tagged with it
 * (the oldest of the three). An item is present when all of its positions are non-zero. So the
 * current generation and the one before it are always complete: at least the last gen_size
 * items are never reported missing, and at most 3 * gen_size items share the positions.
 *
 * Sizing: k = round(log2(1 / fp_rate)) hash functions and k / ln 2 positions per item for the
 * 3 * gen_size items a full filter holds, the textbook optimum, which gives about fp_rate when
 * full and less before. Positions are packed 32 to a uint64_t word.
 *
 * The k positions come from one keyed hash per item (enhanced double hashing, Kirsch and
 * Mitzenmacher): SipHash-2-4 with 128-bit output (libsodium's siphashx24) under a 128-bit key
 * drawn from util/random at creation (and again on reset) gives h1 and h2, and position i is
 * h1 + i * h2 + (i^3 - i) / 6 (modulo 2^64), mapped onto the table by a multiply-high
 * (Lemire's "fast range": floor(x * npos / 2^64), uniform for uniform x, without the 64-bit
 * division a modulo costs for each of the k positions). One hash instead of k keeps a filter
 * probe at a fraction of a microsecond (k is 20 for a one-in-a-million rate) with the same
 * false-positive rate as k independent hashes, to within what tests can see. */
#include "util/bloom.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/random.h"

/* More hash functions than this buys nothing: 2^-50 is below any rate a caller needs. */
#define BLOOM_MAX_HASHES 50
/* Generations kept; the 2-bit tags hold 1 to 3. */
#define BLOOM_GENERATIONS 3
/* Tags per word: 64 bits / 2 bits per tag. */
#define BLOOM_TAGS_PER_WORD 32
/* 1 / ln 2: positions per item per hash function at the optimum (m = k n / ln 2). */
#define BLOOM_INV_LN2 1.4426950408889634
/* sqrt(2): rounding log2(1/p) to the nearest integer compares 1/p with 2^(k + 1/2). */
#define BLOOM_SQRT2 1.4142135623730951
/* Largest table, in words: 2^28 words are 2 GiB, far above any filter the node makes; larger
 * requests are refused as bad arguments rather than attempted. */
#define BLOOM_MAX_WORDS (UINT64_C(1) << 28)
/* The low bit of every tag. */
#define BLOOM_LOW_BITS UINT64_C(0x5555555555555555)

struct rolling_bloom {
	size_t gen_size;  /* inserts per generation: (n + 1) / 2 */
	size_t gen_count; /* inserts into the current generation */
	unsigned gen;     /* current generation, 1-3 */
	unsigned nhashes;
	uint64_t npos; /* positions: 32 * nwords at most */
	size_t nwords;
	uint8_t key[crypto_shorthash_siphashx24_KEYBYTES];
	uint64_t *words;
};

/* round(log2(1 / fp_rate)), clamped to 1-BLOOM_MAX_HASHES, without libm. */
static unsigned hashes_for(double fp_rate)
{
	double inv = 1.0 / fp_rate, edge = BLOOM_SQRT2; /* 2^(k - 1/2) for k = 1 */
	unsigned k = 0;

	while (k < BLOOM_MAX_HASHES && inv >= edge) {
		k++;
		edge *= 2.0;
	}
	return k < 1 ? 1 : k;
}

static void bloom_rekey(struct rolling_bloom *f)
{
	random_bytes(f->key, sizeof(f->key));
}

struct rolling_bloom *rolling_bloom_new(size_t n, double fp_rate)
{
	struct rolling_bloom *f;
	double positions;
	uint64_t nwords;

	/* !(x > 0 && x < 1) also refuses NaN. */
	if (n == 0 || !(fp_rate > 0.0 && fp_rate < 1.0))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->gen_size = n / 2 + n % 2;
	f->nhashes = hashes_for(fp_rate);
	positions = (double)f->nhashes * BLOOM_INV_LN2 * (double)BLOOM_GENERATIONS *
		    (double)f->gen_size;
	if (positions >= (double)(BLOOM_MAX_WORDS * BLOOM_TAGS_PER_WORD)) {
		free(f);
		return NULL;
	}
	nwords = ((uint64_t)positions + BLOOM_TAGS_PER_WORD) / BLOOM_TAGS_PER_WORD;
	f->nwords = (size_t)nwords;
	f->npos = nwords * BLOOM_TAGS_PER_WORD;
	f->words = calloc(f->nwords, sizeof(*f->words));
	if (!f->words) {
		free(f);
		return NULL;
	}
	f->gen = 1;
	bloom_rekey(f);
	return f;
}

void rolling_bloom_free(struct rolling_bloom *f)
{
	if (!f)
		return;
	free(f->words);
	free(f);
}

/* The item's two base hashes (h[0] and h[1]) for its positions. */
static void bloom_hash(const struct rolling_bloom *f, const void *item, size_t len, uint64_t h[2])
{
	uint8_t out[crypto_shorthash_siphashx24_BYTES];

	crypto_shorthash_siphashx24(out, item, len, f->key);
	h[0] = h[1] = 0;
	for (size_t b = 0; b < 8; b++) {
		h[0] |= (uint64_t)out[b] << (8 * b);
		h[1] |= (uint64_t)out[8 + b] << (8 * b);
	}
}

/* Position i of an item with base hashes h. The bias of the mapping is below npos / 2^64:
 * negligible. */
static uint64_t bloom_pos(const struct rolling_bloom *f, unsigned i, const uint64_t h[2])
{
	uint64_t i64 = i;
	uint64_t x = h[0] + i64 * h[1] + (i64 * i64 * i64 - i64) / 6;
	return (uint64_t)(((unsigned __int128)x * f->npos) >> 64);
}

static unsigned tag_get(const struct rolling_bloom *f, uint64_t pos)
{
	unsigned shift = (unsigned)(pos % BLOOM_TAGS_PER_WORD) * 2;
	return (unsigned)(f->words[pos / BLOOM_TAGS_PER_WORD] >> shift) & 3u;
}

static void tag_set(struct rolling_bloom *f, uint64_t pos, unsigned gen)
{
	unsigned shift = (unsigned)(pos % BLOOM_TAGS_PER_WORD) * 2;
	uint64_t *w = &f->words[pos / BLOOM_TAGS_PER_WORD];
	*w = (*w & ~(UINT64_C(3) << shift)) | ((uint64_t)gen << shift);
}

/* Empty every position tagged gen. */
static void clear_generation(struct rolling_bloom *f, unsigned gen)
{
	for (size_t i = 0; i < f->nwords; i++) {
		uint64_t w = f->words[i];
		uint64_t lo = w & BLOOM_LOW_BITS, hi = (w >> 1) & BLOOM_LOW_BITS;
		/* One bit per tag, at its low bit, where the tag equals gen. */
		uint64_t match = ((gen & 1) ? lo : ~lo) & ((gen & 2) ? hi : ~hi) & BLOOM_LOW_BITS;
		f->words[i] = w & ~(match | (match << 1));
	}
}

void rolling_bloom_insert(struct rolling_bloom *f, const void *item, size_t len)
{
	if (f->gen_count == f->gen_size) {
		f->gen = f->gen % BLOOM_GENERATIONS + 1;
		clear_generation(f, f->gen);
		f->gen_count = 0;
	}
	uint64_t h[2];
	bloom_hash(f, item, len, h);
	for (unsigned i = 0; i < f->nhashes; i++)
		tag_set(f, bloom_pos(f, i, h), f->gen);
	f->gen_count++;
}

bool rolling_bloom_contains(const struct rolling_bloom *f, const void *item, size_t len)
{
	uint64_t h[2];
	bloom_hash(f, item, len, h);
	for (unsigned i = 0; i < f->nhashes; i++) {
		if (tag_get(f, bloom_pos(f, i, h)) == 0)
			return false;
	}
	return true;
}

void rolling_bloom_reset(struct rolling_bloom *f)
{
	memset(f->words, 0, f->nwords * sizeof(*f->words));
	f->gen = 1;
	f->gen_count = 0;
	bloom_rekey(f);
}

size_t rolling_bloom_memory(const struct rolling_bloom *f)
{
	return sizeof(*f) + f->nwords * sizeof(*f->words);
}
