/* Unit tests for net/banman: subnet parsing (every accepted form, canonical text, bad input),
 * containment for IPv4, IPv6 and IPv4-mapped addresses, banning and unbanning with their
 * results, expiry and sweeping under mock time, persistence through a real LevelDB in a
 * temporary directory (round trip, expired bans deleted at load, malformed records skipped with
 * a log line, the load bound), the BANMAN_MAX_BANS bound, and discouragement. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/banman.h"
#include "net/netaddr.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/random.h"

#include "unit_util.h"

#define T0  1700000000 /* mock time at the start of each test */
#define DAY 86400

static struct clock clk;

static int setup(void **state)
{
	(void)state;
	clock_set_mock(&clk, T0);
	return random_init() == 0 ? 0 : -1;
}

static struct netaddr addr(const char *s)
{
	struct netaddr a;
	if (netaddr_parse(&a, s, 9733) != 0)
		fail_msg("bad test address %s", s);
	return a;
}

/* s parses, and its canonical text is canon. */
static void parses_as(const char *s, const char *canon)
{
	struct subnet sn;
	char err[128] = "", out[SUBNET_STRLEN];
	if (subnet_parse(&sn, s, err, sizeof(err)) != 0)
		fail_msg("\"%s\" refused: %s", s, err);
	subnet_format(&sn, out, sizeof(out));
	if (strcmp(out, canon) != 0)
		fail_msg("\"%s\" gave \"%s\", expected \"%s\"", s, out, canon);
	/* the canonical text parses to the same subnet */
	struct subnet again;
	assert_int_equal(subnet_parse(&again, out, NULL, 0), 0);
	assert_memory_equal(&again, &sn, sizeof(sn));
}

static void refused(const char *s)
{
	struct subnet sn;
	char err[128] = "";
	memset(&sn, 0xaa, sizeof(sn));
	if (subnet_parse(&sn, s, err, sizeof(err)) == 0)
		fail_msg("\"%s\" accepted", s);
	/* the reason names the input (a long one is cut short) */
	assert_true(strlen(s) > 64 ? err[0] != '\0' : strstr(err, s) != NULL);
	static const struct subnet zero;
	assert_memory_equal(&sn, &zero, sizeof(sn));
}

