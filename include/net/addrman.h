/* The address book (addrman): the addresses this node knows, where they came from and how they
 * fared, kept in fixed-size tables so that no one source or network group can fill it.
 *
 * Addresses are BIP155 network addresses (struct peer_addr). The book has two tables of buckets
 * (doc/addrman.md):
 *   - "new": addresses heard of but never connected to. An address goes into a bucket chosen by
 *     a keyed hash of its network group and the group of the peer that told us, so one source
 *     group reaches at most ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP buckets.
 *   - "tried": addresses we completed a handshake with. The bucket is chosen from the address's
 *     own group, so one group reaches at most ADDRMAN_TRIED_BUCKETS_PER_GROUP buckets.
 * The slot in a bucket is a keyed hash of the address. The key is a 32-byte secret stored in the
 * database, so an attacker cannot predict placement.
 *
 * Time comes from the struct clock given at creation (mockable) and randomness from
 * util/random.h (deterministic in tests after random_seed_insecure). Not thread-safe: the event
 * loop thread owns the book. Every bound is a named constant below. */
#ifndef P2PD_NET_ADDRMAN_H
#define P2PD_NET_ADDRMAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct db;
struct netaddr;

/* ---- Addresses ---------------------------------------------------------------------------- */

/* BIP155 network ids. Tor v2 (3) was withdrawn and is rejected like any unknown id. */
enum peer_net {
	PEER_NET_IPV4 = 1,  /* 4 bytes */
	PEER_NET_IPV6 = 2,  /* 16 bytes */
	PEER_NET_TORV3 = 4, /* 32 bytes: the ed25519 public key */
	PEER_NET_I2P = 5,   /* 32 bytes: SHA-256 of the destination */
	PEER_NET_CJDNS = 6, /* 16 bytes, in fc00::/8 */
};
/* Net ids are below this; arrays indexed by net id have this many entries. */
#define PEER_NET_ID_LIMIT 7
/* Largest address length of any network (Tor v3, I2P). */
#define PEER_ADDR_MAX_LEN 32

/* A network address as gossiped in addrv2 (same fields as struct wire_addrv2, so converting is
 * a field copy). Plain data: compare with peer_addr_equal, not memcmp (padding). */
struct peer_addr {
	uint32_t time;     /* unix seconds the address was last heard of as online */
	uint64_t services; /* service bits it announced */
	uint8_t net;       /* enum peer_net */
	uint8_t addr[PEER_ADDR_MAX_LEN];
	uint8_t addrlen; /* must match net */
	uint16_t port;   /* host byte order */
};

/* Longest peer_addr_format output with its NUL: a Tor v3 "<56 chars>.onion:65535". */
#define PEER_ADDR_STRLEN 72
/* Longest network group (peer_addr_group): net id + 4 bytes. */
#define PEER_ADDR_GROUP_MAX 5

/* Expected address length for a network id, or 0 for an unknown or withdrawn id. */
size_t peer_net_addrlen(uint8_t net);
/* "ipv4", "ipv6", "onion", "i2p", "cjdns" (the names of getnodeaddresses), or "unknown". */
const char *peer_net_name(uint8_t net);
/* The net id for one of those names, or 0. */
uint8_t peer_net_from_name(const char *name);

/* Return true if a is well formed: a known network with its length, and not an address no one
 * can have (unspecified, IPv4 broadcast, IPv6 with an embedded IPv4 or Tor v2 address, CJDNS
 * outside fc00::/8). Checks nothing about routing or the port. */
bool peer_addr_valid(const struct peer_addr *a);
/* Return true if a is valid and reachable across the Internet: not private, loopback,
 * link-local, shared (CGNAT), multicast, reserved, benchmarking or documentation space. Tor v3,
 * I2P and CJDNS addresses are routable on their own networks. */
