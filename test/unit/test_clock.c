/* Unit tests for util/clock: mock time set and cleared, the real clock in microseconds, and
 * the monotonic clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <time.h>

#include "util/clock.h"

static void test_mock(void **state)
{
	(void)state;
	struct clock c = {0};
	int64_t before = (int64_t)time(NULL);
	int64_t now = clock_now(&c);
	assert_true(now >= before && now <= before + 5);

	clock_set_mock(&c, 1234567890);
	assert_true(clock_now(&c) == 1234567890);
	clock_set_mock(&c, 0);
	assert_true(clock_now(&c) >= before);
	/* A negative time is not a mock time: it clears too. */
	clock_set_mock(&c, -5);
	assert_true(clock_now(&c) >= before);

	/* Two contexts are independent. */
	struct clock d = {0};
	clock_set_mock(&c, 100);
	assert_true(clock_now(&c) == 100);
	assert_true(clock_now(&d) >= before);
}

static void test_real_and_mono(void **state)
{
	(void)state;
	int64_t t = (int64_t)time(NULL);
	int64_t us = clock_real_us();
	assert_true(us / 1000000 >= t && us / 1000000 <= t + 5);

	int64_t m0 = clock_mono_us();
	struct timespec ts = {0, 2000000}; /* 2 ms */
	nanosleep(&ts, NULL);
	int64_t m1 = clock_mono_us();
	assert_true(m0 > 0);
	assert_true(m1 - m0 >= 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mock),
		cmocka_unit_test(test_real_and_mono),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
