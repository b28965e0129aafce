/* Unit tests for msg/store over a real LevelDB database in a temporary directory: put, get,
 * has, duplicates, every list filter and their combinations, time bounds, order, limits,
 * pruning by time and size, totals across a reopen, corrupt records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg/store.h"
#include "store/db.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "wire/sigmsg.h"

#include "unit_util.h"

/* Most messages one test builds. */
#define MAX_MSGS 64

struct env {
	char dir[FS_MAX_PATH];
	struct db *db;
	struct msgstore *s;
};

static void env_open(struct env *e)
{
	char err[512];
	assert_int_equal(db_open(&e->db, e->dir, 1, err, sizeof(err)), DB_OPEN_OK);
	e->s = msgstore_open(e->db, err, sizeof(err));
	if (!e->s)
		fail_msg("msgstore_open: %s", err);
}

static void env_close(struct env *e)
{
	msgstore_free(e->s);
	db_close(e->db);
	e->s = NULL;
	e->db = NULL;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char tmpl[] = "/tmp/p2pd-test-msgstore-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	snprintf(e->dir, sizeof(e->dir), "%s", tmpl);
	env_open(e);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	env_close(e);
	unit_rm_rf(e->dir);
	free(e);
	return 0;
}

/* A message with author filled with the byte a, body text, and up to two references (NULL:
 * none). The signature is arbitrary: the store does not check it. */
static void make_msg(struct sigmsg *m, uint8_t id[32], const char *topic, int64_t created_at,
		     uint8_t a, const char *body, const uint8_t *ref1, const uint8_t *ref2)
{
	memset(m, 0, sizeof(*m));
	m->version = SIGMSG_FORMAT_VERSION;
	snprintf(m->topic, sizeof(m->topic), "%s", topic);
	m->created_at = created_at;
	memset(m->author, a, sizeof(m->author));
	if (ref1)
		memcpy(m->refs[m->nrefs++], ref1, 32);
	if (ref2)
		memcpy(m->refs[m->nrefs++], ref2, 32);
	m->body_len = (uint32_t)strlen(body);
	if (m->body_len) {
		m->body = malloc(m->body_len);
		memcpy(m->body, body, m->body_len);
	}
	m->nonce = (uint64_t)created_at * 7;
	memset(m->sig, 0x5a, sizeof(m->sig));
	assert_int_equal(sigmsg_id(id, m), 0);
}

/* Build and store a message; returns its serialized size. */
static size_t put_msg(struct env *e, uint8_t id[32], const char *topic, int64_t created_at,
		      uint8_t a, const char *body, const uint8_t *ref1, const uint8_t *ref2)
{
	struct sigmsg m;
	make_msg(&m, id, topic, created_at, a, body, ref1, ref2);
	assert_int_equal(msgstore_put(e->s, &m, id, created_at + 1, false), 1);
	struct bytebuf b;
	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	sigmsg_encode(&b, &m);
	size_t n = b.len;
	bytebuf_free(&b);
	sigmsg_clear(&m);
	return n;
}

struct collected {
	size_t n;
	uint8_t ids[MAX_MSGS][32];
	int64_t received_at[MAX_MSGS];
	size_t stop_after; /* 0: never stop */
};