bool peer_addr_routable(const struct peer_addr *a);
/* Return true if this node can dial a: IPv4 and IPv6 only (no Tor, I2P or CJDNS support). */
bool peer_addr_reachable(const struct peer_addr *a);
/* Same network, address bytes and port (time and services are ignored). */
bool peer_addr_equal(const struct peer_addr *a, const struct peer_addr *b);

/* Write a's network group to out and return its length (1..PEER_ADDR_GROUP_MAX): the net id
 * followed by IPv4 /16, IPv6 /32 (6to4 and Teredo: the /16 of the embedded IPv4, as an IPv4
 * group), Tor v3 / I2P the top 4 bits of the key, CJDNS the 4 bits after the fc prefix. An
 * invalid address gets the one-byte group {0}. */
size_t peer_addr_group(const struct peer_addr *a, uint8_t out[PEER_ADDR_GROUP_MAX]);

/* Format a with its port into out (PEER_ADDR_STRLEN bytes): "1.2.3.4:5", "[2001:db8::1]:5",
 * "<56 base32 chars>.onion:5" (Tor v3 with its SHA3-256 checksum), "<52 chars>.b32.i2p:5",
 * CJDNS as IPv6. An invalid address prints as "invalid". */
void peer_addr_format(const struct peer_addr *a, char *out, size_t outlen);
/* The same without the port (and without IPv6 brackets). */
void peer_addr_format_host(const struct peer_addr *a, char *out, size_t outlen);
/* Parse "1.2.3.4", "1.2.3.4:5", "::1", "[::1]:5", "<v3>.onion[:5]" (checksum and version
 * verified) or "<52 chars>.b32.i2p[:5]"; a missing port becomes default_port. IPv4-mapped IPv6
 * becomes IPv4; fc00::/8 is parsed as IPv6, never CJDNS. time and services are set to 0.
 * Returns 0, or -1 (out cleared) if s is not such an address or the result is not valid. */
int peer_addr_parse(struct peer_addr *out, const char *s, uint16_t default_port);
/* Convert a socket address (IPv4-mapped IPv6 becomes IPv4). time and services are 0.
 * Returns 0, or -1 for an unset or non-IP address. */
int peer_addr_from_netaddr(struct peer_addr *out, const struct netaddr *in);
/* Convert to and from the addrv2 wire entry (same fields). */
struct wire_addrv2;
void peer_addr_from_wire(struct peer_addr *out, const struct wire_addrv2 *w);
void peer_addr_to_wire(struct wire_addrv2 *out, const struct peer_addr *a);
/* Convert an IPv4 or IPv6 address for dialling. Returns 0, or -1 if a is not reachable by
 * peer_addr_reachable's rule. */
int peer_addr_to_netaddr(struct netaddr *out, const struct peer_addr *a);

/* ---- The address book --------------------------------------------------------------------- */

/* Table geometry (Bitcoin Core's): 1024 x 64 new slots and 256 x 64 tried slots hold at most
 * 81,920 addresses, a few MiB in memory and on disk. */
#define ADDRMAN_NEW_BUCKET_COUNT   1024
#define ADDRMAN_TRIED_BUCKET_COUNT 256
#define ADDRMAN_BUCKET_SIZE        64
/* One source group reaches at most this many new buckets (of 1024): 1/16 of the new table. */
#define ADDRMAN_NEW_BUCKETS_PER_SOURCE_GROUP 64
/* One address group reaches at most this many tried buckets (of 256): 1/32 of the tried table. */
#define ADDRMAN_TRIED_BUCKETS_PER_GROUP 8
/* An address heard from many sources sits in at most this many new buckets. */
#define ADDRMAN_NEW_BUCKETS_PER_ADDRESS 8
/* Pending test-before-evict collisions kept; more are dropped (a feeler resolves one at a time,
 * every two minutes: a longer queue would only hold stale collisions). */
#define ADDRMAN_TRIED_COLLISION_MAX 10
/* Length of the secret bucketing key. */
#define ADDRMAN_KEY_LEN 32

