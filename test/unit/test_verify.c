/* Unit tests for msg/verify: results come back on the loop thread, in full, with the right
 * verdicts; the pending bound holds; freeing releases undelivered jobs; priority jobs
 * overtake waiting ones; cancelling withdraws waiting jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "crypto/keys.h"
#include "msg/verify.h"
#include "util/clock.h"
#include "util/random.h"

#define NJOBS 200

struct job {
	bool expect;
	bool seen;
	bool valid;
	pthread_t thread;
};

struct results {
	int delivered;
	int released;
	pthread_t loop_thread;
	bool wrong_thread;
};

static void done(void *ctx, void *jp, bool valid)
{
	struct results *r = ctx;
	struct job *j = jp;
	j->seen = true;
	j->valid = valid;
	if (!pthread_equal(pthread_self(), r->loop_thread))
		r->wrong_thread = true;
	r->delivered++;
}

static uint8_t sk[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
			 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* How long a test waits for its results at most (only against a hang: under valgrind, which
 * runs one thread at a time, 200 verifications take tens of seconds). */
#define WAIT_US (120 * 1000000)

static void tick_noop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

/* Run the loop until cond(ctx) or WAIT_US, blocking between events (a loop that spins starves
 * the workers under valgrind); a 50 ms timer bounds each wait. */
static void loop_until(struct event_base *base, bool (*cond)(void *ctx), void *ctx)
{
	struct event *tick = event_new(base, -1, EV_PERSIST, tick_noop, NULL);
	struct timeval tv = {0, 50000};
	assert_non_null(tick);
	event_add(tick, &tv);
	int64_t end = clock_mono_us() + WAIT_US;
	while (!cond(ctx) && clock_mono_us() < end)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(tick);
}

static bool all_delivered(void *ctx)
{
	return ((struct results *)ctx)->delivered >= NJOBS;
}

static bool none_pending(void *ctx)
{
	return verify_pool_pending(ctx) == 0;
}

static void run(int threads)
{
	struct event_base *base = event_base_new();
	struct results r = {0, 0, pthread_self(), false};
	struct verify_pool *vp = verify_pool_new(base, threads, done, &r);
	assert_non_null(vp);
	assert_int_equal(verify_pool_threads(vp), threads);
	uint8_t pub[32];
	assert_int_equal(key_xonly_pubkey(pub, sk), 0);
	static struct job jobs[NJOBS];
	for (int i = 0; i < NJOBS; i++) {
		uint8_t id[32], sig[64];
		random_bytes(id, 32);
		assert_int_equal(key_sign_schnorr(sig, id, sk, NULL), 0);
		jobs[i] = (struct job){.expect = i % 3 != 0};
		if (!jobs[i].expect)
			sig[5] ^= 0x40;
		assert_int_equal(verify_pool_submit(vp, sig, id, pub, &jobs[i], false), 0);
	}
	loop_until(base, all_delivered, &r);
	assert_int_equal(r.delivered, NJOBS);
	assert_false(r.wrong_thread);
	assert_int_equal(verify_pool_pending(vp), 0);
	for (int i = 0; i < NJOBS; i++) {
		assert_true(jobs[i].seen);
		assert_int_equal(jobs[i].valid, jobs[i].expect);
	}
	verify_pool_free(vp, NULL);
	event_base_free(base);
}

static void test_inline(void **state)
{
	(void)state;
	run(0);
}

static void test_one_thread(void **state)
{
	(void)state;
	run(1);
}

static void test_two_threads(void **state)
{
	(void)state;
	run(2);
}

static int released;
static void count_release(void *job)
{
	(void)job;
	released++;
}