static int collect(void *ctx, const uint8_t id[32], const uint8_t *raw, size_t len,
		   int64_t received_at)
{
	struct collected *c = ctx;
	struct sigmsg m;
	assert_int_equal(sigmsg_decode(&m, raw, len), 0);
	uint8_t again[32];
	assert_int_equal(sigmsg_id(again, &m), 0);
	assert_memory_equal(again, id, 32);
	sigmsg_clear(&m);
	assert_true(c->n < MAX_MSGS);
	memcpy(c->ids[c->n], id, 32);
	c->received_at[c->n] = received_at;
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static long list(struct env *e, const struct msgstore_query *q, struct collected *c)
{
	memset(c, 0, sizeof(*c));
	long n = msgstore_list(e->s, q, collect, c);
	assert_int_equal(n, (long)c->n);
	return n;
}

/* Assert the listed ids are exactly want[0..n) in order. */
static void expect_ids(const struct collected *c, uint8_t (*want)[32], const int *idx, size_t n)
{
	assert_int_equal(c->n, n);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(c->ids[i], want[idx[i]], 32);
}

static int count_prefix_cb(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val,
			   size_t vallen)
{
	(void)key, (void)keylen, (void)val, (void)vallen;
	(*(size_t *)ctx)++;
	return 0;
}

static size_t count_prefix(struct env *e, uint8_t prefix)
{
	size_t n = 0;
	assert_int_equal(db_iterate_prefix(e->db, &prefix, 1, count_prefix_cb, &n), 0);
	return n;
}

static void test_put_get_has(void **state)
{
	struct env *e = *state;
	struct sigmsg m;
	uint8_t id[32], other[32];
	make_msg(&m, id, "chat", 1000, 1, "hello", NULL, NULL);
	assert_false(msgstore_has(e->s, id));
	assert_int_equal(msgstore_put(e->s, &m, id, 1234, true), 1);
	assert_true(msgstore_has(e->s, id));

	uint8_t *raw;
	size_t len;
	int64_t recv;
	assert_int_equal(msgstore_get(e->s, id, &raw, &len, &recv), 1);
	struct bytebuf b;
	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	sigmsg_encode(&b, &m);
	assert_int_equal(len, b.len);
	assert_memory_equal(raw, b.data, b.len);
	assert_int_equal(recv, 1234);
	free(raw);
	assert_int_equal(msgstore_get(e->s, id, &raw, &len, NULL), 1);
	free(raw);

	memset(other, 0xee, sizeof(other));
	assert_false(msgstore_has(e->s, other));
	assert_int_equal(msgstore_get(e->s, other, &raw, &len, &recv), 0);
	assert_null(raw);
	assert_int_equal(len, 0);

	struct msgstore_stats st;
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.count, 1);
	assert_int_equal(st.bytes, b.len);
	assert_int_equal(st.oldest, 1000);
	assert_int_equal(st.newest, 1000);
	assert_int_equal(st.pruned, 0);
	/* One record per index: T, A, P; no references, so no R. */
	assert_int_equal(count_prefix(e, 'M'), 1);
	assert_int_equal(count_prefix(e, 'T'), 1);
	assert_int_equal(count_prefix(e, 'A'), 1);
	assert_int_equal(count_prefix(e, 'P'), 1);
	assert_int_equal(count_prefix(e, 'R'), 0);
	bytebuf_free(&b);
	sigmsg_clear(&m);
}

static void test_duplicate_put(void **state)
{
	struct env *e = *state;
	struct sigmsg m;
	uint8_t id[32];
	make_msg(&m, id, "chat", 1000, 1, "hello", NULL, NULL);
	assert_int_equal(msgstore_put(e->s, &m, id, 10, false), 1);
	struct msgstore_stats before, after;
	assert_int_equal(msgstore_stats(e->s, &before), 0);
	assert_int_equal(msgstore_put(e->s, &m, id, 20, true), 0);
	assert_int_equal(msgstore_stats(e->s, &after), 0);
	assert_int_equal(after.count, before.count);
	assert_int_equal(after.bytes, before.bytes);
	/* The first copy stays: its received_at is unchanged. */
	uint8_t *raw;
	size_t len;
	int64_t recv;
	assert_int_equal(msgstore_get(e->s, id, &raw, &len, &recv), 1);
	assert_int_equal(recv, 10);
	free(raw);
	sigmsg_clear(&m);
}

