/* Unit tests for wire/recon (syncreq / syncresp): bound order and the shortest separating
 * bound, the codec against the Python reference's vectors (test/vectors/recon-vectors.json:
 * decoded fields, re-encoding byte for byte, every invalid payload refused), random round
 * trips, range sizes, the payload limit, and that reserved flags are kept, not refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/random.h"
#include "wire/recon.h"

#include "unit_util.h"

/* Random messages built per round-trip run. */
#define ROUNDTRIP_RUNS 500

static json_t *vectors;

static int setup(void **state)
{
	(void)state;
	if (random_init() != 0)
		return -1;
	random_seed_insecure(11);
	vectors = unit_load_vectors("recon-vectors.json");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	json_decref(vectors);
	return 0;
}

static void hex_exact(void *out, size_t len, const char *hex)
{
	assert_int_equal(hex_decode(out, len, hex), 0);
}

/* A bound from JSON: "end" or [created_at, prefix hex]. */
static void json_bound(struct recon_bound *b, const json_t *j)
{
	if (json_is_string(j)) {
		assert_string_equal(json_string_value(j), "end");
		recon_bound_end(b);
		return;
	}
	const char *hex = json_string_value(json_array_get(j, 1));
	memset(b, 0, sizeof(*b));
	b->created_at = json_integer_value(json_array_get(j, 0));
	b->prefix_len = (uint8_t)(strlen(hex) / 2);
	hex_exact(b->prefix, b->prefix_len, hex);
}

static void json_item(struct recon_item *it, const json_t *j)
{
	it->created_at = json_integer_value(json_array_get(j, 0));
	hex_exact(it->id, 32, json_string_value(json_array_get(j, 1)));
}

static void test_bound_order(void **state)
{
	struct recon_bound a, b, end;
	struct recon_item it;
	(void)state;

	recon_bound_end(&end);
	assert_true(recon_bound_is_end(&end));
	recon_bound_time(&a, 5);
	b = a;
	b.prefix_len = 2; /* (5, 0000) is the same point as (5, "") */
	assert_int_equal(recon_bound_cmp(&a, &b), 0);
	b.prefix[1] = 1;
	assert_true(recon_bound_cmp(&a, &b) < 0);
	assert_true(recon_bound_cmp(&b, &a) > 0);
	assert_true(recon_bound_cmp(&b, &end) < 0);
	recon_bound_time(&b, 6);
	assert_true(recon_bound_cmp(&a, &b) < 0);

	/* An item is at or above the bounds its id starts with. */
	memset(&it, 0, sizeof(it));
	it.created_at = 5;
	assert_int_equal(recon_item_cmp_bound(&it, &a), 0);
	it.id[31] = 1;
	assert_true(recon_item_cmp_bound(&it, &a) > 0);
	a.prefix_len = 1;
	a.prefix[0] = 1;
	assert_true(recon_item_cmp_bound(&it, &a) < 0);
	it.id[0] = 1;
	assert_true(recon_item_cmp_bound(&it, &a) > 0);
	it.created_at = 4;
	assert_true(recon_item_cmp_bound(&it, &a) < 0);
	assert_true(recon_item_cmp_bound(&it, &end) < 0);
}

