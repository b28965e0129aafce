/* Unit tests for util/bloom: no false negatives for the most recent n/2 items at any point of a
 * long run, a measured false-positive rate near the target over 100,000 probes with the filter
 * at its fullest, old items forgotten, the memory bound, reset, and bad arguments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h> /* NAN only */
#include <string.h>

#include "util/bloom.h"
#include "util/random.h"

/* log2(10^6), written out: the build links no libm. */
#define LOG2_1E6 19.931568569324174

/* Probes for a false-positive measurement. */
#define FP_PROBES 100000

static int setup(void **state)
{
	(void)state;
	if (random_init() != 0)
		return -1;
	random_seed_insecure(7);
	return 0;
}

/* Item i: 32 bytes, as message ids are, derived from i and a namespace byte. */
static void item(uint8_t out[32], uint64_t i, uint8_t ns)
{
	memset(out, ns, 32);
	for (size_t b = 0; b < 8; b++)
		out[b] = (uint8_t)(i >> (8 * b));
}

static void insert(struct rolling_bloom *f, uint64_t i)
{
	uint8_t id[32];
	item(id, i, 0x11);
	rolling_bloom_insert(f, id, sizeof(id));
}

static bool contains(const struct rolling_bloom *f, uint64_t i, uint8_t ns)
{
	uint8_t id[32];
	item(id, i, ns);
	return rolling_bloom_contains(f, id, sizeof(id));
}

static double measured_fp(const struct rolling_bloom *f)
{
	size_t hits = 0;
	for (uint64_t i = 0; i < FP_PROBES; i++)
		hits += contains(f, i, 0x22); /* a namespace never inserted */
	return (double)hits / FP_PROBES;
}

static void test_recent_never_missing(void **state)
{
	const size_t n = 1000;
	struct rolling_bloom *f = rolling_bloom_new(n, 0.01);
	(void)state;

	assert_non_null(f);
	for (uint64_t i = 0; i < 20 * n; i++) {
		insert(f, i);
		assert_true(contains(f, i, 0x11));
		/* Every so often (a prime stride, so every phase of a generation is seen), all of
		 * the last n/2. */
		if (i % 97 == 0 || i % n == n / 2 - 1 || i % n == n / 2) {
			uint64_t from = i + 1 >= n / 2 ? i + 1 - n / 2 : 0;
			for (uint64_t j = from; j <= i; j++)
				assert_true(contains(f, j, 0x11));
		}
	}
	rolling_bloom_free(f);
}

/* Fill the filter to its worst point (three full generations) and measure. */
static void check_fp(size_t n, double target)
{
	struct rolling_bloom *f = rolling_bloom_new(n, target);
	size_t gen = (n + 1) / 2;
	double fp;

	assert_non_null(f);
	/* 6 generations: two full turns; the last insert fills the third generation. */
	for (uint64_t i = 0; i < 6 * gen; i++)
		insert(f, i);
	fp = measured_fp(f);
	print_message("n=%zu target=%g measured=%g\n", n, target, fp);
	assert_true(fp <= 1.5 * target);
	assert_true(fp >= target / 4);
	/* The first generations were dropped: old items come back only as false positives. */
	size_t old = 0;
	for (uint64_t i = 0; i < gen; i++)
		old += contains(f, i, 0x11);
	assert_true((double)old / (double)gen <= 3 * target + 0.005);
	rolling_bloom_free(f);
}

static void test_false_positive_rate(void **state)
{
	(void)state;
	check_fp(10000, 0.01);
	check_fp(20000, 0.001);
}

static void test_memory(void **state)
{
	/* The node's recently-rejected filter: about 120,000 ids at one in a million. */
	const size_t n = 120000;
	const double fp = 0.000001;
	struct rolling_bloom *f = rolling_bloom_new(n, fp);
	/* The header's bound: 1.44 * n * log2(1/fp) positions, * 1.5 for the third generation,
	 * 2 bits each. */
	double bound = 1.44 * (double)n * LOG2_1E6 * 1.5 * 2.0 / 8.0;
	size_t mem;
	(void)state;

	assert_non_null(f);
	mem = rolling_bloom_memory(f);
	print_message("n=%zu fp=%g memory=%zu bytes (bound %.0f)\n", n, fp, mem, bound);
	assert_true((double)mem <= 1.05 * bound + 1024);
	assert_true((double)mem >= 0.9 * bound);
	/* Memory does not grow with use. */
	for (uint64_t i = 0; i < 3 * n; i++)
		insert(f, i);
	assert_int_equal(rolling_bloom_memory(f), mem);
	rolling_bloom_free(f);

	/* A tiny filter is small. */
	f = rolling_bloom_new(1, 0.5);
	assert_non_null(f);
	assert_true(rolling_bloom_memory(f) < 256);
	insert(f, 1);
	assert_true(contains(f, 1, 0x11));
	rolling_bloom_free(f);
}

static void test_reset(void **state)
{
	struct rolling_bloom *f = rolling_bloom_new(1000, 0.01);
	size_t after = 0;
	(void)state;

	assert_non_null(f);
	for (uint64_t i = 0; i < 400; i++)
		insert(f, i);
	rolling_bloom_reset(f);
	for (uint64_t i = 0; i < 400; i++)
		after += contains(f, i, 0x11);
	assert_int_equal(after, 0);
	assert_true(measured_fp(f) == 0.0);
	/* Usable again afterwards. */
	for (uint64_t i = 0; i < 400; i++)
		insert(f, i);
	for (uint64_t i = 0; i < 400; i++)
		assert_true(contains(f, i, 0x11));
	rolling_bloom_free(f);
}

static void test_item_bytes(void **state)
{
	struct rolling_bloom *f = rolling_bloom_new(100, 0.0001);
	(void)state;

	assert_non_null(f);
	rolling_bloom_insert(f, "abc", 3);
	assert_true(rolling_bloom_contains(f, "abc", 3));
	assert_false(rolling_bloom_contains(f, "ab", 2));
	assert_false(rolling_bloom_contains(f, "abd", 3));
	rolling_bloom_insert(f, "", 0);
	assert_true(rolling_bloom_contains(f, "", 0));
	rolling_bloom_free(f);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	assert_null(rolling_bloom_new(0, 0.01));
	assert_null(rolling_bloom_new(100, 0.0));
	assert_null(rolling_bloom_new(100, 1.0));
	assert_null(rolling_bloom_new(100, -0.5));
	assert_null(rolling_bloom_new(100, NAN));
	assert_null(rolling_bloom_new(SIZE_MAX, 0.01));
	rolling_bloom_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recent_never_missing),
		cmocka_unit_test(test_false_positive_rate),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_item_bytes),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