/* Network filter for select and get_addresses: a bit per net id. */
#define ADDRMAN_NET_BIT(net)   (1u << (net))
#define ADDRMAN_NETS_ALL       0xffffffffu
#define ADDRMAN_NETS_REACHABLE (ADDRMAN_NET_BIT(PEER_NET_IPV4) | ADDRMAN_NET_BIT(PEER_NET_IPV6))

struct addrman;

/* An empty in-memory book bucketing with key (copied), reading time from clock (borrowed: must
 * outlive the book). allow_local (regtest) admits non-routable addresses. Returns NULL only
 * when out of memory. */
struct addrman *addrman_new(const uint8_t key[ADDRMAN_KEY_LEN], const struct clock *clock,
			    bool allow_local);
/* Open the book stored in db (doc/storage.md, prefix DB_PREFIX_ADDRMAN): read the key, creating
 * and writing a random one if there is none, then the saved entries. An entry that does not
 * decode or cannot be placed is skipped with a log line; a missing or malformed header gives an
 * empty book (logged). On success returns 0 with *out the book (free with addrman_free);
 * returns -1 with *out NULL on a database error. db and clock are borrowed. */
int addrman_load(struct addrman **out, struct db *db, const struct clock *clock, bool allow_local);
/* Write the whole book to db in one batch: key, header (format version, counts) and one record
 * per address; records left from a larger earlier save are deleted in the same batch. sync
 * makes it durable before returning (use at shutdown). Returns 0, or -1 on a database error
 * (the stored book is then the previous one: the batch is atomic). */
int addrman_save(struct addrman *am, struct db *db, bool sync);
/* Free the book. NULL is a no-op. */
void addrman_free(struct addrman *am);

/* Number of addresses in the book (new and tried). */
size_t addrman_size(const struct addrman *am);
/* Addresses of network net (0: all networks) in the new and the tried table. */
void addrman_counts(const struct addrman *am, uint8_t net, size_t *new_count, size_t *tried_count);

/* Add n addresses heard from source (the peer's own address; for seeds, the seed's or our own).
 * Invalid addresses, port 0, and unroutable ones (unless allow_local) are ignored. Each address
 * time is lowered by time_penalty seconds (not for a source announcing itself). A known address
 * gets its time refreshed, its services merged and possibly one more new-table reference
 * (less likely the more it has). Callers clamp implausible times before adding, as gossip
 * handling does (doc/addrman.md). Returns the number of new-table placements made (a fresh
 * address, or another bucket for a known one). */
size_t addrman_add(struct addrman *am, const struct peer_addr *addrs, size_t n,
		   const struct peer_addr *source, int64_t time_penalty);

enum addrman_good_result {
	ADDRMAN_GOOD_UNKNOWN,   /* not in the book: nothing done */
	ADDRMAN_GOOD_MOVED,     /* moved from new to tried */
	ADDRMAN_GOOD_ALREADY,   /* already in tried: success time updated */
	ADDRMAN_GOOD_COLLISION, /* its tried slot is taken: queued for test-before-evict */
};
/* A connection to addr completed its handshake: record the success and move it to tried. If
 * its tried slot holds another address, addr stays in new and the pair waits for
 * addrman_resolve_collisions (the old one is kept unless a feeler to it fails). */
enum addrman_good_result addrman_good(struct addrman *am, const struct peer_addr *addr);
/* A connection attempt to addr is being made. With count_failure (an outbound attempt whose
 * failure should count), the failure count rises by one, at most once per successful connection
 * anywhere (so failures while our own link is down count once). Unknown addresses are ignored. */
void addrman_attempt(struct addrman *am, const struct peer_addr *addr, bool count_failure);
/* We are connected to addr (called when a connection ends, and periodically): refresh its time
 * if it is more than ADDRMAN_CONNECTED_UPDATE old. Unknown addresses are ignored. */
