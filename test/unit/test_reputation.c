/* Unit tests for net/reputation: remembered points, decay with the node clock, the bound,
 * persistence through a real LevelDB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netaddr.h"
#include "net/reputation.h"
#include "store/db.h"
#include "util/clock.h"

#define T0 1800000000

static struct netaddr addr(const char *s)
{
	struct netaddr a;
	assert_int_equal(netaddr_parse(&a, s, 1), 0);
	return a;
}

static void test_put_get_and_decay(void **state)
{
	(void)state;
	struct clock c = {T0};
	struct reputation *r = reputation_load(NULL, &c);
	assert_non_null(r);
	struct netaddr a = addr("10.1.2.3:5"), b = addr("[2001:db8::1]:7");
	double bad, good;
	reputation_get(r, &a, &bad, &good);
	assert_true(bad == 0 && good == 0);
	reputation_put(r, &a, 80, 4);
	reputation_put(r, &b, 0, 12);
	assert_int_equal(reputation_count(r), 2);
	/* the port does not matter; an IPv4-mapped address is the same address */
	struct netaddr a2 = addr("[::ffff:10.1.2.3]:9");
	reputation_get(r, &a2, &bad, &good);
	assert_true(fabs(bad - 80) < 1e-9 && fabs(good - 4) < 1e-9);
	/* a day later bad points halved; good ones lost a tenth (7-day half-life) */
	clock_set_mock(&c, T0 + REPUTATION_BAD_HALFLIFE);
	reputation_get(r, &a, &bad, &good);
	assert_true(fabs(bad - 40) < 1e-6);
	assert_true(good > 3.5 && good < 4);
	/* nothing left worth remembering: forgotten */
	reputation_put(r, &b, 0, 0);
	assert_int_equal(reputation_count(r), 1);
	reputation_free(r);
	reputation_free(NULL);
}

static void test_bound_drops_least(void **state)
{
	(void)state;
	struct clock c = {T0};
	struct reputation *r = reputation_load(NULL, &c);
	char s[32];
	for (int i = 0; i < REPUTATION_MAX; i++) {
		snprintf(s, sizeof(s), "10.%d.%d.1", i / 256, i % 256);
		struct netaddr a = addr(s);
		reputation_put(r, &a, 50, 1);
	}
	struct netaddr weak = addr("10.0.0.1");
	reputation_put(r, &weak, 0, 0.5); /* already there: now the least significant */
	struct netaddr fresh = addr("192.0.2.1");
	reputation_put(r, &fresh, 90, 0);
	assert_int_equal(reputation_count(r), REPUTATION_MAX);
	double bad, good;
	reputation_get(r, &weak, &bad, &good);
	assert_true(bad == 0 && good == 0);
	reputation_get(r, &fresh, &bad, &good);
	assert_true(bad > 89);
	reputation_free(r);
}

static int count_entries(void *ctx, const struct reputation_entry *e)
{
	(*(int *)ctx)++;
	assert_true(e->bad >= 0 && e->good >= 0);
	return 0;
}

static void test_persistence(void **state)
{
	(void)state;
	char dir[] = "/tmp/p2pd-test-rep-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct db *db;
	char err[256];
	assert_int_equal(db_open(&db, dir, 1, err, sizeof(err)), DB_OPEN_OK);
	struct clock c = {T0};
	struct reputation *r = reputation_load(db, &c);
	struct netaddr a = addr("10.9.9.9"), b = addr("10.8.8.8");
	reputation_put(r, &a, 100, 0);
	reputation_put(r, &b, 3, 20);
	assert_int_equal(reputation_save(r, db, true), 0);
	reputation_free(r);
	/* a malformed record is skipped */
	uint8_t key[17] = {DB_PREFIX_REPUTATION, 1};
	assert_int_equal(db_put(db, key, sizeof(key), "short", 5, true), 0);
	r = reputation_load(db, &c);
	assert_non_null(r);
	assert_int_equal(reputation_count(r), 2);
	double bad, good;
	reputation_get(r, &a, &bad, &good);
	assert_true(fabs(bad - 100) < 1e-9);
	int n = 0;
	reputation_list(r, count_entries, &n);
	assert_int_equal(n, 2);
	/* saving replaces the table: the malformed record and dropped entries go */
	reputation_put(r, &b, 0, 0);
	assert_int_equal(reputation_save(r, db, true), 0);
	reputation_free(r);
	r = reputation_load(db, &c);
	assert_int_equal(reputation_count(r), 1);
	reputation_free(r);
	db_close(db);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_and_decay),
		cmocka_unit_test(test_bound_drops_least),
		cmocka_unit_test(test_persistence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
