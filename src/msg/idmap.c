/* Hash map from 32-byte ids to pointers (src/msg/idmap.h). */
#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/random.h"

#define IDMAP_MIN_BUCKETS 64

struct entry {
	uint8_t id[32];
	void *value;
	struct entry *next;
};

struct idmap {
	struct entry **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	uint8_t key[crypto_shorthash_siphash24_KEYBYTES];
};

static size_t bucket_of(const struct idmap *m, const uint8_t id[32])
{
	uint8_t h[crypto_shorthash_siphash24_BYTES];
	crypto_shorthash_siphash24(h, id, 32, m->key);
	uint64_t v;
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (m->nbuckets - 1));
}

struct idmap *idmap_new(void)
{
	struct idmap *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->nbuckets = IDMAP_MIN_BUCKETS;
	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets)); /* NOLINT: bucket pointers */
	if (!m->buckets) {
		free(m);
		return NULL;
	}
	random_bytes(m->key, sizeof(m->key));
	return m;
}

void idmap_free(struct idmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry *e = m->buckets[i];
		while (e) {
			struct entry *n = e->next;
			free(e);
			e = n;
		}
	}
	free(m->buckets);
	free(m);
}

static struct entry **find(const struct idmap *m, const uint8_t id[32])
{
	struct entry **pe = &m->buckets[bucket_of(m, id)];
	while (*pe && memcmp((*pe)->id, id, 32) != 0)
		pe = &(*pe)->next;
	return pe;
}

void *idmap_get(const struct idmap *m, const uint8_t id[32])
{
	struct entry *e = *find(m, id);
	return e ? e->value : NULL;
}

static void grow(struct idmap *m)
{
	size_t n = m->nbuckets * 2;
	struct entry **nb = calloc(n, sizeof(*nb)); /* NOLINT: bucket pointers */
	if (!nb)
		return; /* keep the old table: slower, still correct */
	struct entry **old = m->buckets;
	size_t oldn = m->nbuckets;
	m->buckets = nb;
	m->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct entry *e = old[i];
		while (e) {
			struct entry *next = e->next;
			size_t b = bucket_of(m, e->id);
			e->next = nb[b];
			nb[b] = e;
			e = next;
		}
	}
	free(old);
}

int idmap_put(struct idmap *m, const uint8_t id[32], void *value)
{
	struct entry **pe = find(m, id);
	if (*pe) {
		(*pe)->value = value;
		return 0;
	}
	struct entry *e = malloc(sizeof(*e));
	if (!e)
		return -1;
	memcpy(e->id, id, 32);
	e->value = value;
	e->next = NULL;
	*pe = e;
	m->count++;
	if (m->count > m->nbuckets)
		grow(m);
	return 0;
}

void *idmap_remove(struct idmap *m, const uint8_t id[32])
{
	struct entry **pe = find(m, id);
	struct entry *e = *pe;
	if (!e)
		return NULL;
	*pe = e->next;
	void *v = e->value;
	free(e);
	m->count--;
	return v;
}

size_t idmap_count(const struct idmap *m)
{
	return m->count;
}

void idmap_filter(struct idmap *m, bool (*fn)(void *ctx, const uint8_t id[32], void *value),
		  void *ctx)
{
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct entry **pe = &m->buckets[i];
		while (*pe) {
			struct entry *e = *pe;
			if (fn(ctx, e->id, e->value)) {
				*pe = e->next;
				free(e);
				m->count--;
			} else {
				pe = &e->next;
			}
		}
	}
}
