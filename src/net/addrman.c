/* The address book (include/net/addrman.h; design and differences from Bitcoin Core in
 * doc/addrman.md).
 *
 * Entries live in one growable array and are named by their index (id); the tables hold ids.
 * An entry in the new table is referenced from 1..ADDRMAN_NEW_BUCKETS_PER_ADDRESS new slots and
 * remembers which buckets (its slot in a bucket is a hash of the address, so the bucket is
 * enough); an entry in the tried table is in exactly one tried slot and no new slot. An entry
 * with no slot is deleted at once, so the table sizes bound the number of entries. A chained
 * hash index (SipHash with a per-book random key) finds an entry by address, and a dense list of
 * the live ids serves random sampling. */
#include "net/addrman.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store/db.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"

#define NO_ENTRY UINT32_MAX

/* Most entries at once: every entry holds a slot, plus the one being added. */
#define ENTRY_LIMIT                                                                                \
	((uint32_t)(ADDRMAN_NEW_BUCKET_COUNT + ADDRMAN_TRIED_BUCKET_COUNT) * ADDRMAN_BUCKET_SIZE + \
	 1)
/* First allocation of the entry array; it doubles up to ENTRY_LIMIT. */
#define ENTRY_INITIAL 1024
/* Heads of the address index: a power of two near the entry limit, so chains stay ~1 long. */
#define INDEX_HEADS 65536

/* Gossip refreshes a known address's time at most this often while it is online (heard of in
 * the last day), else once a day: a flood of re-announcements cannot keep an address young. */
#define ONLINE_WINDOW          86400
#define ONLINE_UPDATE_INTERVAL 3600
#define STALE_UPDATE_INTERVAL  86400

/* Selection (addrman_select): an address tried in the last 10 minutes is 100 times less
 * likely; each counted failure (up to 8) multiplies the chance by 0.66; every rejected pick
 * makes the next acceptance 1.2 times likelier, so a book of poor addresses still answers. */
#define SELECT_RECENT_TRY    (10 * 60)
#define SELECT_RECENT_FACTOR 0.01
#define SELECT_FAIL_FACTOR   0.66
#define SELECT_FAIL_CAP      8
#define SELECT_GROWTH        1.2
#define SELECT_CHANCE_BITS   30

struct entry {
	struct peer_addr addr;   /* with its time and services */
	struct peer_addr source; /* first peer that told us (port, time, services 0) */
	int64_t last_success, last_try, last_count_attempt;
	uint32_t attempts;
	uint32_t next; /* index chain, or free list when not live */
	uint32_t pos;  /* position in addrman.order */
	uint16_t buckets[ADDRMAN_NEW_BUCKETS_PER_ADDRESS];
	uint8_t refs; /* new buckets in use (buckets[0..refs)) */
	bool tried;
	bool live;
};

struct addrman {
	uint8_t key[ADDRMAN_KEY_LEN];
	uint8_t index_key[crypto_shorthash_KEYBYTES];
	const struct clock *clock;
	bool allow_local;

	struct entry *entries;
	uint32_t n_entries; /* used part of entries[] (live or free) */
	uint32_t cap_entries;
	uint32_t free_head;
	uint32_t *index; /* INDEX_HEADS chain heads */
	uint32_t *order; /* live ids, any order (shuffled by get_addresses) */
	uint32_t n_live;

	uint32_t new_tab[ADDRMAN_NEW_BUCKET_COUNT][ADDRMAN_BUCKET_SIZE];
	uint32_t tried_tab[ADDRMAN_TRIED_BUCKET_COUNT][ADDRMAN_BUCKET_SIZE];
	size_t new_by_net[PEER_NET_ID_LIMIT], tried_by_net[PEER_NET_ID_LIMIT];
	size_t n_new, n_tried;

	uint32_t collisions[ADDRMAN_TRIED_COLLISION_MAX];
	size_t n_collisions;

	int64_t last_good; /* last time any address succeeded (addrman_attempt's rule) */
};

/* ---- Keyed hashes --------------------------------------------------------------------------- */

/* Longest hash input: tag, two length-prefixed groups, one more byte. */
#define HASH_INPUT_MAX (1 + 2 * (1 + PEER_ADDR_GROUP_MAX + 2) + 1 + 3 + PEER_ADDR_MAX_LEN + 2)
/* The identity of an address for hashing: net, length, bytes, port. */
#define ADDR_KEY_MAX (2 + PEER_ADDR_MAX_LEN + 2)

static size_t addr_key(uint8_t *out, const struct peer_addr *a)
{
	out[0] = a->net;
	out[1] = a->addrlen;
	memcpy(out + 2, a->addr, a->addrlen);
	out[2 + a->addrlen] = (uint8_t)(a->port >> 8);
	out[3 + a->addrlen] = (uint8_t)a->port;
	return 4 + (size_t)a->addrlen;
}

static uint64_t keyed_hash(const struct addrman *am, const uint8_t *data, size_t len)
{
	uint8_t h[8];
	crypto_generichash(h, sizeof(h), data, len, am->key, sizeof(am->key));
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | h[i];
	return v;
}

/* The group used for bucketing. On a local testnet (allow_local) a non-routable address's group
 * includes its port: nodes on one machine share an IP, and one group for all of them would
 * cram them into a single new bucket where they push each other out (as outbound selection
 * does, doc/discovery.md). */
static size_t put_group(const struct addrman *am, uint8_t *out, const struct peer_addr *a)
{
	uint8_t g[PEER_ADDR_GROUP_MAX];
	size_t n = peer_addr_group(a, g);
	memcpy(out + 1, g, n);
	if (am->allow_local && !peer_addr_routable(a)) {
		out[1 + n] = (uint8_t)(a->port >> 8);
		out[2 + n] = (uint8_t)a->port;
		n += 2;
	}
	out[0] = (uint8_t)n;
	return 1 + n;
}

