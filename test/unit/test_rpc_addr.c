/* Unit tests for the address-book commands of rpc/net: getnodeaddresses, getaddrmaninfo and
 * addpeeraddress through rpc_server_execute, on a node whose address book is a real in-memory
 * addrman (fixed key, the node's mocked clock, seeded randomness). Checks result shapes and
 * values against what the book holds, the count and network filters with the 2,500 cap, every
 * argument error, regtest-only addpeeraddress, and the -31 a node without a network gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "net/addrman.h"
#include "node/context.h"
#include "rpc/auth.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"
#include "wire/messages.h"

#include "unit_util.h"

/* As in test_rpc_server.c: the real one is in the node library, not linked here. */
void node_request_shutdown(struct node *node)
{
	node->shutdown_requested = true;
}

#define T0   1700000000 /* the node's mock time */
#define HOUR 3600
#define DAY  86400

static const uint8_t test_key[ADDRMAN_KEY_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1};

struct fixture {
	struct node node; /* node.addrman: the book the commands read */
	struct rpc_auth *auth;
	struct rpc_server *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || random_init() != 0)
		return -1;
	random_seed_insecure(5);
	unit_node_defaults(&f->node);
	clock_set_mock(&f->node.clock, T0);
	f->node.base = event_base_new();
	f->node.addrman = addrman_new(test_key, &f->node.clock, true);
	f->auth = unit_rpc_auth();
	if (f->node.base == NULL || f->node.addrman == NULL || f->auth == NULL)
		return -1;
	f->s = unit_rpc_server(f->node.base, &f->node, f->auth);
	if (f->s == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rpc_server_free(f->s);
	addrman_free(f->node.addrman);
	rpc_auth_free(f->auth);
	event_base_free(f->node.base);
	free(f);
	log_shutdown();
	return 0;
}

/* ---- calling ---------------------------------------------------------------------------- */

/* The result of method(params) must print as expected (compact JSON). */
static void expect_result(struct fixture *f, const char *method, const char *params,
			  const char *expected)
{
	json_t *r = unit_rpc_call_ok(f->s, method, params);
	unit_assert_json(r, expected);
	json_decref(r);
}

/* ---- the book ----------------------------------------------------------------------------- */

/* The routable IPv4 address <20 + i / 256>.<i % 256>.0.1, heard of age seconds ago: each in
 * its own /16 group (i below 3,000). */
static struct peer_addr v4(unsigned i, uint16_t port, int64_t age)
{
	struct peer_addr a = {.net = PEER_NET_IPV4, .addrlen = 4, .port = port};
	a.addr[0] = (uint8_t)(20 + i / 256);
	a.addr[1] = (uint8_t)(i % 256);
	a.addr[3] = 1;
	a.time = (uint32_t)(T0 - age);
	a.services = NODE_MSGSTORE;
	return a;
}

/* A 32-byte-key address of net (Tor v3 or I2P) with key bytes all b. */
static struct peer_addr key_addr(uint8_t net, uint8_t b, uint16_t port)
{
	struct peer_addr a = {.net = net, .addrlen = 32, .port = port};
	memset(a.addr, b, 32);
	a.time = (uint32_t)(T0 - HOUR);
	a.services = 0;
	return a;
}

/* Add a to the book as told by a peer in a's own /16 (sources of many groups keep the new
 * buckets spread). Returns the placements made. */
static size_t add(struct fixture *f, const struct peer_addr *a)
{
	struct peer_addr source = {.net = PEER_NET_IPV4, .addrlen = 4, .addr = {20, 0, 0, 2}};
	if (a->net == PEER_NET_IPV4)
		memcpy(source.addr, a->addr, 2);
	return addrman_add(f->node.addrman, a, 1, &source, 0);
}

/* The getaddrmaninfo object of one network. */
static void counts_json(char *out, size_t len, const char *name, size_t new_count,
			size_t tried_count)
{
	snprintf(out, len, "\"%s\":{\"new\":%zu,\"tried\":%zu,\"total\":%zu}", name, new_count,
		 tried_count, new_count + tried_count);
}

