/* The reconciliation index (include/msg/reconset.h): sorted chunks of items, each with the
 * count and 256-bit sum of its ids, and prefix totals over the chunks rebuilt lazily from the
 * first chunk changed since the last query.
 *
 * Invariants: chunks are never empty; items are strictly increasing within and across chunks;
 * a chunk's sum is the sum of its ids mod 2^256; start[i] and psum[i] (items and sum before
 * chunk i) are correct for i <= valid. */
#include "msg/reconset.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"

/* A chunk's array grows and shrinks in steps of this many items: little slack per chunk
 * (at most 2.5 KB) and few reallocations. */
#define CHUNK_GROW 64
/* A chunk that falls below this many items after an erase merges with a neighbour when the
 * two fit in one chunk, so the chunk count stays near count / (RECONSET_CHUNK_MAX / 2). */
#define CHUNK_MERGE_BELOW (RECONSET_CHUNK_MAX / 4)

struct u256 {
	uint64_t w[4]; /* little-endian limbs */
};

struct chunk {
	struct recon_item *items;
	uint32_t n, cap;
	struct u256 sum;
};

struct reconset {
	struct chunk *chunks;
	size_t nchunks, capchunks;
	size_t count;
	size_t *start;     /* capchunks + 1 entries */
	struct u256 *psum; /* capchunks + 1 entries */
	size_t valid;      /* start and psum are correct up to this index */
};

/* ---- 256-bit arithmetic ---- */

static void u256_add(struct u256 *a, const struct u256 *b)
{
	uint64_t carry = 0;
	for (size_t i = 0; i < 4; i++) {
		uint64_t x = a->w[i] + carry;
		uint64_t c1 = x < carry;
		a->w[i] = x + b->w[i];
		carry = c1 | (a->w[i] < x);
	}
}

static void u256_sub(struct u256 *a, const struct u256 *b)
{
	uint64_t borrow = 0;
	for (size_t i = 0; i < 4; i++) {
		uint64_t x = a->w[i] - borrow;
		uint64_t b1 = a->w[i] < borrow;
		a->w[i] = x - b->w[i];
		borrow = b1 | (x < b->w[i]);
	}
}

/* Little-endian 64-bit load, written out so the compiler makes it one load on x86. */
static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
	       (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

static void u256_from_bytes(struct u256 *out, const uint8_t in[32])
{
	for (size_t i = 0; i < 4; i++)
		out->w[i] = le64(in + 8 * i);
}

static void u256_to_bytes(uint8_t out[32], const struct u256 *in)
{
	for (size_t i = 0; i < 4; i++) {
		for (size_t k = 0; k < 8; k++)
			out[8 * i + k] = (uint8_t)(in->w[i] >> (8 * k));
	}
}

static void add_id(struct u256 *sum, const uint8_t id[32])
{
	struct u256 v;
	u256_from_bytes(&v, id);
	u256_add(sum, &v);
}

static void sub_id(struct u256 *sum, const uint8_t id[32])
{
	struct u256 v;
	u256_from_bytes(&v, id);
	u256_sub(sum, &v);
}

void recon_sum_add(uint8_t sum[32], const uint8_t id[32])
{
	struct u256 s;
	u256_from_bytes(&s, sum);
	add_id(&s, id);
	u256_to_bytes(sum, &s);
}

void recon_fingerprint(uint8_t fp[RECON_FP_LEN], const uint8_t sum[32], uint64_t count)
{
	uint8_t buf[40], digest[32];
	memcpy(buf, sum, 32);
	for (size_t k = 0; k < 8; k++)
		buf[32 + k] = (uint8_t)(count >> (8 * k));
	sha256(digest, buf, sizeof(buf));
	memcpy(fp, digest, RECON_FP_LEN);
}

/* ---- set ---- */

struct reconset *reconset_new(void)
{
	struct reconset *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->start = calloc(1, sizeof(*s->start));
	s->psum = calloc(1, sizeof(*s->psum));
	if (!s->start || !s->psum) {
		reconset_free(s);
		return NULL;
	}
	return s;
}

void reconset_clear(struct reconset *s)
{
	for (size_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i].items);
	s->nchunks = 0;
	s->count = 0;
	s->valid = 0;
}

void reconset_free(struct reconset *s)
{
	if (!s)
		return;
	reconset_clear(s);
	free(s->chunks);
	free(s->start);
	free(s->psum);
	free(s);
}

size_t reconset_count(const struct reconset *s)
{
	return s->count;
}

size_t reconset_memory(const struct reconset *s)
{
	size_t bytes = sizeof(*s) + s->capchunks * sizeof(*s->chunks) +
		       (s->capchunks + 1) * (sizeof(*s->start) + sizeof(*s->psum));
	for (size_t i = 0; i < s->nchunks; i++)
		bytes += (size_t)s->chunks[i].cap * sizeof(struct recon_item);
	return bytes;
}

