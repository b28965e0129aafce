/* Unit tests for msg/recon (catch-up sync sessions), both roles run in one process:
 * - the sessions of the Python reference (test/vectors/recon-vectors.json), byte for byte:
 *   every syncreq and syncresp, the rounds, and have / need in order; they include the cuts at
 *   the payload, range and step-id limits;
 * - identical sets (one round, a few dozen bytes), one side empty, disjoint, one difference,
 *   random differences and windows: have and need are exactly the two set differences;
 * - sets that change between rounds;
 * - bad input and limits: a malformed or out-of-window syncresp, an IDLIST_REPLY answering
 *   nothing we sent, a step with nothing outstanding, a malformed syncreq, and a responder
 *   that never lets the session converge (abandoned at RECON_MAX_ROUNDS). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "msg/recon.h"
#include "msg/reconset.h"
#include "util/bytes.h"
#include "util/random.h"

#include "unit_util.h"

/* The generated items' tag (test_framework/recon.py, vector_item). */
#define VECTOR_TAG "p2pd/recon-vector"
/* A typical window: 14 days from a fixed start. */
#define T0   1700000000
#define SPAN (14 * 24 * 3600)

/* What a whole session produced. */
struct outcome {
	enum recon_status status;
	struct recon_ids have, need; /* over all steps */
	struct recon_stats stats;
	size_t messages;
};

/* Called with every payload in order: syncreq, syncresp, syncreq, ... */
typedef void (*msg_fn)(void *ctx, size_t index, const uint8_t *payload, size_t len);

/* A responder: writes the syncresp for a syncreq into out; returns a recon_status. */
typedef enum recon_status (*respond_fn)(void *ctx, const uint8_t *req, size_t len,
					struct bytebuf *out);

static int setup(void **state)
{
	(void)state;
	if (random_init() != 0)
		return -1;
	random_seed_insecure(13);
	return 0;
}

static void append_ids(struct recon_ids *to, const struct recon_ids *from)
{
	if (from->n == 0)
		return;
	if (to->n + from->n > to->cap) {
		to->cap = 2 * (to->n + from->n);
		to->ids = realloc(to->ids, to->cap * 32);
		assert_non_null(to->ids);
	}
	memcpy(to->ids[to->n], from->ids, from->n * 32);
	to->n += from->n;
}

static void outcome_free(struct outcome *o)
{
	recon_ids_free(&o->have);
	recon_ids_free(&o->need);
}

/* Run a session of a against a responder until it ends; every payload goes to fn. */
static void run_with(struct outcome *o, struct reconset *a, int64_t since, int64_t until,
		     respond_fn respond, void *rctx, msg_fn fn, void *ctx)
{
	struct bytebuf req, resp;
	struct recon_ids have = {0}, need = {0};
	struct recon_session *sess;

	memset(o, 0, sizeof(*o));
	bytebuf_init(&req, RECON_MAX_PAYLOAD);
	bytebuf_init(&resp, RECON_MAX_PAYLOAD);
	sess = recon_initiate(a, since, until, &req);
	assert_non_null(sess);
	for (;;) {
		assert_true(req.len <= RECON_MAX_PAYLOAD);
		if (fn)
			fn(ctx, o->messages, req.data, req.len);
		o->messages++;
		assert_int_equal(respond(rctx, req.data, req.len, &resp), RECON_CONTINUE);
		assert_true(resp.len <= RECON_MAX_PAYLOAD);
		if (fn)
			fn(ctx, o->messages, resp.data, resp.len);
		o->messages++;
		o->status = recon_initiator_step(sess, a, resp.data, resp.len, &req, &have, &need);
		assert_true(have.n <= RECON_MAX_STEP_IDS && need.n <= RECON_MAX_STEP_IDS);
		append_ids(&o->have, &have);
		append_ids(&o->need, &need);
		if (o->status != RECON_CONTINUE)
			break;
	}
	o->stats = *recon_session_stats(sess);
	recon_session_free(sess);
	recon_ids_free(&have);
	recon_ids_free(&need);
	bytebuf_free(&req);
	bytebuf_free(&resp);
}