/* Tried bucket: the address picks one of ADDRMAN_TRIED_BUCKETS_PER_GROUP buckets of its group. */
static unsigned tried_bucket(const struct addrman *am, const struct peer_addr *a)
{
	uint8_t buf[HASH_INPUT_MAX];
	buf[0] = 'T';
	size_t n = 1 + addr_key(buf + 1, a);
	uint8_t pick = (uint8_t)(keyed_hash(am, buf, n) % ADDRMAN_TRIED_BUCKETS_PER_GROUP);
	buf[0] = 't';
	n = 1 + put_group(am, buf + 1, a);
	buf[n++] = pick;
	return (unsigned)(keyed_hash(am, buf, n) % ADDRMAN_TRIED_BUCKET_COUNT);
}

/* New bucket: the (address group, source group) pair picks one of
 * ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP buckets of the source group. */
static unsigned new_bucket(const struct addrman *am, const struct peer_addr *a,
			   const struct peer_addr *src)
{
	uint8_t buf[HASH_INPUT_MAX];
	buf[0] = 'N';
	size_t n = 1 + put_group(am, buf + 1, a);
	n += put_group(am, buf + n, src);
	uint8_t pick = (uint8_t)(keyed_hash(am, buf, n) % ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP);
	buf[0] = 'n';
	n = 1 + put_group(am, buf + 1, src);
	buf[n++] = pick;
	return (unsigned)(keyed_hash(am, buf, n) % ADDRMAN_NEW_BUCKET_COUNT);
}

static unsigned bucket_slot(const struct addrman *am, bool is_new, unsigned bucket,
			    const struct peer_addr *a)
{
	uint8_t buf[HASH_INPUT_MAX];
	buf[0] = 'S';
	buf[1] = is_new ? 'n' : 't';
	buf[2] = (uint8_t)(bucket >> 8);
	buf[3] = (uint8_t)bucket;
	size_t n = 4 + addr_key(buf + 4, a);
	return (unsigned)(keyed_hash(am, buf, n) % ADDRMAN_BUCKET_SIZE);
}

