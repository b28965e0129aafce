/* Remembered reputation per IP address: what the node thought of a peer when its last
 * connection ended, so a peer that reconnects does not start clean (doc/scoring.md,
 * "Reputation").
 *
 * Bad points halve every REPUTATION_BAD_HALFLIFE, good points every REPUTATION_GOOD_HALFLIFE
 * (computed when read). At most REPUTATION_MAX addresses are kept; when full, the entry that
 * matters least (smallest decayed bad + good) makes room. Saved to the database as 'r' records
 * (doc/storage.md). Loop thread only. */
#ifndef P2PD_NET_REPUTATION_H
#define P2PD_NET_REPUTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct db;
struct netaddr;
struct reputation;

/* 10,000 addresses x 40 bytes: 400 KB, enough for every peer a public node meets in days. */
#define REPUTATION_MAX           10000
#define REPUTATION_BAD_HALFLIFE  (24 * 3600)
#define REPUTATION_GOOD_HALFLIFE (7 * 24 * 3600)

/* Load the saved table (malformed records skipped with a log line). db may be NULL (memory
 * only). Returns NULL only when out of memory or on a database read error. */
struct reputation *reputation_load(struct db *db, const struct clock *clock);
void reputation_free(struct reputation *r);
/* Replace the saved table with this one, in one batch. Returns 0 or -1. */
int reputation_save(struct reputation *r, struct db *db, bool sync);

/* Decayed remembered points of an address (0, 0 when unknown). */
void reputation_get(const struct reputation *r, const struct netaddr *a, double *bad, double *good);
/* Remember an address's points now (replacing what was remembered: the caller started the
 * connection from the remembered values, so the new ones include them). */
void reputation_put(struct reputation *r, const struct netaddr *a, double bad, double good);
size_t reputation_count(const struct reputation *r);

struct reputation_entry {
	char address[64]; /* IP without port */
	double bad, good; /* decayed to now */
	int64_t updated;  /* node clock of the last put */
};
/* Visit every entry (decayed to now), in address order; fn returns non-zero to stop. */
void reputation_list(const struct reputation *r,
		     int (*fn)(void *ctx, const struct reputation_entry *e), void *ctx);

#endif
