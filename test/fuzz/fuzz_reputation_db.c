/* Fuzz loading remembered peer reputations from the database (reputation_load): the input is
 * the stored records under the 'r' prefix (key: a 16-byte IPv6 or IPv4-mapped address; value:
 * bad and good points as IEEE 754 doubles and the update time, 24 bytes LE; doc/storage.md),
 * written by fuzz_db_fill.
 *
 * Whatever the records, loading must not crash, leak, overflow or fail, and the table it gives
 * holds at most REPUTATION_MAX entries and no more than there were records, each listed with
 * finite, non-negative points (decayed to now) under an address text that the lookup by address
 * finds with the same points. Saving the table and loading it again gives the same entries. */
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_db.h"
#include "net/netaddr.h"
#include "net/reputation.h"
#include "store/db.h"
#include "util/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rep_list {
	struct reputation_entry *e;
	size_t n;
};

static int collect(void *ctx, const struct reputation_entry *e)
{
	struct rep_list *l = ctx;
	struct reputation_entry *ne = realloc(l->e, (l->n + 1) * sizeof(*ne));
	assert(ne != NULL);
	l->e = ne;
	l->e[l->n++] = *e;
	return 0;
}

static void check_table(const struct reputation *r, const struct rep_list *l, size_t records)
{
	assert(l->n == reputation_count(r) && l->n <= REPUTATION_MAX && l->n <= records);
	for (size_t i = 0; i < l->n; i++) {
		const struct reputation_entry *e = &l->e[i];
		struct netaddr a;
		double bad, good;
		assert(isfinite(e->bad) && isfinite(e->good) && e->bad >= 0 && e->good >= 0);
		assert(strlen(e->address) < sizeof(e->address));
		/* The listed address text is an address the table finds again. */
		assert(netaddr_parse(&a, e->address, 1) == 0);
		reputation_get(r, &a, &bad, &good);
		assert(bad == e->bad && good == e->good);
	}
}

static int count_record(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val,
			size_t vallen)
{
	(void)key, (void)keylen, (void)val, (void)vallen;
	++*(size_t *)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t prefix[1] = {DB_PREFIX_REPUTATION};
	struct db *db = fuzz_db();
	struct clock clock = {0};
	struct rep_list first = {0}, second = {0};
	size_t records = 0;

	clock_set_mock(&clock, FUZZ_DB_NOW);
	fuzz_db_fill(db, prefix, sizeof(prefix), data, size);
	assert(db_iterate_prefix(db, prefix, sizeof(prefix), count_record, &records) == 0);

	struct reputation *r = reputation_load(db, &clock);
	assert(r != NULL);
	reputation_list(r, collect, &first);
	check_table(r, &first, records);
	assert(reputation_save(r, db, false) == 0);
	reputation_free(r);

	r = reputation_load(db, &clock);
	assert(r != NULL);
	reputation_list(r, collect, &second);
	assert(second.n == first.n);
	for (size_t i = 0; i < first.n; i++)
		assert(strcmp(first.e[i].address, second.e[i].address) == 0 &&
		       first.e[i].bad == second.e[i].bad && first.e[i].good == second.e[i].good &&
		       first.e[i].updated == second.e[i].updated);
	reputation_free(r);
	free(first.e);
	free(second.e);
	return 0;
}
