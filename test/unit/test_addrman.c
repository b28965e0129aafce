/* Unit tests for net/addrman: address classification, groups and text forms (Tor v3 with its
 * SHA3-256 checksum, I2P), bucket placement bounds for one source group and for one address
 * group in tried, selection and its bias, terrible-address rules, the test-before-evict
 * collision flow, get_addresses limits, and persistence through a real LevelDB (round trip,
 * a corrupt record skipped, a corrupt header, stale records cleaned).
 *
 * Randomness is seeded (random_seed_insecure) and time is mocked, so every run is the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addrman.h"
#include "net/netaddr.h"
#include "store/db.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/random.h"

#include "unit_util.h"

/* Not in the header: the SHA3-256 used for onion checksums, checked here against FIPS 202. */
void addrman_sha3_256(uint8_t out[32], const void *data, size_t len);

#define T0   1700000000 /* mock "now" at the start of each test */
#define HOUR 3600
#define DAY  86400

static struct clock clk;
static const uint8_t test_key[ADDRMAN_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

static int setup(void **state)
{
	(void)state;
	random_seed_insecure(42);
	clock_set_mock(&clk, T0);
	return 0;
}

static struct peer_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct peer_addr p;
	memset(&p, 0, sizeof(p));
	p.net = PEER_NET_IPV4;
	p.addrlen = 4;
	p.addr[0] = a;
	p.addr[1] = b;
	p.addr[2] = c;
	p.addr[3] = d;
	p.port = port;
	p.time = (uint32_t)(clock_now(&clk) - HOUR);
	p.services = 1;
	return p;
}

static struct peer_addr parsed(const char *s)
{
	struct peer_addr p;
	if (peer_addr_parse(&p, s, 8333) != 0)
		fail_msg("cannot parse %s", s);
	p.time = (uint32_t)(clock_now(&clk) - HOUR);
	return p;
}

static struct peer_addr onion(uint8_t first, uint32_t n)
{
	struct peer_addr p;
	memset(&p, 0, sizeof(p));
	p.net = PEER_NET_TORV3;
	p.addrlen = 32;
	p.addr[0] = first;
	memcpy(p.addr + 1, &n, sizeof(n));
	p.port = 9000;
	p.time = (uint32_t)(clock_now(&clk) - HOUR);
	return p;
}

static struct addrman *book(bool allow_local)
{
	struct addrman *am = addrman_new(test_key, &clk, allow_local);
	assert_non_null(am);
	return am;
}

static void add1(struct addrman *am, struct peer_addr a, struct peer_addr src)
{
	assert_int_equal(addrman_add(am, &a, 1, &src, 0), 1);
}

static void assert_str(const struct peer_addr *a, const char *want)
{
	char s[PEER_ADDR_STRLEN];
	peer_addr_format(a, s, sizeof(s));
	assert_string_equal(s, want);
}

/* ---- Addresses ---------------------------------------------------------------------------- */

