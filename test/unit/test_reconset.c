/* Unit tests for msg/reconset: the fingerprint and its 256-bit sum (carries across limbs,
 * wrap-around mod 2^256, the Python reference's vectors), and the chunked set against a naive
 * sorted array through many chunk splits and merges: counts, positions of bounds, items by
 * position, iteration and range sums over random ranges; the append path, refusals, memory
 * per item. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "msg/reconset.h"
#include "util/bytes.h"
#include "util/random.h"

#include "unit_util.h"

/* Largest naive set the random test keeps: many chunks of RECONSET_CHUNK_MAX. */
#define NAIVE_MAX 20000
/* Random range queries after every 16th batch of changes, and at the end of each phase. */
#define QUERIES 200

struct naive {
	struct recon_item *items;
	size_t n;
};

static int setup(void **state)
{
	(void)state;
	if (random_init() != 0)
		return -1;
	random_seed_insecure(12);
	return 0;
}

static void fp_of_sum(uint8_t fp[RECON_FP_LEN], const uint8_t sum[32], uint64_t count)
{
	recon_fingerprint(fp, sum, count);
}

static void test_fingerprint_vectors(void **state)
{
	json_t *vectors = unit_load_vectors("recon-vectors.json");
	json_t *v;
	size_t i;
	(void)state;

	json_array_foreach(json_object_get(vectors, "fingerprints"), i, v)
	{
		json_t *ids = json_object_get(v, "ids");
		uint8_t sum[32] = {0}, want_sum[32], want_fp[RECON_FP_LEN], fp[RECON_FP_LEN];
		struct reconset *s = reconset_new();
		assert_non_null(s);
		for (size_t k = 0; k < json_array_size(ids); k++) {
			struct recon_item it = {.created_at = (int64_t)k};
			assert_int_equal(
				hex_decode(it.id, 32, json_string_value(json_array_get(ids, k))),
				0);
			recon_sum_add(sum, it.id);
			assert_int_equal(reconset_insert(s, &it), 1);
		}
		assert_int_equal(
			hex_decode(want_sum, 32, json_string_value(json_object_get(v, "sum"))), 0);
		assert_int_equal(hex_decode(want_fp, RECON_FP_LEN,
					    json_string_value(json_object_get(v, "fingerprint"))),
				 0);
		assert_memory_equal(sum, want_sum, 32);
		fp_of_sum(fp, sum, json_array_size(ids));
		assert_memory_equal(fp, want_fp, RECON_FP_LEN);
		/* The set gives the same, whole or as two parts' sums added. */
		reconset_fingerprint(s, fp, 0, reconset_count(s));
		assert_memory_equal(fp, want_fp, RECON_FP_LEN);
		reconset_free(s);
	}
	assert_true(i >= 7);
	json_decref(vectors);
}

static void test_sum_carries(void **state)
{
	uint8_t sum[32], id[32], want[32];
	(void)state;

	/* 0xff..ff (8 bytes) + 1 carries into byte 8. */
	memset(sum, 0, 32);
	memset(sum, 0xff, 8);
	memset(id, 0, 32);
	id[0] = 1;
	recon_sum_add(sum, id);
	memset(want, 0, 32);
	want[8] = 1;
	assert_memory_equal(sum, want, 32);
	/* Carry through every limb: 2^256 - 1 + 1 wraps to 0. */
	memset(sum, 0xff, 32);
	recon_sum_add(sum, id);
	memset(want, 0, 32);
	assert_memory_equal(sum, want, 32);
	/* (2^256 - 1) * 2 = 2^256 - 2 mod 2^256. */
	memset(sum, 0xff, 32);
	memset(id, 0xff, 32);
	recon_sum_add(sum, id);
	memset(want, 0xff, 32);
	want[0] = 0xfe;
	assert_memory_equal(sum, want, 32);
}

/* ---- against a naive sorted array ---- */

