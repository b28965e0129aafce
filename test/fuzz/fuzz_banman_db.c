/* Fuzz loading the ban list from the database (banman_new): the input is the stored records
 * under the 'b' prefix (key: address[16] and prefix length; value: created and until, int64 LE;
 * doc/storage.md), written by fuzz_db_fill.
 *
 * Whatever the records, loading must not crash, leak or fail, and the list it gives holds at
 * most BANMAN_MAX_BANS bans, lists them in strictly increasing (address, prefix) order, each a
 * subnet whose canonical text parses back to it, created at or after 0 and ending after it was
 * created and after now, and it bans the subnet's own address. Loading again gives the same list
 * (expired records were deleted by the first load; malformed ones are skipped again). */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz_db.h"
#include "net/banman.h"
#include "net/netaddr.h"
#include "store/db.h"
#include "util/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ban_list {
	struct ban_info *b;
	size_t n;
};

static int collect(void *ctx, const struct ban_info *ban)
{
	struct ban_list *l = ctx;
	struct ban_info *nb = realloc(l->b, (l->n + 1) * sizeof(*nb));
	assert(nb != NULL);
	l->b = nb;
	l->b[l->n++] = *ban;
	return 0;
}

/* A socket address inside subnet sn (its network address). */
static void subnet_addr(const struct subnet *sn, struct netaddr *out)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memset(out, 0, sizeof(*out));
	if (memcmp(sn->addr, mapped, 12) == 0) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, sn->addr + 12, 4);
		out->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, sn->addr, 16);
		out->len = sizeof(*sin6);
	}
}

static void check_list(const struct banman *bm, const struct ban_list *l)
{
	char err[128];
	assert(l->n == banman_count(bm) && l->n <= BANMAN_MAX_BANS);
	for (size_t i = 0; i < l->n; i++) {
		const struct ban_info *b = &l->b[i];
		struct subnet sn;
		struct netaddr a;
		assert(subnet_parse(&sn, b->subnet, err, sizeof(err)) == 0);
		char text[SUBNET_STRLEN];
		subnet_format(&sn, text, sizeof(text));
		assert(strcmp(text, b->subnet) == 0);
		assert(b->created >= 0 && b->until > b->created && b->until > FUZZ_DB_NOW);
		subnet_addr(&sn, &a);
		assert(banman_is_banned(bm, &a));
		if (i > 0) {
			struct subnet prev;
			assert(subnet_parse(&prev, l->b[i - 1].subnet, err, sizeof(err)) == 0);
			int c = memcmp(prev.addr, sn.addr, 16);
			assert(c < 0 || (c == 0 && prev.bits < sn.bits));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t prefix[1] = {DB_PREFIX_BANS};
	struct db *db = fuzz_db();
	struct clock clock = {0};
	struct ban_list first = {0}, second = {0};

	clock_set_mock(&clock, FUZZ_DB_NOW);
	fuzz_db_fill(db, prefix, sizeof(prefix), data, size);

	struct banman *bm = banman_new(&clock, db);
	assert(bm != NULL);
	assert(banman_list(bm, collect, &first) == 0);
	check_list(bm, &first);
	banman_free(bm);

	bm = banman_new(&clock, db);
	assert(bm != NULL);
	assert(banman_list(bm, collect, &second) == 0);
	assert(second.n == first.n);
	for (size_t i = 0; i < first.n; i++)
		assert(strcmp(first.b[i].subnet, second.b[i].subnet) == 0 &&
		       first.b[i].created == second.b[i].created &&
		       first.b[i].until == second.b[i].until);
	banman_free(bm);
	free(first.b);
	free(second.b);
	return 0;
}
