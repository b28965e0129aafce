/* Bans and discouragement: the addresses the node refuses (Bitcoin Core's BanMan).
 *
 * A ban is a subnet (IPv4 or IPv6) set by the operator (RPC setban) with the node-clock time it
 * was made and the time it ends. Bans are kept in memory and written through to the database
 * (prefix DB_PREFIX_BANS, doc/storage.md) in one batch per change, so they survive a restart;
 * an expired ban has no effect and is deleted at load and by banman_sweep.
 *
 * Discouragement is what misbehaviour earns: the peer's address goes into a rolling bloom filter
 * of recent offenders (not persisted, as in Bitcoin Core). It can have false positives (about
 * one in a million), so it only lowers an address's standing; it never refuses outright.
 *
 * Addresses are compared as IPv6: an IPv4 address is its IPv4-mapped form ::ffff:a.b.c.d, so an
 * IPv4 ban matches a peer that reaches us over an IPv6 socket with a mapped address, and a ban
 * on ::ffff:0:0/96 covers every IPv4 address. Ports never matter.
 *
 * A banman belongs to the event-loop thread, like the rest of the node state. */
#ifndef P2PD_NET_BANMAN_H
#define P2PD_NET_BANMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct db;
struct netaddr;

/* Most bans held. A ban list is the operator's own (blocklists run to a few thousand entries);
 * every connection is checked against all of them (a linear scan: 25-35 us for 10,000 on a
 * 2020s core), and a ban costs 34 bytes on disk and 72 in memory. */
#define BANMAN_MAX_BANS 10000
/* Discouraged addresses remembered, and the filter's false-positive rate (Bitcoin Core's
 * numbers): about 1.3 MB that forgets the oldest offenders first. */
#define BANMAN_DISCOURAGED_N  50000
#define BANMAN_DISCOURAGED_FP 0.000001
/* -bantime's default: one day, in seconds. */
#define BANMAN_DEFAULT_BANTIME (24 * 60 * 60)

/* A subnet: an IPv6 address (IPv4 as ::ffff:a.b.c.d) and a prefix length 0-128. Host bits
 * beyond the prefix are always zero. */
struct subnet {
	uint8_t addr[16];
	uint8_t bits;
};

/* Longest subnet text: an IPv6 address (45 characters with an embedded IPv4), "/128", NUL. */
#define SUBNET_STRLEN 52

/* Parse "a.b.c.d", "a.b.c.d/n", "a.b.c.d/m.m.m.m", "x:y::z", "x:y::z/n" or "x:y::z/m:m::". A
 * plain address is one host (/32, /128); the prefix is decimal (at most 32 for IPv4, 128 for
 * IPv6); a netmask is of the same family and contiguous (ones, then zeros). Host bits beyond
 * the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8). No host names, brackets, ports or zone
 * ids. Returns 0 with *out set, or -1 with a reason in err (and *out zeroed). */
int subnet_parse(struct subnet *out, const char *s, char *err, size_t errlen);
/* The canonical text into out (SUBNET_STRLEN bytes): "10.0.0.0/8", "2001:db8::/32", and
 * "1.2.3.4/32" for one IPv4 host (a mapped subnet with a prefix of 96 or more prints as IPv4). */
void subnet_format(const struct subnet *s, char *out, size_t outlen);
/* Whether addr (with any port; an unset address is in no subnet) lies in s. */
bool subnet_contains(const struct subnet *s, const struct netaddr *addr);
/* Whether s names one host (/32 of an IPv4 address, /128 otherwise). */
bool subnet_is_single(const struct subnet *s);

/* Results of the changing calls. */
enum banman_result {
	BANMAN_OK = 0,
	BANMAN_ALREADY_BANNED = 1, /* banman_ban: nothing changed, see there */
	BANMAN_BAD_SUBNET = -1,    /* the subnet text does not parse (reason in err) */
	BANMAN_NOT_BANNED = -2,    /* banman_unban: no ban on exactly that subnet */
	BANMAN_BAD_TIME = -3,      /* banman_ban: ban_until is not after now */
	BANMAN_FULL = -4,          /* banman_ban: BANMAN_MAX_BANS unexpired bans already */
	BANMAN_DB_ERROR = -5, /* the database write failed (or out of memory); nothing changed */
};