void addrman_connected(struct addrman *am, const struct peer_addr *addr);
/* Replace addr's service bits with what its version message said. */
void addrman_set_services(struct addrman *am, const struct peer_addr *addr, uint64_t services);

/* Pick an address to dial among networks nets (ADDRMAN_NET_BIT mask): from new or tried with
 * equal probability (only new with new_only), at random, less likely the more recently it was
 * tried and the more it failed (never excluded: a terrible address can still come up when
 * nothing better exists). Returns 1 with *out (and *last_try if not NULL), or 0 when no
 * address of those networks is in the table(s) searched. */
int addrman_select(struct addrman *am, bool new_only, uint32_t nets, struct peer_addr *out,
		   int64_t *last_try);
/* Pick a pending tried collision and return the address currently in its tried slot (the one
 * to test with a feeler): 1 with *out (and *last_try if not NULL), or 0 when none is pending. */
int addrman_select_collision(struct addrman *am, struct peer_addr *out, int64_t *last_try);
/* Settle pending collisions: the new address takes the slot when the old one failed its test
 * (tried within ADDRMAN_REPLACEMENT, more than ADDRMAN_FEELER_GRACE ago, without success) or
 * was not tested within ADDRMAN_TEST_WINDOW; the old one stays when it connected within
 * ADDRMAN_REPLACEMENT; otherwise the collision stays pending. */
void addrman_resolve_collisions(struct addrman *am);
/* Number of pending collisions. */
size_t addrman_collision_count(const struct addrman *am);

/* Fill out (room for max_count entries) with random distinct addresses of networks nets,
 * skipping terrible ones: at most max_count, and at most max_pct percent of the whole book when
 * max_pct is 1..100 (0: no percentage limit). Returns the number written. */
size_t addrman_get_addresses(struct addrman *am, struct peer_addr *out, size_t max_count,
			     unsigned max_pct, uint32_t nets);

/* What the book knows about one address (tests, debugging RPCs). */
struct addrman_info {
	struct peer_addr addr;   /* with its stored time and services */
	struct peer_addr source; /* who told us first (port 0) */
	int64_t last_success;    /* 0: never */
	int64_t last_try;        /* 0: never */
	uint32_t attempts;       /* counted failures since the last success */
	bool tried;
	bool terrible;
	unsigned bucket_count; /* tried: 1; new: number of new buckets holding it */
	uint16_t buckets[ADDRMAN_NEW_BUCKETS_PER_ADDRESS];
};
/* Return 1 and fill *info if addr (address and port) is in the book, else 0. */
int addrman_lookup(const struct addrman *am, const struct peer_addr *addr,
		   struct addrman_info *info);
/* Check every internal invariant (tables, reference counts, index, counters). Returns 0 if
 * consistent, else a negative code naming the first broken rule. O(table size): tests only. */
int addrman_check(const struct addrman *am);

/* Policy constants (seconds unless said otherwise), exposed for tests and doc/addrman.md. */
#define ADDRMAN_HORIZON          (30 * 86400) /* not heard of in 30 days: terrible */
#define ADDRMAN_FUTURE_SLACK     (10 * 60)    /* time more than 10 min ahead: terrible */
#define ADDRMAN_RETRIES          3            /* failures with no success ever: terrible */
#define ADDRMAN_MAX_FAILURES     10           /* failures ... */
#define ADDRMAN_MIN_FAIL         (7 * 86400)  /* ... and no success in 7 days: terrible */
#define ADDRMAN_RECENT_TRY       60           /* tried in the last minute: never terrible */
#define ADDRMAN_REPLACEMENT      (4 * 3600)   /* test-before-evict: recent success protects */
#define ADDRMAN_TEST_WINDOW      (40 * 60)    /* an untested collision is settled after this */
#define ADDRMAN_FEELER_GRACE     60           /* a feeler gets this long to connect */
#define ADDRMAN_CONNECTED_UPDATE (20 * 60)    /* addrman_connected refresh interval */

#endif
