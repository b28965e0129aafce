/* The message store: signed messages and their four indexes in the node's LevelDB database.
 *
 * Layout (doc/storage.md, "Messages"): the message under 'M' id, and one empty-valued index key
 * per way of listing — by time ('T'), author ('A'), topic ('P') and referenced id ('R') — each
 * ending in created_at (big-endian, so byte order is time order) and the id. A message, its
 * index keys and the running totals ('m' "msgstats") are written and deleted in one batch, so
 * they appear and disappear together and the totals always match the records beside them.
 * Start-up reads the totals record; it never scans the store.
 *
 * A record that does not decode, or an index key without its message, can only come from
 * corruption: it is logged and reported as a database error (-1), never trusted or relayed.
 *
 * The store belongs to one thread (the event loop); it holds no lock. */
#include "msg/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/bytes.h"
#include "util/log.h"

/* Key lengths. Every index key ends in created_at (8 bytes, big-endian) and the id. */
#define ID_LEN           32
#define TIME_LEN         8
#define TAIL_LEN         (TIME_LEN + ID_LEN)
#define MSG_KEY_LEN      (1 + ID_LEN)
#define TIME_KEY_LEN     (1 + TAIL_LEN)
#define AUTHOR_KEY_LEN   (1 + 32 + TAIL_LEN)
#define REPLY_KEY_LEN    (1 + ID_LEN + TAIL_LEN)
#define TOPIC_KEY_MAX    (1 + 1 + SIGMSG_TOPIC_MAX + TAIL_LEN)
#define INDEX_PREFIX_MAX (TOPIC_KEY_MAX - TAIL_LEN)
/* The value of an 'M' record starts with received_at (int64 LE). */
#define RECEIVED_AT_LEN 8

/* The totals record: 'm' "msgstats" -> count, bytes, pruned (uint64 LE each). */
static const char STATS_KEY[] = {DB_PREFIX_META, 'm', 's', 'g', 's', 't', 'a', 't', 's'};
#define STATS_LEN (3 * 8)

/* Messages deleted per batch while pruning. Bounds the batch in memory (about 250 bytes of keys
 * per message) when a large prune (max_delete 0) runs after a long time offline, and keeps each
 * write short; the totals go into every batch, so a crash between batches loses nothing. */
#define PRUNE_BATCH 256

/* Upper bound for "created_at <= until" when until is unset: no stored time reaches it, since
 * created_at is a non-negative int64. */
#define TIME_END ((uint64_t)INT64_MAX + 1)

struct totals {
	uint64_t count;
	uint64_t bytes;
	uint64_t pruned;
};

struct msgstore {
	struct db *db;
	struct msgstore_observer obs; /* all NULL when none is set */
	struct totals t;
	/* Smallest and largest created_at stored (0 when empty): the ends of the time index,
	 * read with one seek each at open and after a prune, kept up to date by puts, so
	 * msgstore_stats (called per accepted message) touches no disk. */
	int64_t oldest, newest;
};

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void msg_key(uint8_t key[MSG_KEY_LEN], const uint8_t id[32])
{
	key[0] = DB_PREFIX_MSG;
	memcpy(key + 1, id, ID_LEN);
}

/* Index prefix (without the time and id) for one of the four indexes. Returns its length.
 * what is the author, the referenced id or the topic (NUL-terminated) as the kind asks, and
 * unused for the time index. */
static size_t index_prefix(uint8_t *out, enum db_prefix kind, const void *what)
{
	out[0] = (uint8_t)kind;
	if (kind == DB_PREFIX_MSG_AUTHOR || kind == DB_PREFIX_MSG_REPLIES) {
		memcpy(out + 1, what, 32);
		return 1 + 32;
	}
	if (kind == DB_PREFIX_MSG_TOPIC) {
		size_t n = strnlen(what, SIGMSG_TOPIC_MAX); /* callers checked the topic */
		out[1] = (uint8_t)n;
		memcpy(out + 2, what, n);
		return 2 + n;
	}
	return 1;
}