/* getaddrmaninfo must equal what addrman_counts says, network by network. */
static void check_addrmaninfo(struct fixture *f)
{
	static const uint8_t nets[] = {PEER_NET_IPV4, PEER_NET_IPV6,  PEER_NET_TORV3,
				       PEER_NET_I2P,  PEER_NET_CJDNS, 0};
	char expected[1024] = "{", one[128];
	for (size_t i = 0; i < sizeof(nets); i++) {
		size_t n, t;
		addrman_counts(f->node.addrman, nets[i], &n, &t);
		counts_json(one, sizeof(one), nets[i] ? peer_net_name(nets[i]) : "all_networks", n,
			    t);
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s",
			 i > 0 ? "," : "", one);
	}
	snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "}");
	expect_result(f, "getaddrmaninfo", "[]", expected);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_p2p_disabled(void **state)
{
	struct fixture *f = *state;
	struct addrman *am = f->node.addrman;
	static const char *const calls[][2] = {
		{"getnodeaddresses", "[]"},
		{"getnodeaddresses", "[0,\"ipv4\"]"},
		{"getaddrmaninfo", "[]"},
		{"addpeeraddress", "[\"1.2.3.4\",9733]"},
	};
	f->node.addrman = NULL;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		unit_rpc_call_err(f->s, calls[i][0], calls[i][1], RPC_CLIENT_P2P_DISABLED,
				  "Error: Peer-to-peer functionality missing or disabled");
	/* argument errors still come first */
	unit_rpc_call_err(f->s, "getnodeaddresses", "[-1]", RPC_INVALID_PARAMETER,
			  "Address count out of range");
	unit_rpc_call_err(f->s, "getnodeaddresses", "[1,\"tor\"]", RPC_INVALID_PARAMETER,
			  "Network not recognized: tor");
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"nonsense\",9733]", RPC_INVALID_PARAMETER,
			  "Invalid address: nonsense");
	f->node.addrman = am;
}

static void test_getaddrmaninfo(void **state)
{
	struct fixture *f = *state;
	expect_result(f, "getaddrmaninfo", "[]",
		      "{\"ipv4\":{\"new\":0,\"tried\":0,\"total\":0},"
		      "\"ipv6\":{\"new\":0,\"tried\":0,\"total\":0},"
		      "\"onion\":{\"new\":0,\"tried\":0,\"total\":0},"
		      "\"i2p\":{\"new\":0,\"tried\":0,\"total\":0},"
		      "\"cjdns\":{\"new\":0,\"tried\":0,\"total\":0},"
		      "\"all_networks\":{\"new\":0,\"tried\":0,\"total\":0}}");

	/* 3 IPv4 (one of them tried), 1 IPv6, 2 onion, 1 I2P, 1 CJDNS */
	struct peer_addr a[8] = {v4(1, 9733, HOUR), v4(2, 9733, HOUR), v4(3, 9733, HOUR)};
	assert_int_equal(peer_addr_parse(&a[3], "2a01:4f8::1", 9733), 0);
	a[4] = key_addr(PEER_NET_TORV3, 0x11, 9733);
	a[5] = key_addr(PEER_NET_TORV3, 0x22, 9733);
	a[6] = key_addr(PEER_NET_I2P, 0x33, 0);
	a[7] = (struct peer_addr){.net = PEER_NET_CJDNS,
				  .addrlen = 16,
				  .addr = {0xfc, 1, 2, 3},
				  .port = 9733,
				  .time = T0 - HOUR};
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(add(f, &a[i]), a[i].port != 0 ? 1 : 0);
	assert_int_equal(addrman_good(f->node.addrman, &a[0]), ADDRMAN_GOOD_MOVED);

	json_t *r = unit_rpc_call_ok(f->s, "getaddrmaninfo", "[]");
	char expected[1024];
	snprintf(expected, sizeof(expected),
		 "{\"ipv4\":{\"new\":2,\"tried\":1,\"total\":3},"
		 "\"ipv6\":{\"new\":1,\"tried\":0,\"total\":1},"
		 "\"onion\":{\"new\":2,\"tried\":0,\"total\":2},"
		 "\"i2p\":{\"new\":0,\"tried\":0,\"total\":0},"
		 "\"cjdns\":{\"new\":1,\"tried\":0,\"total\":1},"
		 "\"all_networks\":{\"new\":6,\"tried\":1,\"total\":7}}");
	unit_assert_json(r, expected);
	json_decref(r);
	check_addrmaninfo(f);
	/* it takes no arguments */
	unit_rpc_call_err(f->s, "getaddrmaninfo", "[1]", RPC_INVALID_PARAMS, "");
}

/* Whether entry e of getnodeaddresses is a (the book keeps time and services as added). */
static bool entry_is(const json_t *e, const struct peer_addr *a)
{
	char host[PEER_ADDR_STRLEN];
	peer_addr_format_host(a, host, sizeof(host));
	const char *address = json_string_value(json_object_get(e, "address"));
	return address != NULL && strcmp(address, host) == 0 &&
	       json_integer_value(json_object_get(e, "port")) == a->port &&
	       json_integer_value(json_object_get(e, "time")) == a->time &&
	       json_integer_value(json_object_get(e, "services")) == (json_int_t)a->services &&
	       strcmp(json_string_value(json_object_get(e, "network")), peer_net_name(a->net)) == 0;
}