/* The shortest separating bound: the reference's vectors, and the contract on random pairs. */
static void test_bound_between(void **state)
{
	json_t *v;
	size_t i;
	(void)state;

	json_array_foreach(json_object_get(vectors, "bounds"), i, v)
	{
		struct recon_item prev, next;
		struct recon_bound got, want;
		json_item(&prev, json_object_get(v, "prev"));
		json_item(&next, json_object_get(v, "next"));
		json_bound(&want, json_object_get(v, "bound"));
		recon_bound_between(&got, &prev, &next);
		assert_int_equal(got.created_at, want.created_at);
		assert_int_equal(got.prefix_len, want.prefix_len);
		assert_memory_equal(got.prefix, want.prefix, want.prefix_len);
	}
	assert_true(i >= 5);

	for (int run = 0; run < 2000; run++) {
		struct recon_item a, b;
		struct recon_bound m;
		random_bytes(&a, sizeof(a));
		b = a;
		a.created_at = b.created_at = (int64_t)random_range(4);
		b.created_at += (int64_t)random_range(2);
		size_t k = random_range(32);
		random_bytes(b.id + k, 32 - k);
		if (recon_item_cmp(&a, &b) == 0)
			continue;
		if (recon_item_cmp(&a, &b) > 0) {
			struct recon_item t = a;
			a = b;
			b = t;
		}
		recon_bound_between(&m, &a, &b);
		assert_true(recon_item_cmp_bound(&a, &m) < 0);
		assert_true(recon_item_cmp_bound(&b, &m) >= 0);
		/* Shortest: one byte less no longer separates them. */
		if (m.prefix_len > 0) {
			m.prefix_len--;
			assert_true(recon_item_cmp_bound(&a, &m) >= 0);
		} else {
			assert_true(a.created_at < b.created_at);
		}
	}
}

/* Check a decoded range against its JSON description. */
static void check_range(const struct recon_range *r, const json_t *j)
{
	struct recon_bound want;
	json_t *ids = json_object_get(j, "ids");
	uint8_t buf[32];

	json_bound(&want, json_object_get(j, "upper"));
	assert_int_equal(recon_bound_cmp(&r->upper, &want), 0);
	assert_int_equal(r->upper.prefix_len, want.prefix_len);
	assert_int_equal(r->mode, json_integer_value(json_object_get(j, "mode")));
	if (r->mode == RECON_FINGERPRINT) {
		hex_exact(buf, RECON_FP_LEN, json_string_value(json_object_get(j, "fp")));
		assert_memory_equal(r->fp, buf, RECON_FP_LEN);
	}
	if (r->mode == RECON_IDLIST || r->mode == RECON_IDLIST_REPLY) {
		assert_int_equal(r->nids, json_array_size(ids));
		for (size_t i = 0; i < r->nids; i++) {
			hex_exact(buf, 32, json_string_value(json_array_get(ids, i)));
			assert_memory_equal(r->ids + 32 * i, buf, 32);
		}
	}
	if (r->mode == RECON_IDLIST_REPLY) {
		json_t *lacks = json_object_get(j, "lacks");
		assert_int_equal(r->n, json_integer_value(json_object_get(j, "n")));
		for (size_t i = 0; i < r->n; i++)
			assert_int_equal(r->bitmap[i / 8] >> (i % 8) & 1,
					 json_integer_value(json_array_get(lacks, i)));
	}
}

static void test_codec_vectors(void **state)
{
	json_t *v;
	size_t i;
	(void)state;

	json_array_foreach(json_object_get(vectors, "codec"), i, v)
	{
		bool request =
			strcmp(json_string_value(json_object_get(v, "kind")), "syncreq") == 0;
		uint8_t *payload;
		size_t len;
		struct recon_msg m;
		struct bytebuf b;
		json_t *ranges = json_object_get(v, "ranges");

		assert_int_equal(hex_decode_alloc(json_string_value(json_object_get(v, "hex")),
						  RECON_MAX_PAYLOAD, &payload, &len),
				 0);
		assert_int_equal(recon_decode(&m, request, payload, len), 0);
		if (request) {
			assert_int_equal(m.since, json_integer_value(json_object_get(v, "since")));
			assert_int_equal(m.until, json_integer_value(json_object_get(v, "until")));
		}
		assert_int_equal(m.nranges, json_array_size(ranges));
		size_t total = 0;
		int64_t prev = request ? m.since : 0;
		for (size_t k = 0; k < m.nranges; k++) {
			check_range(&m.ranges[k], json_array_get(ranges, k));
			total += recon_range_size(&m.ranges[k], prev);
			if (!recon_bound_is_end(&m.ranges[k].upper))
				prev = m.ranges[k].upper.created_at;
		}
		bytebuf_init(&b, RECON_MAX_PAYLOAD);
		recon_encode(&b, &m);
		assert_true(bytebuf_ok(&b));
		assert_int_equal(b.len, len);
		assert_memory_equal(b.data, payload, len);
		assert_int_equal(total, len - (request ? 19 : 3));
		bytebuf_free(&b);
		recon_msg_clear(&m);
		free(payload);
	}
	assert_int_equal(i, 2);
}