static void test_sha3_vectors(void **state)
{
	(void)state;
	static const struct {
		size_t len;
		const char *hex;
	} v[] = {
		/* FIPS 202 examples, and lengths around the 136-byte rate (computed with Python's
		 * hashlib.sha3_256 over bytes(range(200))[:len] for 200 and zeros for 135/136). */
		{0, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"},
		{135, "7d080d7ba978a75c8a7d1f9be566c859084509c9c2b4928435c225d5777d98e3"},
		{136, "e772c9cf9eb9c991cdfcf125001b454fdbc0a95f188d1b4c844aa032ad6e075e"},
		{200, "5f728f63bf5ee48c77f453c0490398fa645b8d4c4e56be9a41cfec344d6ca899"},
	};
	uint8_t in[200], out[32];
	char hex[65];
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		for (size_t j = 0; j < sizeof(in); j++)
			in[j] = v[i].len == 200 ? (uint8_t)j : 0;
		addrman_sha3_256(out, in, v[i].len);
		hex_encode(hex, out, sizeof(out));
		assert_string_equal(hex, v[i].hex);
	}
	addrman_sha3_256(out, "abc", 3);
	hex_encode(hex, out, sizeof(out));
	assert_string_equal(hex,
			    "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
}

static void test_onion_and_i2p(void **state)
{
	(void)state;
	/* A published v3 onion service (DuckDuckGo): its checksum was computed by Tor. */
	const char *ddg = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion";
	char s[PEER_ADDR_STRLEN], want[PEER_ADDR_STRLEN];
	struct peer_addr a;
	assert_int_equal(peer_addr_parse(&a, ddg, 8333), 0);
	assert_int_equal(a.net, PEER_NET_TORV3);
	assert_int_equal(a.addrlen, 32);
	assert_int_equal(a.port, 8333);
	uint8_t pk[32];
	assert_int_equal(
		hex_decode(pk, 32,
			   "1d04a1d04a338c6e6ae970bfabee49049d6702250984ca950c01673f4ec034ad"),
		0);
	assert_memory_equal(a.addr, pk, 32);
	snprintf(want, sizeof(want), "%s:8333", ddg);
	assert_str(&a, want);
	peer_addr_format_host(&a, s, sizeof(s));
	assert_string_equal(s, ddg);
	assert_true(peer_addr_routable(&a));
	assert_false(peer_addr_reachable(&a));
	assert_string_equal(peer_net_name(a.net), "onion");

	/* Upper case and a port parse; a changed character breaks the checksum. */
	assert_int_equal(
		peer_addr_parse(
			&a, "DUCKDUCKGOGG42XJOC72X3SJASOWOARFBGCMVFIMAFTT6TWAGSWZCZAD.onion:9", 0),
		0);
	assert_int_equal(a.port, 9);
	assert_int_equal(
		peer_addr_parse(
			&a, "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczae.onion", 1),
		-1);
	assert_int_equal(a.net, 0); /* cleared on failure */
	/* Tor v2 (16 characters) and junk. */
	assert_int_equal(peer_addr_parse(&a, "expyuzz4wqqyqhjn.onion", 1), -1);
	assert_int_equal(peer_addr_parse(&a, "example.com", 1), -1);
	assert_int_equal(peer_addr_parse(&a, "1.2.3.4:0", 1), -1);

	/* I2P: 52 base32 characters + .b32.i2p, round trip. */
	struct peer_addr i;
	memset(&i, 0, sizeof(i));
	i.net = PEER_NET_I2P;
	i.addrlen = 32;
	for (int k = 0; k < 32; k++)
		i.addr[k] = (uint8_t)(k * 7 + 1);
	i.port = 0;
	peer_addr_format_host(&i, s, sizeof(s));
	assert_int_equal(strlen(s), 52 + strlen(".b32.i2p"));
	struct peer_addr back;
	assert_int_equal(peer_addr_parse(&back, s, 0), 0);
	assert_true(peer_addr_equal(&i, &back));
	assert_string_equal(peer_net_name(PEER_NET_I2P), "i2p");
}

static void test_classify(void **state)
{
	(void)state;
	struct peer_addr a;
	/* Text forms. */
	a = parsed("1.2.3.4:5");
	assert_str(&a, "1.2.3.4:5");
	a = parsed("[2001:4860::1]:8333");
	assert_int_equal(a.net, PEER_NET_IPV6);
	assert_str(&a, "[2001:4860::1]:8333");
	a = parsed("::ffff:5.6.7.8");
	assert_int_equal(a.net, PEER_NET_IPV4);
	assert_str(&a, "5.6.7.8:8333");

	/* Routable or not. */
	static const struct {
		const char *s;
		bool routable;
	} r[] = {
		{"8.8.8.8", true},      {"10.1.2.3", false},     {"172.16.0.1", false},
		{"172.32.0.1", true},   {"192.168.1.1", false},  {"127.0.0.1", false},
		{"169.254.1.1", false}, {"100.64.0.1", false},   {"100.128.0.1", true},
		{"192.0.2.1", false},   {"198.51.100.7", false}, {"203.0.113.9", false},
		{"198.18.0.1", false},  {"224.0.0.1", false},    {"240.0.0.1", false},
		{"0.1.2.3", false},     {"2001:4860::1", true},  {"::1", false},
		{"fe80::1", false},     {"fd00::1", false},      {"ff02::1", false},
		{"2001:db8::1", false}, {"2001:10::1", false},   {"2002:0808:0808::1", true},
	};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		a = parsed(r[i].s);
		if (peer_addr_routable(&a) != r[i].routable)
			fail_msg("%s: routable should be %d", r[i].s, r[i].routable);
		assert_true(peer_addr_valid(&a));
		assert_true(peer_addr_reachable(&a));
	}

	/* Invalid: unknown or withdrawn network ids, wrong lengths, impossible addresses. */
	memset(&a, 0, sizeof(a));
	a.net = 3; /* Tor v2 */
	a.addrlen = 10;
	assert_false(peer_addr_valid(&a));
	a.net = 9;
	a.addrlen = 4;
	assert_false(peer_addr_valid(&a));
	a = v4(1, 2, 3, 4, 1);
	a.addrlen = 16;
	assert_false(peer_addr_valid(&a));
	a = v4(0, 0, 0, 0, 1);
	assert_false(peer_addr_valid(&a));
	a = v4(255, 255, 255, 255, 1);
	assert_false(peer_addr_valid(&a));
	assert_int_equal(peer_addr_parse(&a, "::", 1), -1);
	/* IPv6 network id carrying an IPv4-mapped address (BIP155: must be sent as IPv4). */
	memset(&a, 0, sizeof(a));
	a.net = PEER_NET_IPV6;
	a.addrlen = 16;
	a.addr[10] = a.addr[11] = 0xff;
	a.addr[12] = 1;
	assert_false(peer_addr_valid(&a));
	/* CJDNS must be in fc00::/8; it is valid and routable but not reachable. */
	memset(&a, 0, sizeof(a));
	a.net = PEER_NET_CJDNS;
	a.addrlen = 16;
	a.addr[0] = 0xfc;
	a.addr[1] = 0x12;
	a.port = 1;
	assert_true(peer_addr_routable(&a));
	assert_false(peer_addr_reachable(&a));
	assert_str(&a, "[fc12::]:1");
	a.addr[0] = 0xfd;
	assert_false(peer_addr_valid(&a));
}

