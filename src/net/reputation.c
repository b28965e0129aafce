/* Remembered reputation per IP address (include/net/reputation.h).
 *
 * A sorted array of entries keyed by the 16-byte IPv6 form of the address (IPv4 mapped), so a
 * lookup is a binary search and a save walks it in key order. */
#include "net/reputation.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netaddr.h"
#include "store/db.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"

#define KEY_LEN    16
#define RECORD_LEN 24 /* bad, good (IEEE 754 doubles, LE), updated (int64 LE) */

struct entry {
	uint8_t key[KEY_LEN];
	double bad, good;
	int64_t updated;
};

struct reputation {
	const struct clock *clock;
	struct entry *e;
	size_t n;
};

static double decay(double v, int64_t age, int64_t halflife)
{
	return age <= 0 ? v : v * pow(0.5, (double)age / (double)halflife);
}

/* Index of key, or where it would go (*found false). */
static size_t find(const struct reputation *r, const uint8_t key[KEY_LEN], bool *found)
{
	size_t lo = 0, hi = r->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(r->e[mid].key, key, KEY_LEN);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void decayed(const struct reputation *r, const struct entry *e, double *bad, double *good)
{
	int64_t age = clock_now(r->clock) - e->updated;
	*bad = decay(e->bad, age, REPUTATION_BAD_HALFLIFE);
	*good = decay(e->good, age, REPUTATION_GOOD_HALFLIFE);
}

void reputation_get(const struct reputation *r, const struct netaddr *a, double *bad, double *good)
{
	uint8_t key[KEY_LEN];
	bool found = false;
	*bad = *good = 0;
	if (!netaddr_ip16(a, key))
		return;
	size_t i = find(r, key, &found);
	if (found)
		decayed(r, &r->e[i], bad, good);
}

/* Drop the entry that matters least to make room. */
static void drop_least(struct reputation *r)
{
	size_t worst = 0;
	double least = INFINITY;
	for (size_t i = 0; i < r->n; i++) {
		double b, g;
		decayed(r, &r->e[i], &b, &g);
		if (b + g < least) {
			least = b + g;
			worst = i;
		}
	}
	memmove(&r->e[worst], &r->e[worst + 1], (r->n - worst - 1) * sizeof(*r->e));
	r->n--;
}

void reputation_put(struct reputation *r, const struct netaddr *a, double bad, double good)
{
	uint8_t key[KEY_LEN];
	if (!netaddr_ip16(a, key))
		return;
	if (bad < 0.01 && good < 0.01) {
		bool found;
		size_t i = find(r, key, &found);
		if (found) { /* nothing worth remembering any more */
			memmove(&r->e[i], &r->e[i + 1], (r->n - i - 1) * sizeof(*r->e));
			r->n--;
		}
		return;
	}
	bool found;
	size_t i = find(r, key, &found);
	if (!found) {
		if (r->n >= REPUTATION_MAX) {
			drop_least(r);
			i = find(r, key, &found);
		}
		memmove(&r->e[i + 1], &r->e[i], (r->n - i) * sizeof(*r->e));
		r->n++;
		memcpy(r->e[i].key, key, KEY_LEN);
	}
	r->e[i].bad = bad;
	r->e[i].good = good;
	r->e[i].updated = clock_now(r->clock);
}

size_t reputation_count(const struct reputation *r)
{
	return r->n;
}

void reputation_list(const struct reputation *r,
		     int (*fn)(void *ctx, const struct reputation_entry *e), void *ctx)
{
	for (size_t i = 0; i < r->n; i++) {
		struct reputation_entry out;
		const uint8_t *k = r->e[i].key;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(k, mapped, 12) == 0)
			inet_ntop(AF_INET, k + 12, out.address, sizeof(out.address));
		else
			inet_ntop(AF_INET6, k, out.address, sizeof(out.address));
		decayed(r, &r->e[i], &out.bad, &out.good);
		out.updated = r->e[i].updated;
		if (fn(ctx, &out))
			return;
	}
}

/* ---- persistence ---- */

static uint64_t dbits(double v)
{
	uint64_t u;
	memcpy(&u, &v, sizeof(u));
	return u;
}

static double dval(uint64_t u)
{
	double v;
	memcpy(&v, &u, sizeof(v));
	return v;
}

struct load_ctx {
	struct reputation *r;
	size_t skipped;
};

static int load_one(void *arg, const uint8_t *key, size_t keylen, const uint8_t *val, size_t vallen)
{
	struct load_ctx *c = arg;
	struct reputation *r = c->r;
	struct cursor cur;
	cursor_init(&cur, val, vallen);
	double bad = dval(cursor_u64le(&cur)), good = dval(cursor_u64le(&cur));
	int64_t updated = cursor_i64le(&cur);
	/* updated is a node-clock time, never negative: a negative one is not ours, and the
	 * decay's age (now - updated) would overflow for one near INT64_MIN. */
	if (keylen != 1 + KEY_LEN || !cursor_ok(&cur) || cur.left != 0 || !isfinite(bad) ||
	    !isfinite(good) || bad < 0 || good < 0 || updated < 0 || r->n >= REPUTATION_MAX) {
		c->skipped++;
		return 0;
	}
	/* Records come in key order: append. */
	struct entry *e = &r->e[r->n++];
	memcpy(e->key, key + 1, KEY_LEN);
	e->bad = bad;
	e->good = good;
	e->updated = updated;
	return 0;
}

struct reputation *reputation_load(struct db *db, const struct clock *clock)
{
	struct reputation *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->clock = clock;
	r->e = calloc(REPUTATION_MAX, sizeof(*r->e));
	if (!r->e) {
		free(r);
		return NULL;
	}
	if (!db)
		return r;
	struct load_ctx c = {r, 0};
	const uint8_t prefix[1] = {DB_PREFIX_REPUTATION};
	if (db_iterate_prefix(db, prefix, sizeof(prefix), load_one, &c) < 0) {
		reputation_free(r);
		return NULL;
	}
	if (c.skipped)
		log_warn("reputation: skipped %zu unusable records", c.skipped);
	return r;
}

void reputation_free(struct reputation *r)
{
	if (!r)
		return;
	free(r->e);
	free(r);
}

static int delete_old(void *arg, const uint8_t *key, size_t keylen, const uint8_t *val,
		      size_t vallen)
{
	(void)val;
	(void)vallen;
	db_batch_delete(arg, key, keylen);
	return 0;
}

int reputation_save(struct reputation *r, struct db *db, bool sync)
{
	struct db_batch *b = db_batch_new();
	if (!b)
		return -1;
	const uint8_t prefix[1] = {DB_PREFIX_REPUTATION};
	int rc = db_iterate_prefix(db, prefix, sizeof(prefix), delete_old, b) < 0 ? -1 : 0;
	for (size_t i = 0; rc == 0 && i < r->n; i++) {
		uint8_t key[1 + KEY_LEN], val[RECORD_LEN];
		key[0] = DB_PREFIX_REPUTATION;
		memcpy(key + 1, r->e[i].key, KEY_LEN);
		struct bytebuf v;
		bytebuf_init(&v, RECORD_LEN);
		bytebuf_u64le(&v, dbits(r->e[i].bad));
		bytebuf_u64le(&v, dbits(r->e[i].good));
		bytebuf_i64le(&v, r->e[i].updated);
		memcpy(val, v.data, RECORD_LEN);
		bytebuf_free(&v);
		db_batch_put(b, key, sizeof(key), val, sizeof(val));
	}
	if (rc == 0)
		rc = db_batch_write(db, b, sync);
	db_batch_free(b);
	return rc;
}