static void test_put_many_known_new(void **state)
{
	struct env *e = *state;
	struct sigmsg m[2];
	uint8_t ids[3][32];
	make_msg(&m[0], ids[0], "chat", 1000, 1, "one", NULL, NULL);
	make_msg(&m[1], ids[1], "chat", 1001, 1, "two", NULL, NULL);
	memcpy(ids[2], ids[0], 32);
	const struct sigmsg *msgs[3] = {&m[0], &m[1], &m[0]};
	int result[3];
	/* new ids, one of them twice in the call: the repeat is still caught */
	assert_int_equal(msgstore_put_many(e->s, msgs, (const uint8_t(*)[32])ids, 3, 5,
					   MSGSTORE_KNOWN_NEW, result),
			 2);
	assert_int_equal(result[0], 1);
	assert_int_equal(result[1], 1);
	assert_int_equal(result[2], 0);
	struct msgstore_stats st;
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.count, 2);
	assert_true(msgstore_has(e->s, ids[0]) && msgstore_has(e->s, ids[1]));
	/* without the flag a stored id is found and not written again */
	assert_int_equal(msgstore_put_many(e->s, msgs, (const uint8_t(*)[32])ids, 2, 6,
					   MSGSTORE_SYNC, result),
			 0);
	assert_int_equal(result[0], 0);
	assert_int_equal(result[1], 0);
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.count, 2);
	sigmsg_clear(&m[0]);
	sigmsg_clear(&m[1]);
}

/* The data set of the listing tests:
 *   i  topic     time  author  refs
 *   0  chat      100   1       -
 *   1  chatter   110   1       -
 *   2  chat      120   2       0
 *   3  news      130   1       0
 *   4  chat      140   1       0, 2
 *   5  chat      140   2       -        (same time as 4: order by id)
 *   6  chatter   150   2       2
 */
static void put_dataset(struct env *e, uint8_t ids[7][32])
{
	put_msg(e, ids[0], "chat", 100, 1, "a", NULL, NULL);
	put_msg(e, ids[1], "chatter", 110, 1, "b", NULL, NULL);
	put_msg(e, ids[2], "chat", 120, 2, "c", ids[0], NULL);
	put_msg(e, ids[3], "news", 130, 1, "d", ids[0], NULL);
	put_msg(e, ids[4], "chat", 140, 1, "e", ids[0], ids[2]);
	put_msg(e, ids[5], "chat", 140, 2, "f", NULL, NULL);
	put_msg(e, ids[6], "chatter", 150, 2, "g", ids[2], NULL);
}

/* Indexes 4 and 5 share a time: the one with the smaller id lists first. */
static void order_45(uint8_t ids[7][32], int *first, int *second)
{
	bool four_first = memcmp(ids[4], ids[5], 32) < 0;
	*first = four_first ? 4 : 5;
	*second = four_first ? 5 : 4;
}

static void test_list_by_time(void **state)
{
	struct env *e = *state;
	uint8_t ids[7][32];
	put_dataset(e, ids);
	int a, b;
	order_45(ids, &a, &b);
	struct collected c;
	struct msgstore_query q = {0};

	assert_int_equal(list(e, &q, &c), 7);
	expect_ids(&c, ids, (int[]){0, 1, 2, 3, a, b, 6}, 7);
	assert_int_equal(c.received_at[0], 101);

	q.reverse = true;
	assert_int_equal(list(e, &q, &c), 7);
	expect_ids(&c, ids, (int[]){6, b, a, 3, 2, 1, 0}, 7);

	/* Bounds are inclusive on both ends. */
	q = (struct msgstore_query){.since = 110, .until = 140};
	assert_int_equal(list(e, &q, &c), 5);
	expect_ids(&c, ids, (int[]){1, 2, 3, a, b}, 5);
	q.reverse = true;
	assert_int_equal(list(e, &q, &c), 5);
	expect_ids(&c, ids, (int[]){b, a, 3, 2, 1}, 5);
	q = (struct msgstore_query){.since = 111, .until = 139};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){2, 3}, 2);
	q = (struct msgstore_query){.since = 151};
	assert_int_equal(list(e, &q, &c), 0);
	q = (struct msgstore_query){.until = 99};
	assert_int_equal(list(e, &q, &c), 0);
	q = (struct msgstore_query){.since = 140, .until = 120};
	assert_int_equal(list(e, &q, &c), 0);
	q = (struct msgstore_query){.since = 140, .until = 140};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){a, b}, 2);

	/* Limit: the oldest N, or with reverse the newest N. */
	q = (struct msgstore_query){.limit = 3};
	assert_int_equal(list(e, &q, &c), 3);
	expect_ids(&c, ids, (int[]){0, 1, 2}, 3);
	q.reverse = true;
	assert_int_equal(list(e, &q, &c), 3);
	expect_ids(&c, ids, (int[]){6, b, a}, 3);
	q = (struct msgstore_query){.limit = 2, .since = 120, .reverse = true, .until = 135};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){3, 2}, 2);

	/* The callback stops the walk; the message it saw counts. */
	q = (struct msgstore_query){0};
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(msgstore_list(e->s, &q, collect, &c), 2);
}