static void test_invalid_vectors(void **state)
{
	json_t *v;
	size_t i;
	(void)state;

	json_array_foreach(json_object_get(vectors, "invalid"), i, v)
	{
		bool request =
			strcmp(json_string_value(json_object_get(v, "kind")), "syncreq") == 0;
		uint8_t *payload;
		size_t len;
		struct recon_msg m;

		assert_int_equal(hex_decode_alloc(json_string_value(json_object_get(v, "hex")),
						  RECON_MAX_PAYLOAD, &payload, &len),
				 0);
		if (recon_decode(&m, request, payload, len) != -1)
			fail_msg("accepted an invalid %s: %s", request ? "syncreq" : "syncresp",
				 json_string_value(json_object_get(v, "why")));
		assert_null(m.ranges);
		assert_int_equal(m.nranges, 0);
		free(payload);
	}
	assert_true(i >= 30);
}

/* The payload limit, reserved flags, and the window and bound checks at their edges. */
static void test_limits_and_flags(void **state)
{
	struct recon_range r[2];
	struct recon_msg m = {
		.request = true, .since = 0, .until = INT64_MAX, .ranges = r, .nranges = 2};
	struct recon_msg d;
	struct bytebuf b;
	uint8_t *big;
	(void)state;

	memset(r, 0, sizeof(r));
	recon_bound_time(&r[0].upper, INT64_MAX - 1); /* the largest time a bound may have */
	r[0].upper.prefix_len = 32;
	memset(r[0].upper.prefix, 0xff, 32);
	recon_bound_end(&r[1].upper);
	r[1].mode = RECON_FINGERPRINT;
	bytebuf_init(&b, RECON_MAX_PAYLOAD);
	m.flags = 0x80;
	recon_encode(&b, &m);
	assert_int_equal(recon_decode(&d, true, b.data, b.len), 0);
	assert_int_equal(d.flags, 0x80);
	assert_int_equal(d.ranges[0].upper.created_at, INT64_MAX - 1);
	assert_int_equal(d.ranges[0].upper.prefix_len, 32);
	recon_msg_clear(&d);
	recon_msg_clear(NULL);

	/* A syncresp whose bounds are fine on their own but outside a session's window. */
	assert_int_equal(recon_check_bounds(r, 2, 0, INT64_MAX), 0);
	assert_int_equal(recon_check_bounds(r, 2, 0, INT64_MAX - 1), -1);
	assert_int_equal(recon_check_bounds(r, 2, INT64_MAX - 1, INT64_MAX), 0);
	r[0].upper.prefix_len = 0;
	assert_int_equal(recon_check_bounds(r, 2, INT64_MAX - 1, INT64_MAX), -1);

	/* One byte above RECON_MAX_PAYLOAD is refused whatever it holds. */
	big = calloc(1, RECON_MAX_PAYLOAD + 1);
	assert_non_null(big);
	memcpy(big, b.data, b.len);
	assert_int_equal(recon_decode(&d, true, big, RECON_MAX_PAYLOAD + 1), -1);
	assert_int_equal(recon_decode(&d, true, NULL, 0), -1);
	free(big);
	bytebuf_free(&b);
}

static int cmp_bound_qsort(const void *a, const void *b)
{
	const struct recon_range *x = a, *y = b;
	return recon_bound_cmp(&x->upper, &y->upper);
}

/* Random bounds for r[0..n-1] inside (since, until), strictly increasing, END last. Returns
 * how many ranges that leaves (duplicates are dropped). */
