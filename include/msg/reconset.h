/* The reconciliation index: an in-memory ordered set of (created_at, id) items, the same
 * order as the store's time index 'T', with cheap counts and fingerprints of ranges
 * (doc/protocol.md, "Catch-up sync").
 *
 * Items live in sorted chunks of at most RECONSET_CHUNK_MAX; each chunk caches the count and
 * the 256-bit sum of its ids, and prefix totals over the chunks are rebuilt lazily after a
 * change (from the first changed chunk on: new messages arrive at the end, so that is cheap).
 * A range's fingerprint is then two prefix lookups and at most half a chunk of additions at
 * each end: O(log n + RECONSET_CHUNK_MAX), whatever the range's size.
 *
 * Memory: 40 bytes per item (int64 time and 32-byte id) plus chunk slack (arrays grow by 64
 * items) and about 100 bytes per chunk: about 40.5 bytes per item when filled in order (the
 * start-up fill, new messages), about 52 after random inserts (chunks split half full);
 * reconset_memory() tells exactly. The set has no bound of its own: the caller keeps it no
 * larger than its message store (whose size the -maxstoremb cap bounds).
 *
 * Positions are indices into the current order (0..count); they are invalidated by any
 * change. Queries may rebuild the cached prefix totals, so they take a non-const set. Not
 * thread-safe: one thread (the event loop) owns a set. */
#ifndef P2PD_MSG_RECONSET_H
#define P2PD_MSG_RECONSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/recon.h"

/* Most items per chunk: a range fingerprint sums at most half of this at each end, a
 * position lookup binary-searches one chunk, and an insert moves at most this many items.
 * Measured with 128 to 1024 (doc/benchmarks.md, "Reconciliation"): 256 gives the fastest
 * random-range fingerprints (2-6 µs) for 40 bytes per item filled in order, 52 at random. */
#define RECONSET_CHUNK_MAX 256

struct reconset;

/* A new empty set, or NULL if out of memory. Free with reconset_free (NULL is fine). */
struct reconset *reconset_new(void);
void reconset_free(struct reconset *s);

/* Insert an item. Returns 1 inserted, 0 already present, -1 out of memory or created_at < 0
 * (the set is unchanged then). */
int reconset_insert(struct reconset *s, const struct recon_item *it);
/* Append an item above every item in the set: the start-up fill from the store's time index,
 * already in order. Returns 0, or -1 if it is not above the last item, created_at < 0, or out
 * of memory (the set is unchanged then). */
int reconset_append(struct reconset *s, const struct recon_item *it);
/* Remove an item. Returns 1 removed, 0 not present. */
int reconset_erase(struct reconset *s, const struct recon_item *it);
/* Remove every item. */
void reconset_clear(struct reconset *s);

size_t reconset_count(const struct reconset *s);
/* Heap bytes the set holds. */
size_t reconset_memory(const struct reconset *s);

/* The position of the first item at or above b (count if none). END is treated as a bound
 * like any other (above every item); map it to the window's end before calling. */
size_t reconset_position(struct reconset *s, const struct recon_bound *b);
/* The item at position pos (< count). The pointer is valid until the set changes. */
const struct recon_item *reconset_at(struct reconset *s, size_t pos);
/* The 256-bit little-endian sum (mod 2^256) of the ids at positions [from, to). */
void reconset_sum(struct reconset *s, uint8_t sum[32], size_t from, size_t to);
/* The fingerprint of the items at positions [from, to): recon_fingerprint of their sum and
 * count. */
void reconset_fingerprint(struct reconset *s, uint8_t fp[RECON_FP_LEN], size_t from, size_t to);

/* Walk the items at positions [from, to) in order:
 *     struct reconset_iter it;
 *     reconset_iter_init(&it, s, from, to);
 *     while ((item = reconset_iter_next(&it)) != NULL) ...
 * The set must not change during the walk. */
struct reconset_iter {
	struct reconset *s;
	size_t chunk, off, left;
};
void reconset_iter_init(struct reconset_iter *it, struct reconset *s, size_t from, size_t to);
const struct recon_item *reconset_iter_next(struct reconset_iter *it);

/* fp = first 16 bytes of SHA-256(sum (32 bytes) || count as uint64 LE). */
void recon_fingerprint(uint8_t fp[RECON_FP_LEN], const uint8_t sum[32], uint64_t count);
/* sum += id, both 256-bit little-endian, mod 2^256. */
void recon_sum_add(uint8_t sum[32], const uint8_t id[32]);

#endif
