/* Fuzz the message store over a fuzzed database: the input is a flags byte, then any records
 * (no prefix is forced: the 'M' messages with their received_at, the 'T', 'A', 'P' and 'R'
 * index keys and the 'm' "msgstats" totals of doc/storage.md, or anything else), written by
 * fuzz_db_fill. The store is opened as a starting node opens it, listed through each index,
 * read back by id and pruned.
 *
 * Whatever the records, nothing may crash, leak or loop: opening either fails with a message
 * or gives totals whose oldest time is at most the newest; a listing returns at most its limit,
 * only messages that decode, created within the asked time range, each of which msgstore_get
 * returns with the same bytes; and a prune without a deletion limit leaves no message created
 * before its cut-off, without raising the count of messages stored. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_db.h"
#include "msg/store.h"
#include "store/db.h"
#include "wire/sigmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Most messages a listing of this target asks for (a corrupt store may hold many). */
#define FUZZ_LIST_LIMIT 64

struct seen {
	struct msgstore *s;
	int64_t since, until; /* the query's range (0: none) */
	size_t n;
	bool have_first;
	struct sigmsg first; /* the first message listed, for the index queries */
};

static int check_listed(void *ctx, const uint8_t id[32], const uint8_t *raw, size_t len,
			int64_t received_at)
{
	struct seen *v = ctx;
	struct sigmsg m;
	uint8_t *again = NULL;
	size_t againlen = 0;
	int64_t rat = 0;
	v->n++;
	assert(sigmsg_decode(&m, raw, len) == 0);
	assert(!v->since || m.created_at >= v->since);
	assert(!v->until || m.created_at <= v->until);
	assert(msgstore_get(v->s, id, &again, &againlen, &rat) == 1);
	assert(againlen == len && memcmp(again, raw, len) == 0 && rat == received_at);
	assert(msgstore_has(v->s, id));
	free(again);
	if (!v->have_first) {
		v->first = m;
		v->have_first = true;
	} else {
		sigmsg_clear(&m);
	}
	return 0;
}

static long list(struct msgstore *s, struct msgstore_query *q, struct seen *v)
{
	v->s = s;
	v->since = q->since;
	v->until = q->until;
	v->n = 0;
	long n = msgstore_list(s, q, check_listed, v);
	assert(n == -1 || ((size_t)n == v->n && (size_t)n <= (q->limit ? q->limit : 1000)));
	return n;
}

static int64_t time_from(const uint8_t *p)
{
	return (int64_t)(((uint64_t)p[0] << 8 | p[1]) * 3600);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct db *db = fuzz_db();
	char err[512] = "";
	struct msgstore_stats st, after;
	struct seen v = {0};

	if (size < 3)
		return 0;
	uint8_t flags = data[0];
	/* A time range relative to FUZZ_DB_NOW, in hours back. */
	int64_t back = time_from(data + 1);
	fuzz_db_fill(db, NULL, 0, data + 3, size - 3);

	struct msgstore *s = msgstore_open(db, err, sizeof(err));
	if (s == NULL) {
		assert(err[0] != '\0');
		return 0;
	}
	assert(msgstore_stats(s, &st) == 0);
	assert(st.oldest <= st.newest);

	struct msgstore_query q = {.limit = FUZZ_LIST_LIMIT, .reverse = flags & 1};
	if (flags & 2)
		q.since = FUZZ_DB_NOW - back;
	if (flags & 4)
		q.until = FUZZ_DB_NOW - back / 2;
	list(s, &q, &v);
	if (v.have_first) {
		struct msgstore_query by = q;
		by.author = v.first.author;
		list(s, &by, &v);
		by.author = NULL;
		by.topic = v.first.topic;
		list(s, &by, &v);
		if (v.first.nrefs > 0) {
			by.topic = NULL;
			by.replies_to = v.first.refs[0];
			list(s, &by, &v);
		}
		sigmsg_clear(&v.first);
		v.have_first = false;
	}

	/* Prune what is older than the cut-off, and maybe down to a size. */
	int64_t cutoff = FUZZ_DB_NOW - back;
	uint64_t max_bytes = flags & 8 ? (uint64_t)(flags >> 4) * 1000 : 0;
	long pruned = msgstore_prune(s, cutoff, max_bytes, 0);
	if (pruned >= 0) {
		struct msgstore_query old = {.limit = 1, .until = cutoff - 1};
		assert(msgstore_stats(s, &after) == 0);
		assert(after.count <= st.count);
		if (cutoff > 0)
			assert(list(s, &old, &v) <= 0);
	}
	if (v.have_first)
		sigmsg_clear(&v.first);
	msgstore_free(s);
	return 0;
}
