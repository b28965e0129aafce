/* Unit tests for util/random: bytes that vary, random_range's bounds and its lack of modulo
 * bias, and the deterministic stream of random_seed_insecure. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/random.h"

/* These run before any test seeds the stream (cmocka runs them in order). */
static void test_system_bytes_vary(void **state)
{
	(void)state;
	uint8_t a[32], b[32];
	static const uint8_t zero[32];
	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_true(random_u64() != random_u64());
	random_bytes(NULL, 0); /* nothing to do, no crash */
}

static void test_range_bounds(void **state)
{
	(void)state;
	assert_true(random_range(1) == 0);
	static const uint64_t ranges[] = {2, 3, 7, 1000, UINT32_MAX, UINT64_MAX};
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		for (int k = 0; k < 1000; k++)
			assert_true(random_range(ranges[i]) < ranges[i]);
	}
	/* Every value of a small range shows up. */
	int seen[7] = {0};
	for (int k = 0; k < 1000; k++)
		seen[random_range(7)] = 1;
	for (int k = 0; k < 7; k++)
		assert_int_equal(seen[k], 1);
}

static void test_seeded_is_deterministic(void **state)
{
	(void)state;
	uint8_t a[100], b[100];
	random_seed_insecure(42);
	random_bytes(a, sizeof(a));
	uint64_t ua = random_u64();
	random_seed_insecure(42);
	random_bytes(b, sizeof(b));
	uint64_t ub = random_u64();
	assert_memory_equal(a, b, sizeof(a));
	assert_true(ua == ub);
	/* Consecutive draws differ; another seed gives another stream. */
	random_bytes(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	random_seed_insecure(43);
	random_bytes(b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
}

static void test_range_unbiased(void **state)
{
	(void)state;
	/* With range = ceil(2/3 * 2^64), "v % range" lands in the lower half twice as often as
	 * in the upper half (2/3 against 1/3); an unbiased draw splits evenly. Seeded, so the
	 * figure is the same on every run. */
	const uint64_t range = UINT64_MAX / 3 * 2 + 1;
	const int draws = 20000;
	int low = 0;
	random_seed_insecure(7);
	for (int i = 0; i < draws; i++)
		low += random_range(range) < range / 2;
	assert_in_range(low, draws / 2 - 600, draws / 2 + 600);

	/* Small range: each residue close to a third. */
	int counts[3] = {0};
	for (int i = 0; i < 30000; i++)
		counts[random_range(3)]++;
	for (int k = 0; k < 3; k++)
		assert_in_range(counts[k], 10000 - 600, 10000 + 600);
}

static void test_exponential(void **state)
{
	(void)state;
	random_seed_insecure(11);
	enum { N = 200000 };
	double sum = 0;
	for (int i = 0; i < N; i++) {
		double v = random_exponential(2000.0);
		assert_true(v >= 0 && v < 2000.0 * 60); /* finite: u is never 0 */
		sum += v;
	}
	/* the mean of N samples is within 2% of 2000 (its standard error is 2000/sqrt(N)) */
	assert_true(sum / N > 1960 && sum / N < 2040);
	assert_true(random_exponential(0) == 0);
	assert_true(random_exponential(-5) == 0);
}

int main(void)
{
	if (random_init() != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_system_bytes_vary),
		cmocka_unit_test(test_range_bounds),
		cmocka_unit_test(test_seeded_is_deterministic),
		cmocka_unit_test(test_range_unbiased),
		cmocka_unit_test(test_exponential),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
