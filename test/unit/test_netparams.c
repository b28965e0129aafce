/* Unit tests for util/netparams: names, sub-directories, ports, magics and the regtest-only
 * settings, and unknown names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/netparams.h"

static void test_by_name(void **state)
{
	(void)state;
	const struct netparams *m = netparams_by_name("main");
	const struct netparams *t = netparams_by_name("testnet");
	const struct netparams *r = netparams_by_name("regtest");
	assert_non_null(m);
	assert_non_null(t);
	assert_non_null(r);
	assert_ptr_equal(m, netparams_get(NET_MAIN));
	assert_ptr_equal(t, netparams_get(NET_TESTNET));
	assert_ptr_equal(r, netparams_get(NET_REGTEST));
	assert_int_equal(m->id, NET_MAIN);
	assert_int_equal(t->id, NET_TESTNET);
	assert_int_equal(r->id, NET_REGTEST);
	assert_string_equal(m->name, "main");
	assert_string_equal(t->name, "testnet");
	assert_string_equal(r->name, "regtest");
}

static void test_unknown_names(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "Main", "mainnet", "test", "regtest ", "signet"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(netparams_by_name(bad[i]));
	assert_null(netparams_by_name(NULL));
}

static void test_ports_and_subdirs(void **state)
{
	(void)state;
	const struct netparams *m = netparams_get(NET_MAIN);
	const struct netparams *t = netparams_get(NET_TESTNET);
	const struct netparams *r = netparams_get(NET_REGTEST);
	assert_int_equal(m->p2p_port, 9733);
	assert_int_equal(m->rpc_port, 9732);
	assert_int_equal(t->p2p_port, 19733);
	assert_int_equal(t->rpc_port, 19732);
	assert_int_equal(r->p2p_port, 29733);
	assert_int_equal(r->rpc_port, 29732);
	assert_string_equal(m->subdir, "");
	assert_string_equal(t->subdir, "testnet");
	assert_string_equal(r->subdir, "regtest");
	assert_false(m->mocktime_allowed);
	assert_false(t->mocktime_allowed);
	assert_true(r->mocktime_allowed);
}

static void test_magics(void **state)
{
	(void)state;
	/* Bitcoin's magics: ours must never be one of them. */
	static const uint8_t bitcoin[][4] = {
		{0xf9, 0xbe, 0xb4, 0xd9}, /* main */
		{0x0b, 0x11, 0x09, 0x07}, /* testnet3 */
		{0x1c, 0x16, 0x3f, 0x28}, /* testnet4 */
		{0x0a, 0x03, 0xcf, 0x40}, /* signet */
		{0xfa, 0xbf, 0xb5, 0xda}, /* regtest */
	};
	const enum network ids[] = {NET_MAIN, NET_TESTNET, NET_REGTEST};
	for (size_t i = 0; i < 3; i++) {
		const struct netparams *p = netparams_get(ids[i]);
		for (size_t k = 0; k < 4; k++)
			assert_true(p->magic[k] >= 0x80); /* not ASCII text */
		for (size_t k = 0; k < sizeof(bitcoin) / sizeof(bitcoin[0]); k++)
			assert_memory_not_equal(p->magic, bitcoin[k], 4);
		for (size_t j = i + 1; j < 3; j++)
			assert_memory_not_equal(p->magic, netparams_get(ids[j])->magic, 4);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_ports_and_subdirs),
		cmocka_unit_test(test_magics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
