/* Unit tests for msg/validate: every rule, its verdict and whose fault it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crypto/keys.h"
#include "msg/validate.h"
#include "util/random.h"

static const uint8_t seckey[32] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
				   7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
#define NOW 1800000000

static void make(struct sigmsg *m, uint8_t id[32], int64_t created, uint32_t body, int pow)
{
	memset(m, 0, sizeof(*m));
	m->version = SIGMSG_FORMAT_VERSION;
	strcpy(m->topic, "test/topic");
	m->created_at = created;
	m->body_len = body;
	m->body = body ? calloc(1, body) : NULL;
	assert_int_equal(sigmsg_sign(m, id, seckey, pow, 0), 0);
}

static const struct msg_policy policy = {NOW, 3600, 1000, 0};

static void test_valid_and_each_rule(void **state)
{
	(void)state;
	struct sigmsg m;
	uint8_t id[32];
	make(&m, id, NOW, 10, 0);
	assert_int_equal(msg_validate(&m, id, &policy), MSG_VALID);
	/* the edges are inclusive */
	sigmsg_clear(&m);
	make(&m, id, NOW + MSG_MAX_FUTURE_SECS, 1000, 0);
	assert_int_equal(msg_validate(&m, id, &policy), MSG_VALID);
	sigmsg_clear(&m);
	make(&m, id, NOW - 3600, 0, 0);
	assert_int_equal(msg_validate(&m, id, &policy), MSG_VALID);
	sigmsg_clear(&m);

	make(&m, id, NOW + MSG_MAX_FUTURE_SECS + 1, 10, 0);
	assert_int_equal(msg_validate(&m, id, &policy), MSG_TOO_NEW);
	sigmsg_clear(&m);
	make(&m, id, NOW - 3601, 10, 0);
	assert_int_equal(msg_validate(&m, id, &policy), MSG_EXPIRED);
	sigmsg_clear(&m);
	make(&m, id, NOW, 1001, 0);
	assert_int_equal(msg_validate(&m, id, &policy), MSG_TOO_LARGE);
	sigmsg_clear(&m);
}

static void test_pow_and_signature(void **state)
{
	(void)state;
	struct sigmsg m;
	uint8_t id[32];
	struct msg_policy p = policy;
	p.min_pow = 8;
	make(&m, id, NOW, 5, 8);
	assert_true(sigmsg_pow(id) >= 8);
	assert_int_equal(msg_validate(&m, id, &p), MSG_VALID);
	p.min_pow = sigmsg_pow(id) + 1;
	assert_int_equal(msg_validate(&m, id, &p), MSG_LOW_POW);
	p.min_pow = 0;
	/* a flipped signature bit is the sender's fault */
	m.sig[10] ^= 1;
	assert_int_equal(msg_check_policy(&m, id, &p), MSG_VALID);
	assert_int_equal(msg_validate(&m, id, &p), MSG_BAD_SIG);
	m.sig[10] ^= 1;
	/* a changed body changes the id: the old signature does not match the new id */
	m.body[0] ^= 1;
	uint8_t id2[32];
	assert_int_equal(sigmsg_id(id2, &m), 0);
	assert_int_equal(msg_validate(&m, id2, &p), MSG_BAD_SIG);
	sigmsg_clear(&m);
}

static void test_fault_and_names(void **state)
{
	(void)state;
	assert_true(msg_verdict_is_offence(MSG_BAD_SIG));
	assert_true(msg_verdict_is_offence(MSG_MALFORMED));
	assert_false(msg_verdict_is_offence(MSG_VALID));
	assert_false(msg_verdict_is_offence(MSG_TOO_NEW));
	assert_false(msg_verdict_is_offence(MSG_EXPIRED));
	assert_false(msg_verdict_is_offence(MSG_LOW_POW));
	assert_false(msg_verdict_is_offence(MSG_TOO_LARGE));
	assert_string_equal(msg_verdict_name(MSG_BAD_SIG), "bad-signature");
	assert_string_equal(msg_verdict_name(MSG_LOW_POW), "low-pow");
	assert_string_equal(msg_verdict_name(MSG_TOO_LARGE), "too-large");
	assert_string_equal(msg_verdict_name(MSG_EXPIRED), "expired");
	assert_string_equal(msg_verdict_name(MSG_TOO_NEW), "too-new");
	assert_string_equal(msg_verdict_name(MSG_MALFORMED), "malformed");
	assert_string_equal(msg_verdict_name(MSG_VALID), "valid");
}

static int setup(void **state)
{
	(void)state;
	return random_init() == 0 && keys_init() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_each_rule),
		cmocka_unit_test(test_pow_and_signature),
		cmocka_unit_test(test_fault_and_names),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