static enum recon_status honest(void *ctx, const uint8_t *req, size_t len, struct bytebuf *out)
{
	return recon_respond(ctx, req, len, out);
}

static void run(struct outcome *o, struct reconset *a, struct reconset *b, int64_t since,
		int64_t until)
{
	run_with(o, a, since, until, honest, b, NULL, NULL);
}

/* Item i of a generated set (the rule of test_framework/recon.py, vector_item). */
static void vector_item(struct recon_item *it, uint64_t seed, uint64_t i, int64_t t0, int64_t span)
{
	uint8_t buf[sizeof(VECTOR_TAG) - 1 + 16], h[32];
	uint64_t v = 0;

	memcpy(buf, VECTOR_TAG, sizeof(VECTOR_TAG) - 1);
	for (size_t k = 0; k < 8; k++) {
		buf[sizeof(VECTOR_TAG) - 1 + k] = (uint8_t)(seed >> (8 * k));
		buf[sizeof(VECTOR_TAG) - 1 + 8 + k] = (uint8_t)(i >> (8 * k));
	}
	sha256(it->id, buf, sizeof(buf));
	sha256(h, it->id, 32);
	for (size_t k = 8; k > 0; k--)
		v = (v << 8) | h[k - 1];
	it->created_at = t0 + (int64_t)(v % (uint64_t)span);
}

/* Two sets sharing common items, with only_a and only_b items of their own. */
static void make_sets(struct reconset **a, struct reconset **b, uint64_t seed, int64_t t0,
		      int64_t span, size_t common, size_t only_a, size_t only_b)
{
	*a = reconset_new();
	*b = reconset_new();
	assert_non_null(*a);
	assert_non_null(*b);
	for (size_t i = 0; i < common + only_a + only_b; i++) {
		struct recon_item it;
		vector_item(&it, seed, i, t0, span);
		if (i < common + only_a)
			assert_int_equal(reconset_insert(*a, &it), 1);
		if (i < common || i >= common + only_a)
			assert_int_equal(reconset_insert(*b, &it), 1);
	}
}

/* ---- the reference's sessions ---- */

struct expect {
	json_t *messages; /* hex payloads, or NULL */
	json_t *hashes;   /* SHA-256 of each payload, or NULL */
	json_t *sizes;
	const char *name;
};

static void check_message(void *ctx, size_t index, const uint8_t *payload, size_t len)
{
	struct expect *e = ctx;
	char hex[2 * 32 + 1];

	if (e->messages) {
		const char *want = json_string_value(json_array_get(e->messages, index));
		char *got = malloc(2 * len + 1);
		assert_non_null(got);
		hex_encode(got, payload, len);
		if (!want || strcmp(got, want) != 0)
			fail_msg("%s: message %zu differs:\n got  %s\n want %s", e->name, index,
				 got, want ? want : "(none)");
		free(got);
		return;
	}
	uint8_t digest[32];
	sha256(digest, payload, len);
	hex_encode(hex, digest, 32);
	const char *want = json_string_value(json_array_get(e->hashes, index));
	if (!want || strcmp(hex, want) != 0)
		fail_msg("%s: message %zu (%zu bytes, want %lld) differs", e->name, index, len,
			 (long long)json_integer_value(json_array_get(e->sizes, index)));
}

static void check_ids(const char *name, const struct recon_ids *got, const json_t *v,
		      const char *list, const char *digest, const char *count)
{
	json_t *ids = json_object_get(v, list);
	char hex[65];

	assert_int_equal(got->n, json_integer_value(json_object_get(v, count)));
	if (ids) {
		for (size_t i = 0; i < got->n; i++) {
			hex_encode(hex, got->ids[i], 32);
			if (strcmp(hex, json_string_value(json_array_get(ids, i))) != 0)
				fail_msg("%s: %s[%zu] differs", name, list, i);
		}
		return;
	}
	uint8_t d[32];
	sha256(d, got->ids, got->n * 32);
	hex_encode(hex, d, 32);
	if (strcmp(hex, json_string_value(json_object_get(v, digest))) != 0)
		fail_msg("%s: %s differs", name, list);
}

