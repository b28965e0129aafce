/* Unit tests for net/eviction: which inbound peer makes room. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "net/eviction.h"

/* n candidates: id i+1, connected at i (higher = younger), ping 1000+i, never useful, each in
 * its own group unless changed. */
static void fill(struct evict_candidate *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].id = i + 1;
		c[i].connected = (int64_t)i;
		c[i].min_ping_us = 1000 + (int64_t)i;
		c[i].netgroup = 100 + i;
		c[i].keyed_group = 7919 * (i + 1) % 101;
	}
}

static void test_everyone_protected_when_few(void **state)
{
	(void)state;
	struct evict_candidate c[8];
	fill(c, 8);
	/* 4 by group, then 4 left are all protected by ping */
	assert_int_equal(evict_select(c, 8), 0);
	assert_int_equal(evict_select(c, 0), 0);
}

static void test_most_represented_group_loses_its_youngest(void **state)
{
	(void)state;
	enum { N = 40 };
	struct evict_candidate c[N];
	fill(c, N);
	/* An attacker's 20 connections from one /16, the youngest ones, with bad pings. */
	for (size_t i = 20; i < N; i++) {
		c[i].netgroup = 1;
		c[i].min_ping_us = 900000;
		c[i].score = -10; /* colocated: its reputation suffers too */
	}
	uint64_t victim = evict_select(c, N);
	assert_true(victim >= 21 && victim <= N);
	/* it is the youngest member of the attacker's group that survived protection */
	assert_int_equal(victim, N);
}

static void test_low_ping_and_useful_peers_are_protected(void **state)
{
	(void)state;
	enum { N = 30 };
	struct evict_candidate c[N];
	fill(c, N);
	for (size_t i = 0; i < N; i++)
		c[i].netgroup = 5; /* one group: the youngest unprotected peer goes */
	/* the youngest peer has the best ping: protected */
	c[N - 1].min_ping_us = 1;
	/* the second youngest recently gave us a message: protected */
	c[N - 2].last_useful = 999;
	uint64_t victim = evict_select(c, N);
	assert_int_not_equal(victim, 0);
	assert_int_not_equal(victim, N);
	assert_int_not_equal(victim, N - 1);
	/* the oldest half of the rest is protected: the victim is young */
	assert_true(victim > N / 2);
}

static void test_best_scores_are_protected(void **state)
{
	(void)state;
	enum { N = 30 };
	struct evict_candidate c[N];
	fill(c, N);
	for (size_t i = 0; i < N; i++)
		c[i].netgroup = 5;
	/* the youngest peer would go, but its reputation is the best */
	c[N - 1].score = 50;
	uint64_t victim = evict_select(c, N);
	assert_int_not_equal(victim, 0);
	assert_int_not_equal(victim, N);
}

static void test_discouraged_goes_first(void **state)
{
	(void)state;
	enum { N = 12 };
	struct evict_candidate c[N];
	fill(c, N);
	c[2].discouraged = true;
	c[5].discouraged = true;
	assert_int_equal(evict_select(c, N), 6); /* the younger discouraged peer */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_everyone_protected_when_few),
		cmocka_unit_test(test_most_represented_group_loses_its_youngest),
		cmocka_unit_test(test_low_ping_and_useful_peers_are_protected),
		cmocka_unit_test(test_best_scores_are_protected),
		cmocka_unit_test(test_discouraged_goes_first),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
