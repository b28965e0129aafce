/* Bans and discouragement (include/net/banman.h).
 *
 * The bans are one array sorted by (address, prefix length), so a subnet is found by binary
 * search and listing comes out in a fixed order; banman_is_banned scans it (see
 * BANMAN_MAX_BANS). Each change builds its database batch first and touches memory only after
 * the write succeeded, so memory and disk never disagree about an unexpired ban.
 *
 * Record (doc/storage.md): key 'b' · address[16] · prefix length[1], value created (int64 LE) ·
 * until (int64 LE). */
#include "net/banman.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netaddr.h"
#include "store/db.h"
#include "util/bloom.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"

#define BAN_KEY_LEN 18 /* prefix, address, prefix length */
#define BAN_VAL_LEN 16 /* created, until */

/* The first 12 bytes of an IPv4-mapped IPv6 address. */
static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

struct ban {
	struct subnet sn;
	int64_t created, until;
	uint64_t net[2], mask[2]; /* sn as two big-endian halves, for the scan (set_match) */
};

struct banman {
	const struct clock *clock;
	struct db *db;
	struct ban *bans; /* sorted by cmp_subnet */
	size_t n, cap;
	struct rolling_bloom *discouraged;
};

/* ---- subnets ---------------------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *msg, const char *s)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", msg, s);
}

/* Clear the bits of addr beyond the first bits. */
static void mask_bits(uint8_t addr[16], unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = bits >= 8 * (i + 1) ? 8 : bits > 8 * i ? bits - 8 * i : 0;
		addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

/* The prefix length of a contiguous netmask of len bytes, or -1 when it is not contiguous. */
static int mask_length(const uint8_t *mask, size_t len)
{
	int bits = 0;
	size_t i = 0;
	while (i < len && mask[i] == 0xff) {
		bits += 8;
		i++;
	}
	if (i < len) {
		uint8_t b = mask[i++];
		while (b & 0x80) {
			bits++;
			b = (uint8_t)(b << 1);
		}
		if (b != 0)
			return -1;
	}
	for (; i < len; i++)
		if (mask[i] != 0)
			return -1;
	return bits;
}

/* The prefix length after '/': decimal up to max, or a netmask of the address's family
 * (v4: IPv4). Returns -1 when it is neither. */
static int parse_prefix(const char *p, bool v4, int max)
{
	size_t len = strlen(p);
	if (len >= 1 && len <= 3 && strspn(p, "0123456789") == len) {
		int bits = atoi(p);
		return bits <= max ? bits : -1;
	}
	uint8_t mask[16];
	if (inet_pton(v4 ? AF_INET : AF_INET6, p, mask) != 1)
		return -1;
	return mask_length(mask, v4 ? 4 : 16);
}

int subnet_parse(struct subnet *out, const char *s, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		s = "";
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hostlen = slash ? (size_t)(slash - s) : strlen(s);
	if (hostlen == 0 || hostlen >= sizeof(host)) {
		set_err(err, errlen, "not an IP address", s);
		return -1;
	}
	memcpy(host, s, hostlen);
	host[hostlen] = '\0';
	struct subnet sn;
	bool v4 = false;
	if (inet_pton(AF_INET, host, sn.addr + 12) == 1) {
		memcpy(sn.addr, mapped_prefix, sizeof(mapped_prefix));
		v4 = true;
	} else if (inet_pton(AF_INET6, host, sn.addr) != 1) {
		set_err(err, errlen, "not an IP address", s);
		return -1;
	}
	int bits = v4 ? 32 : 128;
	if (slash != NULL)
		bits = parse_prefix(slash + 1, v4, bits);
	if (bits < 0) {
		set_err(err, errlen,
			v4 ? "bad prefix (0-32 or a contiguous IPv4 netmask)"
			   : "bad prefix (0-128 or a contiguous IPv6 netmask)",
			s);
		return -1;
	}
	sn.bits = (uint8_t)(v4 ? 96 + bits : bits);
	mask_bits(sn.addr, sn.bits);
	*out = sn;
	return 0;
}

static bool is_mapped(const struct subnet *s)
{
	return s->bits >= 96 && memcmp(s->addr, mapped_prefix, sizeof(mapped_prefix)) == 0;
}

void subnet_format(const struct subnet *s, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN];
	bool v4 = is_mapped(s);
	if (inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? s->addr + 12 : s->addr, ip, sizeof(ip)) == NULL)
		ip[0] = '\0'; /* not reached: the buffer fits every address */
	snprintf(out, outlen, "%s/%u", ip, v4 ? s->bits - 96u : s->bits);
}