static void test_list_by_topic(void **state)
{
	struct env *e = *state;
	uint8_t ids[7][32];
	put_dataset(e, ids);
	int a, b;
	order_45(ids, &a, &b);
	struct collected c;

	/* "chat" does not match "chatter", nor the other way round. */
	struct msgstore_query q = {.topic = "chat"};
	assert_int_equal(list(e, &q, &c), 4);
	expect_ids(&c, ids, (int[]){0, 2, a, b}, 4);
	q.topic = "chatter";
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){1, 6}, 2);
	q.topic = "cha";
	assert_int_equal(list(e, &q, &c), 0);
	q.topic = "none";
	assert_int_equal(list(e, &q, &c), 0);
	/* A topic no message can carry matches nothing (and does not break the key). */
	q.topic = "Bad Topic";
	assert_int_equal(list(e, &q, &c), 0);
	q.topic = "";
	assert_int_equal(list(e, &q, &c), 0);

	q = (struct msgstore_query){.topic = "chat", .since = 120, .reverse = true, .limit = 2};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){b, a}, 2);
	q = (struct msgstore_query){.topic = "chat", .until = 139};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){0, 2}, 2);
}

static void test_list_by_author(void **state)
{
	struct env *e = *state;
	uint8_t ids[7][32];
	put_dataset(e, ids);
	struct collected c;
	uint8_t a1[32], a2[32], a3[32];
	memset(a1, 1, 32);
	memset(a2, 2, 32);
	memset(a3, 3, 32);

	struct msgstore_query q = {.author = a1};
	assert_int_equal(list(e, &q, &c), 4);
	expect_ids(&c, ids, (int[]){0, 1, 3, 4}, 4);
	q.author = a2;
	assert_int_equal(list(e, &q, &c), 3);
	expect_ids(&c, ids, (int[]){2, 5, 6}, 3);
	q.author = a3;
	assert_int_equal(list(e, &q, &c), 0);

	/* Author index walked, topic checked on each message. */
	q = (struct msgstore_query){.author = a1, .topic = "chat"};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){0, 4}, 2);
	q.reverse = true;
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){4, 0}, 2);
	q = (struct msgstore_query){.author = a2, .topic = "chatter"};
	assert_int_equal(list(e, &q, &c), 1);
	expect_ids(&c, ids, (int[]){6}, 1);
	/* The limit counts matches, not index entries walked. */
	q = (struct msgstore_query){.author = a1, .topic = "chat", .limit = 1, .since = 101};
	assert_int_equal(list(e, &q, &c), 1);
	expect_ids(&c, ids, (int[]){4}, 1);
	q = (struct msgstore_query){.author = a1, .since = 110, .until = 130};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){1, 3}, 2);
}