static void test_groups_and_netaddr(void **state)
{
	(void)state;
	struct peer_addr a;
	/* Network groups. */
	uint8_t g[PEER_ADDR_GROUP_MAX], h[PEER_ADDR_GROUP_MAX];
	a = parsed("1.2.3.4");
	assert_int_equal(peer_addr_group(&a, g), 3);
	assert_int_equal(g[0], PEER_NET_IPV4);
	assert_int_equal(g[1], 1);
	assert_int_equal(g[2], 2);
	struct peer_addr b = parsed("1.2.200.200");
	assert_int_equal(peer_addr_group(&b, h), 3);
	assert_memory_equal(g, h, 3);
	b = parsed("1.3.3.4");
	peer_addr_group(&b, h);
	assert_memory_not_equal(g, h, 3);
	a = parsed("2001:4860:1234::1");
	assert_int_equal(peer_addr_group(&a, g), 5);
	b = parsed("2001:4860:ffff::2");
	peer_addr_group(&b, h);
	assert_memory_equal(g, h, 5);
	/* 6to4 2002:0102:0304:: and Teredo carrying 1.2.x.x group with IPv4 1.2/16. */
	a = parsed("2002:0102:0304::1");
	assert_int_equal(peer_addr_group(&a, g), 3);
	b = parsed("1.2.99.99");
	peer_addr_group(&b, h);
	assert_memory_equal(g, h, 3);
	a = parsed("2001:0:4136:e378:8000:63bf:fefd:fcfb"); /* ~fefd = 0102 */
	assert_int_equal(peer_addr_group(&a, g), 3);
	assert_memory_equal(g, h, 3);
	/* Tor: the top 4 bits of the key. */
	a = onion(0x5a, 1);
	b = onion(0x51, 2);
	assert_int_equal(peer_addr_group(&a, g), 2);
	peer_addr_group(&b, h);
	assert_memory_equal(g, h, 2);
	b = onion(0x65, 1);
	peer_addr_group(&b, h);
	assert_memory_not_equal(g, h, 2);

	/* netaddr conversion both ways. */
	struct netaddr na;
	assert_int_equal(netaddr_parse(&na, "[::ffff:9.8.7.6]:1234", 1), 0);
	assert_int_equal(peer_addr_from_netaddr(&a, &na), 0);
	assert_str(&a, "9.8.7.6:1234");
	assert_int_equal(netaddr_parse(&na, "[2001:4860::5]:99", 1), 0);
	assert_int_equal(peer_addr_from_netaddr(&a, &na), 0);
	assert_int_equal(a.net, PEER_NET_IPV6);
	struct netaddr back;
	assert_int_equal(peer_addr_to_netaddr(&back, &a), 0);
	char s[NETADDR_STRLEN];
	netaddr_format(&back, s, sizeof(s));
	assert_string_equal(s, "[2001:4860::5]:99");
	a = onion(1, 1);
	assert_int_equal(peer_addr_to_netaddr(&back, &a), -1);
	assert_int_equal(peer_net_from_name("cjdns"), PEER_NET_CJDNS);
	assert_int_equal(peer_net_from_name("torv2"), 0);
}

/* ---- The book ----------------------------------------------------------------------------- */

static void test_add_basic(void **state)
{
	(void)state;
	struct addrman *am = book(false);
	struct peer_addr src = v4(50, 1, 1, 1, 8333);
	struct peer_addr list[5] = {
		v4(1, 2, 3, 4, 8333),  v4(1, 2, 3, 4, 8334), /* another port: another address */
		v4(10, 0, 0, 1, 8333),                       /* private: ignored */
		v4(5, 6, 7, 8, 0),                           /* port 0: ignored */
		onion(0x20, 7),                              /* stored though not reachable */
	};
	assert_int_equal(addrman_add(am, list, 5, &src, 0), 3);
	assert_int_equal(addrman_size(am), 3);
	size_t n_new, n_tried;
	addrman_counts(am, 0, &n_new, &n_tried);
	assert_int_equal(n_new, 3);
	assert_int_equal(n_tried, 0);
	addrman_counts(am, PEER_NET_TORV3, &n_new, &n_tried);
	assert_int_equal(n_new, 1);
	addrman_counts(am, PEER_NET_IPV4, &n_new, &n_tried);
	assert_int_equal(n_new, 2);
	/* The same announcement again adds nothing. */
	assert_int_equal(addrman_add(am, list, 1, &src, 0), 0);
	/* A time penalty is applied, except to a source announcing itself. */
	struct peer_addr fresh = v4(9, 9, 9, 9, 1);
	fresh.time = T0;
	assert_int_equal(addrman_add(am, &fresh, 1, &src, 2 * HOUR), 1);
	struct addrman_info info;
	assert_int_equal(addrman_lookup(am, &fresh, &info), 1);
	assert_int_equal(info.addr.time, T0 - 2 * HOUR);
	assert_false(info.tried);
	assert_int_equal(info.bucket_count, 1);
	struct peer_addr self = v4(50, 1, 1, 1, 8333);
	self.time = T0;
	assert_int_equal(addrman_add(am, &self, 1, &src, 2 * HOUR), 1);
	assert_int_equal(addrman_lookup(am, &self, &info), 1);
	assert_int_equal(info.addr.time, T0);
	/* Services merge. */
	struct peer_addr more = list[0];
	more.services = 4;
	addrman_add(am, &more, 1, &src, 0);
	addrman_lookup(am, &more, &info);
	assert_int_equal(info.addr.services, 5);
	addrman_set_services(am, &more, 8);
	addrman_lookup(am, &more, &info);
	assert_int_equal(info.addr.services, 8);
	assert_int_equal(addrman_check(am), 0);
	addrman_free(am);

	/* regtest admits local addresses. */
	am = book(true);
	struct peer_addr lo = v4(127, 0, 0, 1, 18444);
	assert_int_equal(addrman_add(am, &lo, 1, &lo, 0), 1);
	addrman_free(am);
	addrman_free(NULL);
}