static void test_reference_sessions(void **state)
{
	json_t *vectors = unit_load_vectors("recon-vectors.json");
	json_t *v;
	size_t i;
	(void)state;

	json_array_foreach(json_object_get(vectors, "sessions"), i, v)
	{
		struct reconset *a, *b;
		struct outcome o;
		struct expect e = {.messages = json_object_get(v, "messages"),
				   .hashes = json_object_get(v, "message_sha256"),
				   .sizes = json_object_get(v, "message_sizes"),
				   .name = json_string_value(json_object_get(v, "name"))};
#define NUM(k) json_integer_value(json_object_get(v, k))
		make_sets(&a, &b, (uint64_t)NUM("seed"), NUM("t0"), NUM("span"),
			  (size_t)NUM("common"), (size_t)NUM("only_a"), (size_t)NUM("only_b"));
		run_with(&o, a, NUM("since"), NUM("until"), honest, b, check_message, &e);
		print_message("%-40s rounds %u, bytes %llu + %llu, have %zu, need %zu\n", e.name,
			      o.stats.rounds, (unsigned long long)o.stats.bytes_sent,
			      (unsigned long long)o.stats.bytes_recv, o.have.n, o.need.n);
		assert_int_equal(o.status, RECON_DONE);
		assert_int_equal(o.messages, json_array_size(e.messages ? e.messages : e.hashes));
		assert_int_equal(o.stats.rounds, NUM("rounds"));
		assert_int_equal(o.stats.bytes_sent, NUM("bytes_sent"));
		assert_int_equal(o.stats.bytes_recv, NUM("bytes_recv"));
		check_ids(e.name, &o.have, v, "have", "have_sha256", "have_count");
		check_ids(e.name, &o.need, v, "need", "need_sha256", "need_count");
#undef NUM
		outcome_free(&o);
		reconset_free(a);
		reconset_free(b);
	}
	assert_true(i >= 15);
	json_decref(vectors);
}

/* ---- results ---- */

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* The ids of set s inside [since, until) that are not in t, sorted. */
static void difference(struct recon_ids *out, struct reconset *s, struct reconset *t, int64_t since,
		       int64_t until)
{
	struct recon_bound lo, hi;
	struct reconset_iter it;
	const struct recon_item *x;

	memset(out, 0, sizeof(*out));
	recon_bound_time(&lo, since);
	recon_bound_time(&hi, until);
	reconset_iter_init(&it, s, reconset_position(s, &lo), reconset_position(s, &hi));
	while ((x = reconset_iter_next(&it)) != NULL) {
		struct recon_bound b = {.created_at = x->created_at, .prefix_len = 32};
		memcpy(b.prefix, x->id, 32);
		size_t p = reconset_position(t, &b);
		if (p < reconset_count(t) && recon_item_cmp(reconset_at(t, p), x) == 0)
			continue;
		uint8_t id[1][32];
		memcpy(id[0], x->id, 32);
		struct recon_ids one = {.ids = id, .n = 1};
		append_ids(out, &one);
	}
	if (out->n)
		qsort(out->ids, out->n, 32, cmp_id);
}

static void assert_same_ids(struct recon_ids *got, struct recon_ids *want)
{
	if (got->n)
		qsort(got->ids, got->n, 32, cmp_id);
	assert_int_equal(got->n, want->n);
	if (want->n)
		assert_memory_equal(got->ids, want->ids, want->n * 32);
}