static void invalidate(struct reconset *s, size_t ci)
{
	if (s->valid > ci)
		s->valid = ci;
}

static void rebuild_prefix(struct reconset *s)
{
	for (size_t i = s->valid; i < s->nchunks; i++) {
		s->start[i + 1] = s->start[i] + s->chunks[i].n;
		s->psum[i + 1] = s->psum[i];
		u256_add(&s->psum[i + 1], &s->chunks[i].sum);
	}
	s->valid = s->nchunks;
}

/* Room for one more chunk in every per-chunk array. 0 or -1 (nothing changed). */
static int reserve_chunk(struct reconset *s)
{
	if (s->nchunks < s->capchunks)
		return 0;
	size_t cap = s->capchunks ? 2 * s->capchunks : 16;
	struct chunk *c = realloc(s->chunks, cap * sizeof(*c));
	if (!c)
		return -1;
	s->chunks = c;
	size_t *st = realloc(s->start, (cap + 1) * sizeof(*st));
	if (!st)
		return -1;
	s->start = st;
	struct u256 *ps = realloc(s->psum, (cap + 1) * sizeof(*ps));
	if (!ps)
		return -1;
	s->psum = ps;
	s->capchunks = cap;
	return 0;
}

/* Open an empty chunk with room for cap items at index ci. 0 or -1 (nothing changed). */
static int open_chunk(struct reconset *s, size_t ci, uint32_t cap)
{
	struct recon_item *items;

	if (reserve_chunk(s) != 0)
		return -1;
	items = malloc((size_t)cap * sizeof(*items));
	if (!items)
		return -1;
	memmove(&s->chunks[ci + 1], &s->chunks[ci], (s->nchunks - ci) * sizeof(*s->chunks));
	memset(&s->chunks[ci], 0, sizeof(*s->chunks));
	s->chunks[ci].items = items;
	s->chunks[ci].cap = cap;
	s->nchunks++;
	invalidate(s, ci);
	return 0;
}

static void close_chunk(struct reconset *s, size_t ci)
{
	free(s->chunks[ci].items);
	memmove(&s->chunks[ci], &s->chunks[ci + 1], (s->nchunks - ci - 1) * sizeof(*s->chunks));
	s->nchunks--;
	invalidate(s, ci);
}

static uint32_t round_cap(uint32_t n)
{
	uint32_t cap = (n + CHUNK_GROW - 1) / CHUNK_GROW * CHUNK_GROW;
	return cap ? cap : CHUNK_GROW;
}

/* Give chunk c room for n items. 0 or -1 (nothing changed). */
static int chunk_reserve(struct chunk *c, uint32_t n)
{
	if (n <= c->cap)
		return 0;
	uint32_t cap = round_cap(n);
	struct recon_item *items = realloc(c->items, (size_t)cap * sizeof(*items));
	if (!items)
		return -1;
	c->items = items;
	c->cap = cap;
	return 0;
}

/* Move the upper half of full chunk ci into a new chunk after it. 0 or -1 (nothing changed). */
static int split_chunk(struct reconset *s, size_t ci)
{
	uint32_t half = s->chunks[ci].n / 2, upper = s->chunks[ci].n - half;

	if (open_chunk(s, ci + 1, round_cap(upper)) != 0)
		return -1;
	struct chunk *lo = &s->chunks[ci], *hi = &s->chunks[ci + 1];
	memcpy(hi->items, &lo->items[half], (size_t)upper * sizeof(*hi->items));
	hi->n = upper;
	for (uint32_t i = 0; i < upper; i++)
		add_id(&hi->sum, hi->items[i].id);
	lo->n = half;
	u256_sub(&lo->sum, &hi->sum);
	invalidate(s, ci);
	return 0;
}

/* Items as bounds: an item compares with a bound made of its full id exactly as with itself. */
static void item_bound(struct recon_bound *b, const struct recon_item *it)
{
	b->created_at = it->created_at;
	b->prefix_len = RECON_ID_LEN;
	memcpy(b->prefix, it->id, RECON_ID_LEN);
}

