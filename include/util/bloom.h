/* Rolling bloom filter: "have we seen this item recently?" with a bounded memory footprint.
 *
 * Keeps roughly the last `n` items inserted with false-positive rate about `fp_rate` (as
 * Bitcoin's CRollingBloomFilter): three generations of n/2 items; inserting into a full
 * generation clears the oldest. Items are hashed with SipHash-2-4 under a random key chosen at
 * creation, so a peer cannot craft colliding ids. Never a false negative for the last n/2
 * items. */
#ifndef P2PD_UTIL_BLOOM_H
#define P2PD_UTIL_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rolling_bloom;

/* A filter for about n recent items at false-positive rate fp_rate (0 < fp_rate < 1). Returns
 * NULL on OOM or bad arguments. Memory is about 1.44 * n * log2(1/fp_rate) * 1.5 positions of
 * 2 bits each (their generation): 1.3 MB for n = 120,000 at fp_rate = 1e-6. */
struct rolling_bloom *rolling_bloom_new(size_t n, double fp_rate);
void rolling_bloom_free(struct rolling_bloom *f);
void rolling_bloom_insert(struct rolling_bloom *f, const void *item, size_t len);
bool rolling_bloom_contains(const struct rolling_bloom *f, const void *item, size_t len);
void rolling_bloom_reset(struct rolling_bloom *f);
/* Bytes allocated (for memory accounting). */
size_t rolling_bloom_memory(const struct rolling_bloom *f);

#endif