/* A session of a against b ends with have = a \ b and need = b \ a over the window. */
static struct recon_stats check_union(struct reconset *a, struct reconset *b, int64_t since,
				      int64_t until)
{
	struct outcome o;
	struct recon_ids want_have, want_need;

	run(&o, a, b, since, until);
	assert_int_equal(o.status, RECON_DONE);
	difference(&want_have, a, b, since, until);
	difference(&want_need, b, a, since, until);
	assert_same_ids(&o.have, &want_have);
	assert_same_ids(&o.need, &want_need);
	assert_int_equal(o.stats.have, o.have.n);
	assert_int_equal(o.stats.need, o.need.n);
	recon_ids_free(&want_have);
	recon_ids_free(&want_need);
	outcome_free(&o);
	return o.stats;
}

static void test_identical(void **state)
{
	struct reconset *a, *b;
	(void)state;

	make_sets(&a, &b, 100, T0, SPAN, 5000, 0, 0);
	struct recon_stats st = check_union(a, b, T0, T0 + SPAN);
	print_message("identical, 5,000 items: %llu + %llu bytes, %u round\n",
		      (unsigned long long)st.bytes_sent, (unsigned long long)st.bytes_recv,
		      st.rounds);
	assert_int_equal(st.rounds, 1);
	/* One fingerprint out (37 bytes), one SKIP back (5). */
	assert_true(st.bytes_sent + st.bytes_recv < 64);
	reconset_free(a);
	reconset_free(b);
}

static void test_one_side_empty(void **state)
{
	struct reconset *a, *b;
	(void)state;

	make_sets(&a, &b, 101, T0, SPAN, 0, 5000, 0);
	struct recon_stats st = check_union(a, b, T0, T0 + SPAN);
	assert_int_equal(st.have, 5000);
	st = check_union(b, a, T0, T0 + SPAN);
	assert_int_equal(st.need, 5000);
	reconset_free(a);
	reconset_free(b);
}

static void test_differences(void **state)
{
	struct {
		size_t common, only_a, only_b;
	} cases[] = {
		{0, 300, 300}, /* disjoint */
		{3000, 1, 0},  /* one difference */
		{3000, 0, 1},     {0, 0, 0}, {1, 0, 0}, {3, 2, 1}, {5000, 50, 50}, /* 1% */
		{4500, 250, 250},                                                  /* 10% */
		{1000, 3000, 20},
	};
	(void)state;

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct reconset *a, *b;
		make_sets(&a, &b, 200 + k, T0, SPAN, cases[k].common, cases[k].only_a,
			  cases[k].only_b);
		struct recon_stats st = check_union(a, b, T0, T0 + SPAN);
		print_message("%zu common, %zu + %zu: %u rounds, %llu + %llu bytes\n",
			      cases[k].common, cases[k].only_a, cases[k].only_b, st.rounds,
			      (unsigned long long)st.bytes_sent, (unsigned long long)st.bytes_recv);
		reconset_free(a);
		reconset_free(b);
	}
}

/* Windows: only items inside [since, until) take part, on both sides; equal times. */
static void test_windows(void **state)
{
	struct reconset *a, *b;
	(void)state;

	make_sets(&a, &b, 300, 1000, 1000, 2000, 100, 100);
	check_union(a, b, 1000, 2000);
	check_union(a, b, 1200, 1700);
	check_union(a, b, 1999, 2000);
	check_union(a, b, 0, 1000); /* nothing there */
	check_union(b, a, 1500, INT64_MAX);
	reconset_free(a);
	reconset_free(b);

	/* Three distinct times: bounds need id prefixes. */
	make_sets(&a, &b, 301, 1000, 3, 3000, 40, 40);
	check_union(a, b, 1000, 1003);
	check_union(a, b, 1001, 1002);
	reconset_free(a);
	reconset_free(b);
}

/* Items arriving at either side during the session do not break it. */
struct changing {
	struct reconset *a, *b;
	uint64_t next;
};

static enum recon_status changing_responder(void *ctx, const uint8_t *req, size_t len,
					    struct bytebuf *out)
{
	struct changing *c = ctx;
	for (int k = 0; k < 20; k++) {
		struct recon_item it;
		vector_item(&it, 400, c->next++, T0, SPAN);
		reconset_insert(k % 2 ? c->a : c->b, &it);
	}
	return recon_respond(c->b, req, len, out);
}