/* The first chunk whose last item is at or above b (nchunks if none). */
static size_t find_chunk(const struct reconset *s, const struct recon_bound *b)
{
	size_t lo = 0, hi = s->nchunks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct chunk *c = &s->chunks[mid];
		if (recon_item_cmp_bound(&c->items[c->n - 1], b) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first index in chunk c of an item at or above b (c->n if none). */
static uint32_t chunk_lower(const struct chunk *c, const struct recon_bound *b)
{
	uint32_t lo = 0, hi = c->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (recon_item_cmp_bound(&c->items[mid], b) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int insert_at(struct reconset *s, size_t ci, uint32_t off, const struct recon_item *it)
{
	if (s->chunks[ci].n == RECONSET_CHUNK_MAX) {
		if (ci + 1 == s->nchunks && off == RECONSET_CHUNK_MAX) {
			/* Past the end of the last chunk (a new message): start a new chunk, so
			 * time-ordered arrivals leave full chunks behind. */
			if (open_chunk(s, ci + 1, CHUNK_GROW) != 0)
				return -1;
			ci++;
			off = 0;
		} else {
			if (split_chunk(s, ci) != 0)
				return -1;
			if (off > s->chunks[ci].n) {
				off -= s->chunks[ci].n;
				ci++;
			}
		}
	}
	struct chunk *c = &s->chunks[ci];
	if (chunk_reserve(c, c->n + 1) != 0)
		return -1;
	memmove(&c->items[off + 1], &c->items[off], (size_t)(c->n - off) * sizeof(*c->items));
	c->items[off] = *it;
	c->n++;
	add_id(&c->sum, it->id);
	s->count++;
	invalidate(s, ci);
	return 0;
}

int reconset_insert(struct reconset *s, const struct recon_item *it)
{
	struct recon_bound b;
	size_t ci;
	uint32_t off;

	if (it->created_at < 0)
		return -1;
	if (s->nchunks == 0)
		return open_chunk(s, 0, CHUNK_GROW) == 0 && insert_at(s, 0, 0, it) == 0 ? 1 : -1;
	item_bound(&b, it);
	ci = find_chunk(s, &b);
	if (ci == s->nchunks) {
		ci--;
		off = s->chunks[ci].n;
	} else {
		off = chunk_lower(&s->chunks[ci], &b);
		if (off < s->chunks[ci].n && recon_item_cmp(&s->chunks[ci].items[off], it) == 0)
			return 0;
	}
	return insert_at(s, ci, off, it) == 0 ? 1 : -1;
}

int reconset_append(struct reconset *s, const struct recon_item *it)
{
	if (it->created_at < 0)
		return -1;
	if (s->nchunks == 0)
		return open_chunk(s, 0, CHUNK_GROW) == 0 ? insert_at(s, 0, 0, it) : -1;
	struct chunk *last = &s->chunks[s->nchunks - 1];
	if (recon_item_cmp(&last->items[last->n - 1], it) >= 0)
		return -1;
	return insert_at(s, s->nchunks - 1, last->n, it);
}

/* Merge chunk ci + 1 into chunk ci if they fit in one; failing to is harmless. */
static void merge_chunks(struct reconset *s, size_t ci)
{
	struct chunk *a = &s->chunks[ci], *b = &s->chunks[ci + 1];
	if (a->n + b->n > RECONSET_CHUNK_MAX || chunk_reserve(a, a->n + b->n) != 0)
		return;
	memcpy(&a->items[a->n], b->items, (size_t)b->n * sizeof(*b->items));
	a->n += b->n;
	u256_add(&a->sum, &b->sum);
	close_chunk(s, ci + 1);
	invalidate(s, ci);
}

/* Give back the slack of a chunk that shrank; failing to is harmless. */
static void chunk_shrink(struct chunk *c)
{
	uint32_t cap = round_cap(c->n);
	if (c->cap - cap < 2 * CHUNK_GROW)
		return;
	struct recon_item *items = realloc(c->items, (size_t)cap * sizeof(*items));
	if (items) {
		c->items = items;
		c->cap = cap;
	}
}

int reconset_erase(struct reconset *s, const struct recon_item *it)
{
	struct recon_bound b;
	size_t ci;
	uint32_t off;

	item_bound(&b, it);
	ci = find_chunk(s, &b);
	if (ci == s->nchunks)
		return 0;
	struct chunk *c = &s->chunks[ci];
	off = chunk_lower(c, &b);
	if (off == c->n || recon_item_cmp(&c->items[off], it) != 0)
		return 0;
	memmove(&c->items[off], &c->items[off + 1], (size_t)(c->n - off - 1) * sizeof(*c->items));
	c->n--;
	sub_id(&c->sum, it->id);
	s->count--;
	invalidate(s, ci);
	if (c->n == 0) {
		close_chunk(s, ci);
		return 1;
	}
	chunk_shrink(c);
	if (c->n < CHUNK_MERGE_BELOW) {
		if (ci + 1 < s->nchunks && c->n + s->chunks[ci + 1].n <= RECONSET_CHUNK_MAX)
			merge_chunks(s, ci);
		else if (ci > 0)
			merge_chunks(s, ci - 1);
	}
	return 1;
}

/* ---- queries ---- */

size_t reconset_position(struct reconset *s, const struct recon_bound *b)
{
	size_t ci = find_chunk(s, b);
	if (ci == s->nchunks)
		return s->count;
	rebuild_prefix(s);
	return s->start[ci] + chunk_lower(&s->chunks[ci], b);
}

/* The chunk and offset of position pos (<= count); pos == count gives (nchunks, 0). */
static void locate(struct reconset *s, size_t pos, size_t *ci, uint32_t *off)
{
	size_t lo = 0, hi = s->nchunks;

	rebuild_prefix(s);
	/* The last chunk starting at or before pos. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->start[mid + 1] <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	*ci = lo;
	*off = lo < s->nchunks ? (uint32_t)(pos - s->start[lo]) : 0;
}

const struct recon_item *reconset_at(struct reconset *s, size_t pos)
{
	size_t ci;
	uint32_t off;
	locate(s, pos, &ci, &off);
	return &s->chunks[ci].items[off];
}

/* Add the ids at offsets [a, b) of chunk c to sum without a carry chain per id: each 32-bit
 * half of each limb accumulates in a 64-bit counter of its own (no overflow below 2^32 ids),
 * and the eight counters, weighted 2^(32 j), are added at the end. */
static void scan_sum(struct u256 *sum, const struct chunk *c, uint32_t a, uint32_t b)
{
	uint64_t acc[8] = {0};

	for (uint32_t i = a; i < b; i++) {
		const uint8_t *id = c->items[i].id;
		for (size_t k = 0; k < 4; k++) {
			uint64_t w = le64(id + 8 * k);
			acc[2 * k] += w & 0xffffffffu;
			acc[2 * k + 1] += w >> 32;
		}
	}
	for (size_t j = 0; j < 8; j++) {
		struct u256 t = {{0}};
		if (j % 2 == 0) {
			t.w[j / 2] = acc[j];
		} else {
			t.w[j / 2] = acc[j] << 32;
			if (j / 2 + 1 < 4)
				t.w[j / 2 + 1] = acc[j] >> 32;
		}
		u256_add(sum, &t);
	}
}

/* Add the ids at offsets [a, b) of chunk c to sum, scanning at most half the chunk: the
 * shorter of the range itself and the chunk's sum minus the rest. */
static void chunk_part_sum(struct u256 *sum, const struct chunk *c, uint32_t a, uint32_t b)
{
	if (2 * (b - a) <= c->n) {
		scan_sum(sum, c, a, b);
		return;
	}
	struct u256 rest = {{0}};
	scan_sum(&rest, c, 0, a);
	scan_sum(&rest, c, b, c->n);
	u256_add(sum, &c->sum);
	u256_sub(sum, &rest);
}

static void range_sum(struct reconset *s, struct u256 *sum, size_t from, size_t to)
{
	size_t cf, ct;
	uint32_t of, ot;

	memset(sum, 0, sizeof(*sum));
	if (from >= to)
		return;
	locate(s, from, &cf, &of);
	locate(s, to, &ct, &ot);
	if (cf == ct) {
		chunk_part_sum(sum, &s->chunks[cf], of, ot);
		return;
	}
	chunk_part_sum(sum, &s->chunks[cf], of, s->chunks[cf].n);
	u256_add(sum, &s->psum[ct]);
	u256_sub(sum, &s->psum[cf + 1]);
	if (ct < s->nchunks)
		chunk_part_sum(sum, &s->chunks[ct], 0, ot);
}

void reconset_sum(struct reconset *s, uint8_t sum[32], size_t from, size_t to)
{
	struct u256 v;
	range_sum(s, &v, from, to);
	u256_to_bytes(sum, &v);
}

void reconset_fingerprint(struct reconset *s, uint8_t fp[RECON_FP_LEN], size_t from, size_t to)
{
	uint8_t sum[32];
	reconset_sum(s, sum, from, to);
	recon_fingerprint(fp, sum, from < to ? to - from : 0);
}

void reconset_iter_init(struct reconset_iter *it, struct reconset *s, size_t from, size_t to)
{
	uint32_t off = 0;
	it->s = s;
	it->left = from < to ? to - from : 0;
	it->chunk = 0;
	if (it->left)
		locate(s, from, &it->chunk, &off);
	it->off = off;
}

const struct recon_item *reconset_iter_next(struct reconset_iter *it)
{
	if (it->left == 0)
		return NULL;
	while (it->off == it->s->chunks[it->chunk].n) {
		it->chunk++;
		it->off = 0;
	}
	it->left--;
	return &it->s->chunks[it->chunk].items[it->off++];
}