bool subnet_is_single(const struct subnet *s)
{
	return s->bits == 128;
}

/* Whether the 16-byte address ip lies in s. */
static bool contains_bytes(const struct subnet *s, const uint8_t ip[16])
{
	unsigned full = s->bits / 8, rest = s->bits % 8;
	if (memcmp(s->addr, ip, full) != 0)
		return false;
	return rest == 0 || ((s->addr[full] ^ ip[full]) & (0xff00u >> rest)) == 0;
}

bool subnet_contains(const struct subnet *s, const struct netaddr *addr)
{
	uint8_t ip[16];
	return netaddr_ip16(addr, ip) && contains_bytes(s, ip);
}

/* ---- the ban list ------------------------------------------------------------------------ */

static int cmp_subnet(const struct subnet *a, const struct subnet *b)
{
	int c = memcmp(a->addr, b->addr, 16);
	return c != 0 ? c : (a->bits > b->bits) - (a->bits < b->bits);
}

/* The index of sn in the list, or where it would go (*found false). */
static size_t find(const struct banman *bm, const struct subnet *sn, bool *found)
{
	size_t lo = 0, hi = bm->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cmp_subnet(&bm->bans[mid].sn, sn);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static void ban_key(uint8_t key[BAN_KEY_LEN], const struct subnet *sn)
{
	key[0] = DB_PREFIX_BANS;
	memcpy(key + 1, sn->addr, 16);
	key[17] = sn->bits;
}

static void batch_put_ban(struct db_batch *b, const struct ban *ban)
{
	uint8_t key[BAN_KEY_LEN], val[BAN_VAL_LEN];
	ban_key(key, &ban->sn);
	for (int i = 0; i < 8; i++) {
		val[i] = (uint8_t)((uint64_t)ban->created >> (8 * i));
		val[8 + i] = (uint8_t)((uint64_t)ban->until >> (8 * i));
	}
	db_batch_put(b, key, sizeof(key), val, sizeof(val));
}

static void batch_delete_ban(struct db_batch *b, const struct subnet *sn)
{
	uint8_t key[BAN_KEY_LEN];
	ban_key(key, sn);
	db_batch_delete(b, key, sizeof(key));
}

/* Write b (freed here) with sync; true when it was written (or there is no database). */
static bool commit(struct banman *bm, struct db_batch *b, bool sync)
{
	if (bm->db == NULL) {
		db_batch_free(b);
		return true;
	}
	int rc = db_batch_write(bm->db, b, sync);
	db_batch_free(b);
	if (rc != 0)
		log_error("banman: cannot save the ban list: %s", db_last_error(bm->db));
	return rc == 0;
}

/* Room for one more ban. */
static bool reserve(struct banman *bm)
{
	if (bm->n < bm->cap)
		return true;
	size_t cap = bm->cap ? 2 * bm->cap : 64;
	if (cap > BANMAN_MAX_BANS)
		cap = BANMAN_MAX_BANS;
	struct ban *v = realloc(bm->bans, cap * sizeof(*v));
	if (v == NULL)
		return false;
	bm->bans = v;
	bm->cap = cap;
	return true;
}

static void insert_at(struct banman *bm, size_t i, const struct ban *ban)
{
	memmove(&bm->bans[i + 1], &bm->bans[i], (bm->n - i) * sizeof(bm->bans[0]));
	bm->bans[i] = *ban;
	bm->n++;
}

static void remove_at(struct banman *bm, size_t i)
{
	memmove(&bm->bans[i], &bm->bans[i + 1], (bm->n - i - 1) * sizeof(bm->bans[0]));
	bm->n--;
}

static bool expired(const struct ban *b, int64_t now)
{
	return b->until <= now;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The mask of the first bits (0-64) of a 64-bit half. */
static uint64_t half_mask(unsigned bits)
{
	return bits == 0 ? 0 : bits >= 64 ? UINT64_MAX : UINT64_MAX << (64 - bits);
}

/* Fill b's scan fields from b->sn. */
static void set_match(struct ban *b)
{
	b->net[0] = be64(b->sn.addr);
	b->net[1] = be64(b->sn.addr + 8);
	b->mask[0] = half_mask(b->sn.bits > 64 ? 64 : b->sn.bits);
	b->mask[1] = half_mask(b->sn.bits > 64 ? b->sn.bits - 64u : 0);
}

/* Whether an unexpired ban contains the 16-byte address ip: two masked compares a ban, the
 * same test as contains_bytes. */
static bool banned_bytes(const struct banman *bm, const uint8_t ip[16], int64_t now)
{
	uint64_t hi = be64(ip), lo = be64(ip + 8);
	for (size_t i = 0; i < bm->n; i++) {
		const struct ban *b = &bm->bans[i];
		if ((hi & b->mask[0]) == b->net[0] && (lo & b->mask[1]) == b->net[1] &&
		    !expired(b, now))
			return true;
	}
	return false;
}

/* ---- loading ------------------------------------------------------------------------------ */

struct load_ctx {
	struct banman *bm;
	struct db_batch *expired;         /* deletions of expired records */
	size_t nexpired, malformed, over; /* over: beyond BANMAN_MAX_BANS */
	bool oom;
};

/* Decode a record into *out. Returns false for a malformed one. */
static bool decode_ban(struct ban *out, const uint8_t *key, size_t keylen, const uint8_t *val,
		       size_t vallen)
{
	if (keylen != BAN_KEY_LEN || vallen != BAN_VAL_LEN || key[17] > 128)
		return false;
	memcpy(out->sn.addr, key + 1, 16);
	out->sn.bits = key[17];
	uint8_t masked[16];
	memcpy(masked, out->sn.addr, 16);
	mask_bits(masked, out->sn.bits);
	if (memcmp(masked, out->sn.addr, 16) != 0)
		return false; /* host bits set: not written by us */
	struct cursor c;
	cursor_init(&c, val, vallen);
	out->created = cursor_i64le(&c);
	out->until = cursor_i64le(&c);
	set_match(out);
	return cursor_ok(&c) && out->created >= 0 && out->until > out->created;
}

static int load_one(void *vctx, const uint8_t *key, size_t keylen, const uint8_t *val,
		    size_t vallen)
{
	struct load_ctx *ctx = vctx;
	struct banman *bm = ctx->bm;
	struct ban ban;
	if (!decode_ban(&ban, key, keylen, val, vallen)) {
		char hex[2 * 64 + 1];
		hex_encode(hex, key, keylen < 64 ? keylen : 64);
		log_warn("banman: skipping a malformed ban record (key %s, %zu-byte value)", hex,
			 vallen);
		ctx->malformed++;
		return 0;
	}
	if (expired(&ban, clock_now(bm->clock))) {
		db_batch_delete(ctx->expired, key, keylen);
		ctx->nexpired++;
		return 0;
	}
	if (bm->n >= BANMAN_MAX_BANS) {
		ctx->over++; /* one log line for all of them, at the end */
		return 0;
	}
	if (!reserve(bm)) {
		ctx->oom = true;
		return 1;
	}
	/* Keys come in key order, which is the list's order: append. */
	bm->bans[bm->n++] = ban;
	return 0;
}

static int load(struct banman *bm)
{
	struct load_ctx ctx = {.bm = bm, .expired = db_batch_new()};
	const uint8_t prefix = DB_PREFIX_BANS;
	if (ctx.expired == NULL)
		return -1;
	int rc = db_iterate_prefix(bm->db, &prefix, 1, load_one, &ctx);
	if (rc != 0 || ctx.oom) {
		if (rc == -1)
			log_error("banman: cannot read the ban list: %s", db_last_error(bm->db));
		db_batch_free(ctx.expired);
		return -1;
	}
	if (ctx.nexpired > 0)
		commit(bm, ctx.expired, false); /* a failure is logged; retried at the next load */
	else
		db_batch_free(ctx.expired);
	if (ctx.over > 0)
		log_warn("banman: skipped %zu saved bans beyond the limit of %d", ctx.over,
			 BANMAN_MAX_BANS);
	log_info("banman: loaded %zu bans (%zu expired removed, %zu malformed skipped)", bm->n,
		 ctx.nexpired, ctx.malformed);
	return 0;
}

/* ---- the API ------------------------------------------------------------------------------ */

struct banman *banman_new(const struct clock *clock, struct db *db)
{
	struct banman *bm = calloc(1, sizeof(*bm));
	if (bm == NULL)
		return NULL;
	bm->clock = clock;
	bm->db = db;
	bm->discouraged = rolling_bloom_new(BANMAN_DISCOURAGED_N, BANMAN_DISCOURAGED_FP);
	if (bm->discouraged == NULL || (db != NULL && load(bm) != 0)) {
		banman_free(bm);
		return NULL;
	}
	return bm;
}

void banman_free(struct banman *bm)
{
	if (bm == NULL)
		return;
	rolling_bloom_free(bm->discouraged);
	free(bm->bans);
	free(bm);
}

enum banman_result banman_ban(struct banman *bm, const char *subnet, int64_t ban_until, char *err,
			      size_t errlen)
{
	struct ban ban = {.created = clock_now(bm->clock), .until = ban_until};
	if (subnet_parse(&ban.sn, subnet, err, errlen) != 0)
		return BANMAN_BAD_SUBNET;
	set_match(&ban);
	if (ban.until <= ban.created)
		return BANMAN_BAD_TIME;
	bool found;
	size_t i = find(bm, &ban.sn, &found);
	if (found && !expired(&bm->bans[i], ban.created))
		return BANMAN_ALREADY_BANNED;
	if (!found && subnet_is_single(&ban.sn) && banned_bytes(bm, ban.sn.addr, ban.created))
		return BANMAN_ALREADY_BANNED;
	if (!found && bm->n >= BANMAN_MAX_BANS) {
		banman_sweep(bm);
		if (bm->n >= BANMAN_MAX_BANS)
			return BANMAN_FULL;
		i = find(bm, &ban.sn, &found);
	}
	struct db_batch *b = db_batch_new();
	if (b == NULL || (!found && !reserve(bm))) {
		db_batch_free(b);
		return BANMAN_DB_ERROR; /* out of memory: nothing was written */
	}
	batch_put_ban(b, &ban);
	if (!commit(bm, b, true))
		return BANMAN_DB_ERROR;
	if (found)
		bm->bans[i] = ban;
	else
		insert_at(bm, i, &ban);
	return BANMAN_OK;
}

enum banman_result banman_unban(struct banman *bm, const char *subnet)
{
	struct subnet sn;
	if (subnet_parse(&sn, subnet, NULL, 0) != 0)
		return BANMAN_BAD_SUBNET;
	bool found;
	size_t i = find(bm, &sn, &found);
	if (!found)
		return BANMAN_NOT_BANNED;
	struct db_batch *b = db_batch_new();
	if (b == NULL)
		return BANMAN_DB_ERROR;
	batch_delete_ban(b, &sn);
	if (!commit(bm, b, true))
		return BANMAN_DB_ERROR;
	remove_at(bm, i);
	return BANMAN_OK;
}

enum banman_result banman_clear(struct banman *bm)
{
	struct db_batch *b = db_batch_new();
	if (b == NULL)
		return BANMAN_DB_ERROR;
	for (size_t i = 0; i < bm->n; i++)
		batch_delete_ban(b, &bm->bans[i].sn);
	if (!commit(bm, b, true))
		return BANMAN_DB_ERROR;
	bm->n = 0;
	return BANMAN_OK;
}

bool banman_is_banned(const struct banman *bm, const struct netaddr *addr)
{
	uint8_t ip[16];
	return netaddr_ip16(addr, ip) && banned_bytes(bm, ip, clock_now(bm->clock));
}

size_t banman_sweep(struct banman *bm)
{
	int64_t now = clock_now(bm->clock);
	struct db_batch *b = db_batch_new();
	size_t kept = 0, removed = 0;
	for (size_t i = 0; i < bm->n; i++) {
		if (!expired(&bm->bans[i], now)) {
			bm->bans[kept++] = bm->bans[i];
			continue;
		}
		/* Without a batch (out of memory) the record stays; the next load deletes it. */
		if (b != NULL)
			batch_delete_ban(b, &bm->bans[i].sn);
		removed++;
	}
	bm->n = kept;
	if (removed > 0 && b != NULL)
		commit(bm, b, false);
	else
		db_batch_free(b);
	return removed;
}

size_t banman_count(const struct banman *bm)
{
	return bm->n;
}

int banman_list(const struct banman *bm, banman_list_fn fn, void *ctx)
{
	int64_t now = clock_now(bm->clock);
	for (size_t i = 0; i < bm->n; i++) {
		const struct ban *b = &bm->bans[i];
		if (expired(b, now))
			continue;
		struct ban_info info = {.created = b->created, .until = b->until};
		subnet_format(&b->sn, info.subnet, sizeof(info.subnet));
		int rc = fn(ctx, &info);
		if (rc != 0)
			return rc;
	}
	return 0;
}

void banman_discourage(struct banman *bm, const struct netaddr *addr)
{
	uint8_t ip[16];
	if (netaddr_ip16(addr, ip))
		rolling_bloom_insert(bm->discouraged, ip, sizeof(ip));
}

bool banman_is_discouraged(const struct banman *bm, const struct netaddr *addr)
{
	uint8_t ip[16];
	return netaddr_ip16(addr, ip) && rolling_bloom_contains(bm->discouraged, ip, sizeof(ip));
}

void banman_clear_discouraged(struct banman *bm)
{
	rolling_bloom_reset(bm->discouraged);
}