/* prefix || created_at(BE64) || id; returns the key length. */
static size_t index_key(uint8_t *out, enum db_prefix kind, const void *what, uint64_t created_at,
			const uint8_t id[32])
{
	size_t n = index_prefix(out, kind, what);
	put_be64(out + n, created_at);
	memcpy(out + n + TIME_LEN, id, ID_LEN);
	return n + TAIL_LEN;
}

static void encode_totals(uint8_t out[STATS_LEN], const struct totals *t)
{
	struct bytebuf b;
	bytebuf_init(&b, STATS_LEN);
	bytebuf_u64le(&b, t->count);
	bytebuf_u64le(&b, t->bytes);
	bytebuf_u64le(&b, t->pruned);
	memcpy(out, b.data, STATS_LEN);
	bytebuf_free(&b);
}

static void log_corrupt(const uint8_t id[32], const char *what)
{
	char hex[2 * ID_LEN + 1];
	hex_encode(hex, id, ID_LEN);
	log_error("message store: %s for message %s: database corrupt (restore a backup or move "
		  "the database away)",
		  what, hex);
}

/* Read the 'M' record of id and decode it into m (when m is not NULL). Returns 1 with *val (the
 * raw record, caller frees) and *vallen, 0 not found, -1 database error or corrupt record. */
/* read_msg's result for a record that is there but does not decode. */
#define READ_CORRUPT (-2)

static int read_msg(struct msgstore *s, const uint8_t id[32], struct sigmsg *m, uint8_t **val,
		    size_t *vallen)
{
	uint8_t key[MSG_KEY_LEN];
	msg_key(key, id);
	int r = db_get(s->db, key, sizeof(key), val, vallen);
	if (r <= 0)
		return r;
	struct sigmsg tmp;
	/* cppcheck-suppress uninitvar ; tmp is only written (decoded into) here */
	struct sigmsg *dst = m ? m : &tmp;
	if (*vallen <= RECEIVED_AT_LEN ||
	    sigmsg_decode(dst, *val + RECEIVED_AT_LEN, *vallen - RECEIVED_AT_LEN) != 0) {
		log_corrupt(id, "stored record does not decode");
		free(*val);
		*val = NULL;
		*vallen = 0;
		return READ_CORRUPT;
	}
	if (!m)
		sigmsg_clear(&tmp);
	return 1;
}

static int64_t record_received_at(const uint8_t *val)
{
	struct cursor c;
	cursor_init(&c, val, RECEIVED_AT_LEN);
	return cursor_i64le(&c);
}

static void stage_key(struct db_batch *b, const uint8_t *key, size_t keylen, bool put)
{
	if (put)
		db_batch_put(b, key, keylen, "", 0);
	else
		db_batch_delete(b, key, keylen);
}

/* Add the puts (or deletes) of a message's index keys to b. */
static void stage_index(struct db_batch *b, const struct sigmsg *m, const uint8_t id[32], bool put)
{
	uint8_t key[TOPIC_KEY_MAX];
	uint64_t t = (uint64_t)m->created_at;
	stage_key(b, key, index_key(key, DB_PREFIX_MSG_TIME, NULL, t, id), put);
	stage_key(b, key, index_key(key, DB_PREFIX_MSG_AUTHOR, m->author, t, id), put);
	stage_key(b, key, index_key(key, DB_PREFIX_MSG_TOPIC, m->topic, t, id), put);
	for (unsigned i = 0; i < m->nrefs && i < SIGMSG_MAX_REFS; i++)
		stage_key(b, key, index_key(key, DB_PREFIX_MSG_REPLIES, m->refs[i], t, id), put);
}

static void stage_totals(struct db_batch *b, const struct totals *t)
{
	uint8_t v[STATS_LEN];
	encode_totals(v, t);
	db_batch_put(b, STATS_KEY, sizeof(STATS_KEY), v, sizeof(v));
}

