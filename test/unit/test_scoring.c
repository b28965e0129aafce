/* Unit tests for net/scoring: the table, decay arithmetic and the reputation score. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "net/peer.h"
#include "net/scoring.h"

#define HOUR_US 3600000000LL

static void test_table(void **state)
{
	(void)state;
	for (int i = 0; i < OFF_COUNT; i++) {
		const struct offence_info *o = offence_info((enum offence)i);
		assert_non_null(o);
		assert_non_null(o->name);
		assert_true(o->points > 0 && o->points <= MISBEHAVIOUR_THRESHOLD);
	}
	assert_null(offence_info(OFF_COUNT));
	/* the sender's worst faults reach the threshold at once */
	assert_int_equal(offence_info(OFF_INVALID_SIG)->points, MISBEHAVIOUR_THRESHOLD);
	assert_int_equal(offence_info(OFF_BOMB)->points, MISBEHAVIOUR_THRESHOLD);
	assert_int_equal(offence_info(OFF_BAD_FRAME)->points, MISBEHAVIOUR_THRESHOLD);
	assert_string_equal(offence_info(OFF_BAD_CHECKSUM)->name, "bad-checksum");
}

static void test_decay(void **state)
{
	(void)state;
	struct peer p;
	memset(&p, 0, sizeof(p));
	p.misbehaviour = 80;
	p.misbehaviour_us = 10 * HOUR_US;
	assert_true(fabs(peer_misbehaviour(&p, 10 * HOUR_US) - 80) < 1e-9);
	/* 100 points an hour: half an hour takes 50 */
	assert_true(fabs(peer_misbehaviour(&p, 10 * HOUR_US + HOUR_US / 2) - 30) < 1e-6);
	/* never below zero */
	assert_true(peer_misbehaviour(&p, 20 * HOUR_US) == 0);
}

static void test_score_parts(void **state)
{
	(void)state;
	struct peer p;
	memset(&p, 0, sizeof(p));
	p.conn_time = 1000;
	p.first_deliveries = 30;
	p.answers = 1000; /* capped */
	p.colocated = 2;
	p.remembered_good = 1.5;
	p.misbehaviour = 10;
	p.misbehaviour_us = 0;
	struct score_breakdown b;
	double s = peer_score(&p, 1000 + 2 * 3600, 0, &b);
	assert_true(fabs(b.uptime - 2) < 1e-9);
	assert_true(fabs(b.first_deliveries - 3) < 1e-9);
	assert_true(fabs(b.answers - 20) < 1e-9);
	assert_true(fabs(b.colocation + 20) < 1e-9);
	assert_true(fabs(b.misbehaviour + 10) < 1e-9);
	assert_true(fabs(b.remembered - 1.5) < 1e-9);
	assert_true(fabs(s - (2 + 3 + 20 - 20 - 10 + 1.5)) < 1e-9);
	/* uptime is capped at 10 */
	peer_score(&p, 1000 + 100 * 3600, 0, &b);
	assert_true(fabs(b.uptime - 10) < 1e-9);
	/* a clock before the connection gives no uptime, not a negative one */
	peer_score(&p, 0, 0, &b);
	assert_true(b.uptime == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_score_parts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