static size_t naive_position(const struct naive *nv, const struct recon_bound *b)
{
	size_t lo = 0, hi = nv->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (recon_item_cmp_bound(&nv->items[mid], b) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A random item: times in a narrow span so many share a time, and ids sometimes sharing a
 * long prefix with an existing one. */
static void random_item(struct recon_item *it, const struct naive *nv)
{
	random_bytes(it->id, 32);
	it->created_at = (int64_t)random_range(50);
	if (nv->n && random_range(4) == 0) {
		const struct recon_item *o = &nv->items[random_range(nv->n)];
		size_t k = random_range(32);
		it->created_at = o->created_at;
		memcpy(it->id, o->id, k);
	}
}

static void random_bound(struct recon_bound *b, const struct naive *nv)
{
	recon_bound_time(b, (int64_t)random_range(52));
	if (nv->n && random_range(2)) {
		const struct recon_item *o = &nv->items[random_range(nv->n)];
		b->created_at = o->created_at;
		b->prefix_len = (uint8_t)random_range(33);
		memcpy(b->prefix, o->id, b->prefix_len);
		if (b->prefix_len && random_range(2))
			b->prefix[b->prefix_len - 1] ^= 1;
	}
}

static void naive_insert(struct naive *nv, const struct recon_item *it, int expect)
{
	struct recon_bound b;
	b.created_at = it->created_at;
	b.prefix_len = 32;
	memcpy(b.prefix, it->id, 32);
	size_t pos = naive_position(nv, &b);
	bool present = pos < nv->n && recon_item_cmp(&nv->items[pos], it) == 0;
	assert_int_equal(expect, present ? 0 : 1);
	if (present)
		return;
	memmove(&nv->items[pos + 1], &nv->items[pos], (nv->n - pos) * sizeof(*nv->items));
	nv->items[pos] = *it;
	nv->n++;
}

static void check_queries(struct reconset *s, const struct naive *nv)
{
	assert_int_equal(reconset_count(s), nv->n);
	for (int q = 0; q < QUERIES; q++) {
		struct recon_bound b1, b2;
		random_bound(&b1, nv);
		random_bound(&b2, nv);
		size_t a = reconset_position(s, &b1), z = reconset_position(s, &b2);
		assert_int_equal(a, naive_position(nv, &b1));
		assert_int_equal(z, naive_position(nv, &b2));
		if (a > z) {
			size_t t = a;
			a = z;
			z = t;
		}
		/* Sometimes a wide range: whole chunks in the middle. */
		if (q % 10 == 0) {
			a = random_range(nv->n / 4 + 1);
			z = nv->n - random_range(nv->n / 4 + 1);
		}
		uint8_t sum[32] = {0}, got[32];
		for (size_t i = a; i < z; i++)
			recon_sum_add(sum, nv->items[i].id);
		reconset_sum(s, got, a, z);
		assert_memory_equal(got, sum, 32);
		uint8_t fp1[RECON_FP_LEN], fp2[RECON_FP_LEN];
		reconset_fingerprint(s, fp1, a, z);
		recon_fingerprint(fp2, sum, z - a);
		assert_memory_equal(fp1, fp2, RECON_FP_LEN);
		if (a < nv->n)
			assert_int_equal(recon_item_cmp(reconset_at(s, a), &nv->items[a]), 0);
		/* Iterate a short stretch from a. */
		struct reconset_iter it;
		const struct recon_item *x;
		size_t stop = a + 40 < z ? a + 40 : z, i = a;
		reconset_iter_init(&it, s, a, stop);
		while ((x = reconset_iter_next(&it)) != NULL)
			assert_int_equal(recon_item_cmp(x, &nv->items[i++]), 0);
		assert_int_equal(i, stop);
	}
}

static void test_random_against_naive(void **state)
{
	struct naive nv = {.items = malloc(NAIVE_MAX * sizeof(struct recon_item))};
	struct reconset *s = reconset_new();
	(void)state;

	assert_non_null(nv.items);
	assert_non_null(s);
	/* Grow to NAIVE_MAX, shrink to a few hundred, grow again: splits, then merges. */
	size_t targets[] = {NAIVE_MAX, 300, NAIVE_MAX / 2, 0, 2000};
	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		for (size_t batch = 0; nv.n != targets[t]; batch++) {
			bool grow = nv.n < targets[t];
			for (int k = 0; k < 97 && nv.n != targets[t]; k++) {
				struct recon_item it;
				if (grow || random_range(10) == 0) {
					random_item(&it, &nv);
					int r = reconset_insert(s, &it);
					if (nv.n < NAIVE_MAX)
						naive_insert(&nv, &it, r);
					else if (r == 1)
						assert_int_equal(reconset_erase(s, &it), 1);
				} else {
					size_t pos = random_range(nv.n);
					it = nv.items[pos];
					assert_int_equal(reconset_erase(s, &it), 1);
					assert_int_equal(reconset_erase(s, &it), 0);
					memmove(&nv.items[pos], &nv.items[pos + 1],
						(nv.n - pos - 1) * sizeof(*nv.items));
					nv.n--;
				}
			}
			if (batch % 16 == 0)
				check_queries(s, &nv);
		}
		check_queries(s, &nv);
		print_message("n=%zu memory=%zu bytes (%.1f per item)\n", nv.n, reconset_memory(s),
			      nv.n ? (double)reconset_memory(s) / (double)nv.n : 0.0);
	}
	reconset_clear(s);
	assert_int_equal(reconset_count(s), 0);
	reconset_free(s);
	reconset_free(NULL);
	free(nv.items);
}

static void test_append_and_refusals(void **state)
{
	const size_t n = 100000;
	struct reconset *s = reconset_new();
	struct recon_item it, last;
	(void)state;

	assert_non_null(s);
	memset(&last, 0, sizeof(last));
	for (size_t i = 0; i < n; i++) {
		it.created_at = (int64_t)(1700000000 + i / 3); /* three items per second */
		random_bytes(it.id, 32);
		it.id[0] = (uint8_t)(i % 3 * 80);
		assert_int_equal(reconset_append(s, &it), 0);
		last = it;
	}
	assert_int_equal(reconset_count(s), n);
	/* Filled in order: full chunks, about 40 bytes per item. */
	double per = (double)reconset_memory(s) / (double)n;
	print_message("append %zu: %.1f bytes per item\n", n, per);
	assert_true(per >= 40.0 && per < 42.0);
	assert_int_equal(reconset_append(s, &last), -1); /* equal */
	it = last;
	it.created_at--;
	assert_int_equal(reconset_append(s, &it), -1); /* below */
	assert_int_equal(reconset_insert(s, &it), 1);  /* fine in the middle */
	assert_int_equal(reconset_insert(s, &it), 0);
	it.created_at = -1;
	assert_int_equal(reconset_insert(s, &it), -1);
	assert_int_equal(reconset_append(s, &it), -1);
	assert_int_equal(reconset_count(s), n + 1);
	/* New messages at the end keep chunks full. */
	it = last;
	for (int i = 0; i < 5000; i++) {
		it.created_at++;
		assert_int_equal(reconset_insert(s, &it), 1);
	}
	per = (double)reconset_memory(s) / (double)reconset_count(s);
	assert_true(per < 42.0);
	/* The last item is where it should be, and a bound past everything is at count. */
	struct recon_bound end;
	recon_bound_end(&end);
	assert_int_equal(reconset_position(s, &end), reconset_count(s));
	assert_int_equal(recon_item_cmp(reconset_at(s, reconset_count(s) - 1), &it), 0);
	reconset_free(s);
}

/* Erasing most items merges chunks; memory follows the count down. */
static void test_erase_shrinks(void **state)
{
	const size_t n = 50000;
	struct reconset *s = reconset_new();
	struct recon_item *items = malloc(n * sizeof(*items));
	(void)state;

	assert_non_null(s);
	assert_non_null(items);
	for (size_t i = 0; i < n; i++) {
		items[i].created_at = (int64_t)i;
		random_bytes(items[i].id, 32);
		assert_int_equal(reconset_append(s, &items[i]), 0);
	}
	for (size_t i = 0; i < n; i++) {
		if (i % 10)
			assert_int_equal(reconset_erase(s, &items[i]), 1);
	}
	assert_int_equal(reconset_count(s), n / 10);
	double per = (double)reconset_memory(s) / (double)(n / 10);
	print_message("after erasing 90%%: %.1f bytes per item\n", per);
	assert_true(per < 80.0);
	uint8_t sum[32] = {0}, got[32];
	for (size_t i = 0; i < n; i += 10)
		recon_sum_add(sum, items[i].id);
	reconset_sum(s, got, 0, reconset_count(s));
	assert_memory_equal(got, sum, 32);
	reconset_free(s);
	free(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fingerprint_vectors),
		cmocka_unit_test(test_sum_carries),
		cmocka_unit_test(test_random_against_naive),
		cmocka_unit_test(test_append_and_refusals),
		cmocka_unit_test(test_erase_shrinks),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