struct banman;

/* A ban as banman_list shows it. */
struct ban_info {
	char subnet[SUBNET_STRLEN]; /* canonical text (subnet_format) */
	int64_t created;            /* node-clock unix seconds when it was set */
	int64_t until;              /* node-clock unix seconds when it ends */
};

/* A ban manager on the node clock clock (kept, must outlive it) and database db (kept; NULL:
 * in memory only, for tests). Loads the saved bans: a malformed record is skipped with a log
 * line and left in place, records beyond BANMAN_MAX_BANS are skipped with a log line, expired
 * ones are deleted. Returns NULL when out of memory or when the database cannot be read
 * (logged). */
struct banman *banman_new(const struct clock *clock, struct db *db);
/* Free. Bans are already saved. NULL is a no-op. */
void banman_free(struct banman *bm);

/* Ban subnet (text, as subnet_parse) until ban_until (node-clock unix seconds), created now,
 * and save it with sync. Returns BANMAN_OK; BANMAN_ALREADY_BANNED when the same subnet has an
 * unexpired ban, or the subnet is one host already inside a banned subnet (the existing ban is
 * left as it was: unban first to change it); BANMAN_BAD_SUBNET with the reason in err;
 * BANMAN_BAD_TIME when ban_until <= now; BANMAN_FULL when BANMAN_MAX_BANS unexpired bans exist;
 * BANMAN_DB_ERROR when the write fails or memory runs out. An expired ban on the same subnet is
 * replaced. The caller disconnects the peers inside the subnet. */
enum banman_result banman_ban(struct banman *bm, const char *subnet, int64_t ban_until, char *err,
			      size_t errlen);
/* Lift the ban on exactly subnet (a ban on 10.0.0.0/8 is not lifted by unbanning 10.1.2.3), and
 * save with sync. Returns BANMAN_OK, BANMAN_BAD_SUBNET, BANMAN_NOT_BANNED or BANMAN_DB_ERROR. */
enum banman_result banman_unban(struct banman *bm, const char *subnet);
/* Lift every ban, and save with sync. Returns BANMAN_OK or BANMAN_DB_ERROR. Discouragement is
 * left as it is. */
enum banman_result banman_clear(struct banman *bm);
/* Whether an unexpired ban's subnet contains addr. */
bool banman_is_banned(const struct banman *bm, const struct netaddr *addr);
/* Forget expired bans, in memory and in the database (one batch; a failed write is logged and
 * the records are deleted at the next load). Returns how many were removed. */
size_t banman_sweep(struct banman *bm);
/* Number of bans held (expired ones not yet swept included). */
size_t banman_count(const struct banman *bm);

/* Called once per ban; return 0 to go on, non-zero to stop (banman_list returns that value).
 * It must not change the banman. */
typedef int (*banman_list_fn)(void *ctx, const struct ban_info *ban);
/* Visit every unexpired ban in address order (then prefix length). Returns 0 when all were
 * visited. */
int banman_list(const struct banman *bm, banman_list_fn fn, void *ctx);

/* Remember addr's IP (not its port) as a misbehaving peer's. An unset address is ignored. */
void banman_discourage(struct banman *bm, const struct netaddr *addr);
/* Whether addr's IP was discouraged recently (the last BANMAN_DISCOURAGED_N / 2 at least;
 * false positives at about BANMAN_DISCOURAGED_FP). */
bool banman_is_discouraged(const struct banman *bm, const struct netaddr *addr);
/* Forget every discouraged address (tests, and an operator's fresh start). */
void banman_clear_discouraged(struct banman *bm);

#endif