static void test_subnet_parse(void **state)
{
	(void)state;
	parses_as("1.2.3.4", "1.2.3.4/32");
	parses_as("1.2.3.4/32", "1.2.3.4/32");
	parses_as("1.2.3.4/24", "1.2.3.0/24");
	parses_as("10.255.255.255/8", "10.0.0.0/8");
	parses_as("1.2.3.4/0", "0.0.0.0/0");
	parses_as("1.2.3.4/255.255.0.0", "1.2.0.0/16");
	parses_as("1.2.3.4/255.255.255.255", "1.2.3.4/32");
	parses_as("1.2.3.4/255.255.255.128", "1.2.3.0/25");
	parses_as("1.2.3.4/0.0.0.0", "0.0.0.0/0");
	parses_as("1.2.3.4/024", "1.2.3.0/24");
	parses_as("2001:db8::1", "2001:db8::1/128");
	parses_as("2001:DB8:0:0:0:0:0:1/128", "2001:db8::1/128");
	parses_as("2001:db8:1:2::/32", "2001:db8::/32");
	parses_as("2001:db8::1/ffff:ffff::", "2001:db8::/32");
	parses_as("::/0", "::/0");
	parses_as("::1", "::1/128");
	parses_as("2001:db8::/33", "2001:db8::/33");
	/* IPv4-mapped IPv6 is the IPv4 subnet */
	parses_as("::ffff:1.2.3.4", "1.2.3.4/32");
	parses_as("::ffff:1.2.3.4/120", "1.2.3.0/24");
	parses_as("::ffff:0:0/96", "0.0.0.0/0");
	parses_as("::ffff:0:0/95", "::fffe:0:0/95");

	static const char *const bad[] = {
		"",
		"/24",
		"1.2.3.4/",
		"1.2.3.4/33",
		"1.2.3.4/-1",
		"1.2.3.4/+8",
		"1.2.3.4/ 8",
		"1.2.3.4/8 ",
		" 1.2.3.4",
		"1.2.3.4/1000",
		"1.2.3.4/255.0.255.0",
		"1.2.3.4/255.255.255.1",
		"1.2.3.4/ffff::",
		"2001:db8::1/255.255.0.0",
		"2001:db8::/129",
		"2001:db8::/ffff:0:ffff::",
		"1.2.3",
		"1.2.3.256",
		"1.2.3.4:9733",
		"[2001:db8::1]",
		"[2001:db8::1]:9733",
		"fe80::1%eth0",
		"example.com",
		"localhost",
		"1.2.3.4/24/8",
		"2001:db8:::1",
		"0x01020304",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
	/* a string longer than any address */
	char longs[300];
	memset(longs, '1', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	refused(longs);
	struct subnet sn;
	assert_int_equal(subnet_parse(&sn, NULL, NULL, 0), -1);
}

static bool in(const char *subnet, const char *address)
{
	struct subnet sn;
	assert_int_equal(subnet_parse(&sn, subnet, NULL, 0), 0);
	struct netaddr a = addr(address);
	return subnet_contains(&sn, &a);
}

static void test_subnet_contains(void **state)
{
	(void)state;
	assert_true(in("1.2.3.4", "1.2.3.4"));
	assert_true(in("1.2.3.4", "1.2.3.4:1")); /* the port does not matter */
	assert_false(in("1.2.3.4", "1.2.3.5"));
	assert_true(in("1.2.3.0/24", "1.2.3.255"));
	assert_false(in("1.2.3.0/24", "1.2.4.0"));
	assert_true(in("10.0.0.0/255.0.0.0", "10.200.1.2"));
	assert_true(in("1.2.3.128/25", "1.2.3.200"));
	assert_false(in("1.2.3.128/25", "1.2.3.127"));
	assert_true(in("0.0.0.0/0", "255.255.255.255"));
	assert_false(in("0.0.0.0/0", "2001:db8::1")); /* IPv4 /0 is IPv4 only */
	assert_true(in("2001:db8::/32", "[2001:db8:ffff::1]:9733"));
	assert_false(in("2001:db8::/32", "2001:db9::1"));
	assert_true(in("2001:db8::/33", "2001:db8:7fff::1"));
	assert_false(in("2001:db8::/33", "2001:db8:8000::1"));
	assert_true(in("2001:db8::1", "2001:db8::1"));
	assert_false(in("2001:db8::1", "2001:db8::2"));
	assert_true(in("::/0", "2001:db8::1"));
	/* IPv4-mapped addresses (a dual-stack socket) match IPv4 subnets, and the reverse */
	assert_true(in("1.2.3.0/24", "::ffff:1.2.3.9"));
	assert_true(in("1.2.3.4", "[::ffff:1.2.3.4]:9733"));
	assert_false(in("1.2.3.0/24", "::ffff:1.2.4.9"));
	assert_true(in("::ffff:1.2.3.0/120", "1.2.3.7"));
	assert_true(in("::ffff:0:0/96", "8.8.8.8"));
	/* an IPv4-compatible (not mapped) address is IPv6 */
	assert_false(in("1.2.3.4", "::1.2.3.4"));
	/* an unset address is in no subnet */
	struct subnet sn;
	struct netaddr unset = {0};
	assert_int_equal(subnet_parse(&sn, "::/0", NULL, 0), 0);
	assert_false(subnet_contains(&sn, &unset));
	assert_true(subnet_is_single(&sn) == false);
	assert_int_equal(subnet_parse(&sn, "1.2.3.4", NULL, 0), 0);
	assert_true(subnet_is_single(&sn));
	assert_int_equal(subnet_parse(&sn, "1.2.3.4/31", NULL, 0), 0);
	assert_false(subnet_is_single(&sn));
}

static bool banned(const struct banman *bm, const char *address)
{
	struct netaddr a = addr(address);
	return banman_is_banned(bm, &a);
}

/* The list as "subnet created until;..." */
struct list_buf {
	char text[4096];
	size_t n;
	int stop_after; /* return 7 after this many (0: never) */
};

static int list_cb(void *vctx, const struct ban_info *b)
{
	struct list_buf *l = vctx;
	size_t len = strlen(l->text);
	snprintf(l->text + len, sizeof(l->text) - len, "%s%s %lld %lld", len ? ";" : "", b->subnet,
		 (long long)b->created, (long long)b->until);
	l->n++;
	return l->stop_after != 0 && (int)l->n >= l->stop_after ? 7 : 0;
}

static void assert_list(const struct banman *bm, const char *expected)
{
	struct list_buf l = {.text = ""};
	assert_int_equal(banman_list(bm, list_cb, &l), 0);
	if (strcmp(l.text, expected) != 0)
		fail_msg("list     %s\nexpected %s", l.text, expected);
}

static void test_ban_unban(void **state)
{
	(void)state;
	struct banman *bm = banman_new(&clk, NULL);
	char err[128] = "";
	assert_non_null(bm);
	assert_false(banned(bm, "1.2.3.4"));

	assert_int_equal(banman_ban(bm, "1.2.3.0/24", T0 + DAY, err, sizeof(err)), BANMAN_OK);
	assert_true(banned(bm, "1.2.3.4"));
	assert_true(banned(bm, "::ffff:1.2.3.4"));
	assert_false(banned(bm, "1.2.4.4"));
	/* the same subnet, however written: already banned, the ban unchanged */
	assert_int_equal(banman_ban(bm, "1.2.3.7/255.255.255.0", T0 + 9 * DAY, err, sizeof(err)),
			 BANMAN_ALREADY_BANNED);
	/* one host inside it: already banned; a narrower subnet inside it: a ban of its own */
	assert_int_equal(banman_ban(bm, "1.2.3.4", T0 + 9 * DAY, err, sizeof(err)),
			 BANMAN_ALREADY_BANNED);
	assert_int_equal(banman_ban(bm, "1.2.3.128/25", T0 + 2 * DAY, err, sizeof(err)), BANMAN_OK);
	assert_int_equal(banman_ban(bm, "2001:db8::/32", T0 + 3 * DAY, err, sizeof(err)),
			 BANMAN_OK);
	assert_true(banned(bm, "[2001:db8::5]:1"));
	assert_int_equal(banman_count(bm), 3);
	assert_list(bm, "1.2.3.0/24 1700000000 1700086400;1.2.3.128/25 1700000000 1700172800;"
			"2001:db8::/32 1700000000 1700259200");

	/* bad input changes nothing */
	assert_int_equal(banman_ban(bm, "1.2.3.4/33", T0 + DAY, err, sizeof(err)),
			 BANMAN_BAD_SUBNET);
	assert_non_null(strstr(err, "1.2.3.4/33"));
	assert_int_equal(banman_ban(bm, "5.6.7.8", T0, err, sizeof(err)), BANMAN_BAD_TIME);
	assert_int_equal(banman_ban(bm, "5.6.7.8", T0 - 1, err, sizeof(err)), BANMAN_BAD_TIME);
	assert_false(banned(bm, "5.6.7.8"));
	assert_int_equal(banman_count(bm), 3);

	/* unban lifts exactly the subnet named */
	assert_int_equal(banman_unban(bm, "1.2.3.4"), BANMAN_NOT_BANNED);
	assert_int_equal(banman_unban(bm, "1.2.3.0/25"), BANMAN_NOT_BANNED);
	assert_int_equal(banman_unban(bm, "bad"), BANMAN_BAD_SUBNET);
	assert_int_equal(banman_unban(bm, "1.2.3.99/24"), BANMAN_OK);
	assert_false(banned(bm, "1.2.3.4"));
	assert_true(banned(bm, "1.2.3.200")); /* the /25 stays */
	assert_int_equal(banman_unban(bm, "1.2.3.0/24"), BANMAN_NOT_BANNED);
	assert_int_equal(banman_count(bm), 2);

	/* the list stops when the callback says so */
	struct list_buf l = {.text = "", .stop_after = 1};
	assert_int_equal(banman_list(bm, list_cb, &l), 7);
	assert_int_equal(l.n, 1);

	assert_int_equal(banman_clear(bm), BANMAN_OK);
	assert_int_equal(banman_count(bm), 0);
	assert_false(banned(bm, "2001:db8::5"));
	assert_list(bm, "");
	banman_free(bm);
	banman_free(NULL);
}

static void test_expiry(void **state)
{
	(void)state;
	struct banman *bm = banman_new(&clk, NULL);
	char err[128];
	assert_non_null(bm);
	assert_int_equal(banman_ban(bm, "1.2.3.4", T0 + 100, err, sizeof(err)), BANMAN_OK);
	assert_int_equal(banman_ban(bm, "10.0.0.0/8", T0 + 200, err, sizeof(err)), BANMAN_OK);

	clock_set_mock(&clk, T0 + 99);
	assert_true(banned(bm, "1.2.3.4"));
	clock_set_mock(&clk, T0 + 100); /* banned until, not including, ban_until */
	assert_false(banned(bm, "1.2.3.4"));
	assert_true(banned(bm, "10.1.1.1"));
	/* expired bans are not listed, and are held until swept */
	assert_list(bm, "10.0.0.0/8 1700000000 1700000200");
	assert_int_equal(banman_count(bm), 2);
	/* an expired ban on the same subnet is replaced by a new one */
	assert_int_equal(banman_ban(bm, "1.2.3.4", T0 + 500, err, sizeof(err)), BANMAN_OK);
	assert_true(banned(bm, "1.2.3.4"));
	assert_list(bm, "1.2.3.4/32 1700000100 1700000500;10.0.0.0/8 1700000000 1700000200");

	clock_set_mock(&clk, T0 + 300);
	assert_int_equal(banman_sweep(bm), 1);
	assert_int_equal(banman_count(bm), 1);
	assert_int_equal(banman_sweep(bm), 0);
	assert_false(banned(bm, "10.1.1.1"));
	/* a host of an expired subnet ban is not "already banned" */
	clock_set_mock(&clk, T0 + 600);
	assert_int_equal(banman_ban(bm, "1.2.3.4", T0 + 700, err, sizeof(err)), BANMAN_OK);
	banman_free(bm);
}

/* ---- persistence ------------------------------------------------------------------------- */

static int count_cb(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val, size_t vallen)
{
	(void)key, (void)keylen, (void)val, (void)vallen;
	(*(size_t *)ctx)++;
	return 0;
}

/* Records under the bans prefix. */
static size_t records(struct db *db)
{
	const uint8_t prefix = DB_PREFIX_BANS;
	size_t n = 0;
	assert_int_equal(db_iterate_prefix(db, &prefix, 1, count_cb, &n), 0);
	return n;
}

static void test_persistence(void **state)
{
	(void)state;
	char dir[] = "/tmp/p2pd-test-banman-XXXXXX";
	char err[128];
	assert_non_null(mkdtemp(dir));
	struct db *db = unit_open_db(dir);
	struct banman *bm = banman_new(&clk, db);
	assert_non_null(bm);
	assert_int_equal(banman_count(bm), 0);
	assert_int_equal(banman_ban(bm, "1.2.3.4", T0 + 100, err, sizeof(err)), BANMAN_OK);
	assert_int_equal(banman_ban(bm, "10.0.0.0/8", T0 + DAY, err, sizeof(err)), BANMAN_OK);
	assert_int_equal(banman_ban(bm, "2001:db8::/48", T0 + 2 * DAY, err, sizeof(err)),
			 BANMAN_OK);
	assert_int_equal(banman_ban(bm, "9.9.9.9", T0 + DAY, err, sizeof(err)), BANMAN_OK);
	assert_int_equal(banman_unban(bm, "9.9.9.9"), BANMAN_OK);
	assert_int_equal(records(db), 3);
	/* the record's layout, as doc/storage.md gives it */
	static const uint8_t key[18] = {'b', 0, 0,    0,    0,  0, 0, 0, 0,
					0,   0, 0xff, 0xff, 10, 0, 0, 0, 104};
	uint8_t *val;
	size_t vallen;
	assert_int_equal(db_get(db, key, sizeof(key), &val, &vallen), 1);
	static const uint8_t want[16] = {0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0,
					 0x80, 0x42, 0x55, 0x65, 0, 0, 0, 0};
	assert_int_equal(vallen, 16);
	assert_memory_equal(val, want, 16); /* T0, T0 + DAY little-endian */
	free(val);
	banman_free(bm);

	/* the same bans after a restart */
	db_close(db);
	db = unit_open_db(dir);
	bm = banman_new(&clk, db);
	assert_non_null(bm);
	assert_list(bm, "1.2.3.4/32 1700000000 1700000100;10.0.0.0/8 1700000000 1700086400;"
			"2001:db8::/48 1700000000 1700172800");
	assert_true(banned(bm, "10.9.9.9"));
	assert_false(banned(bm, "9.9.9.9"));
	banman_free(bm);

	/* an expired ban is deleted at load */
	clock_set_mock(&clk, T0 + 100);
	bm = banman_new(&clk, db);
	assert_int_equal(banman_count(bm), 2);
	assert_int_equal(records(db), 2);
	/* and by a sweep */
	clock_set_mock(&clk, T0 + DAY);
	assert_int_equal(banman_sweep(bm), 1);
	assert_int_equal(records(db), 1);
	/* clear empties the database too */
	assert_int_equal(banman_clear(bm), BANMAN_OK);
	assert_int_equal(records(db), 0);
	banman_free(bm);
	db_close(db);
	unit_rm_rf(dir);
}

/* Whether the file at path contains text. */
static bool file_has(const char *path, const char *text)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 16];
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static void test_malformed(void **state)
{
	(void)state;
	char dir[] = "/tmp/p2pd-test-banman-XXXXXX", logpath[FS_MAX_PATH], dbpath[FS_MAX_PATH];
	char err[128];
	assert_non_null(mkdtemp(dir));
	snprintf(logpath, sizeof(logpath), "%s/debug.log", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/db", dir);
	assert_int_equal(log_open_file(logpath), 0);
	struct db *db = unit_open_db(dbpath);
	struct banman *bm = banman_new(&clk, db);
	assert_int_equal(banman_ban(bm, "1.2.3.4", T0 + DAY, err, sizeof(err)), BANMAN_OK);
	banman_free(bm);

	uint8_t good_key[18] = {'b', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 5, 5, 5, 5, 128};
	uint8_t good_val[16] = {0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0,
				0x80, 0x42, 0x55, 0x65, 0, 0, 0, 0};
	/* a valid record written by hand loads (5.5.5.5/32 until T0 + DAY) */
	assert_int_equal(db_put(db, good_key, 18, good_val, 16, false), 0);
	/* malformed: short key, long key, short value, prefix above 128, host bits set, until
	 * not after created, negative created */
	uint8_t k[20], v[17];
	memcpy(k, good_key, 18);
	k[13] = 6;
	assert_int_equal(db_put(db, k, 17, good_val, 16, false), 0);
	k[18] = 0;
	assert_int_equal(db_put(db, k, 19, good_val, 16, false), 0);
	assert_int_equal(db_put(db, k, 18, good_val, 15, false), 0);
	k[13] = 7;
	k[17] = 129;
	assert_int_equal(db_put(db, k, 18, good_val, 16, false), 0);
	k[13] = 8;
	k[16] = 1;
	k[17] = 120; /* 8.5.5.1/24: host bits set */
	assert_int_equal(db_put(db, k, 18, good_val, 16, false), 0);
	k[16] = 9;
	k[17] = 128;
	memcpy(v, good_val + 8, 8);
	memcpy(v + 8, good_val, 8); /* created T0 + DAY, until T0 */
	assert_int_equal(db_put(db, k, 18, v, 16, false), 0);
	k[16] = 10;
	memcpy(v, good_val, 16);
	v[7] = 0x80; /* created < 0 */
	assert_int_equal(db_put(db, k, 18, v, 16, false), 0);
	assert_int_equal(records(db), 9);

	bm = banman_new(&clk, db);
	assert_non_null(bm);
	assert_list(bm, "1.2.3.4/32 1700000000 1700086400;5.5.5.5/32 1700000000 1700086400");
	assert_true(file_has(logpath, "banman: skipping a malformed ban record (key "
				      "6200000000000000000000ffff06050505, 16-byte value)"));
	assert_true(file_has(logpath, "loaded 2 bans (0 expired removed, 7 malformed skipped)"));
	/* they are left in place: skipped again at the next load */
	assert_int_equal(records(db), 9);
	banman_free(bm);
	db_close(db);
	log_open_file(NULL);
	log_shutdown();
	unit_rm_rf(dir);
}

/* ---- bounds --------------------------------------------------------------------------------- */

/* "a.b.c.d" for ban i. */
static void nth_addr(char *out, size_t outlen, unsigned i)
{
	snprintf(out, outlen, "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
}

static void test_bound(void **state)
{
	(void)state;
	struct banman *bm = banman_new(&clk, NULL);
	char s[32], err[128];
	assert_non_null(bm);
	for (unsigned i = 0; i < BANMAN_MAX_BANS; i++) {
		nth_addr(s, sizeof(s), i);
		/* the first ten expire early */
		int64_t until = i < 10 ? T0 + 10 : T0 + DAY;
		assert_int_equal(banman_ban(bm, s, until, err, sizeof(err)), BANMAN_OK);
	}
	assert_int_equal(banman_count(bm), BANMAN_MAX_BANS);
	nth_addr(s, sizeof(s), BANMAN_MAX_BANS);
	assert_int_equal(banman_ban(bm, s, T0 + DAY, err, sizeof(err)), BANMAN_FULL);
	assert_false(banned(bm, s));
	/* an existing one is still "already banned", not "full" */
	assert_int_equal(banman_ban(bm, "10.0.0.99", T0 + DAY, err, sizeof(err)),
			 BANMAN_ALREADY_BANNED);
	/* once some expire, a ban sweeps them and makes room */
	clock_set_mock(&clk, T0 + 10);
	assert_int_equal(banman_ban(bm, s, T0 + DAY, err, sizeof(err)), BANMAN_OK);
	assert_int_equal(banman_count(bm), BANMAN_MAX_BANS - 10 + 1);
	assert_true(banned(bm, s));
	assert_false(banned(bm, "10.0.0.9"));
	assert_true(banned(bm, "10.0.0.10"));
	banman_free(bm);
}

/* More records than the bound in the database: the first BANMAN_MAX_BANS load. */
static void test_load_bound(void **state)
{
	(void)state;
	char dir[] = "/tmp/p2pd-test-banman-XXXXXX", logpath[FS_MAX_PATH], dbpath[FS_MAX_PATH];
	assert_non_null(mkdtemp(dir));
	snprintf(logpath, sizeof(logpath), "%s/debug.log", dir);
	snprintf(dbpath, sizeof(dbpath), "%s/db", dir);
	assert_int_equal(log_open_file(logpath), 0);
	struct db *db = unit_open_db(dbpath);
	struct db_batch *b = db_batch_new();
	uint8_t key[18] = {'b', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 128};
	static const uint8_t val[16] = {0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0,
					0x80, 0x42, 0x55, 0x65, 0, 0, 0, 0};
	for (unsigned i = 0; i < BANMAN_MAX_BANS + 5; i++) {
		key[15] = (uint8_t)(i >> 8);
		key[16] = (uint8_t)i;
		db_batch_put(b, key, sizeof(key), val, sizeof(val));
	}
	assert_int_equal(db_batch_write(db, b, false), 0);
	db_batch_free(b);
	struct banman *bm = banman_new(&clk, db);
	assert_non_null(bm);
	assert_int_equal(banman_count(bm), BANMAN_MAX_BANS);
	assert_true(file_has(logpath, "banman: skipped 5 saved bans beyond the limit of 10000"));
	char s[32];
	nth_addr(s, sizeof(s), BANMAN_MAX_BANS - 1);
	assert_true(banned(bm, s));
	nth_addr(s, sizeof(s), BANMAN_MAX_BANS);
	assert_false(banned(bm, s));
	banman_free(bm);
	db_close(db);
	log_open_file(NULL);
	log_shutdown();
	unit_rm_rf(dir);
}

/* ---- discouragement ----------------------------------------------------------------------- */

static void test_discourage(void **state)
{
	(void)state;
	struct banman *bm = banman_new(&clk, NULL);
	assert_non_null(bm);
	struct netaddr a = addr("1.2.3.4:1000"), a_other_port = addr("1.2.3.4:2000"),
		       a_mapped = addr("[::ffff:1.2.3.4]:3"), b = addr("1.2.3.5"),
		       v6 = addr("2001:db8::1"), unset = {0};
	assert_false(banman_is_discouraged(bm, &a));
	banman_discourage(bm, &a);
	banman_discourage(bm, &v6);
	banman_discourage(bm, &unset); /* ignored */
	assert_true(banman_is_discouraged(bm, &a));
	assert_true(banman_is_discouraged(bm, &a_other_port));
	assert_true(banman_is_discouraged(bm, &a_mapped));
	assert_true(banman_is_discouraged(bm, &v6));
	assert_false(banman_is_discouraged(bm, &b));
	assert_false(banman_is_discouraged(bm, &unset));
	/* discouragement is not a ban */
	assert_false(banman_is_banned(bm, &a));

	/* it remembers at least the last half of BANMAN_DISCOURAGED_N */
	char s[32];
	for (unsigned i = 0; i < BANMAN_DISCOURAGED_N / 2; i++) {
		nth_addr(s, sizeof(s), i);
		struct netaddr x = addr(s);
		banman_discourage(bm, &x);
	}
	for (unsigned i = 0; i < BANMAN_DISCOURAGED_N / 2; i++) {
		nth_addr(s, sizeof(s), i);
		struct netaddr x = addr(s);
		assert_true(banman_is_discouraged(bm, &x));
	}
	/* and few false positives among others */
	unsigned fp = 0;
	for (unsigned i = 0; i < 10000; i++) {
		snprintf(s, sizeof(s), "11.%u.%u.1", i >> 8, i & 0xff);
		struct netaddr x = addr(s);
		fp += banman_is_discouraged(bm, &x);
	}
	assert_true(fp <= 1);

	banman_clear_discouraged(bm);
	assert_false(banman_is_discouraged(bm, &a));
	banman_free(bm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subnet_parse),
		cmocka_unit_test(test_subnet_contains),
		cmocka_unit_test_setup(test_ban_unban, setup),
		cmocka_unit_test_setup(test_expiry, setup),
		cmocka_unit_test_setup(test_persistence, setup),
		cmocka_unit_test_setup(test_malformed, setup),
		cmocka_unit_test_setup(test_bound, setup),
		cmocka_unit_test_setup(test_load_bound, setup),
		cmocka_unit_test_setup(test_discourage, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