static size_t random_bounds(struct recon_range *r, size_t n, int64_t since, int64_t until)
{
	struct recon_bound start;
	size_t k = 0;

	recon_bound_time(&start, since);
	for (size_t i = 0; i + 1 < n; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		recon_bound_time(&r[i].upper,
				 since + (int64_t)random_range((uint64_t)(until - since)));
		r[i].upper.prefix_len = (uint8_t)random_range(33);
		random_bytes(r[i].upper.prefix, r[i].upper.prefix_len);
	}
	qsort(r, n - 1, sizeof(*r), cmp_bound_qsort);
	for (size_t i = 0; i + 1 < n; i++) {
		if (recon_bound_cmp(&r[i].upper, &start) > 0 &&
		    (k == 0 || recon_bound_cmp(&r[i].upper, &r[k - 1].upper) > 0))
			r[k++] = r[i];
	}
	memset(&r[k], 0, sizeof(r[k]));
	recon_bound_end(&r[k].upper);
	return k + 1;
}

/* A random well-formed message of either kind, of at most max ranges. ids and bitmaps live in
 * pool (max * (4 * 32 + 3) bytes). */
static void random_msg(struct recon_msg *m, struct recon_range *r, size_t max, uint8_t *pool)
{
	size_t used = 0;

	m->request = random_range(2);
	m->flags = 0;
	m->since = (int64_t)random_range(1000);
	m->until = m->since + 1 + (int64_t)random_range(1000);
	m->nranges = random_bounds(r, 1 + random_range(max), m->request ? m->since : 0,
				   m->request ? m->until : INT64_MAX);
	m->ranges = r;
	for (size_t i = 0; i < m->nranges; i++) {
		r[i].mode = (enum recon_mode)random_range(m->request ? 3 : 4);
		random_bytes(r[i].fp, sizeof(r[i].fp));
		if (r[i].mode == RECON_IDLIST || r[i].mode == RECON_IDLIST_REPLY) {
			r[i].nids = random_range(4);
			r[i].ids = pool + used;
			random_bytes(pool + used, r[i].nids * 32);
			used += r[i].nids * 32;
		}
		if (r[i].mode == RECON_IDLIST_REPLY) {
			uint8_t *bm = pool + used;
			r[i].n = random_range(20);
			memset(bm, 0, (r[i].n + 7) / 8);
			for (size_t k = 0; k < r[i].n; k++)
				bm[k / 8] |= (uint8_t)(random_range(2) << (k % 8));
			r[i].bitmap = bm;
			used += (r[i].n + 7) / 8;
		}
	}
}

static void test_roundtrip(void **state)
{
	struct recon_range r[16];
	uint8_t pool[16 * (4 * 32 + 3)];
	(void)state;

	for (int run = 0; run < ROUNDTRIP_RUNS; run++) {
		struct recon_msg m, d;
		struct bytebuf b, again;
		random_msg(&m, r, 16, pool);
		bytebuf_init(&b, RECON_MAX_PAYLOAD);
		bytebuf_init(&again, RECON_MAX_PAYLOAD);
		recon_encode(&b, &m);
		assert_true(bytebuf_ok(&b));
		assert_int_equal(recon_decode(&d, m.request, b.data, b.len), 0);
		assert_int_equal(d.nranges, m.nranges);
		recon_encode(&again, &d);
		assert_int_equal(again.len, b.len);
		assert_memory_equal(again.data, b.data, b.len);
		/* Every strict prefix is truncated; one more byte is trailing. */
		for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 16) {
			struct recon_msg t;
			assert_int_equal(recon_decode(&t, m.request, b.data, cut), -1);
		}
		bytebuf_u8(&b, 0);
		struct recon_msg t;
		assert_int_equal(recon_decode(&t, m.request, b.data, b.len), -1);
		recon_msg_clear(&d);
		bytebuf_free(&b);
		bytebuf_free(&again);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_order),      cmocka_unit_test(test_bound_between),
		cmocka_unit_test(test_codec_vectors),    cmocka_unit_test(test_invalid_vectors),
		cmocka_unit_test(test_limits_and_flags), cmocka_unit_test(test_roundtrip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