/* Addresses from many groups told by one source group land in at most 64 new buckets; told by
 * many source groups they spread much wider (so the bound is a property of the source). */
static void test_new_buckets_per_source(void **state)
{
	(void)state;
	struct addrman *am = book(false);
	bool used[ADDRMAN_NEW_BUCKET_COUNT] = {false};
	size_t distinct = 0, placed = 0;
	for (unsigned i = 0; i < 4000; i++) {
		struct peer_addr a = v4((uint8_t)(1 + i % 200), (uint8_t)(i / 200), 1, 1, 8333);
		struct peer_addr src = v4(60, 70, (uint8_t)(i % 256), 1, 8333); /* one /16 */
		placed += addrman_add(am, &a, 1, &src, 0);
		struct addrman_info info;
		if (addrman_lookup(am, &a, &info) && !used[info.buckets[0]]) {
			used[info.buckets[0]] = true;
			distinct++;
		}
	}
	assert_true(placed > 1000);
	assert_true(distinct <= ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP);
	assert_true(addrman_size(am) <= ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP * ADDRMAN_BUCKET_SIZE);
	assert_int_equal(addrman_check(am), 0);
	addrman_free(am);

	am = book(false);
	memset(used, 0, sizeof(used));
	distinct = 0;
	for (unsigned i = 0; i < 4000; i++) {
		struct peer_addr a = v4((uint8_t)(1 + i % 200), (uint8_t)(i / 200), 1, 1, 8333);
		struct peer_addr src = v4((uint8_t)(1 + i % 200), (uint8_t)(i / 200), 9, 9, 8333);
		addrman_add(am, &a, 1, &src, 0);
		struct addrman_info info;
		if (addrman_lookup(am, &a, &info) && !used[info.buckets[0]]) {
			used[info.buckets[0]] = true;
			distinct++;
		}
	}
	assert_true(distinct > 4 * ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP);
	addrman_free(am);
}

/* An attacker with many addresses in one /16, all of which answer (good), gets at most
 * 8 buckets x 64 slots of the tried table: 3.1% of it. Addresses of many groups spread. */
static void test_tried_one_group_bounded(void **state)
{
	(void)state;
	struct addrman *am = book(false);
	unsigned n_ok = 0;
	for (unsigned i = 0; i < 6000; i++) {
		struct peer_addr a = v4(44, 55, (uint8_t)(i / 250), (uint8_t)(1 + i % 250), 8333);
		struct peer_addr src = v4((uint8_t)(1 + i % 200), (uint8_t)(i % 7), 1, 1, 8333);
		if (addrman_add(am, &a, 1, &src, 0) == 1 &&
		    addrman_good(am, &a) == ADDRMAN_GOOD_MOVED)
			n_ok++;
	}
	size_t n_new, n_tried;
	addrman_counts(am, 0, &n_new, &n_tried);
	assert_int_equal(n_tried, n_ok);
	assert_true(n_tried > 100);
	assert_true(n_tried <= ADDRMAN_TRIED_BUCKETS_PER_GROUP * ADDRMAN_BUCKET_SIZE);
	assert_true(n_tried * 100 <= 4 * ADDRMAN_TRIED_BUCKET_COUNT * ADDRMAN_BUCKET_SIZE);
	assert_true(addrman_collision_count(am) <= ADDRMAN_TRIED_COLLISION_MAX);
	/* The tried buckets used by the group. */
	bool used[ADDRMAN_TRIED_BUCKET_COUNT] = {false};
	unsigned distinct = 0;
	for (unsigned i = 0; i < 6000; i++) {
		struct peer_addr a = v4(44, 55, (uint8_t)(i / 250), (uint8_t)(1 + i % 250), 8333);
		struct addrman_info info;
		if (addrman_lookup(am, &a, &info) && info.tried && !used[info.buckets[0]]) {
			used[info.buckets[0]] = true;
			distinct++;
		}
	}
	assert_true(distinct <= ADDRMAN_TRIED_BUCKETS_PER_GROUP);
	assert_int_equal(addrman_check(am), 0);
	addrman_free(am);

	am = book(false);
	memset(used, 0, sizeof(used));
	distinct = 0;
	for (unsigned i = 0; i < 2000; i++) {
		struct peer_addr a = v4((uint8_t)(1 + i % 200), (uint8_t)(i / 200), 3, 3, 8333);
		if (addrman_add(am, &a, 1, &a, 0) == 1 &&
		    addrman_good(am, &a) == ADDRMAN_GOOD_MOVED) {
			struct addrman_info info;
			addrman_lookup(am, &a, &info);
			if (!used[info.buckets[0]]) {
				used[info.buckets[0]] = true;
				distinct++;
			}
		}
	}
	assert_true(distinct > 200);
	addrman_free(am);
}