/* Whether any 'M' record exists (one seek). */
static int any_message_cb(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val,
			  size_t vallen)
{
	(void)ctx, (void)key, (void)keylen, (void)val, (void)vallen;
	return 1;
}

static int load_totals(struct msgstore *s, char *err, size_t errlen)
{
	uint8_t *val = NULL;
	size_t vallen = 0;
	int r = db_get(s->db, STATS_KEY, sizeof(STATS_KEY), &val, &vallen);
	if (r < 0) {
		snprintf(err, errlen, "cannot read the message store totals: %s",
			 db_last_error(s->db));
		return -1;
	}
	if (r == 0) {
		/* No totals: a store that never held a message. Messages without totals would
		 * mean a foreign or damaged database; one seek tells. */
		const uint8_t prefix = DB_PREFIX_MSG;
		int any = db_iterate_prefix(s->db, &prefix, 1, any_message_cb, NULL);
		if (any != 0) {
			snprintf(err, errlen,
				 any < 0 ? "cannot read the message store: %s"
					 : "message store corrupt: messages present but no totals "
					   "record%s (restore a backup or move the database away)",
				 any < 0 ? db_last_error(s->db) : "");
			return -1;
		}
		s->t = (struct totals){0};
		return 0;
	}
	struct cursor c;
	cursor_init(&c, val, vallen);
	s->t.count = cursor_u64le(&c);
	s->t.bytes = cursor_u64le(&c);
	s->t.pruned = cursor_u64le(&c);
	bool ok = cursor_ok(&c) && c.left == 0;
	free(val);
	if (!ok) {
		snprintf(err, errlen,
			 "message store corrupt: malformed totals record ('m' \"msgstats\", %zu "
			 "bytes, expected %d); restore a backup or move the database away",
			 vallen, STATS_LEN);
		return -1;
	}
	return 0;
}

static int first_time_cb(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val,
			 size_t vallen)
{
	(void)val, (void)vallen;
	if (keylen != TIME_KEY_LEN) {
		log_error("message store: time index key of %zu bytes: database corrupt", keylen);
		return -1;
	}
	/* A created_at above INT64_MAX was never written (messages have one of 0..INT64_MAX) and
	 * would read as a negative newest time, below the oldest. */
	uint64_t t = get_be64(key + 1);
	if (t > (uint64_t)INT64_MAX) {
		log_error("message store: time index key with time %llu: database corrupt",
			  (unsigned long long)t);
		return -1;
	}
	*(int64_t *)ctx = (int64_t)t;
	return 1;
}

/* Read oldest and newest from the first and last keys of the time index. Returns 0 or -1. */
static int load_bounds(struct msgstore *s)
{
	const uint8_t lo[1] = {DB_PREFIX_MSG_TIME};
	const uint8_t hi[1] = {DB_PREFIX_MSG_TIME + 1};
	int64_t oldest = 0, newest = 0;
	if (db_iterate_range(s->db, lo, 1, hi, 1, false, first_time_cb, &oldest) < 0 ||
	    db_iterate_range(s->db, lo, 1, hi, 1, true, first_time_cb, &newest) < 0)
		return -1;
	s->oldest = oldest;
	s->newest = newest;
	return 0;
}

struct msgstore *msgstore_open(struct db *db, char *err, size_t errlen)
{
	struct msgstore *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->db = db;
	if (load_totals(s, err, errlen) != 0) {
		free(s);
		return NULL;
	}
	if (load_bounds(s) != 0) {
		snprintf(err, errlen, "cannot read the message store's time index: %s",
			 db_last_error(db));
		free(s);
		return NULL;
	}
	log_debug(LOG_DB, "message store: %llu messages, %llu bytes, %llu pruned",
		  (unsigned long long)s->t.count, (unsigned long long)s->t.bytes,
		  (unsigned long long)s->t.pruned);
	return s;
}

void msgstore_free(struct msgstore *s)
{
	free(s);
}

