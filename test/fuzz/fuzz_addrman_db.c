/* Fuzz loading the address book from the database (addrman_load): the input is the stored
 * records under the 'a' prefix (the bucketing key 'k', the header 'h', the entries 'e' + number;
 * doc/storage.md), written by fuzz_db_fill after a first byte whose bit 0 says whether local
 * addresses are allowed (regtest).
 *
 * Whatever the records, loading must not crash, leak or fail (only a database error may fail
 * it), and the book it gives must hold every internal invariant (addrman_check), no more
 * addresses than there were entry records, and only valid ones. Saving that book and loading it
 * again gives the same book: the same addresses, each in the same table, with the same times,
 * services and counters. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_db.h"
#include "net/addrman.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count_entry(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val,
		       size_t vallen)
{
	(void)key, (void)keylen, (void)val, (void)vallen;
	++*(size_t *)ctx;
	return 0;
}

/* Every address of a is in b with the same record. */
static void same_book(struct addrman *a, struct addrman *b)
{
	size_t n = addrman_size(a);
	struct peer_addr *all = calloc(n ? n : 1, sizeof(*all));
	assert(all != NULL);
	/* Terrible addresses are left out of get_addresses: compare what it returns. */
	size_t got = addrman_get_addresses(a, all, n, 0, ADDRMAN_NETS_ALL);
	assert(got <= n);
	for (size_t i = 0; i < got; i++) {
		struct addrman_info x, y;
		assert(peer_addr_valid(&all[i]));
		assert(addrman_lookup(a, &all[i], &x) == 1);
		assert(addrman_lookup(b, &all[i], &y) == 1);
		assert(x.tried == y.tried && x.addr.time == y.addr.time &&
		       x.addr.services == y.addr.services && x.last_success == y.last_success &&
		       x.last_try == y.last_try && x.attempts == y.attempts &&
		       peer_addr_equal(&x.source, &y.source));
	}
	free(all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t prefix[1] = {DB_PREFIX_ADDRMAN};
	static const uint8_t eprefix[2] = {DB_PREFIX_ADDRMAN, 'e'};
	struct db *db = fuzz_db();
	struct clock clock = {0};
	struct addrman *am = NULL, *again = NULL;
	size_t new1, tried1, new2, tried2, entries = 0;

	if (size == 0)
		return 0;
	bool allow_local = data[0] & 1;
	clock_set_mock(&clock, FUZZ_DB_NOW);
	random_seed_insecure(1);
	fuzz_db_fill(db, prefix, sizeof(prefix), data + 1, size - 1);
	assert(db_iterate_prefix(db, eprefix, sizeof(eprefix), count_entry, &entries) == 0);

	assert(addrman_load(&am, db, &clock, allow_local) == 0 && am != NULL);
	/* addrman_check walks every slot of both tables: most of a run's time, so only once, and
	 * not for an empty book. */
	if (addrman_size(am) > 0)
		assert(addrman_check(am) == 0);
	assert(addrman_size(am) <= entries);
	addrman_counts(am, 0, &new1, &tried1);
	assert(new1 + tried1 == addrman_size(am));

	assert(addrman_save(am, db, false) == 0);
	assert(addrman_load(&again, db, &clock, allow_local) == 0 && again != NULL);
	addrman_counts(again, 0, &new2, &tried2);
	assert(new2 == new1 && tried2 == tried1);
	same_book(am, again);

	addrman_free(again);
	addrman_free(am);
	return 0;
}