static void test_changing_sets(void **state)
{
	struct changing c = {.next = 100000};
	struct outcome o;
	(void)state;

	make_sets(&c.a, &c.b, 400, T0, SPAN, 4000, 200, 200);
	run_with(&o, c.a, T0, T0 + SPAN, changing_responder, &c, NULL, NULL);
	assert_int_equal(o.status, RECON_DONE);
	print_message("changing sets: %u rounds, have %zu, need %zu\n", o.stats.rounds, o.have.n,
		      o.need.n);
	/* Everything the initial difference held is found; what arrived may be too. */
	assert_true(o.have.n >= 200 && o.need.n >= 200);
	outcome_free(&o);
	/* Once the arrivals stop, a new session finds exactly the rest. */
	check_union(c.a, c.b, T0, T0 + SPAN);
	reconset_free(c.a);
	reconset_free(c.b);
}

/* ---- bad input and limits ---- */

/* A responder that answers every range with a random FINGERPRINT: nothing ever matches. */
static enum recon_status stubborn(void *ctx, const uint8_t *req, size_t len, struct bytebuf *out)
{
	struct recon_msg m;
	(void)ctx;
	bytebuf_reset(out);
	assert_int_equal(recon_decode(&m, true, req, len), 0);
	for (size_t i = 0; i < m.nranges; i++) {
		m.ranges[i].mode = RECON_FINGERPRINT;
		random_bytes(m.ranges[i].fp, RECON_FP_LEN);
	}
	m.request = false;
	recon_encode(out, &m);
	recon_msg_clear(&m);
	return RECON_CONTINUE;
}

/* A responder that lists one fresh id in the window's first second and never lets the rest
 * agree: every round finds one id to fetch, the last one included. */
static enum recon_status lister(void *ctx, const uint8_t *req, size_t len, struct bytebuf *out)
{
	struct recon_msg m;
	struct recon_range r[2];
	uint8_t id[RECON_ID_LEN];
	(void)ctx;
	bytebuf_reset(out);
	assert_int_equal(recon_decode(&m, true, req, len), 0);
	memset(r, 0, sizeof(r));
	random_bytes(id, sizeof(id));
	recon_bound_time(&r[0].upper, m.since + 1);
	r[0].mode = RECON_IDLIST;
	r[0].ids = id;
	r[0].nids = 1;
	recon_bound_end(&r[1].upper);
	r[1].mode = RECON_FINGERPRINT;
	random_bytes(r[1].fp, RECON_FP_LEN);
	recon_msg_clear(&m);
	struct recon_msg resp = {.request = false, .ranges = r, .nranges = 2};
	recon_encode(out, &resp);
	return RECON_CONTINUE;
}

static void test_rounds_limit(void **state)
{
	struct reconset *a, *b;
	struct outcome o;
	(void)state;

	make_sets(&a, &b, 500, T0, SPAN, 3000, 0, 0);
	run_with(&o, a, T0, T0 + SPAN, stubborn, NULL, NULL, NULL);
	assert_int_equal(o.status, RECON_ERR_ROUNDS);
	assert_int_equal(o.stats.rounds, RECON_MAX_ROUNDS);
	assert_int_equal(o.messages, 2 * RECON_MAX_ROUNDS);
	outcome_free(&o);
	/* The last round's ids are returned with RECON_ERR_ROUNDS and counted, like any round's. */
	run_with(&o, a, T0, T0 + SPAN, lister, NULL, NULL, NULL);
	assert_int_equal(o.status, RECON_ERR_ROUNDS);
	assert_int_equal(o.need.n, RECON_MAX_ROUNDS);
	assert_int_equal(o.stats.need, RECON_MAX_ROUNDS);
	outcome_free(&o);
	reconset_free(a);
	reconset_free(b);
}