static uint32_t index_head(const struct addrman *am, const struct peer_addr *a)
{
	uint8_t buf[ADDR_KEY_MAX], h[crypto_shorthash_BYTES];
	size_t n = addr_key(buf, a);
	crypto_shorthash(h, buf, n, am->index_key);
	return ((uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16) & (INDEX_HEADS - 1);
}

/* ---- Entries -------------------------------------------------------------------------------- */

static uint32_t find(const struct addrman *am, const struct peer_addr *a)
{
	if (peer_net_addrlen(a->net) != a->addrlen)
		return NO_ENTRY;
	for (uint32_t id = am->index[index_head(am, a)]; id != NO_ENTRY; id = am->entries[id].next)
		if (peer_addr_equal(&am->entries[id].addr, a))
			return id;
	return NO_ENTRY;
}

/* A new entry for addr (time already adjusted) from source, in no table yet. Returns its id, or
 * NO_ENTRY when out of memory. */
static uint32_t entry_create(struct addrman *am, const struct peer_addr *addr,
			     const struct peer_addr *source)
{
	uint32_t id;
	if (am->free_head != NO_ENTRY) {
		id = am->free_head;
		am->free_head = am->entries[id].next;
	} else {
		if (am->n_entries == am->cap_entries) {
			uint32_t cap = am->cap_entries * 2;
			if (cap > ENTRY_LIMIT)
				cap = ENTRY_LIMIT;
			if (cap == am->cap_entries)
				return NO_ENTRY; /* cannot happen: every entry holds a slot */
			struct entry *e = realloc(am->entries, cap * sizeof(*e));
			uint32_t *o = realloc(am->order, cap * sizeof(*o));
			if (e)
				am->entries = e;
			if (o)
				am->order = o;
			if (!e || !o)
				return NO_ENTRY;
			am->cap_entries = cap;
		}
		id = am->n_entries++;
	}
	struct entry *e = &am->entries[id];
	memset(e, 0, sizeof(*e));
	e->addr = *addr;
	e->source.net = source->net;
	e->source.addrlen = source->addrlen <= PEER_ADDR_MAX_LEN ? source->addrlen : 0;
	memcpy(e->source.addr, source->addr, e->source.addrlen);
	e->live = true;
	uint32_t head = index_head(am, addr);
	e->next = am->index[head];
	am->index[head] = id;
	e->pos = am->n_live;
	am->order[am->n_live++] = id;
	return id;
}

static void collision_remove_at(struct addrman *am, size_t i)
{
	am->collisions[i] = am->collisions[--am->n_collisions];
}

static int collision_find(const struct addrman *am, uint32_t id)
{
	for (size_t i = 0; i < am->n_collisions; i++)
		if (am->collisions[i] == id)
			return (int)i;
	return -1;
}

/* Remove an entry that is in no table. */
static void entry_delete(struct addrman *am, uint32_t id)
{
	struct entry *e = &am->entries[id];
	uint32_t *p = &am->index[index_head(am, &e->addr)];
	while (*p != id)
		p = &am->entries[*p].next;
	*p = e->next;
	uint32_t last = am->order[--am->n_live];
	am->order[e->pos] = last;
	am->entries[last].pos = e->pos;
	int c = collision_find(am, id);
	if (c >= 0)
		collision_remove_at(am, (size_t)c);
	e->live = false;
	e->next = am->free_head;
	am->free_head = id;
}

/* now - t without overflow: a time read from the database can be anything (a negative or
 * far-future value saturates instead of wrapping). */
static int64_t age(int64_t now, int64_t t)
{
	if (t < 0 && now > INT64_MAX + t)
		return INT64_MAX;
	if (t > 0 && now < INT64_MIN + t)
		return INT64_MIN;
	return now - t;
}

static bool is_terrible(const struct entry *e, int64_t now)
{
	if (e->last_try && age(now, e->last_try) <= ADDRMAN_RECENT_TRY)
		return false; /* just tried: give the attempt its chance */
	if ((int64_t)e->addr.time > now + ADDRMAN_FUTURE_SLACK)
		return true;
	if (age(now, (int64_t)e->addr.time) > ADDRMAN_HORIZON)
		return true;
	if (e->last_success == 0 && e->attempts >= ADDRMAN_RETRIES)
		return true;
	if (age(now, e->last_success) > ADDRMAN_MIN_FAIL && e->attempts >= ADDRMAN_MAX_FAILURES)
		return true;
	return false;
}

static double select_chance(const struct entry *e, int64_t now)
{
	double chance = 1.0;
	if (age(now, e->last_try) < SELECT_RECENT_TRY)
		chance *= SELECT_RECENT_FACTOR;
	for (uint32_t i = 0; i < e->attempts && i < SELECT_FAIL_CAP; i++)
		chance *= SELECT_FAIL_FACTOR;
	return chance;
}

/* ---- Table membership ----------------------------------------------------------------------- */

static void new_place(struct addrman *am, uint32_t id, unsigned bucket, unsigned slot)
{
	struct entry *e = &am->entries[id];
	am->new_tab[bucket][slot] = id;
	e->buckets[e->refs++] = (uint16_t)bucket;
	if (e->refs == 1) {
		am->n_new++;
		am->new_by_net[e->addr.net]++;
	}
}

/* Empty a new slot. The entry that held it loses the reference, and is deleted when that was
 * its last one unless keep is set (it is moving to tried). */
static void new_clear(struct addrman *am, unsigned bucket, unsigned slot, bool keep)
{
	uint32_t id = am->new_tab[bucket][slot];
	if (id == NO_ENTRY)
		return;
	am->new_tab[bucket][slot] = NO_ENTRY;
	struct entry *e = &am->entries[id];
	for (unsigned i = 0; i < e->refs; i++) {
		if (e->buckets[i] == bucket) {
			e->buckets[i] = e->buckets[--e->refs];
			break;
		}
	}
	if (e->refs == 0) {
		am->n_new--;
		am->new_by_net[e->addr.net]--;
		if (!keep)
			entry_delete(am, id);
	}
}

/* Put a tried entry back in the new table, in the bucket of its source. */
static void tried_demote(struct addrman *am, uint32_t id)
{
	struct entry *e = &am->entries[id];
	e->tried = false;
	am->n_tried--;
	am->tried_by_net[e->addr.net]--;
	unsigned b = new_bucket(am, &e->addr, &e->source);
	unsigned s = bucket_slot(am, true, b, &e->addr);
	new_clear(am, b, s, false);
	new_place(am, id, b, s);
}

/* Move a new entry to its tried slot, sending whatever is there back to new. */
static void make_tried(struct addrman *am, uint32_t id)
{
	struct entry *e = &am->entries[id];
	while (e->refs > 0) {
		unsigned b = e->buckets[0];
		new_clear(am, b, bucket_slot(am, true, b, &e->addr), true);
	}
	unsigned b = tried_bucket(am, &e->addr);
	unsigned s = bucket_slot(am, false, b, &e->addr);
	uint32_t old = am->tried_tab[b][s];
	if (old != NO_ENTRY) {
		am->tried_tab[b][s] = NO_ENTRY;
		tried_demote(am, old);
	}
	am->tried_tab[b][s] = id;
	e = &am->entries[id];
	e->tried = true;
	am->n_tried++;
	am->tried_by_net[e->addr.net]++;
}

/* ---- Creation ------------------------------------------------------------------------------- */

struct addrman *addrman_new(const uint8_t key[ADDRMAN_KEY_LEN], const struct clock *clock,
			    bool allow_local)
{
	struct addrman *am = malloc(sizeof(*am));
	if (!am)
		return NULL;
	memset(am, 0, sizeof(*am));
	memcpy(am->key, key, ADDRMAN_KEY_LEN);
	random_bytes(am->index_key, sizeof(am->index_key));
	am->clock = clock;
	am->allow_local = allow_local;
	am->free_head = NO_ENTRY;
	am->last_good = 1; /* so that the first failure counts */
	memset(am->new_tab, 0xff, sizeof(am->new_tab));
	memset(am->tried_tab, 0xff, sizeof(am->tried_tab));
	am->cap_entries = ENTRY_INITIAL;
	am->entries = malloc(ENTRY_INITIAL * sizeof(*am->entries));
	am->order = malloc(ENTRY_INITIAL * sizeof(*am->order));
	am->index = malloc(INDEX_HEADS * sizeof(*am->index));
	if (!am->entries || !am->order || !am->index) {
		addrman_free(am);
		return NULL;
	}
	memset(am->index, 0xff, INDEX_HEADS * sizeof(*am->index));
	return am;
}

void addrman_free(struct addrman *am)
{
	if (!am)
		return;
	free(am->entries);
	free(am->order);
	free(am->index);
	sodium_memzero(am->key, sizeof(am->key));
	free(am);
}

size_t addrman_size(const struct addrman *am)
{
	return am->n_live;
}

void addrman_counts(const struct addrman *am, uint8_t net, size_t *new_count, size_t *tried_count)
{
	if (net == 0) {
		*new_count = am->n_new;
		*tried_count = am->n_tried;
	} else if (net < PEER_NET_ID_LIMIT) {
		*new_count = am->new_by_net[net];
		*tried_count = am->tried_by_net[net];
	} else {
		*new_count = *tried_count = 0;
	}
}

/* ---- Adding --------------------------------------------------------------------------------- */

static bool same_host(const struct peer_addr *a, const struct peer_addr *b)
{
	return a->net == b->net && a->addrlen == b->addrlen && a->addrlen <= PEER_ADDR_MAX_LEN &&
	       memcmp(a->addr, b->addr, a->addrlen) == 0;
}

/* Refresh a known entry from an announcement; return true if it may take another bucket. */
static bool refresh_known(struct addrman *am, struct entry *e, const struct peer_addr *a,
			  int64_t penalty, int64_t now)
{
	int64_t announced = (int64_t)a->time - penalty;
	if (announced < 0)
		announced = 0;
	bool fresher = announced > (int64_t)e->addr.time;
	int64_t interval = now - (int64_t)a->time < ONLINE_WINDOW ? ONLINE_UPDATE_INTERVAL
								  : STALE_UPDATE_INTERVAL;
	if (announced - (int64_t)e->addr.time > interval)
		e->addr.time = (uint32_t)announced;
	e->addr.services |= a->services;
	if (!fresher || e->tried || e->refs >= ADDRMAN_NEW_BUCKETS_PER_ADDRESS)
		return false;
	/* Each reference halves the odds of the next: popular addresses spread slowly. */
	return e->refs == 0 || random_range(UINT64_C(1) << e->refs) == 0;
}

static size_t add_one(struct addrman *am, const struct peer_addr *a, const struct peer_addr *source,
		      int64_t penalty, int64_t now)
{
	if (!peer_addr_valid(a) || a->port == 0)
		return 0;
	if (!am->allow_local && !peer_addr_routable(a))
		return 0;
	if (penalty < 0 || same_host(a, source))
		penalty = 0; /* a node announcing itself is as fresh as it says */
	uint32_t id = find(am, a);
	if (id != NO_ENTRY) {
		if (!refresh_known(am, &am->entries[id], a, penalty, now))
			return 0;
	} else {
		struct peer_addr adj = *a;
		adj.time = (int64_t)a->time > penalty ? (uint32_t)((int64_t)a->time - penalty) : 0;
		id = entry_create(am, &adj, source);
		if (id == NO_ENTRY)
			return 0;
	}
	struct entry *e = &am->entries[id];
	unsigned b = new_bucket(am, &e->addr, source);
	unsigned s = bucket_slot(am, true, b, &e->addr);
	uint32_t cur = am->new_tab[b][s];
	if (cur == id)
		return 0;
	if (cur != NO_ENTRY) {
		const struct entry *o = &am->entries[cur];
		/* Take the slot from a terrible address, or from one that sits in other buckets
		 * too when ours has none. */
		bool take = is_terrible(o, now) || (o->refs > 1 && e->refs == 0);
		if (!take) {
			if (e->refs == 0)
				entry_delete(am, id);
			return 0;
		}
		new_clear(am, b, s, false);
	}
	new_place(am, id, b, s);
	return 1;
}

size_t addrman_add(struct addrman *am, const struct peer_addr *addrs, size_t n,
		   const struct peer_addr *source, int64_t time_penalty)
{
	int64_t now = clock_now(am->clock);
	size_t added = 0;
	for (size_t i = 0; i < n; i++)
		added += add_one(am, &addrs[i], source, time_penalty, now);
	if (added > 0) {
		char src[PEER_ADDR_STRLEN];
		peer_addr_format_host(source, src, sizeof(src));
		log_debug(LOG_ADDRMAN, "addrman: added %zu of %zu from %s: %zu new, %zu tried",
			  added, n, src, am->n_new, am->n_tried);
	}
	return added;
}

/* ---- Outcomes of connections ---------------------------------------------------------------- */

enum addrman_good_result addrman_good(struct addrman *am, const struct peer_addr *addr)
{
	int64_t now = clock_now(am->clock);
	am->last_good = now;
	uint32_t id = find(am, addr);
	if (id == NO_ENTRY)
		return ADDRMAN_GOOD_UNKNOWN;
	struct entry *e = &am->entries[id];
	e->last_success = now;
	e->last_try = now;
	e->attempts = 0;
	if (e->tried)
		return ADDRMAN_GOOD_ALREADY;
	unsigned b = tried_bucket(am, &e->addr);
	unsigned s = bucket_slot(am, false, b, &e->addr);
	if (am->tried_tab[b][s] != NO_ENTRY) {
		if (collision_find(am, id) < 0 && am->n_collisions < ADDRMAN_TRIED_COLLISION_MAX)
			am->collisions[am->n_collisions++] = id;
		return ADDRMAN_GOOD_COLLISION;
	}
	make_tried(am, id);
	return ADDRMAN_GOOD_MOVED;
}

void addrman_attempt(struct addrman *am, const struct peer_addr *addr, bool count_failure)
{
	uint32_t id = find(am, addr);
	if (id == NO_ENTRY)
		return;
	int64_t now = clock_now(am->clock);
	struct entry *e = &am->entries[id];
	e->last_try = now;
	if (count_failure && e->last_count_attempt < am->last_good) {
		e->last_count_attempt = now;
		e->attempts++;
	}
}

void addrman_connected(struct addrman *am, const struct peer_addr *addr)
{
	uint32_t id = find(am, addr);
	if (id == NO_ENTRY)
		return;
	int64_t now = clock_now(am->clock);
	struct entry *e = &am->entries[id];
	if (now - (int64_t)e->addr.time > ADDRMAN_CONNECTED_UPDATE && now > 0 && now <= UINT32_MAX)
		e->addr.time = (uint32_t)now;
}

void addrman_set_services(struct addrman *am, const struct peer_addr *addr, uint64_t services)
{
	uint32_t id = find(am, addr);
	if (id != NO_ENTRY)
		am->entries[id].addr.services = services;
}

/* ---- Selection ------------------------------------------------------------------------------ */

static void count_nets(const struct addrman *am, uint32_t nets, size_t *n_new, size_t *n_tried)
{
	*n_new = *n_tried = 0;
	for (unsigned net = 0; net < PEER_NET_ID_LIMIT; net++) {
		if (nets & ADDRMAN_NET_BIT(net)) {
			*n_new += am->new_by_net[net];
			*n_tried += am->tried_by_net[net];
		}
	}
}

/* An occupied slot of a random bucket whose address is in nets, scanning the bucket from a
 * random slot; NO_ENTRY when the bucket has none. */
static uint32_t pick_in_bucket(const struct addrman *am, bool tried, uint32_t nets)
{
	unsigned nb = tried ? ADDRMAN_TRIED_BUCKET_COUNT : ADDRMAN_NEW_BUCKET_COUNT;
	unsigned b = (unsigned)random_range(nb);
	unsigned start = (unsigned)random_range(ADDRMAN_BUCKET_SIZE);
	const uint32_t *row = tried ? am->tried_tab[b] : am->new_tab[b];
	for (unsigned i = 0; i < ADDRMAN_BUCKET_SIZE; i++) {
		uint32_t id = row[(start + i) % ADDRMAN_BUCKET_SIZE];
		if (id != NO_ENTRY && (nets & ADDRMAN_NET_BIT(am->entries[id].addr.net)))
			return id;
	}
	return NO_ENTRY;
}

int addrman_select(struct addrman *am, bool new_only, uint32_t nets, struct peer_addr *out,
		   int64_t *last_try)
{
	size_t n_new, n_tried;
	count_nets(am, nets, &n_new, &n_tried);
	if (n_new == 0 && (new_only || n_tried == 0))
		return 0;
	bool tried;
	if (new_only || n_tried == 0)
		tried = false;
	else if (n_new == 0)
		tried = true;
	else
		tried = random_range(2) == 0;
	int64_t now = clock_now(am->clock);
	double factor = 1.0;
	/* Terminates: the table searched holds at least one address of nets, and each rejection
	 * raises the acceptance odds until they pass 1. */
	for (;;) {
		uint32_t id = pick_in_bucket(am, tried, nets);
		if (id == NO_ENTRY)
			continue;
		const struct entry *e = &am->entries[id];
		double odds = factor * select_chance(e, now) * (double)(1u << SELECT_CHANCE_BITS);
		if ((double)random_range(UINT64_C(1) << SELECT_CHANCE_BITS) < odds) {
			*out = e->addr;
			if (last_try)
				*last_try = e->last_try;
			return 1;
		}
		factor *= SELECT_GROWTH;
	}
}

size_t addrman_get_addresses(struct addrman *am, struct peer_addr *out, size_t max_count,
			     unsigned max_pct, uint32_t nets)
{
	size_t limit = am->n_live;
	if (max_pct > 0 && max_pct < 100)
		limit = limit * max_pct / 100;
	if (limit > max_count)
		limit = max_count;
	int64_t now = clock_now(am->clock);
	size_t got = 0;
	/* A partial Fisher-Yates shuffle of the live list: each visited id is uniform among the
	 * ones not yet visited. */
	for (uint32_t i = 0; i < am->n_live && got < limit; i++) {
		uint32_t j = i + (uint32_t)random_range(am->n_live - i);
		uint32_t a = am->order[i], b = am->order[j];
		am->order[i] = b;
		am->order[j] = a;
		am->entries[b].pos = i;
		am->entries[a].pos = j;
		const struct entry *e = &am->entries[b];
		if (!(nets & ADDRMAN_NET_BIT(e->addr.net)) || is_terrible(e, now))
			continue;
		out[got++] = e->addr;
	}
	return got;
}

/* ---- Test-before-evict ---------------------------------------------------------------------- */

int addrman_select_collision(struct addrman *am, struct peer_addr *out, int64_t *last_try)
{
	if (am->n_collisions == 0)
		return 0;
	size_t i = (size_t)random_range(am->n_collisions);
	const struct entry *e = &am->entries[am->collisions[i]];
	if (e->tried) {
		collision_remove_at(am, i);
		return 0;
	}
	unsigned b = tried_bucket(am, &e->addr);
	uint32_t old = am->tried_tab[b][bucket_slot(am, false, b, &e->addr)];
	if (old == NO_ENTRY)
		return 0; /* the slot came free: addrman_resolve_collisions moves it */
	*out = am->entries[old].addr;
	if (last_try)
		*last_try = am->entries[old].last_try;
	return 1;
}

/* Decide one pending collision: returns true when it is settled (either way). */
static bool resolve_one(struct addrman *am, uint32_t id, int64_t now)
{
	const struct entry *e = &am->entries[id];
	if (e->tried)
		return true;
	unsigned b = tried_bucket(am, &e->addr);
	uint32_t old = am->tried_tab[b][bucket_slot(am, false, b, &e->addr)];
	if (old == NO_ENTRY) {
		make_tried(am, id);
		return true;
	}
	const struct entry *o = &am->entries[old];
	if (now - o->last_success < ADDRMAN_REPLACEMENT)
		return true; /* the old address works: keep it */
	if (now - o->last_try < ADDRMAN_REPLACEMENT) {
		/* Tested recently without success: evict once the feeler had its time. */
		if (now - o->last_try <= ADDRMAN_FEELER_GRACE)
			return false;
		make_tried(am, id);
		return true;
	}
	if (age(now, e->last_success) > ADDRMAN_TEST_WINDOW) {
		make_tried(am, id); /* nobody tested the old one in time */
		return true;
	}
	return false;
}

void addrman_resolve_collisions(struct addrman *am)
{
	int64_t now = clock_now(am->clock);
	uint32_t pending[ADDRMAN_TRIED_COLLISION_MAX];
	size_t n = am->n_collisions;
	memcpy(pending, am->collisions, n * sizeof(pending[0]));
	for (size_t i = 0; i < n; i++) {
		/* Moving one entry can delete another queued one: check it is still queued. */
		int at = collision_find(am, pending[i]);
		if (at < 0)
			continue;
		if (resolve_one(am, pending[i], now)) {
			at = collision_find(am, pending[i]);
			if (at >= 0)
				collision_remove_at(am, (size_t)at);
		}
	}
}

size_t addrman_collision_count(const struct addrman *am)
{
	return am->n_collisions;
}

/* ---- Inspection ----------------------------------------------------------------------------- */

int addrman_lookup(const struct addrman *am, const struct peer_addr *addr,
		   struct addrman_info *info)
{
	memset(info, 0, sizeof(*info));
	uint32_t id = find(am, addr);
	if (id == NO_ENTRY)
		return 0;
	const struct entry *e = &am->entries[id];
	info->addr = e->addr;
	info->source = e->source;
	info->last_success = e->last_success;
	info->last_try = e->last_try;
	info->attempts = e->attempts;
	info->tried = e->tried;
	info->terrible = is_terrible(e, clock_now(am->clock));
	if (e->tried) {
		info->bucket_count = 1;
		info->buckets[0] = (uint16_t)tried_bucket(am, &e->addr);
	} else {
		info->bucket_count = e->refs;
		memcpy(info->buckets, e->buckets, e->refs * sizeof(e->buckets[0]));
	}
	return 1;
}

/* Check one occupied slot against its entry; returns 0 or a negative code. */
static int check_slot(const struct addrman *am, bool is_new, unsigned b, unsigned s, uint32_t id,
		      uint32_t *seen)
{
	if (id >= am->n_entries || !am->entries[id].live)
		return -2;
	const struct entry *e = &am->entries[id];
	if (e->tried == is_new)
		return -3;
	if (bucket_slot(am, is_new, b, &e->addr) != s)
		return -4;
	if (!is_new && tried_bucket(am, &e->addr) != b)
		return -5;
	seen[id]++;
	return 0;
}

int addrman_check(const struct addrman *am)
{
	uint32_t *seen = calloc(am->n_entries + 1, sizeof(*seen));
	int rc = 0;
	size_t n_new = 0, n_tried = 0;
	if (!seen)
		return -1;
	for (unsigned b = 0; b < ADDRMAN_NEW_BUCKET_COUNT && rc == 0; b++)
		for (unsigned s = 0; s < ADDRMAN_BUCKET_SIZE && rc == 0; s++)
			if (am->new_tab[b][s] != NO_ENTRY)
				rc = check_slot(am, true, b, s, am->new_tab[b][s], seen);
	for (unsigned b = 0; b < ADDRMAN_TRIED_BUCKET_COUNT && rc == 0; b++)
		for (unsigned s = 0; s < ADDRMAN_BUCKET_SIZE && rc == 0; s++)
			if (am->tried_tab[b][s] != NO_ENTRY)
				rc = check_slot(am, false, b, s, am->tried_tab[b][s], seen);
	uint32_t live = 0;
	for (uint32_t id = 0; id < am->n_entries && rc == 0; id++) {
		const struct entry *e = &am->entries[id];
		if (!e->live)
			continue;
		live++;
		if (e->pos >= am->n_live || am->order[e->pos] != id)
			rc = -6;
		else if (find(am, &e->addr) != id)
			rc = -7;
		else if (e->tried ? (e->refs != 0 || seen[id] != 1)
				  : (e->refs == 0 || seen[id] != e->refs))
			rc = -8;
		n_new += !e->tried;
		n_tried += e->tried;
	}
	if (rc == 0 && (live != am->n_live || n_new != am->n_new || n_tried != am->n_tried))
		rc = -9;
	for (size_t i = 0; i < am->n_collisions && rc == 0; i++)
		if (!am->entries[am->collisions[i]].live)
			rc = -10;
	free(seen);
	return rc;
}

/* ---- Persistence ---------------------------------------------------------------------------- */

/* Keys under DB_PREFIX_ADDRMAN (doc/storage.md): 'k' the key, 'h' the header, 'e' + record
 * number (uint32 big-endian) one entry. */
#define SUBKEY_KEY     'k'
#define SUBKEY_HEADER  'h'
#define SUBKEY_ENTRY   'e'
#define FORMAT_VERSION 1
#define HEADER_LEN     16 /* version, records, new, tried: uint32 LE each */
/* Largest entry record: two addresses, times, counters and eight buckets. */
#define RECORD_MAX 160
/* Skipped records logged one by one at load; the rest are only counted in the summary line. */
#define LOAD_LOG_MAX 10

static void entry_key(uint8_t out[6], uint32_t n)
{
	out[0] = DB_PREFIX_ADDRMAN;
	out[1] = SUBKEY_ENTRY;
	out[2] = (uint8_t)(n >> 24);
	out[3] = (uint8_t)(n >> 16);
	out[4] = (uint8_t)(n >> 8);
	out[5] = (uint8_t)n;
}

static void encode_entry(struct bytebuf *b, const struct entry *e)
{
	bytebuf_u8(b, e->addr.net);
	bytebuf_u8(b, e->addr.addrlen);
	bytebuf_append(b, e->addr.addr, e->addr.addrlen);
	bytebuf_u16le(b, e->addr.port);
	bytebuf_u32le(b, e->addr.time);
	bytebuf_u64le(b, e->addr.services);
	bytebuf_u8(b, e->source.net);
	bytebuf_u8(b, e->source.addrlen);
	bytebuf_append(b, e->source.addr, e->source.addrlen);
	bytebuf_i64le(b, e->last_success);
	bytebuf_i64le(b, e->last_try);
	bytebuf_u32le(b, e->attempts);
	bytebuf_bool(b, e->tried);
	bytebuf_u8(b, e->refs);
	for (unsigned i = 0; i < e->refs; i++)
		bytebuf_u16le(b, e->buckets[i]);
}

struct stale_ctx {
	struct db_batch *batch;
	uint32_t n_live;
};

static int delete_stale(void *arg, const uint8_t *key, size_t keylen, const uint8_t *val,
			size_t vallen)
{
	struct stale_ctx *c = arg;
	(void)val;
	(void)vallen;
	uint32_t n = keylen == 6 ? (uint32_t)key[2] << 24 | (uint32_t)key[3] << 16 |
					   (uint32_t)key[4] << 8 | key[5]
				 : 0;
	if (keylen != 6 || n >= c->n_live)
		db_batch_delete(c->batch, key, keylen);
	return 0;
}

int addrman_save(struct addrman *am, struct db *db, bool sync)
{
	int64_t t0 = clock_mono_us();
	struct db_batch *batch = db_batch_new();
	if (!batch)
		return -1;
	uint8_t k[6] = {DB_PREFIX_ADDRMAN, SUBKEY_KEY};
	db_batch_put(batch, k, 2, am->key, sizeof(am->key));
	uint8_t hdr[HEADER_LEN];
	struct bytebuf b;
	bytebuf_init(&b, RECORD_MAX);
	bytebuf_u32le(&b, FORMAT_VERSION);
	bytebuf_u32le(&b, am->n_live);
	bytebuf_u32le(&b, (uint32_t)am->n_new);
	bytebuf_u32le(&b, (uint32_t)am->n_tried);
	memcpy(hdr, b.data, sizeof(hdr));
	k[1] = SUBKEY_HEADER;
	db_batch_put(batch, k, 2, hdr, sizeof(hdr));
	for (uint32_t i = 0; i < am->n_live; i++) {
		bytebuf_reset(&b);
		encode_entry(&b, &am->entries[am->order[i]]);
		entry_key(k, i);
		db_batch_put(batch, k, sizeof(k), b.data, b.len);
	}
	/* Delete every stored entry record this save does not overwrite: numbers at or above
	 * n_live, and keys of the wrong shape (a corrupt record must not survive forever). Walking
	 * the keys that exist costs what is stored, whatever a corrupt key's number says. */
	struct stale_ctx stale = {batch, am->n_live};
	const uint8_t eprefix[2] = {DB_PREFIX_ADDRMAN, SUBKEY_ENTRY};
	bool ok = db_iterate_prefix(db, eprefix, sizeof(eprefix), delete_stale, &stale) >= 0;
	ok = ok && bytebuf_ok(&b);
	bytebuf_free(&b);
	int rc = ok ? db_batch_write(db, batch, sync) : -1;
	db_batch_free(batch);
	if (rc != 0) {
		log_error("addrman: saving the address book failed: %s", db_last_error(db));
		return -1;
	}
	log_debug(LOG_ADDRMAN, "addrman: saved %u addresses (%zu new, %zu tried) in %lld ms",
		  am->n_live, am->n_new, am->n_tried, (long long)(clock_mono_us() - t0) / 1000);
	return 0;
}

struct load_ctx {
	struct addrman *am;
	bool header_ok; /* else entries are only counted, not loaded */
	bool rebucket;  /* the key is new: stored new buckets mean nothing */
	uint32_t records, loaded, skipped;
};

/* Decode one record into a fresh entry (not yet in any table). Returns 0 or -1. */
static int decode_entry(struct cursor *c, struct entry *e, bool allow_local)
{
	memset(e, 0, sizeof(*e));
	e->addr.net = cursor_u8(c);
	e->addr.addrlen = cursor_u8(c);
	if (e->addr.addrlen > PEER_ADDR_MAX_LEN)
		cursor_fail(c);
	cursor_bytes(c, e->addr.addr, cursor_ok(c) ? e->addr.addrlen : 0);
	e->addr.port = cursor_u16le(c);
	e->addr.time = cursor_u32le(c);
	e->addr.services = cursor_u64le(c);
	e->source.net = cursor_u8(c);
	e->source.addrlen = cursor_u8(c);
	if (e->source.addrlen > PEER_ADDR_MAX_LEN)
		cursor_fail(c);
	cursor_bytes(c, e->source.addr, cursor_ok(c) ? e->source.addrlen : 0);
	e->last_success = cursor_i64le(c);
	e->last_try = cursor_i64le(c);
	e->attempts = cursor_u32le(c);
	e->tried = cursor_bool(c);
	e->refs = cursor_u8(c);
	if (e->refs > ADDRMAN_NEW_BUCKETS_PER_ADDRESS || (e->tried && e->refs != 0))
		cursor_fail(c);
	for (unsigned i = 0; cursor_ok(c) && i < e->refs; i++) {
		e->buckets[i] = cursor_u16le(c);
		if (e->buckets[i] >= ADDRMAN_NEW_BUCKET_COUNT)
			cursor_fail(c);
	}
	if (!cursor_ok(c) || c->left != 0 || !peer_addr_valid(&e->addr) || e->addr.port == 0)
		return -1;
	if (!allow_local && !peer_addr_routable(&e->addr))
		return -1;
	return 0;
}

/* Place a decoded entry: tried in its tried slot (in new when that is taken), new in its stored
 * buckets whose slots are free (or the bucket of its source when none is). Returns 0, or -1
 * when it finds no room or is a duplicate. */
static int place_loaded(struct load_ctx *ctx, const struct entry *d)
{
	struct addrman *am = ctx->am;
	if (find(am, &d->addr) != NO_ENTRY)
		return -1;
	uint32_t id = entry_create(am, &d->addr, &d->source);
	if (id == NO_ENTRY)
		return -1;
	struct entry *e = &am->entries[id];
	e->last_success = d->last_success;
	e->last_try = d->last_try;
	e->attempts = d->attempts;
	if (d->tried) {
		unsigned b = tried_bucket(am, &e->addr);
		unsigned s = bucket_slot(am, false, b, &e->addr);
		if (am->tried_tab[b][s] == NO_ENTRY) {
			am->tried_tab[b][s] = id;
			e->tried = true;
			am->n_tried++;
			am->tried_by_net[e->addr.net]++;
			return 0;
		}
	}
	for (unsigned i = 0; !ctx->rebucket && i < d->refs; i++) {
		unsigned b = d->buckets[i];
		unsigned s = bucket_slot(am, true, b, &e->addr);
		if (am->new_tab[b][s] == NO_ENTRY)
			new_place(am, id, b, s);
	}
	if (am->entries[id].refs == 0) {
		unsigned b = new_bucket(am, &e->addr, &e->source);
		unsigned s = bucket_slot(am, true, b, &e->addr);
		if (am->new_tab[b][s] != NO_ENTRY) {
			entry_delete(am, id);
			return -1;
		}
		new_place(am, id, b, s);
	}
	return 0;
}

static int load_record(void *arg, const uint8_t *key, size_t keylen, const uint8_t *val,
		       size_t vallen)
{
	struct load_ctx *ctx = arg;
	if (!ctx->header_ok)
		return 0;
	ctx->records++;
	struct cursor c;
	struct entry d;
	cursor_init(&c, val, vallen);
	if (keylen != 6 || decode_entry(&c, &d, ctx->am->allow_local) != 0) {
		if (ctx->skipped < LOAD_LOG_MAX)
			log_warn(
				"addrman: skipping unusable address record (%zu-byte key, %zu-byte "
				"value)",
				keylen, vallen);
		ctx->skipped++;
		return 0;
	}
	if (place_loaded(ctx, &d) != 0) {
		char s[PEER_ADDR_STRLEN];
		peer_addr_format(&d.addr, s, sizeof(s));
		log_debug(LOG_ADDRMAN, "addrman: skipping stored %s (duplicate or no room)", s);
		ctx->skipped++;
		return 0;
	}
	ctx->loaded++;
	return 0;
}

/* Read the key, or make and store one. Returns 1 read, 0 made, -1 on a database error. */
static int load_key(struct db *db, uint8_t key[ADDRMAN_KEY_LEN])
{
	const uint8_t k[2] = {DB_PREFIX_ADDRMAN, SUBKEY_KEY};
	uint8_t *val = NULL;
	size_t len = 0;
	int rc = db_get(db, k, sizeof(k), &val, &len);
	if (rc < 0)
		return -1;
	if (rc == 1 && len == ADDRMAN_KEY_LEN) {
		memcpy(key, val, ADDRMAN_KEY_LEN);
		sodium_memzero(val, len);
		free(val);
		return 1;
	}
	if (rc == 1)
		log_warn("addrman: stored key is %zu bytes, not %d: making a new one", len,
			 ADDRMAN_KEY_LEN);
	free(val);
	random_bytes(key, ADDRMAN_KEY_LEN);
	return db_put(db, k, sizeof(k), key, ADDRMAN_KEY_LEN, true) == 0 ? 0 : -1;
}

/* Read the header. Returns 1 usable, 0 absent or unusable (logged), -1 on a database error. */
static int load_header(struct db *db)
{
	const uint8_t k[2] = {DB_PREFIX_ADDRMAN, SUBKEY_HEADER};
	uint8_t *val = NULL;
	size_t len = 0;
	int rc = db_get(db, k, sizeof(k), &val, &len);
	if (rc <= 0)
		return rc;
	struct cursor c;
	cursor_init(&c, val, len);
	uint32_t version = cursor_u32le(&c);
	bool ok = len == HEADER_LEN && version == FORMAT_VERSION;
	free(val);
	if (!ok)
		log_warn("addrman: address book header unusable (%zu bytes, version %u): starting "
			 "with an empty address book",
			 len, version);
	return ok ? 1 : 0;
}

int addrman_load(struct addrman **out, struct db *db, const struct clock *clock, bool allow_local)
{
	uint8_t key[ADDRMAN_KEY_LEN];
	*out = NULL;
	int key_rc = load_key(db, key);
	int hdr_rc = key_rc < 0 ? -1 : load_header(db);
	if (hdr_rc < 0) {
		log_error("addrman: reading the address book failed: %s", db_last_error(db));
		return -1;
	}
	struct addrman *am = addrman_new(key, clock, allow_local);
	sodium_memzero(key, sizeof(key));
	if (!am)
		return -1;
	struct load_ctx ctx = {.am = am, .header_ok = hdr_rc == 1, .rebucket = key_rc == 0};
	const uint8_t prefix[2] = {DB_PREFIX_ADDRMAN, SUBKEY_ENTRY};
	int64_t t0 = clock_mono_us();
	if (db_iterate_prefix(db, prefix, sizeof(prefix), load_record, &ctx) != 0) {
		log_error("addrman: reading the address book failed: %s", db_last_error(db));
		addrman_free(am);
		return -1;
	}
	log_info("addrman: loaded %u addresses (%zu new, %zu tried, %u skipped) in %lld ms",
		 ctx.loaded, am->n_new, am->n_tried, ctx.skipped,
		 (long long)(clock_mono_us() - t0) / 1000);
	*out = am;
	return 0;
}