int msgstore_put_many(struct msgstore *s, const struct sigmsg *const *msgs,
		      const uint8_t (*ids)[32], size_t n, int64_t received_at, unsigned flags,
		      int *result)
{
	struct db_batch *b = db_batch_new();
	if (!b)
		return -1;
	struct totals t = s->t;
	int64_t oldest = s->oldest, newest = s->newest;
	long stored = 0;
	for (size_t i = 0; i < n; i++) {
		const struct sigmsg *m = msgs[i];
		result[i] = -1;
		if (m->created_at < 0 ||
		    !sigmsg_topic_valid(m->topic, strnlen(m->topic, sizeof(m->topic)))) {
			log_error("message store: refusing a message with a negative time or a bad "
				  "topic");
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = result[k] == 1 && memcmp(ids[k], ids[i], 32) == 0;
		uint8_t key[MSG_KEY_LEN];
		msg_key(key, ids[i]);
		uint8_t *old = NULL;
		size_t oldlen = 0;
		int r = 0;
		if (dup)
			r = 1;
		else if (!(flags & MSGSTORE_KNOWN_NEW))
			r = db_get(s->db, key, sizeof(key), &old, &oldlen);
		free(old);
		if (r < 0) {
			db_batch_free(b);
			return -1;
		}
		if (r > 0) {
			result[i] = 0;
			continue;
		}
		struct bytebuf v;
		bytebuf_init(&v, RECEIVED_AT_LEN + SIGMSG_MAX_SIZE);
		bytebuf_i64le(&v, received_at);
		sigmsg_encode(&v, m);
		if (!bytebuf_ok(&v)) {
			log_error("message store: cannot encode message (out of memory or too "
				  "large)");
			bytebuf_free(&v);
			continue;
		}
		if (t.count == 0 || m->created_at < oldest)
			oldest = m->created_at;
		if (t.count == 0 || m->created_at > newest)
			newest = m->created_at;
		t.count++;
		t.bytes += v.len - RECEIVED_AT_LEN;
		db_batch_put(b, key, sizeof(key), v.data, v.len);
		stage_index(b, m, ids[i], true);
		bytebuf_free(&v);
		result[i] = 1;
		stored++;
	}
	int r = 0;
	if (stored > 0) {
		stage_totals(b, &t);
		r = db_batch_write(s->db, b, (flags & MSGSTORE_SYNC) != 0);
	}
	db_batch_free(b);
	if (r != 0) {
		for (size_t i = 0; i < n; i++)
			if (result[i] == 1)
				result[i] = -1;
		return -1;
	}
	s->t = t;
	s->oldest = oldest;
	s->newest = newest;
	if (s->obs.added)
		for (size_t i = 0; i < n; i++)
			if (result[i] == 1)
				s->obs.added(s->obs.ctx, msgs[i]->created_at, ids[i]);
	return (int)stored;
}

int msgstore_put(struct msgstore *s, const struct sigmsg *m, const uint8_t id[32],
		 int64_t received_at, bool sync)
{
	int result;
	const struct sigmsg *const msgs[1] = {m};
	if (msgstore_put_many(s, msgs, (const uint8_t(*)[32])id, 1, received_at,
			      sync ? MSGSTORE_SYNC : 0, &result) < 0)
		return -1;
	return result;
}

bool msgstore_has(struct msgstore *s, const uint8_t id[32])
{
	uint8_t key[MSG_KEY_LEN];
	msg_key(key, id);
	uint8_t *val = NULL;
	size_t vallen = 0;
	int r = db_get(s->db, key, sizeof(key), &val, &vallen);
	free(val);
	return r == 1;
}

int msgstore_get(struct msgstore *s, const uint8_t id[32], uint8_t **raw, size_t *rawlen,
		 int64_t *received_at)
{
	*raw = NULL;
	*rawlen = 0;
	if (received_at)
		*received_at = 0;
	uint8_t *val;
	size_t vallen;
	int r = read_msg(s, id, NULL, &val, &vallen);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	if (received_at)
		*received_at = record_received_at(val);
	/* Hand out the message without the received_at in front. */
	memmove(val, val + RECEIVED_AT_LEN, vallen - RECEIVED_AT_LEN);
	*raw = val;
	*rawlen = vallen - RECEIVED_AT_LEN;
	return 1;
}

/* ---- listing ---- */

struct list_ctx {
	struct msgstore *s;
	const struct msgstore_query *q;
	enum db_prefix kind;
	size_t prefixlen; /* index key = prefix || time || id: keys must be prefixlen + TAIL_LEN */
	size_t limit;
	long n;
	msgstore_list_fn fn;
	void *ctx;
};

/* The filters the walked index does not answer, checked on the stored message. */
static bool list_match(const struct list_ctx *c, const struct sigmsg *m)
{
	const struct msgstore_query *q = c->q;
	if (q->topic && c->kind != DB_PREFIX_MSG_TOPIC && strcmp(q->topic, m->topic) != 0)
		return false;
	if (q->author && c->kind != DB_PREFIX_MSG_AUTHOR && memcmp(q->author, m->author, 32) != 0)
		return false;
	/* replies_to, when set, is always the walked index. */
	return true;
}

static int list_cb(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val, size_t vallen)
{
	(void)val, (void)vallen;
	struct list_ctx *c = ctx;
	if (keylen != c->prefixlen + TAIL_LEN) {
		log_error("message store: index key of %zu bytes (expected %zu): database corrupt",
			  keylen, c->prefixlen + TAIL_LEN);
		return -1;
	}
	const uint8_t *id = key + keylen - ID_LEN;
	struct sigmsg m;
	uint8_t *rec;
	size_t reclen;
	int r = read_msg(c->s, id, &m, &rec, &reclen);
	if (r == 0)
		log_corrupt(id, "index entry without its message");
	if (r == 0 || r == READ_CORRUPT)
		return 0; /* logged; the rest of the store stays listable */
	if (r < 0)
		return -1;
	int stop = 0;
	if (list_match(c, &m)) {
		c->n++;
		stop = c->fn(c->ctx, id, rec + RECEIVED_AT_LEN, reclen - RECEIVED_AT_LEN,
			     record_received_at(rec));
		if ((size_t)c->n >= c->limit)
			stop = 1;
	}
	sigmsg_clear(&m);
	free(rec);
	return stop ? 1 : 0;
}

long msgstore_list(struct msgstore *s, const struct msgstore_query *q, msgstore_list_fn fn,
		   void *ctx)
{
	struct list_ctx c = {.s = s, .q = q, .fn = fn, .ctx = ctx};
	c.limit = q->limit == 0 || q->limit > MSGSTORE_LIST_MAX ? MSGSTORE_LIST_MAX : q->limit;
	const void *what = NULL;
	if (q->replies_to) {
		c.kind = DB_PREFIX_MSG_REPLIES;
		what = q->replies_to;
	} else if (q->author) {
		c.kind = DB_PREFIX_MSG_AUTHOR;
		what = q->author;
	} else if (q->topic) {
		/* A topic no message can have matches nothing (and would not fit the key). */
		if (!sigmsg_topic_valid(q->topic, strlen(q->topic)))
			return 0;
		c.kind = DB_PREFIX_MSG_TOPIC;
		what = q->topic;
	} else {
		c.kind = DB_PREFIX_MSG_TIME;
	}
	uint64_t lo_t = q->since > 0 ? (uint64_t)q->since : 0;
	uint64_t hi_t = q->until > 0 ? (uint64_t)q->until + 1 : TIME_END;
	if (q->until < 0 || lo_t >= hi_t)
		return 0;
	uint8_t lo[INDEX_PREFIX_MAX + TIME_LEN], hi[INDEX_PREFIX_MAX + TIME_LEN];
	c.prefixlen = index_prefix(lo, c.kind, what);
	memcpy(hi, lo, c.prefixlen);
	put_be64(lo + c.prefixlen, lo_t);
	put_be64(hi + c.prefixlen, hi_t);
	int r = db_iterate_range(s->db, lo, c.prefixlen + TIME_LEN, hi, c.prefixlen + TIME_LEN,
				 q->reverse, list_cb, &c);
	return r < 0 ? -1 : c.n;
}

/* ---- pruning ---- */

struct collect_ctx {
	uint8_t ids[PRUNE_BATCH][ID_LEN];
	uint8_t keys[PRUNE_BATCH][TIME_KEY_LEN]; /* the time index keys */
	size_t n, want;
};

static int collect_cb(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val,
		      size_t vallen)
{
	(void)val, (void)vallen;
	struct collect_ctx *c = ctx;
	if (keylen != TIME_KEY_LEN) {
		log_error("message store: time index key of %zu bytes: database corrupt", keylen);
		return -1;
	}
	memcpy(c->keys[c->n], key, TIME_KEY_LEN);
	memcpy(c->ids[c->n++], key + 1 + TIME_LEN, ID_LEN);
	return c->n >= c->want ? 1 : 0;
}

/* One batch of pruning: the oldest messages created before end_t, at most want (<=
 * PRUNE_BATCH), stopping early once the store holds at most max_bytes (0: no size target).
 * Returns the number deleted (0: nothing left to do), -1 on error. */
static long prune_batch(struct msgstore *s, uint64_t end_t, uint64_t max_bytes, size_t want)
{
	struct collect_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->want = want;
	const uint8_t lo[1] = {DB_PREFIX_MSG_TIME};
	uint8_t hi[1 + TIME_LEN] = {DB_PREFIX_MSG_TIME};
	put_be64(hi + 1, end_t);
	if (db_iterate_range(s->db, lo, sizeof(lo), hi, sizeof(hi), false, collect_cb, c) < 0) {
		free(c);
		return -1;
	}
	struct db_batch *b = db_batch_new();
	if (!b) {
		free(c);
		return -1;
	}
	struct totals t = s->t;
	long deleted = 0;
	for (size_t i = 0; i < c->n && !(max_bytes && t.bytes <= max_bytes); i++) {
		struct sigmsg m;
		uint8_t *rec;
		size_t reclen;
		int r = read_msg(s, c->ids[i], &m, &rec, &reclen);
		uint8_t key[MSG_KEY_LEN];
		msg_key(key, c->ids[i]);
		if (r == 0 || r == READ_CORRUPT) {
			/* An unattended node must not stop pruning and grow without bound: drop
			 * what the time index says is expired (logged by read_msg / here). Its
			 * other index entries cannot be found without the message; listing skips
			 * them. */
			if (r == 0)
				log_corrupt(c->ids[i], "time index entry without its message");
			db_batch_delete(b, c->keys[i], TIME_KEY_LEN);
			db_batch_delete(b, key, sizeof(key));
			if (r == READ_CORRUPT && t.count > 0)
				t.count--;
			deleted++;
			continue;
		}
		if (r < 0) {
			deleted = -1;
			break;
		}
		db_batch_delete(b, key, sizeof(key));
		stage_index(b, &m, c->ids[i], false);
		uint64_t size = reclen - RECEIVED_AT_LEN;
		t.count = t.count ? t.count - 1 : 0;
		t.bytes = t.bytes >= size ? t.bytes - size : 0;
		t.pruned++;
		deleted++;
		sigmsg_clear(&m);
		free(rec);
	}
	if (deleted > 0) {
		stage_totals(b, &t);
		if (db_batch_write(s->db, b, false) != 0) {
			deleted = -1;
		} else {
			s->t = t;
			/* Every entry up to deleted was removed, one way or the other. */
			for (long i = 0; s->obs.removed && i < deleted; i++)
				s->obs.removed(s->obs.ctx, (int64_t)get_be64(c->keys[i] + 1),
					       c->ids[i]);
		}
	}
	db_batch_free(b);
	free(c);
	return deleted;
}

/* Delete the oldest messages created before end_t, in batches, until none is left, the store
 * holds at most max_bytes (0: no size target) or *total reaches max_delete (0: no limit).
 * Returns 0, or -1 on error (*total counts what was deleted before it). */
static int prune_pass(struct msgstore *s, uint64_t end_t, uint64_t max_bytes, size_t max_delete,
		      long *total)
{
	for (;;) {
		if (max_bytes && s->t.bytes <= max_bytes)
			return 0;
		size_t want = PRUNE_BATCH;
		if (max_delete && max_delete - (size_t)*total < want)
			want = max_delete - (size_t)*total;
		if (want == 0)
			return 0;
		long n = prune_batch(s, end_t, max_bytes, want);
		if (n <= 0)
			return (int)n;
		*total += n;
	}
}

long msgstore_prune(struct msgstore *s, int64_t older_than, uint64_t max_bytes, size_t max_delete)
{
	long total = 0;
	/* First the expired messages (the time index up to older_than), then the oldest of all
	 * while over the size cap. */
	int r = prune_pass(s, older_than > 0 ? (uint64_t)older_than : 0, 0, max_delete, &total);
	if (r == 0 && max_bytes)
		r = prune_pass(s, TIME_END, max_bytes, max_delete, &total);
	if (total > 0) {
		if (load_bounds(s) != 0)
			r = -1;
		log_debug(LOG_DB, "message store: pruned %ld messages (%llu left, %llu bytes)",
			  total, (unsigned long long)s->t.count, (unsigned long long)s->t.bytes);
	}
	return r < 0 ? -1 : total;
}

/* ---- observer and time walk ---- */

void msgstore_set_observer(struct msgstore *s, const struct msgstore_observer *o)
{
	if (o)
		s->obs = *o;
	else
		memset(&s->obs, 0, sizeof(s->obs));
}

struct walk_ctx {
	msgstore_time_fn fn;
	void *ctx;
	size_t max;
	long n;
};

static int walk_cb(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val, size_t vallen)
{
	(void)val, (void)vallen;
	struct walk_ctx *w = ctx;
	if (keylen != TIME_KEY_LEN) {
		log_error("message store: time index key of %zu bytes: database corrupt", keylen);
		return -1;
	}
	w->n++;
	if (w->fn(w->ctx, (int64_t)get_be64(key + 1), key + 1 + TIME_LEN) != 0)
		return 1;
	return (size_t)w->n >= w->max ? 1 : 0;
}

long msgstore_walk_time(struct msgstore *s, int64_t after_created_at, const uint8_t *after_id,
			size_t max, msgstore_time_fn fn, void *ctx)
{
	struct walk_ctx w = {fn, ctx, max, 0};
	/* Just after T||created_at||id comes T||created_at||id||00: the smallest longer key. */
	uint8_t lo[TIME_KEY_LEN + 1] = {DB_PREFIX_MSG_TIME};
	size_t lolen = 1;
	if (after_id) {
		put_be64(lo + 1, after_created_at < 0 ? 0 : (uint64_t)after_created_at);
		memcpy(lo + 1 + TIME_LEN, after_id, ID_LEN);
		lo[TIME_KEY_LEN] = 0;
		lolen = TIME_KEY_LEN + 1;
	}
	const uint8_t hi[1] = {DB_PREFIX_MSG_TIME + 1};
	if (max == 0)
		return 0;
	if (db_iterate_range(s->db, lo, lolen, hi, sizeof(hi), false, walk_cb, &w) < 0)
		return -1;
	return w.n;
}

/* ---- statistics ---- */

int msgstore_stats(struct msgstore *s, struct msgstore_stats *out)
{
	*out = (struct msgstore_stats){.count = s->t.count,
				       .bytes = s->t.bytes,
				       .oldest = s->oldest,
				       .newest = s->newest,
				       .pruned = s->t.pruned};
	return 0;
}
