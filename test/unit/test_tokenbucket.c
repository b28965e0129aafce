/* Unit tests for util/tokenbucket with a driven clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/tokenbucket.h"

static void test_burst_then_rate(void **state)
{
	(void)state;
	struct token_bucket tb;
	tb_init(&tb, 10, 100, 0);
	for (int i = 0; i < 100; i++)
		assert_true(tb_take(&tb, 1, 0));
	assert_false(tb_take(&tb, 1, 0));
	/* 0.5 s later: 5 tokens */
	assert_true(tb_take(&tb, 5, 500000));
	assert_false(tb_take(&tb, 1, 500000));
	/* an hour later: full again, never above the burst */
	assert_true(tb_take(&tb, 100, 3600000000LL));
	assert_false(tb_take(&tb, 1, 3600000000LL));
}

static void test_take_is_all_or_nothing(void **state)
{
	(void)state;
	struct token_bucket tb;
	tb_init(&tb, 1, 10, 0);
	assert_false(tb_take(&tb, 11, 0));
	assert_true(tb_take(&tb, 10, 0));
}

static void test_credit_beyond_burst(void **state)
{
	(void)state;
	struct token_bucket tb;
	tb_init(&tb, 0.1, 1000, 0);
	assert_true(tb_take(&tb, 1000, 0));
	tb_credit(&tb, 1000); /* we asked for 1000 addresses */
	assert_true(tb_take(&tb, 1000, 1000));
	assert_false(tb_take(&tb, 1, 1000));
	/* a credit above the burst is not cut by refilling */
	tb_credit(&tb, 2500);
	assert_true(tb_take(&tb, 2500, 2000000));
	/* time running backwards takes nothing away and adds nothing */
	assert_false(tb_take(&tb, 1, 1000000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_take_is_all_or_nothing),
		cmocka_unit_test(test_credit_beyond_burst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