static void test_bound_and_release_on_free(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct results r = {0, 0, pthread_self(), false};
	struct verify_pool *vp = verify_pool_new(base, 1, done, &r);
	uint8_t sig[64] = {0}, id[32] = {0}, pub[32] = {0};
	static struct job j;
	int accepted = 0;
	for (int i = 0; i < VERIFY_MAX_PENDING + 10; i++)
		accepted += verify_pool_submit(vp, sig, id, pub, &j, false) == 0;
	/* without running the loop nothing is delivered, so the bound stops the queue */
	assert_int_equal(accepted, VERIFY_MAX_PENDING);
	assert_int_equal(verify_pool_pending(vp), VERIFY_MAX_PENDING);
	released = 0;
	verify_pool_free(vp, count_release);
	assert_int_equal(released, VERIFY_MAX_PENDING);
	assert_int_equal(r.delivered, 0);
	event_base_free(base);
	assert_null(verify_pool_new(NULL, VERIFY_MAX_THREADS + 1, done, &r));
	verify_pool_free(NULL, NULL);
}

/* Ordered deliveries for the priority and cancellation tests. */
#define NLANE 300
static int order[2 * NLANE + 1], norder;

static void done_order(void *ctx, void *jp, bool valid)
{
	int *tag = jp;
	(void)ctx;
	(void)valid;
	order[norder++] = *tag;
}

static void drain(struct event_base *base, struct verify_pool *vp)
{
	loop_until(base, none_pending, vp);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* A priority job overtakes the ordinary ones waiting before it. */
static void test_priority_lane(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct verify_pool *vp = verify_pool_new(base, 1, done_order, NULL);
	uint8_t pub[32], id[32], sig[64];
	static int ordinary = 0, prio = 1;
	assert_int_equal(key_xonly_pubkey(pub, sk), 0);
	random_bytes(id, 32);
	assert_int_equal(key_sign_schnorr(sig, id, sk, NULL), 0);
	norder = 0;
	for (int i = 0; i < NLANE; i++)
		assert_int_equal(verify_pool_submit(vp, sig, id, pub, &ordinary, false), 0);
	assert_int_equal(verify_pool_submit(vp, sig, id, pub, &prio, true), 0);
	drain(base, vp);
	assert_int_equal(norder, NLANE + 1);
	int at = -1;
	for (int i = 0; i < norder; i++)
		if (order[i] == 1)
			at = i;
	/* Only the jobs a worker took while the others were still being queued precede it. */
	assert_true(at >= 0 && at < NLANE / 2);
	verify_pool_free(vp, NULL);
	event_base_free(base);
}

static bool is_tag(void *ctx, void *job)
{
	return *(int *)job == *(int *)ctx;
}

/* Cancelling withdraws the waiting jobs that match, releases each once, and keeps the rest. */
static void test_cancel(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct verify_pool *vp = verify_pool_new(base, 1, done_order, NULL);
	uint8_t pub[32], id[32], sig[64];
	static int a = 2, b = 3;
	assert_int_equal(key_xonly_pubkey(pub, sk), 0);
	random_bytes(id, 32);
	assert_int_equal(key_sign_schnorr(sig, id, sk, NULL), 0);
	norder = 0;
	for (int i = 0; i < NLANE; i++) {
		assert_int_equal(verify_pool_submit(vp, sig, id, pub, &a, i % 2 == 0), 0);
		assert_int_equal(verify_pool_submit(vp, sig, id, pub, &b, i % 2 == 0), 0);
	}
	released = 0;
	size_t n = verify_pool_cancel(vp, is_tag, &a, count_release);
	assert_int_equal((int)n, released);
	assert_true(n > NLANE / 2);
	drain(base, vp);
	assert_int_equal(verify_pool_pending(vp), 0);
	int got_a = 0, got_b = 0;
	for (int i = 0; i < norder; i++) {
		got_a += order[i] == a;
		got_b += order[i] == b;
	}
	assert_int_equal(got_b, NLANE);
	assert_int_equal(got_a + (int)n, NLANE);
	/* Nothing left to withdraw; an inline pool never has waiting jobs. */
	assert_int_equal(verify_pool_cancel(vp, is_tag, &a, count_release), 0);
	verify_pool_free(vp, NULL);
	event_base_free(base);
}

static int setup(void **state)
{
	(void)state;
	evthread_use_pthreads();
	return random_init() == 0 && keys_init() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline),
		cmocka_unit_test(test_one_thread),
		cmocka_unit_test(test_two_threads),
		cmocka_unit_test(test_bound_and_release_on_free),
		cmocka_unit_test(test_priority_lane),
		cmocka_unit_test(test_cancel),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