static void test_select(void **state)
{
	(void)state;
	struct addrman *am = book(false);
	struct peer_addr out;
	int64_t last_try = -1;
	assert_int_equal(addrman_select(am, false, ADDRMAN_NETS_ALL, &out, NULL), 0);
	/* Only an onion: nothing reachable to select, but it is selectable among all networks. */
	struct peer_addr o = onion(0x33, 1), src = v4(70, 1, 1, 1, 1);
	add1(am, o, src);
	assert_int_equal(addrman_select(am, false, ADDRMAN_NETS_REACHABLE, &out, NULL), 0);
	assert_int_equal(addrman_select(am, false, ADDRMAN_NETS_ALL, &out, &last_try), 1);
	assert_true(peer_addr_equal(&out, &o));
	assert_int_equal(last_try, 0);
	/* A tried address: new_only finds only new ones. */
	struct peer_addr t = v4(8, 8, 4, 4, 53);
	add1(am, t, src);
	assert_int_equal(addrman_good(am, &t), ADDRMAN_GOOD_MOVED);
	assert_int_equal(addrman_select(am, true, ADDRMAN_NETS_REACHABLE, &out, NULL), 0);
	assert_int_equal(addrman_select(am, false, ADDRMAN_NETS_REACHABLE, &out, NULL), 1);
	assert_true(peer_addr_equal(&out, &t));

	/* Bias: a fresh address against one that failed 5 times and was just tried. */
	struct peer_addr good = v4(20, 1, 1, 1, 1), bad = v4(21, 1, 1, 1, 1);
	add1(am, good, src);
	add1(am, bad, src);
	for (int i = 0; i < 5; i++) {
		addrman_attempt(am, &bad, true);
		clock_set_mock(&clk, clock_now(&clk) + 60);
		addrman_good(am, &t); /* a success elsewhere lets the next failure count */
	}
	addrman_attempt(am, &bad, false);
	struct addrman_info info;
	addrman_lookup(am, &bad, &info);
	assert_int_equal(info.attempts, 5);
	unsigned n_good = 0, n_bad = 0;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(addrman_select(am, true, ADDRMAN_NETS_REACHABLE, &out, NULL), 1);
		n_good += peer_addr_equal(&out, &good);
		n_bad += peer_addr_equal(&out, &bad);
	}
	assert_int_equal(n_good + n_bad, 1000);
	assert_true(n_good > 950);
	assert_int_equal(addrman_check(am), 0);
	addrman_free(am);

	/* Never excluded: alone in the book, the failing address is still selected. */
	am = book(false);
	add1(am, bad, src);
	for (int i = 0; i < 5; i++) {
		clock_set_mock(&clk, clock_now(&clk) + 1);
		addrman_good(am, &t); /* unknown here, but it still counts as a success anywhere */
		clock_set_mock(&clk, clock_now(&clk) + 1);
		addrman_attempt(am, &bad, true);
	}
	addrman_lookup(am, &bad, &info);
	assert_int_equal(info.attempts, 5);
	assert_int_equal(addrman_select(am, false, ADDRMAN_NETS_ALL, &out, &last_try), 1);
	assert_true(peer_addr_equal(&out, &bad));
	assert_int_equal(last_try, clock_now(&clk));
	addrman_free(am);
}

