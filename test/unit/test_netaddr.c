/* Unit tests for net/netaddr: parsing, formatting, classification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "net/netaddr.h"

static void roundtrip(const char *in, uint16_t defport, const char *expect)
{
	struct netaddr a;
	char out[NETADDR_STRLEN];
	if (netaddr_parse(&a, in, defport) != 0)
		fail_msg("'%s' did not parse", in);
	netaddr_format(&a, out, sizeof(out));
	if (strcmp(out, expect) != 0)
		fail_msg("'%s' formatted as '%s', expected '%s'", in, out, expect);
}

static void test_parse_format(void **state)
{
	(void)state;
	roundtrip("1.2.3.4", 9733, "1.2.3.4:9733");
	roundtrip("1.2.3.4:5", 9733, "1.2.3.4:5");
	roundtrip("::1", 7, "[::1]:7");
	roundtrip("[::1]:8", 7, "[::1]:8");
	roundtrip("[2001:db8::1]:65535", 7, "[2001:db8::1]:65535");
	roundtrip("::ffff:10.0.0.1", 7, "10.0.0.1:7");
}

static void test_parse_rejects(void **state)
{
	(void)state;
	const char *bad[] = {"",     "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:x",
			     "[::1", "[::1]x",   "[]:5",      "example.com",   "1.2.3.4.5",
			     ":5",   "[::1]:-1", "256.1.1.1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netaddr a;
		if (netaddr_parse(&a, bad[i], 1) == 0)
			fail_msg("'%s' should not parse", bad[i]);
	}
}

static void test_split_host_port(void **state)
{
	(void)state;
	char host[300];
	uint16_t port;
	assert_int_equal(netaddr_split_host_port("example.com:1234", host, sizeof(host), &port, 1),
			 0);
	assert_string_equal(host, "example.com");
	assert_int_equal(port, 1234);
	assert_int_equal(netaddr_split_host_port("seed.example", host, sizeof(host), &port, 77), 0);
	assert_int_equal(port, 77);
	char small[4];
	assert_int_equal(netaddr_split_host_port("toolong:1", small, sizeof(small), &port, 1), -1);
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(netaddr_split_host_port(longname, host, sizeof(host), &port, 1), -1);
}

static void test_classify(void **state)
{
	(void)state;
	struct netaddr a, b;
	assert_int_equal(netaddr_parse(&a, "127.0.0.5:1", 1), 0);
	assert_true(netaddr_is_loopback(&a));
	assert_string_equal(netaddr_network_name(&a), "ipv4");
	assert_int_equal(netaddr_parse(&b, "::ffff:127.0.0.5", 2), 0);
	assert_true(netaddr_same_ip(&a, &b));
	assert_true(netaddr_is_loopback(&b));
	assert_string_equal(netaddr_network_name(&b), "ipv4");
	assert_int_equal(netaddr_parse(&b, "::1", 2), 0);
	assert_true(netaddr_is_loopback(&b));
	assert_false(netaddr_same_ip(&a, &b));
	assert_string_equal(netaddr_network_name(&b), "ipv6");
	assert_int_equal(netaddr_parse(&b, "8.8.8.8", 2), 0);
	assert_false(netaddr_is_loopback(&b));
	assert_int_equal(netaddr_port(&b), 2);
}

static void test_shared_loopback(void **state)
{
	(void)state;
	static const char *const shared[] = {"127.0.0.1:8", "::ffff:127.0.0.1", "[::1]:5"};
	static const char *const not_shared[] = {
		"127.0.0.2", "127.6.0.1:3", "127.0.1.1", "10.0.0.1", "::2", "::ffff:127.0.0.5",
	};
	struct netaddr a;
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		assert_int_equal(netaddr_parse(&a, shared[i], 1), 0);
		assert_true(netaddr_is_shared_loopback(&a));
	}
	for (size_t i = 0; i < sizeof(not_shared) / sizeof(not_shared[0]); i++) {
		assert_int_equal(netaddr_parse(&a, not_shared[i], 1), 0);
		assert_false(netaddr_is_shared_loopback(&a));
	}
	memset(&a, 0, sizeof(a));
	assert_false(netaddr_is_shared_loopback(&a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),    cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_split_host_port), cmocka_unit_test(test_classify),
		cmocka_unit_test(test_shared_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