static void test_list_replies(void **state)
{
	struct env *e = *state;
	uint8_t ids[7][32];
	put_dataset(e, ids);
	struct collected c;
	uint8_t a1[32], a2[32];
	memset(a1, 1, 32);
	memset(a2, 2, 32);

	struct msgstore_query q = {.replies_to = ids[0]};
	assert_int_equal(list(e, &q, &c), 3);
	expect_ids(&c, ids, (int[]){2, 3, 4}, 3);
	q.reverse = true;
	assert_int_equal(list(e, &q, &c), 3);
	expect_ids(&c, ids, (int[]){4, 3, 2}, 3);
	q = (struct msgstore_query){.replies_to = ids[2]};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){4, 6}, 2);
	q.replies_to = ids[6];
	assert_int_equal(list(e, &q, &c), 0);

	/* Replies index walked; author and topic checked on each message. */
	q = (struct msgstore_query){.replies_to = ids[0], .author = a1};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){3, 4}, 2);
	q = (struct msgstore_query){.replies_to = ids[0], .topic = "chat"};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){2, 4}, 2);
	q = (struct msgstore_query){.replies_to = ids[0], .topic = "chat", .author = a1};
	assert_int_equal(list(e, &q, &c), 1);
	expect_ids(&c, ids, (int[]){4}, 1);
	q = (struct msgstore_query){.replies_to = ids[2], .author = a2, .topic = "chatter"};
	assert_int_equal(list(e, &q, &c), 1);
	expect_ids(&c, ids, (int[]){6}, 1);
	q = (struct msgstore_query){.replies_to = ids[0], .since = 125, .until = 135};
	assert_int_equal(list(e, &q, &c), 1);
	expect_ids(&c, ids, (int[]){3}, 1);
}

static int count_cb(void *ctx, const uint8_t id[32], const uint8_t *raw, size_t len,
		    int64_t received_at)
{
	(void)id, (void)raw, (void)len, (void)received_at;
	(*(long *)ctx)++;
	return 0;
}

static void test_list_limit_capped(void **state)
{
	struct env *e = *state;
	uint8_t id[32];
	for (int i = 0; i < MSGSTORE_LIST_MAX + 1; i++)
		put_msg(e, id, "t", 10 + i, 1, "x", NULL, NULL);
	/* No limit and a limit above the cap both stop at the cap. */
	long n = 0;
	struct msgstore_query q = {0};
	assert_int_equal(msgstore_list(e->s, &q, count_cb, &n), MSGSTORE_LIST_MAX);
	assert_int_equal(n, MSGSTORE_LIST_MAX);
	n = 0;
	q.limit = MSGSTORE_LIST_MAX * 10;
	assert_int_equal(msgstore_list(e->s, &q, count_cb, &n), MSGSTORE_LIST_MAX);
	n = 0;
	q = (struct msgstore_query){.since = 11};
	assert_int_equal(msgstore_list(e->s, &q, count_cb, &n), MSGSTORE_LIST_MAX);
	n = 0;
	q = (struct msgstore_query){.since = 12};
	assert_int_equal(msgstore_list(e->s, &q, count_cb, &n), MSGSTORE_LIST_MAX - 1);
}

static void test_prune_by_time(void **state)
{
	struct env *e = *state;
	uint8_t ids[7][32];
	put_dataset(e, ids);
	int a, b;
	order_45(ids, &a, &b);
	struct msgstore_stats st;

	assert_int_equal(msgstore_prune(e->s, 100, 0, 0), 0); /* strictly older only */
	assert_int_equal(msgstore_prune(e->s, 130, 0, 0), 3); /* 100, 110, 120 */
	assert_false(msgstore_has(e->s, ids[0]));
	assert_false(msgstore_has(e->s, ids[2]));
	assert_true(msgstore_has(e->s, ids[3]));
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.count, 4);
	assert_int_equal(st.pruned, 3);
	assert_int_equal(st.oldest, 130);
	assert_int_equal(st.newest, 150);

	/* Every index entry of the deleted messages went with them. */
	struct collected c;
	struct msgstore_query q = {.topic = "chat"};
	assert_int_equal(list(e, &q, &c), 2);
	expect_ids(&c, ids, (int[]){a, b}, 2);
	q = (struct msgstore_query){.replies_to = ids[2]};
	assert_int_equal(list(e, &q, &c), 2);
	assert_int_equal(count_prefix(e, 'M'), 4);
	assert_int_equal(count_prefix(e, 'T'), 4);
	assert_int_equal(count_prefix(e, 'A'), 4);
	assert_int_equal(count_prefix(e, 'P'), 4);
	assert_int_equal(count_prefix(e, 'R'), 4); /* 3->0, 4->0, 4->2, 6->2 */

	/* max_delete spreads a prune over calls, oldest first. */
	assert_int_equal(msgstore_prune(e->s, 1000, 0, 2), 2); /* 130 and the first at 140 */
	assert_false(msgstore_has(e->s, ids[3]));
	assert_false(msgstore_has(e->s, ids[a]));
	assert_true(msgstore_has(e->s, ids[b]));
	assert_int_equal(msgstore_prune(e->s, 1000, 0, 2), 2);
	assert_int_equal(msgstore_prune(e->s, 1000, 0, 2), 0);
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.count, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.oldest, 0);
	assert_int_equal(st.newest, 0);
	assert_int_equal(st.pruned, 7);
	for (const char *p = "MTAPR"; *p; p++)
		assert_int_equal(count_prefix(e, (uint8_t)*p), 0);
}