static void test_terrible(void **state)
{
	(void)state;
	struct addrman *am = book(false);
	struct peer_addr src = v4(70, 1, 1, 1, 1), other = v4(80, 1, 1, 1, 1);
	struct addrman_info info;
	struct peer_addr old = v4(30, 1, 1, 1, 1), future = v4(31, 1, 1, 1, 1);
	struct peer_addr fresh = v4(32, 1, 1, 1, 1), failing = v4(33, 1, 1, 1, 1);
	struct peer_addr worn = v4(34, 1, 1, 1, 1);
	old.time = T0 - 31 * DAY;
	future.time = T0 + HOUR;
	add1(am, old, src);
	add1(am, future, src);
	add1(am, fresh, src);
	add1(am, failing, src);
	add1(am, worn, src);
	add1(am, other, src);
	addrman_lookup(am, &old, &info);
	assert_true(info.terrible);
	addrman_lookup(am, &future, &info);
	assert_true(info.terrible);
	addrman_lookup(am, &fresh, &info);
	assert_false(info.terrible);

	/* Failures count once per success anywhere: two attempts in a row count one. */
	addrman_attempt(am, &failing, true);
	addrman_attempt(am, &failing, true);
	addrman_lookup(am, &failing, &info);
	assert_int_equal(info.attempts, 1);
	for (int i = 0; i < 2; i++) {
		clock_set_mock(&clk, clock_now(&clk) + 10);
		addrman_good(am, &other);
		clock_set_mock(&clk, clock_now(&clk) + 10);
		addrman_attempt(am, &failing, true);
	}
	addrman_lookup(am, &failing, &info);
	assert_int_equal(info.attempts, ADDRMAN_RETRIES);
	assert_false(info.terrible); /* tried within the last minute: not yet */
	clock_set_mock(&clk, clock_now(&clk) + ADDRMAN_RECENT_TRY + 1);
	addrman_lookup(am, &failing, &info);
	assert_true(info.terrible); /* 3 failures, never a success */

	/* A past success protects up to 10 failures, and then only for 7 days. */
	addrman_good(am, &worn);
	for (int i = 0; i < ADDRMAN_MAX_FAILURES; i++) {
		clock_set_mock(&clk, clock_now(&clk) + 10);
		addrman_good(am, &other);
		clock_set_mock(&clk, clock_now(&clk) + 10);
		addrman_attempt(am, &worn, true);
	}
	clock_set_mock(&clk, clock_now(&clk) + 2 * ADDRMAN_RECENT_TRY);
	addrman_lookup(am, &worn, &info);
	assert_int_equal(info.attempts, ADDRMAN_MAX_FAILURES);
	assert_false(info.terrible);
	/* Keep its time fresh, move past 7 days since the success. */
	clock_set_mock(&clk, info.last_success + ADDRMAN_MIN_FAIL + 1);
	worn.time = (uint32_t)clock_now(&clk);
	addrman_add(am, &worn, 1, &worn, 0);
	addrman_lookup(am, &worn, &info);
	assert_true(info.terrible);

	/* get_addresses leaves the terrible ones out (a week later, "future" is no longer ahead:
	 * it comes back with fresh and other). */
	struct peer_addr out[10];
	size_t n = addrman_get_addresses(am, out, 10, 0, ADDRMAN_NETS_ALL);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		assert_false(peer_addr_equal(&out[i], &old));
		assert_false(peer_addr_equal(&out[i], &failing));
		assert_false(peer_addr_equal(&out[i], &worn));
		addrman_lookup(am, &out[i], &info);
		assert_false(info.terrible);
	}
	addrman_free(am);
}

/* Find two addresses with the same tried slot: the first is moved to tried, the second collides.
 */
static void make_collision(struct addrman *am, struct peer_addr *first, struct peer_addr *second)
{
	for (unsigned i = 0; i < 60000; i++) {
		struct peer_addr a = v4(12, 34, (uint8_t)(i / 250), (uint8_t)(1 + i % 250), 8333);
		struct peer_addr src = v4((uint8_t)(90 + i % 100), (uint8_t)(i / 100), 1, 1, 1);
		if (addrman_add(am, &a, 1, &src, 0) != 1)
			continue;
		enum addrman_good_result r = addrman_good(am, &a);
		if (r == ADDRMAN_GOOD_COLLISION) {
			*second = a;
			/* The occupant is the one select_collision names. */
			assert_int_equal(addrman_select_collision(am, first, NULL), 1);
			return;
		}
		assert_int_equal(r, ADDRMAN_GOOD_MOVED);
	}
	fail_msg("no collision found");
}

static void test_collisions(void **state)
{
	(void)state;
	struct addrman *am = book(false);
	struct peer_addr old, fresh, out;
	struct addrman_info info;
	int64_t last_try;
	assert_int_equal(addrman_select_collision(am, &out, NULL), 0);
	make_collision(am, &old, &fresh);
	assert_int_equal(addrman_collision_count(am), 1);
	addrman_lookup(am, &fresh, &info);
	assert_false(info.tried); /* test-before-evict: the newcomer waits */
	addrman_lookup(am, &old, &info);
	assert_true(info.tried);

	/* 1. The old one connected within 4 hours: it stays, the collision is dropped. */
	addrman_resolve_collisions(am);
	assert_int_equal(addrman_collision_count(am), 0);
	addrman_lookup(am, &old, &info);
	assert_true(info.tried);

	/* 2. Later, the old one is tested by a feeler that fails: the newcomer takes the slot
	 * once the feeler had ADDRMAN_FEELER_GRACE seconds. */
	clock_set_mock(&clk, clock_now(&clk) + 5 * HOUR);
	assert_int_equal(addrman_good(am, &fresh), ADDRMAN_GOOD_COLLISION);
	assert_int_equal(addrman_select_collision(am, &out, &last_try), 1);
	assert_true(peer_addr_equal(&out, &old));
	addrman_attempt(am, &old, false); /* the feeler starts */
	clock_set_mock(&clk, clock_now(&clk) + 30);
	addrman_resolve_collisions(am);
	assert_int_equal(addrman_collision_count(am), 1); /* still within the grace */
	clock_set_mock(&clk, clock_now(&clk) + ADDRMAN_FEELER_GRACE);
	addrman_resolve_collisions(am);
	assert_int_equal(addrman_collision_count(am), 0);
	addrman_lookup(am, &fresh, &info);
	assert_true(info.tried);
	addrman_lookup(am, &old, &info);
	assert_false(info.tried); /* back in new, not lost */
	assert_int_equal(info.bucket_count, 1);
	assert_int_equal(addrman_check(am), 0);

	/* 3. The feeler succeeds: the old one stays. */
	clock_set_mock(&clk, clock_now(&clk) + 5 * HOUR);
	assert_int_equal(addrman_good(am, &old),
			 ADDRMAN_GOOD_COLLISION); /* now old is the newcomer */
	assert_int_equal(addrman_select_collision(am, &out, NULL), 1);
	assert_true(peer_addr_equal(&out, &fresh));
	addrman_attempt(am, &fresh, false);
	clock_set_mock(&clk, clock_now(&clk) + 5);
	assert_int_equal(addrman_good(am, &fresh), ADDRMAN_GOOD_ALREADY);
	clock_set_mock(&clk, clock_now(&clk) + 2 * ADDRMAN_FEELER_GRACE);
	addrman_resolve_collisions(am);
	assert_int_equal(addrman_collision_count(am), 0);
	addrman_lookup(am, &fresh, &info);
	assert_true(info.tried);
	addrman_lookup(am, &old, &info);
	assert_false(info.tried);

	/* 4. Nobody tests the occupant: after ADDRMAN_TEST_WINDOW the newcomer wins. */
	clock_set_mock(&clk, clock_now(&clk) + 5 * HOUR);
	assert_int_equal(addrman_good(am, &old), ADDRMAN_GOOD_COLLISION);
	clock_set_mock(&clk, clock_now(&clk) + ADDRMAN_TEST_WINDOW / 2);
	addrman_resolve_collisions(am);
	assert_int_equal(addrman_collision_count(am), 1);
	clock_set_mock(&clk, clock_now(&clk) + ADDRMAN_TEST_WINDOW);
	addrman_resolve_collisions(am);
	assert_int_equal(addrman_collision_count(am), 0);
	addrman_lookup(am, &old, &info);
	assert_true(info.tried);
	assert_int_equal(addrman_check(am), 0);
	addrman_free(am);
}

