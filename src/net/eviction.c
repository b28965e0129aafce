/* Inbound eviction choice (include/net/eviction.h). */
#include "net/eviction.h"

#include <stdlib.h>

/* Sort so that the peers to protect come last, then drop up to k of them from the end. */
static size_t protect(struct evict_candidate *c, size_t n, size_t k,
		      int (*cmp)(const void *, const void *))
{
	qsort(c, n, sizeof(*c), cmp);
	return n > k ? n - k : 0;
}

/* ascending score: the best scores are protected */
static int by_score(const void *a, const void *b)
{
	const struct evict_candidate *x = a, *y = b;
	return x->score < y->score ? -1 : x->score > y->score;
}

/* ascending keyed group: highest keyed groups are protected */
static int by_keyed_group(const void *a, const void *b)
{
	const struct evict_candidate *x = a, *y = b;
	return x->keyed_group < y->keyed_group ? -1 : x->keyed_group > y->keyed_group;
}

/* worst ping first (unknown = worst): lowest pings protected */
static int by_ping_desc(const void *a, const void *b)
{
	const struct evict_candidate *x = a, *y = b;
	int64_t px = x->min_ping_us < 0 ? INT64_MAX : x->min_ping_us;
	int64_t py = y->min_ping_us < 0 ? INT64_MAX : y->min_ping_us;
	return px > py ? -1 : px < py;
}

/* least recently useful first: the most recently useful are protected */
static int by_useful(const void *a, const void *b)
{
	const struct evict_candidate *x = a, *y = b;
	return x->last_useful < y->last_useful ? -1 : x->last_useful > y->last_useful;
}

/* youngest first: the longest connected are protected */
static int by_age_desc(const void *a, const void *b)
{
	const struct evict_candidate *x = a, *y = b;
	return x->connected > y->connected ? -1 : x->connected < y->connected;
}

uint64_t evict_select(struct evict_candidate *c, size_t n)
{
	/* A discouraged peer goes first: the youngest of them. */
	uint64_t pick = 0;
	int64_t newest = INT64_MIN;
	for (size_t i = 0; i < n; i++)
		if (c[i].discouraged && c[i].connected > newest) {
			newest = c[i].connected;
			pick = c[i].id;
		}
	if (pick)
		return pick;
	n = protect(c, n, EVICT_PROTECT_SCORE, by_score);
	n = protect(c, n, EVICT_PROTECT_NETGROUP, by_keyed_group);
	n = protect(c, n, EVICT_PROTECT_PING, by_ping_desc);
	n = protect(c, n, EVICT_PROTECT_USEFUL, by_useful);
	n = protect(c, n, n / 2, by_age_desc);
	if (n == 0)
		return 0;
	/* The most represented group; ties go to the group with the youngest member. */
	uint64_t best_group = 0;
	size_t best_count = 0;
	int64_t best_newest = INT64_MIN;
	for (size_t i = 0; i < n; i++) {
		size_t count = 0;
		int64_t youngest = INT64_MIN;
		for (size_t j = 0; j < n; j++)
			if (c[j].netgroup == c[i].netgroup) {
				count++;
				if (c[j].connected > youngest)
					youngest = c[j].connected;
			}
		if (count > best_count || (count == best_count && youngest > best_newest)) {
			best_count = count;
			best_newest = youngest;
			best_group = c[i].netgroup;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (c[i].netgroup == best_group && c[i].connected == best_newest)
			return c[i].id;
	return 0;
}