static void test_prune_by_size(void **state)
{
	struct env *e = *state;
	uint8_t ids[20][32];
	size_t sizes[20];
	uint64_t total = 0;
	/* Inserted out of time order: pruning follows created_at, not insertion. */
	for (int i = 0; i < 20; i++) {
		int64_t t = 1000 + ((i * 7) % 20);
		sizes[(i * 7) % 20] = put_msg(e, ids[(i * 7) % 20], "t", t, 3, "body", NULL, NULL);
		total += sizes[(i * 7) % 20];
	}
	struct msgstore_stats st;
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.bytes, total);
	assert_int_equal(st.oldest, 1000);
	assert_int_equal(st.newest, 1019);
	uint64_t cap = total - sizes[0] - sizes[1] - sizes[2] - 1; /* needs 4 deletions */

	/* Expiry first (one message), then size, within max_delete. */
	assert_int_equal(msgstore_prune(e->s, 1001, cap, 2), 2);
	assert_false(msgstore_has(e->s, ids[0]));
	assert_false(msgstore_has(e->s, ids[1]));
	assert_true(msgstore_has(e->s, ids[2]));
	assert_int_equal(msgstore_prune(e->s, 1001, cap, 0), 2);
	assert_false(msgstore_has(e->s, ids[3]));
	assert_true(msgstore_has(e->s, ids[4]));
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_true(st.bytes <= cap);
	assert_int_equal(st.count, 16);
	assert_int_equal(st.oldest, 1004);
	assert_int_equal(msgstore_prune(e->s, 1001, cap, 0), 0);
	/* A cap of one byte empties the store. */
	assert_int_equal(msgstore_prune(e->s, 0, 1, 0), 16);
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.count, 0);
	assert_int_equal(st.pruned, 20);
}

/* More than one prune batch in one call, with max_delete falling inside a batch. */
static void test_prune_many(void **state)
{
	struct env *e = *state;
	uint8_t id[32];
	for (int i = 0; i < 600; i++)
		put_msg(e, id, "bulk", 5000 + i, 4, "x", NULL, NULL);
	assert_int_equal(msgstore_prune(e->s, 5000 + 550, 0, 300), 300);
	assert_int_equal(msgstore_prune(e->s, 5000 + 550, 0, 0), 250);
	struct msgstore_stats st;
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.count, 50);
	assert_int_equal(st.oldest, 5550);
	assert_int_equal(count_prefix(e, 'P'), 50);
}

struct observed {
	long added, removed;
	int64_t last_added_t, last_removed_t;
	int64_t sum_t; /* created_at of added minus removed */
};

static void obs_added(void *ctx, int64_t t, const uint8_t id[32])
{
	struct observed *o = ctx;
	(void)id;
	o->added++;
	o->last_added_t = t;
	o->sum_t += t;
}

static void obs_removed(void *ctx, int64_t t, const uint8_t id[32])
{
	struct observed *o = ctx;
	(void)id;
	o->removed++;
	o->last_removed_t = t;
	o->sum_t -= t;
}

struct walked {
	size_t n;
	int64_t t[MAX_MSGS];
	uint8_t ids[MAX_MSGS][32];
};