static void test_get_addresses(void **state)
{
	(void)state;
	struct addrman *am = book(false);
	/* Each from its own source (so slots rarely collide); count what went in. */
	for (unsigned i = 0; i < 100; i++) {
		struct peer_addr a = v4(2, (uint8_t)(1 + i), 3, 4, 8333);
		addrman_add(am, &a, 1, &a, 0);
	}
	for (unsigned i = 0; i < 20; i++) {
		struct peer_addr a = onion((uint8_t)(i * 13), i), src = v4(3, (uint8_t)i, 1, 1, 1);
		addrman_add(am, &a, 1, &src, 0);
	}
	size_t total = addrman_size(am), n_v4, n_onion, n_tried;
	addrman_counts(am, PEER_NET_IPV4, &n_v4, &n_tried);
	addrman_counts(am, PEER_NET_TORV3, &n_onion, &n_tried);
	assert_true(n_v4 >= 95 && n_onion >= 18);
	assert_int_equal(total, n_v4 + n_onion);
	struct peer_addr out[200];
	assert_int_equal(addrman_get_addresses(am, out, 10, 0, ADDRMAN_NETS_ALL), 10);
	assert_int_equal(addrman_get_addresses(am, out, 200, 23, ADDRMAN_NETS_ALL),
			 total * 23 / 100);
	assert_int_equal(addrman_get_addresses(am, out, 10, 23, ADDRMAN_NETS_ALL), 10);
	assert_int_equal(addrman_get_addresses(am, out, 0, 0, ADDRMAN_NETS_ALL), 0);
	assert_int_equal(addrman_get_addresses(am, out, 200, 0, ADDRMAN_NETS_ALL), total);
	/* Distinct. */
	for (unsigned i = 0; i < total; i++)
		for (unsigned j = i + 1; j < total; j++)
			assert_false(peer_addr_equal(&out[i], &out[j]));
	/* Network filter. */
	size_t n = addrman_get_addresses(am, out, 200, 0, ADDRMAN_NET_BIT(PEER_NET_TORV3));
	assert_int_equal(n, n_onion);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i].net, PEER_NET_TORV3);
	assert_int_equal(addrman_get_addresses(am, out, 200, 0, ADDRMAN_NETS_REACHABLE), n_v4);
	/* A terrible address is left out. */
	struct peer_addr stale = v4(4, 4, 4, 4, 4);
	stale.time = T0 - ADDRMAN_HORIZON - DAY;
	add1(am, stale, stale);
	assert_int_equal(addrman_get_addresses(am, out, 200, 0, ADDRMAN_NETS_ALL), total);
	for (size_t i = 0; i < total; i++)
		assert_false(peer_addr_equal(&out[i], &stale));
	/* Random: two draws of 10 differ. */
	struct peer_addr a[10], b[10];
	addrman_get_addresses(am, a, 10, 0, ADDRMAN_NETS_ALL);
	addrman_get_addresses(am, b, 10, 0, ADDRMAN_NETS_ALL);
	bool same = true;
	for (int i = 0; i < 10; i++)
		same = same && peer_addr_equal(&a[i], &b[i]);
	assert_false(same);
	assert_int_equal(addrman_check(am), 0);
	addrman_free(am);
}

/* ---- Persistence -------------------------------------------------------------------------- */

static struct addrman *load(struct db *db)
{
	struct addrman *am;
	assert_int_equal(addrman_load(&am, db, &clk, false), 0);
	assert_non_null(am);
	assert_int_equal(addrman_check(am), 0);
	return am;
}

#define PERSIST_N 300

