/* A hash map from 32-byte ids to pointers, private to src/msg/.
 *
 * Ids come from peers, so buckets are chosen by SipHash-2-4 under a random key: a peer cannot
 * grind ids into one bucket. Chained buckets; the table doubles when it holds more entries than
 * buckets. The caller bounds the number of entries. */
#ifndef P2PD_MSG_IDMAP_H
#define P2PD_MSG_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idmap;

struct idmap *idmap_new(void);
/* Free the map (not the values). NULL is a no-op. */
void idmap_free(struct idmap *m);
/* The value stored under id, or NULL. */
void *idmap_get(const struct idmap *m, const uint8_t id[32]);
/* Store value (non-NULL) under id, replacing any previous value. Returns 0, or -1 on OOM. */
int idmap_put(struct idmap *m, const uint8_t id[32], void *value);
/* Remove id; returns its value, or NULL if absent. */
void *idmap_remove(struct idmap *m, const uint8_t id[32]);
size_t idmap_count(const struct idmap *m);
/* Call fn for every entry; fn returns true to remove the entry (it then owns the value). */
void idmap_filter(struct idmap *m, bool (*fn)(void *ctx, const uint8_t id[32], void *value),
		  void *ctx);

#endif
