/* Unit tests for net/reconnectgate with a driven clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net/reconnectgate.h"

#define SEC 1000000LL

static void ip_of(uint8_t ip[16], uint32_t n)
{
	memset(ip, 0, 16);
	ip[10] = ip[11] = 0xff;
	ip[12] = (uint8_t)(n >> 24);
	ip[13] = (uint8_t)(n >> 16);
	ip[14] = (uint8_t)(n >> 8);
	ip[15] = (uint8_t)n;
}

static void test_burst_then_one_per_interval(void **state)
{
	(void)state;
	struct reconnect_gate *g = reconnect_gate_new(
		RECONNECT_GATE_SLOTS, RECONNECT_GATE_PER_SECOND, RECONNECT_GATE_BURST);
	assert_non_null(g);
	uint8_t a[16], b[16];
	ip_of(a, 0x7f420101);
	ip_of(b, 0x7f420201);
	int64_t t = 1000 * SEC;
	for (int i = 0; i < 3; i++)
		assert_true(reconnect_gate_admit(g, a, t + i));
	assert_false(reconnect_gate_admit(g, a, t + 3));
	assert_false(reconnect_gate_admit(g, a, t + 5 * SEC));
	/* another address is not affected */
	assert_true(reconnect_gate_admit(g, b, t + 5 * SEC));
	/* refused attempts took nothing: 10 s after the burst, one more */
	assert_true(reconnect_gate_admit(g, a, t + 10 * SEC + 3));
	assert_false(reconnect_gate_admit(g, a, t + 10 * SEC + 4));
	assert_false(reconnect_gate_admit(g, a, t + 19 * SEC));
	assert_true(reconnect_gate_admit(g, a, t + 20 * SEC + 4));
	/* an hour later: the burst again, never more */
	for (int i = 0; i < 3; i++)
		assert_true(reconnect_gate_admit(g, a, t + 3600 * SEC));
	assert_false(reconnect_gate_admit(g, a, t + 3600 * SEC));
	assert_int_equal(reconnect_gate_size(g), 2);
	reconnect_gate_free(g);
}

static void test_table_is_bounded(void **state)
{
	(void)state;
	struct reconnect_gate *g = reconnect_gate_new(64, 0.1, 1);
	assert_non_null(g);
	uint8_t ip[16];
	/* 10,000 addresses: the table holds at most 64 */
	for (uint32_t n = 0; n < 10000; n++) {
		ip_of(ip, 0x0a000000 + n);
		assert_true(reconnect_gate_admit(g, ip, (int64_t)n));
	}
	assert_int_equal(reconnect_gate_size(g), 64);
	/* the most recent address kept its entry: no second connection */
	assert_false(reconnect_gate_admit(g, ip, 10000));
	reconnect_gate_free(g);
}

static void test_recent_entries_survive_others(void **state)
{
	(void)state;
	struct reconnect_gate *g = reconnect_gate_new(RECONNECT_GATE_SLOTS, 0.1, 1);
	assert_non_null(g);
	uint8_t offender[16], ip[16];
	ip_of(offender, 0x01020304);
	assert_true(reconnect_gate_admit(g, offender, 0));
	/* an eighth of the slots taken by others: it keeps its entry (eviction needs all
	 * RECONNECT_GATE_PROBE slots of a window taken, vanishingly rare at this load) */
	for (uint32_t n = 0; n < RECONNECT_GATE_SLOTS / 8; n++) {
		ip_of(ip, 0x0b000000 + n);
		assert_true(reconnect_gate_admit(g, ip, 1));
	}
	assert_false(reconnect_gate_admit(g, offender, 2));
	reconnect_gate_free(g);
}

static void test_bad_size(void **state)
{
	(void)state;
	assert_null(reconnect_gate_new(0, 1, 1));
	assert_null(reconnect_gate_new(1000, 1, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_one_per_interval),
		cmocka_unit_test(test_table_is_bounded),
		cmocka_unit_test(test_recent_entries_survive_others),
		cmocka_unit_test(test_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