static void fill(struct addrman *am, struct peer_addr *all)
{
	for (unsigned i = 0; i < PERSIST_N; i++) {
		all[i] = i % 10 == 9 ? onion((uint8_t)i, i)
				     : v4((uint8_t)(1 + i % 200), 7, (uint8_t)i, 1, 8333);
		struct peer_addr src = v4((uint8_t)(100 + i % 50), 1, 1, 1, 1);
		addrman_add(am, &all[i], 1, &src, 0);
		/* A second source for some: more than one new bucket. */
		struct peer_addr src2 = v4((uint8_t)(150 + i % 50), 1, 1, 1, 1);
		all[i].time += 2 * HOUR;
		addrman_add(am, &all[i], 1, &src2, 0);
		all[i].time -= 2 * HOUR;
		if (i % 3 == 0)
			addrman_good(am, &all[i]);
		if (i % 7 == 0)
			addrman_attempt(am, &all[i], true);
	}
}

static void test_persistence(void **state)
{
	(void)state;
	char dir[] = "/tmp/p2pd-test-addrman-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct db *db = unit_open_db(dir);
	struct addrman *am = load(db); /* empty database: a key is made */
	assert_int_equal(addrman_size(am), 0);
	static struct peer_addr all[PERSIST_N];
	fill(am, all);
	size_t size = addrman_size(am), n_new, n_tried;
	addrman_counts(am, 0, &n_new, &n_tried);
	assert_true(n_tried > 50);
	assert_int_equal(addrman_save(am, db, true), 0);

	/* Reopen the database: the same book, key and bucket placement included. */
	db_close(db);
	db = unit_open_db(dir);
	struct addrman *re = load(db);
	assert_int_equal(addrman_size(re), size);
	size_t r_new, r_tried;
	addrman_counts(re, 0, &r_new, &r_tried);
	assert_int_equal(r_new, n_new);
	assert_int_equal(r_tried, n_tried);
	unsigned multi = 0;
	for (unsigned i = 0; i < PERSIST_N; i++) {
		struct addrman_info x, y;
		int found = addrman_lookup(am, &all[i], &x);
		assert_int_equal(addrman_lookup(re, &all[i], &y), found);
		if (!found)
			continue;
		assert_int_equal(x.addr.time, y.addr.time);
		assert_int_equal(x.addr.services, y.addr.services);
		assert_true(peer_addr_equal(&x.source, &y.source));
		assert_int_equal(x.last_success, y.last_success);
		assert_int_equal(x.last_try, y.last_try);
		assert_int_equal(x.attempts, y.attempts);
		assert_int_equal(x.tried, y.tried);
		assert_int_equal(x.bucket_count, y.bucket_count);
		/* The same buckets (order may differ). */
		for (unsigned k = 0; k < x.bucket_count; k++) {
			bool hit = false;
			for (unsigned m = 0; m < y.bucket_count; m++)
				hit = hit || x.buckets[k] == y.buckets[m];
			assert_true(hit);
		}
		multi += x.bucket_count > 1;
	}
	assert_true(multi > 0);
	addrman_free(re);

	/* Corrupt one record: it is skipped, the rest load. */
	const uint8_t rec1[6] = {DB_PREFIX_ADDRMAN, 'e', 0, 0, 0, 1};
	assert_int_equal(db_put(db, rec1, sizeof(rec1), "\x01\x04junk", 6, true), 0);
	re = load(db);
	assert_int_equal(addrman_size(re), size - 1);
	addrman_free(re);

	assert_int_equal(addrman_save(am, db, false), 0); /* repairs record 1 */
	re = load(db);
	assert_int_equal(addrman_size(re), size);
	addrman_free(re);

	/* A corrupt header: the book starts empty, and the next save repairs it. */
	const uint8_t hdr[2] = {DB_PREFIX_ADDRMAN, 'h'};
	assert_int_equal(db_put(db, hdr, sizeof(hdr), "bad", 3, true), 0);
	re = load(db);
	assert_int_equal(addrman_size(re), 0);
	struct peer_addr one = v4(99, 1, 2, 3, 4);
	add1(re, one, one);
	assert_int_equal(addrman_save(re, db, true), 0);
	addrman_free(re);
	re = load(db);
	assert_int_equal(addrman_size(re), 1); /* old records beyond the first were deleted */
	struct addrman_info info;
	assert_int_equal(addrman_lookup(re, &one, &info), 1);
	addrman_free(re);

	addrman_free(am);
	db_close(db);
	unit_rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sha3_vectors, setup),
		cmocka_unit_test_setup(test_onion_and_i2p, setup),
		cmocka_unit_test_setup(test_classify, setup),
		cmocka_unit_test_setup(test_groups_and_netaddr, setup),
		cmocka_unit_test_setup(test_add_basic, setup),
		cmocka_unit_test_setup(test_new_buckets_per_source, setup),
		cmocka_unit_test_setup(test_tried_one_group_bounded, setup),
		cmocka_unit_test_setup(test_select, setup),
		cmocka_unit_test_setup(test_terrible, setup),
		cmocka_unit_test_setup(test_collisions, setup),
		cmocka_unit_test_setup(test_get_addresses, setup),
		cmocka_unit_test_setup(test_persistence, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