static int walk_collect(void *ctx, int64_t t, const uint8_t id[32])
{
	struct walked *w = ctx;
	assert_true(w->n < MAX_MSGS);
	w->t[w->n] = t;
	memcpy(w->ids[w->n++], id, 32);
	return 0;
}

/* The observer sees each new message once (not duplicates), and each pruned one; the time walk
 * visits the time index in order, in slices that resume just after the last entry. */
static void test_observer_and_walk(void **state)
{
	struct env *e = *state;
	struct observed o = {0};
	const struct msgstore_observer ob = {obs_added, obs_removed, &o};
	msgstore_set_observer(e->s, &ob);
	uint8_t id[32];
	for (int i = 0; i < 40; i++)
		put_msg(e, id, "walk", 9000 + i / 2, 3, i % 2 ? "odd" : "even", NULL, NULL);
	assert_int_equal(o.added, 40);
	assert_int_equal(o.last_added_t, 9019);
	struct sigmsg m;
	make_msg(&m, id, "walk", 9000, 3, "even", NULL, NULL);
	assert_int_equal(msgstore_put(e->s, &m, id, 1, false), 0); /* duplicate: not observed */
	sigmsg_clear(&m);
	assert_int_equal(o.added, 40);

	struct walked all = {0}, part = {0};
	assert_int_equal(msgstore_walk_time(e->s, 0, NULL, 1000, walk_collect, &all), 40);
	for (size_t i = 1; i < all.n; i++)
		assert_true(
			all.t[i - 1] < all.t[i] ||
			(all.t[i - 1] == all.t[i] && memcmp(all.ids[i - 1], all.ids[i], 32) < 0));
	/* Slices of 7, each resuming after the previous slice's last entry, give the same list. */
	long got;
	do {
		size_t before = part.n;
		got = msgstore_walk_time(e->s, before ? part.t[before - 1] : 0,
					 before ? part.ids[before - 1] : NULL, 7, walk_collect,
					 &part);
		assert_true(got >= 0 && got <= 7);
	} while (got == 7);
	assert_int_equal(part.n, 40);
	assert_memory_equal(part.ids, all.ids, 40 * 32);
	assert_int_equal(msgstore_walk_time(e->s, 0, NULL, 0, walk_collect, &part), 0);

	/* Pruning the 10 oldest (created before 9005) reports each of them. */
	assert_int_equal(msgstore_prune(e->s, 9005, 0, 0), 10);
	assert_int_equal(o.removed, 10);
	assert_int_equal(o.last_removed_t, 9004);
	int64_t want = 0;
	for (int i = 10; i < 40; i++)
		want += 9000 + i / 2;
	assert_int_equal(o.sum_t, want);
	msgstore_set_observer(e->s, NULL);
	put_msg(e, id, "walk", 9100, 3, "unobserved", NULL, NULL);
	assert_int_equal(o.added, 40);
}

static void test_totals_after_reopen(void **state)
{
	struct env *e = *state;
	uint8_t ids[7][32];
	put_dataset(e, ids);
	assert_int_equal(msgstore_prune(e->s, 111, 0, 0), 2);
	struct msgstore_stats before, after;
	assert_int_equal(msgstore_stats(e->s, &before), 0);
	env_close(e);
	env_open(e);
	assert_int_equal(msgstore_stats(e->s, &after), 0);
	assert_int_equal(after.count, 5);
	assert_int_equal(after.count, before.count);
	assert_int_equal(after.bytes, before.bytes);
	assert_int_equal(after.pruned, 2);
	assert_int_equal(after.oldest, 120);
	assert_int_equal(after.newest, 150);
	assert_true(msgstore_has(e->s, ids[6]));
	/* The reopened store goes on counting from the stored totals. */
	uint8_t id[32];
	size_t n = put_msg(e, id, "later", 200, 9, "z", NULL, NULL);
	assert_int_equal(msgstore_stats(e->s, &after), 0);
	assert_int_equal(after.count, 6);
	assert_int_equal(after.bytes, before.bytes + n);
	/* A put writes the totals too (no prune in between). */
	env_close(e);
	env_open(e);
	assert_int_equal(msgstore_stats(e->s, &after), 0);
	assert_int_equal(after.count, 6);
	assert_int_equal(after.bytes, before.bytes + n);
	assert_int_equal(after.newest, 200);
}