/* The index in a[0..n) of entry e, failing when it is none of them. */
static size_t find_entry(const json_t *e, const struct peer_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (entry_is(e, &a[i]))
			return i;
	char *s = json_dumps(e, JSON_COMPACT);
	fail_msg("entry %s is not in the book", s);
	free(s);
	return n;
}

/* getnodeaddresses(params) returns expected_count distinct entries, each one of a[0..n). */
static void expect_addresses(struct fixture *f, const char *params, const struct peer_addr *a,
			     size_t n, size_t expected_count)
{
	json_t *r = unit_rpc_call_ok(f->s, "getnodeaddresses", params);
	if (json_array_size(r) != expected_count)
		fail_msg("getnodeaddresses %s: %zu entries, expected %zu", params,
			 json_array_size(r), expected_count);
	bool *seen = calloc(n, sizeof(*seen));
	assert_non_null(seen);
	size_t i;
	const json_t *e;
	json_array_foreach(r, i, e)
	{
		size_t k = find_entry(e, a, n);
		assert_false(seen[k]);
		seen[k] = true;
	}
	free(seen);
	json_decref(r);
}

static void test_getnodeaddresses(void **state)
{
	struct fixture *f = *state;
	expect_result(f, "getnodeaddresses", "[]", "[]");
	expect_result(f, "getnodeaddresses", "[0]", "[]");

	/* N4 IPv4 addresses (one whose slot is taken by an earlier one is skipped), then one of
	 * each other network */
	enum { N4 = 40 };
	struct peer_addr a[N4 + 3];
	for (unsigned i = 0, n = 0; n < N4; i++) {
		a[n] = v4(i, (uint16_t)(9000 + i), (int64_t)i * 60);
		n += (unsigned)add(f, &a[n]);
	}
	assert_int_equal(peer_addr_parse(&a[N4], "2a01:4f8::1", 9733), 0);
	a[N4].time = T0 - DAY;
	a[N4].services = NODE_MSGSTORE | (UINT64_C(1) << 10);
	a[N4 + 1] = key_addr(PEER_NET_TORV3, 0x5a, 9733);
	a[N4 + 2] = key_addr(PEER_NET_I2P, 0xa5, 9733);
	for (size_t i = N4; i < N4 + 3; i++)
		assert_int_equal(add(f, &a[i]), 1);
	/* an address not heard of in 40 days is terrible: in the book, never handed out */
	struct peer_addr old = v4(200, 9733, 40 * DAY);
	assert_int_equal(add(f, &old), 1);
	assert_int_equal(addrman_size(f->node.addrman), N4 + 4);

	/* the shape of one entry: keys in order, values as the book holds them */
	json_t *r = unit_rpc_call_ok(f->s, "getnodeaddresses", "[]");
	assert_int_equal(json_array_size(r), 1);
	const char *k;
	const json_t *v;
	char keys[128] = "";
	json_object_foreach(json_array_get(r, 0), k, v)
	{
		(void)v;
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s",
			 keys[0] ? "," : "", k);
	}
	assert_string_equal(keys, "time,services,address,port,network");
	json_decref(r);
	expect_addresses(f, "[]", a, N4 + 3, 1);

	/* counts: 0 and anything above the book's size give every good address */
	expect_addresses(f, "[5]", a, N4 + 3, 5);
	expect_addresses(f, "[0]", a, N4 + 3, N4 + 3);
	expect_addresses(f, "[1000000]", a, N4 + 3, N4 + 3);

	/* the network filter */
	expect_addresses(f, "[0,\"ipv4\"]", a, N4, N4);
	expect_addresses(f, "[3,\"ipv4\"]", a, N4, 3);
	expect_addresses(f, "[0,\"ipv6\"]", &a[N4], 1, 1);
	expect_addresses(f, "[0,\"onion\"]", &a[N4 + 1], 1, 1);
	expect_addresses(f, "{\"network\":\"i2p\",\"count\":0}", &a[N4 + 2], 1, 1);
	expect_result(f, "getnodeaddresses", "[0,\"cjdns\"]", "[]");
	expect_addresses(f, "{\"network\":\"ipv4\"}", a, N4, 1);

	/* how the addresses read */
	r = unit_rpc_call_ok(f->s, "getnodeaddresses", "[0,\"ipv6\"]");
	unit_assert_json(r, "[{\"time\":1699913600,\"services\":1025,\"address\":\"2a01:4f8::1\","
			    "\"port\":9733,\"network\":\"ipv6\"}]");
	json_decref(r);
	r = unit_rpc_call_ok(f->s, "getnodeaddresses", "[0,\"onion\"]");
	const char *onion = json_string_value(json_object_get(json_array_get(r, 0), "address"));
	assert_non_null(onion);
	assert_int_equal(strlen(onion), 56 + strlen(".onion"));
	assert_string_equal(onion + 56, ".onion");
	json_decref(r);

	/* errors */
	unit_rpc_call_err(f->s, "getnodeaddresses", "[-1]", RPC_INVALID_PARAMETER,
			  "Address count out of range");
	unit_rpc_call_err(f->s, "getnodeaddresses", "[1,\"tor\"]", RPC_INVALID_PARAMETER,
			  "Network not recognized: tor");
	unit_rpc_call_err(f->s, "getnodeaddresses", "[1,\"unknown\"]", RPC_INVALID_PARAMETER,
			  "Network not recognized: unknown");
	unit_rpc_call_err(f->s, "getnodeaddresses", "[1,\"\"]", RPC_INVALID_PARAMETER,
			  "Network not recognized: ");
	unit_rpc_call_err(f->s, "getnodeaddresses", "[1,\"IPV4\"]", RPC_INVALID_PARAMETER,
			  "Network not recognized: IPV4");
	unit_rpc_call_err(f->s, "getnodeaddresses", "[\"all\"]", RPC_TYPE_ERROR, "count");
	unit_rpc_call_err(f->s, "getnodeaddresses", "[1,4]", RPC_TYPE_ERROR, "network");
	unit_rpc_call_err(f->s, "getnodeaddresses", "[1,\"ipv4\",3]", RPC_INVALID_PARAMS, "");
}