/* Start a session of a and return it with the first syncreq in req. */
static struct recon_session *start(struct reconset *a, struct bytebuf *req)
{
	bytebuf_init(req, RECON_MAX_PAYLOAD);
	struct recon_session *s = recon_initiate(a, T0, T0 + SPAN, req);
	assert_non_null(s);
	return s;
}

static void expect_step(struct recon_session *s, struct reconset *a, const uint8_t *p, size_t len,
			enum recon_status want)
{
	struct bytebuf out;
	struct recon_ids have = {0}, need = {0};
	bytebuf_init(&out, RECON_MAX_PAYLOAD);
	assert_int_equal(recon_initiator_step(s, a, p, len, &out, &have, &need), want);
	if (want < 0) {
		assert_int_equal(out.len, 0);
		assert_int_equal(have.n + need.n, 0);
	}
	recon_ids_free(&have);
	recon_ids_free(&need);
	bytebuf_free(&out);
}

static void test_bad_syncresp(void **state)
{
	struct reconset *a, *b;
	struct bytebuf req, resp;
	struct recon_session *s;
	(void)state;

	make_sets(&a, &b, 600, T0, SPAN, 100, 3, 0);
	bytebuf_init(&resp, RECON_MAX_PAYLOAD);

	/* Malformed: the session is over, and a further step is a protocol error. */
	s = start(a, &req);
	expect_step(s, a, (const uint8_t *)"\x01\x00\x00", 3, RECON_ERR_MALFORMED);
	expect_step(s, a, (const uint8_t *)"\x01\x00\x01\x00\x00", 5, RECON_ERR_PROTOCOL);
	recon_session_free(s);
	bytebuf_free(&req);

	/* A bound outside the window: (T0 - 1, "") then END. */
	s = start(a, &req);
	{
		struct recon_range r[2];
		struct recon_msg m = {.ranges = r, .nranges = 2};
		memset(r, 0, sizeof(r));
		recon_bound_time(&r[0].upper, T0 - 1);
		recon_bound_end(&r[1].upper);
		bytebuf_reset(&resp);
		recon_encode(&resp, &m);
		expect_step(s, a, resp.data, resp.len, RECON_ERR_MALFORMED);
	}
	recon_session_free(s);
	bytebuf_free(&req);

	/* An IDLIST_REPLY to our FINGERPRINT (we sent no IDLIST). */
	s = start(a, &req);
	{
		struct recon_range r = {
			.mode = RECON_IDLIST_REPLY, .n = 0, .bitmap = (const uint8_t *)""};
		struct recon_msg m = {.ranges = &r, .nranges = 1};
		recon_bound_end(&r.upper);
		bytebuf_reset(&resp);
		recon_encode(&resp, &m);
		expect_step(s, a, resp.data, resp.len, RECON_ERR_PROTOCOL);
	}
	recon_session_free(s);
	bytebuf_free(&req);

	/* The honest answer works on a fresh session; the responder refuses a malformed
	 * syncreq with nothing written. */
	s = start(a, &req);
	assert_int_equal(recon_respond(b, req.data, req.len, &resp), RECON_CONTINUE);
	assert_int_equal(recon_respond(b, req.data, req.len - 1, &resp), RECON_ERR_MALFORMED);
	assert_int_equal(resp.len, 0);
	recon_session_free(s);
	recon_session_free(NULL);
	bytebuf_free(&req);

	/* Bad windows are refused up front. */
	bytebuf_init(&req, RECON_MAX_PAYLOAD);
	assert_null(recon_initiate(a, 5, 5, &req));
	assert_null(recon_initiate(a, -1, 5, &req));
	assert_int_equal(req.len, 0);
	assert_string_equal(recon_status_name(RECON_ERR_ROUNDS), "rounds");
	assert_string_equal(recon_status_name(RECON_DONE), "done");
	bytebuf_free(&req);
	bytebuf_free(&resp);
	reconset_free(a);
	reconset_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_sessions),
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_one_side_empty),
		cmocka_unit_test(test_differences),
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_changing_sets),
		cmocka_unit_test(test_rounds_limit),
		cmocka_unit_test(test_bad_syncresp),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