static void test_corrupt_totals_refused(void **state)
{
	struct env *e = *state;
	uint8_t id[32];
	put_msg(e, id, "chat", 100, 1, "a", NULL, NULL);
	static const char key[] = "mmsgstats";
	char err[512] = "";

	/* Too short. */
	assert_int_equal(db_put(e->db, key, sizeof(key) - 1, "\x01\x02\x03", 3, true), 0);
	assert_null(msgstore_open(e->db, err, sizeof(err)));
	assert_non_null(strstr(err, "totals"));
	/* Too long. */
	uint8_t v[25] = {1};
	assert_int_equal(db_put(e->db, key, sizeof(key) - 1, v, sizeof(v), true), 0);
	err[0] = '\0';
	assert_null(msgstore_open(e->db, err, sizeof(err)));
	assert_non_null(strstr(err, "totals"));
	/* Missing while messages are stored. */
	assert_int_equal(db_delete(e->db, key, sizeof(key) - 1, true), 0);
	err[0] = '\0';
	assert_null(msgstore_open(e->db, err, sizeof(err)));
	assert_non_null(strstr(err, "totals"));
}

static void test_corrupt_message_record(void **state)
{
	struct env *e = *state;
	uint8_t ids[7][32];
	put_dataset(e, ids);
	uint8_t key[33] = {'M'};
	memcpy(key + 1, ids[2], 32);
	static const char garbage[] = "\x00\x01garbage-not-a-message";
	assert_int_equal(db_put(e->db, key, sizeof(key), garbage, sizeof(garbage) - 1, true), 0);

	uint8_t *raw;
	size_t len;
	assert_int_equal(msgstore_get(e->s, ids[2], &raw, &len, NULL), -1);
	assert_null(raw);
	assert_int_equal(msgstore_get(e->s, ids[3], &raw, &len, NULL), 1);
	free(raw);
	/* Listing skips the corrupt record (logged) and serves the rest. */
	struct collected c;
	struct msgstore_query q = {0};
	memset(&c, 0, sizeof(c));
	assert_int_equal(msgstore_list(e->s, &q, collect, &c), 6);
	q.topic = "chatter";
	assert_int_equal(list(e, &q, &c), 2);

	/* A record too short to hold received_at is corrupt too. */
	assert_int_equal(db_put(e->db, key, sizeof(key), "\x01", 1, true), 0);
	assert_int_equal(msgstore_get(e->s, ids[2], &raw, &len, NULL), -1);

	/* An index entry whose message is missing: skipped by listing as well. */
	uint8_t key3[33] = {'M'};
	memcpy(key3 + 1, ids[3], 32);
	assert_int_equal(db_delete(e->db, key3, sizeof(key3), true), 0);
	q = (struct msgstore_query){.replies_to = ids[0]};
	memset(&c, 0, sizeof(c));
	assert_int_equal(msgstore_list(e->s, &q, collect, &c), 1); /* ids[4]; 2 corrupt, 3 gone */

	/* Pruning does not stop at them: an unattended node must not grow without bound. Every
	 * message created before 135 goes, the corrupt and the missing one included. */
	assert_int_equal(msgstore_prune(e->s, 135, 0, 0), 4);
	assert_int_equal(msgstore_has(e->s, ids[2]), false);
	q = (struct msgstore_query){0};
	memset(&c, 0, sizeof(c));
	assert_int_equal(msgstore_list(e->s, &q, collect, &c), 3);
	struct msgstore_stats st;
	assert_int_equal(msgstore_stats(e->s, &st), 0);
	assert_int_equal(st.oldest, 140);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_has, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_many_known_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_by_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_by_topic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_by_author, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_limit_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_by_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_by_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observer_and_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_totals_after_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_totals_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_message_record, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