/* No more than 2,500 entries, whatever the count. */
static void test_getnodeaddresses_cap(void **state)
{
	struct fixture *f = *state;
	enum { N = 3000 };
	for (unsigned i = 0; i < N; i++) {
		struct peer_addr a = v4(i, 9733, HOUR);
		add(f, &a);
	}
	/* a few may have lost their slot to an earlier one; far more than the cap stay */
	assert_true(addrman_size(f->node.addrman) > 2600);
	static const char *const params[] = {"[0]", "[2500]", "[2501]", "[100000]", "[0,\"ipv4\"]"};
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		json_t *r = unit_rpc_call_ok(f->s, "getnodeaddresses", params[i]);
		assert_int_equal(json_array_size(r), 2500);
		json_decref(r);
	}
	json_t *r = unit_rpc_call_ok(f->s, "getnodeaddresses", "[2499]");
	assert_int_equal(json_array_size(r), 2499);
	json_decref(r);
}

static void test_addpeeraddress(void **state)
{
	struct fixture *f = *state;
	struct addrman_info info;
	struct peer_addr a;

	/* new */
	expect_result(f, "addpeeraddress", "[\"1.2.3.4\",9733]", "{\"success\":true}");
	assert_int_equal(peer_addr_parse(&a, "1.2.3.4", 9733), 0);
	assert_int_equal(addrman_lookup(f->node.addrman, &a, &info), 1);
	assert_false(info.tried);
	assert_int_equal(info.addr.time, T0);
	assert_int_equal(info.addr.services, NODE_MSGSTORE);
	char source[PEER_ADDR_STRLEN];
	peer_addr_format_host(&info.source, source, sizeof(source));
	assert_string_equal(source, "127.0.0.1");
	expect_result(f, "getnodeaddresses", "[0]",
		      "[{\"time\":1700000000,\"services\":1,\"address\":\"1.2.3.4\",\"port\":9733,"
		      "\"network\":\"ipv4\"}]");

	/* tried, named; an IPv4-mapped IPv6 address is IPv4 */
	expect_result(f, "addpeeraddress",
		      "{\"address\":\"::ffff:5.6.7.8\",\"port\":1,\"tried\":true}",
		      "{\"success\":true}");
	assert_int_equal(peer_addr_parse(&a, "5.6.7.8", 1), 0);
	assert_int_equal(addrman_lookup(f->node.addrman, &a, &info), 1);
	assert_true(info.tried);
	/* other networks */
	expect_result(f, "addpeeraddress", "[\"2a01:4f8::2\",65535,false]", "{\"success\":true}");
	struct peer_addr onion = key_addr(PEER_NET_TORV3, 0x42, 0);
	char host[PEER_ADDR_STRLEN], params[256];
	peer_addr_format_host(&onion, host, sizeof(host));
	snprintf(params, sizeof(params), "[\"%s\",9733]", host);
	expect_result(f, "addpeeraddress", params, "{\"success\":true}");
	/* the same onion address with a port is refused: the port is its own argument */
	snprintf(params, sizeof(params), "[\"%s:9733\",9733]", host);
	unit_rpc_call_err(f->s, "addpeeraddress", params, RPC_INVALID_PARAMETER, "Invalid address");
	check_addrmaninfo(f);
	expect_result(f, "getaddrmaninfo", "[]",
		      "{\"ipv4\":{\"new\":1,\"tried\":1,\"total\":2},"
		      "\"ipv6\":{\"new\":1,\"tried\":0,\"total\":1},"
		      "\"onion\":{\"new\":1,\"tried\":0,\"total\":1},"
		      "\"i2p\":{\"new\":0,\"tried\":0,\"total\":0},"
		      "\"cjdns\":{\"new\":0,\"tried\":0,\"total\":0},"
		      "\"all_networks\":{\"new\":3,\"tried\":1,\"total\":4}}");

	/* marking an address of the book tried later */
	expect_result(f, "addpeeraddress", "[\"9.9.9.9\",9733]", "{\"success\":true}");
	assert_int_equal(peer_addr_parse(&a, "9.9.9.9", 9733), 0);
	assert_int_equal(addrman_good(f->node.addrman, &a), ADDRMAN_GOOD_MOVED);
	assert_int_equal(addrman_lookup(f->node.addrman, &a, &info), 1);
	assert_true(info.tried);

	/* bad arguments */
	static const char *const bad_addresses[] = {
		"nonsense", "",          "1.2.3.4:9733", "[2a01:4f8::3]:9733",
		"1.2.3",    "256.1.1.1", "0.0.0.0",      "example.com",
	};
	for (size_t i = 0; i < sizeof(bad_addresses) / sizeof(bad_addresses[0]); i++) {
		char expected[128];
		snprintf(params, sizeof(params), "[\"%s\",9733]", bad_addresses[i]);
		snprintf(expected, sizeof(expected), "Invalid address: %s", bad_addresses[i]);
		unit_rpc_call_err(f->s, "addpeeraddress", params, RPC_INVALID_PARAMETER, expected);
	}
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"1.2.3.5\",0]", RPC_INVALID_PARAMETER,
			  "Invalid port: 0");
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"1.2.3.5\",-1]", RPC_INVALID_PARAMETER,
			  "Invalid port: -1");
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"1.2.3.5\",65536]", RPC_INVALID_PARAMETER,
			  "Invalid port: 65536");
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"1.2.3.5\"]", RPC_INVALID_PARAMS,
			  "Missing required parameter");
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"1.2.3.5\",\"9733\"]", RPC_TYPE_ERROR, "port");
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"1.2.3.5\",9733,1]", RPC_TYPE_ERROR, "tried");
	unit_rpc_call_err(f->s, "addpeeraddress", "[1,9733]", RPC_TYPE_ERROR, "address");
	assert_int_equal(addrman_size(f->node.addrman), 5);

	/* a book that refuses the address (local addresses outside regtest's book) */
	struct addrman *am = f->node.addrman;
	f->node.addrman = addrman_new(test_key, &f->node.clock, false);
	assert_non_null(f->node.addrman);
	expect_result(f, "addpeeraddress", "[\"127.0.0.1\",9733]", "{\"success\":false}");
	expect_result(f, "addpeeraddress", "[\"192.168.1.1\",9733,true]", "{\"success\":false}");
	assert_int_equal(addrman_size(f->node.addrman), 0);
	addrman_free(f->node.addrman);
	f->node.addrman = am;

	/* regtest only, checked before anything else */
	f->node.params = netparams_get(NET_MAIN);
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"1.2.3.6\",9733]", RPC_MISC_ERROR,
			  "addpeeraddress is for regression testing (-regtest mode) only");
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"nonsense\",0]", RPC_MISC_ERROR,
			  "-regtest mode");
	f->node.params = netparams_get(NET_TESTNET);
	unit_rpc_call_err(f->s, "addpeeraddress", "[\"1.2.3.6\",9733]", RPC_MISC_ERROR,
			  "-regtest mode");
	f->node.params = netparams_get(NET_REGTEST);
	assert_int_equal(addrman_size(f->node.addrman), 5);
	assert_int_equal(addrman_check(f->node.addrman), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_p2p_disabled),         T(test_getaddrmaninfo), T(test_getnodeaddresses),
		T(test_getnodeaddresses_cap), T(test_addpeeraddress),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
