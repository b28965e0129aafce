/* Address gossip: getaddr answers, addrv2 intake with a token bucket, relay of fresh
 * announcements, per-peer trickle queues, and our own address (doc/discovery.md, "Address
 * gossip"). Part of the connection manager; runs on the loop thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "connman_impl.h"
#include "net/addrman.h"
#include "net/peer.h"
#include "net/scoring.h"
#include "util/bloom.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"
#include "wire/addr.h"

/* Token bucket: 0.1 address per second, burst 1000 (Bitcoin's MAX_ADDR_RATE_PER_SECOND and
 * MAX_ADDR_PROCESSING_TOKEN_BUCKET): a peer cannot make us process much more than the
 * addresses an honest network produces. */
#define ADDR_RATE_PER_SEC 0.1
#define ADDR_TOKEN_BURST  1000.0
/* A new connection may deliver one relay-sized batch at once (a neighbour passing on fresh
 * announcements it trickled together); beyond it the rate applies. */
#define ADDR_TOKEN_START 10.0
/* Every this many addresses dropped by the bucket cost one flood offence (a peer that keeps
 * sending far beyond the rate is spamming, not relaying). */
#define ADDR_FLOOD_PENALTY_ITEMS 1000
/* Known-address filter per peer: about two full getaddr answers. */
#define ADDR_KNOWN_FILTER 5000
#define ADDR_KNOWN_FP     0.001
/* Relay: announcements of at most this many entries, of addresses heard of this recently,
 * go to this many peers. */
#define ADDR_RELAY_MAX_ENTRIES 10
#define ADDR_RELAY_FRESH_SECS  (10 * 60)
#define ADDR_RELAY_PEERS       2
/* Time penalty for addresses learned from gossip (they may be stale). */
#define ADDR_GOSSIP_PENALTY (2 * 3600)
/* Announce our own address to every peer about this often. */
#define SELF_ANNOUNCE_INTERVAL (24 * 3600)
/* getaddr answers: at most this many addresses, or this percentage of the book; the cached
 * answer is rebuilt after about a day (randomised so peers cannot time it). */
#define GETADDR_MAX     1000
#define GETADDR_MAX_PCT 23
/* A small book (where 23% rounds down to almost nothing) is answered with up to this many
 * addresses instead: hiding a tiny book gains no privacy, and a new network must bootstrap. */
#define GETADDR_MIN          100
#define GETADDR_CACHE_SECS   (21 * 3600)
#define GETADDR_CACHE_JITTER (6 * 3600)

static bool addr_known(struct peer *p, const struct peer_addr *a)
{
	uint8_t key[1 + PEER_ADDR_MAX_LEN + 2];
	key[0] = a->net;
	memcpy(key + 1, a->addr, PEER_ADDR_MAX_LEN);
	key[1 + PEER_ADDR_MAX_LEN] = (uint8_t)(a->port >> 8);
	key[2 + PEER_ADDR_MAX_LEN] = (uint8_t)a->port;
	if (!p->addr_known) {
		/* Made on first use: an idle peer holds no filter (memory per idle connection). */
		p->addr_known = rolling_bloom_new(ADDR_KNOWN_FILTER, ADDR_KNOWN_FP);
		if (!p->addr_known)
			return true; /* treat as known: nothing is sent to it */
	}
	if (rolling_bloom_contains(p->addr_known, key, sizeof(key)))
		return true;
	rolling_bloom_insert(p->addr_known, key, sizeof(key));
	return false;
}

/* Queue an address for the peer unless it knows it. */
static void push_addr(struct peer *p, const struct peer_addr *a)
{
	if (!p->addr_relay_enabled || addr_known(p, a))
		return;
	if (p->naddr_queue >= ADDR_QUEUE_MAX) {
		/* Replace a random entry: the queue stays bounded and fresh. */
		p->addr_queue[random_range(ADDR_QUEUE_MAX)] = *a;
		return;
	}
	if (p->naddr_queue == p->cap_addr_queue) {
		/* Grown on demand: an idle peer holds no queue at all. */
		size_t ncap = p->cap_addr_queue ? p->cap_addr_queue * 2 : 16;
		if (ncap > ADDR_QUEUE_MAX)
			ncap = ADDR_QUEUE_MAX;
		struct peer_addr *nq = realloc(p->addr_queue, ncap * sizeof(*nq));
		if (!nq)
			return;
		p->addr_queue = nq;
		p->cap_addr_queue = ncap;
	}
	p->addr_queue[p->naddr_queue++] = *a;
}

static void send_addrs(struct peer *p, const struct peer_addr *a, size_t n)
{
	struct wire_addrv2 *w = malloc((n ? n : 1) * sizeof(*w));
	if (!w)
		return;
	for (size_t i = 0; i < n; i++)
		peer_addr_to_wire(&w[i], &a[i]);
	struct bytebuf b;
	bytebuf_init(&b, WIRE_MAX_PAYLOAD);
	wire_encode_addrv2(&b, w, n);
	if (bytebuf_ok(&b))
		peer_send(p, CMD_ADDRV2, b.data, b.len);
	bytebuf_free(&b);
	free(w);
}

static int64_t trickle_delay_us(const struct connman *cm)
{
	return (int64_t)random_exponential((double)cm->cfg.addr_trickle_ms * 1000.0);
}

/* ---- our own address ---- */

/* The best address to announce as ours, or false when we have none (or do not listen). */
static bool local_address(const struct connman *cm, struct peer_addr *out)
{
	if (!cm->cfg.listen || cm->nlocal == 0)
		return false;
	size_t best = 0;
	for (size_t i = 1; i < cm->nlocal; i++)
		if (cm->local[i].score > cm->local[best].score)
			best = i;
	/* On a local testnet one peer's report is enough: every node is on this machine. */
	int need = cm->cfg.allow_local ? 1 : LOCAL_MIN_SCORE;
	if (cm->local[best].score < need)
		return false;
	*out = cm->local[best].addr;
	out->time = (uint32_t)clock_now(cm->cfg.clock);
	out->services = cm->cfg.local_services;
	return true;
}

void addrrelay_add_local(struct connman *cm, const struct peer_addr *a, int score)
{
	for (size_t i = 0; i < cm->nlocal; i++)
		if (peer_addr_equal(&cm->local[i].addr, a)) {
			cm->local[i].score += score;
			return;
		}
	if (cm->nlocal >= CONNMAN_MAX_LOCAL)
		return;
	cm->local[cm->nlocal].addr = *a;
	cm->local[cm->nlocal].score = score;
	cm->nlocal++;
	char s[PEER_ADDR_STRLEN];
	peer_addr_format(a, s, sizeof(s));
	log_debug(LOG_ADDRMAN, "local address candidate %s (score %d)", s, score);
}

bool addrrelay_is_local(const struct connman *cm, const struct peer_addr *a)
{
	for (size_t i = 0; i < cm->nlocal; i++)
		if (peer_addr_equal(&cm->local[i].addr, a))
			return true;
	return false;
}

/* A peer told us (version addr_recv) where it sees us. */
void addrrelay_seen_as(struct connman *cm, const struct peer *p, const struct wire_addr *seen)
{
	if (p->type == CONN_INBOUND || !cm->cfg.discover)
		return;
	struct peer_addr a;
	memset(&a, 0, sizeof(a));
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (memcmp(seen->ip, mapped, 12) == 0) {
		a.net = PEER_NET_IPV4;
		a.addrlen = 4;
		memcpy(a.addr, seen->ip + 12, 4);
	} else {
		a.net = PEER_NET_IPV6;
		a.addrlen = 16;
		memcpy(a.addr, seen->ip, 16);
	}
	a.port = cm->cfg.port;
	if (!peer_addr_routable(&a) && !cm->cfg.allow_local)
		return;
	addrrelay_add_local(cm, &a, 1);
}

/* ---- peers ---- */

void addrrelay_peer_ready(struct connman *cm, struct peer *p)
{
	p->addr_tokens = ADDR_TOKEN_START;
	p->addr_tokens_us = clock_mono_us();
	p->addr_relay_enabled = p->wants_addrv2 && p->type != CONN_FEELER;
	p->next_addr_send_us = clock_mono_us() + trickle_delay_us(cm);
	p->next_self_announce =
		clock_now(cm->cfg.clock) + (int64_t)random_range(SELF_ANNOUNCE_INTERVAL);
	if (!cm->cfg.addrman)
		return;
	if (p->type == CONN_OUTBOUND_FULL || p->type == CONN_ADDR_FETCH) {
		peer_send(p, CMD_GETADDR, NULL, 0);
		p->getaddr_sent = true;
		p->addr_tokens += ADDR_TOKEN_BURST; /* room for the answer */
	}
	/* Tell the peers we chose (and a seed node) where to reach us, at once: an address-fetch
	 * connection may be gone before the next trickle. */
	struct peer_addr self;
	if ((p->type == CONN_OUTBOUND_FULL || p->type == CONN_ADDR_FETCH ||
	     p->type == CONN_MANUAL) &&
	    p->addr_relay_enabled && local_address(cm, &self)) {
		addr_known(p, &self);
		send_addrs(p, &self, 1);
	}
}

void addrrelay_peer_free(struct peer *p)
{
	rolling_bloom_free(p->addr_known);
	p->addr_known = NULL;
	free(p->addr_queue);
	p->addr_queue = NULL;
}

static void answer_getaddr(struct connman *cm, struct peer *p)
{
	if (p->type != CONN_INBOUND) {
		log_debug(LOG_ADDRMAN, "ignoring getaddr from outbound peer=%" PRIu64, p->id);
		return;
	}
	if (p->getaddr_answered) {
		log_debug(LOG_ADDRMAN, "ignoring repeated getaddr from peer=%" PRIu64, p->id);
		return;
	}
	p->getaddr_answered = true;
	int64_t now = clock_now(cm->cfg.clock);
	/* The cached answer lives about a day (so peers cannot scrape the book by reconnecting),
	 * except while the book is small and has grown past what the cache holds: a young
	 * network must not hand out a stale handful of addresses for a day. */
	size_t size = addrman_size(cm->cfg.addrman);
	size_t small_answer = size < GETADDR_MIN ? size : GETADDR_MIN;
	bool stale_small =
		size * GETADDR_MAX_PCT / 100 < GETADDR_MIN && cm->ngetaddr_cache < small_answer;
	if (!cm->getaddr_cache || now >= cm->getaddr_cache_expiry || stale_small) {
		free(cm->getaddr_cache);
		cm->getaddr_cache = calloc(GETADDR_MAX, sizeof(*cm->getaddr_cache));
		bool small = size * GETADDR_MAX_PCT / 100 < GETADDR_MIN;
		cm->ngetaddr_cache =
			cm->getaddr_cache
				? addrman_get_addresses(cm->cfg.addrman, cm->getaddr_cache,
							small ? GETADDR_MIN : GETADDR_MAX,
							small ? 0 : GETADDR_MAX_PCT,
							ADDRMAN_NETS_ALL)
				: 0;
		cm->getaddr_cache_expiry =
			now + GETADDR_CACHE_SECS + (int64_t)random_range(GETADDR_CACHE_JITTER);
	}
	if (!p->addr_relay_enabled)
		return;
	/* Answer at once (not trickled): the peer asked. */
	for (size_t i = 0; i < cm->ngetaddr_cache; i++)
		addr_known(p, &cm->getaddr_cache[i]);
	send_addrs(p, cm->getaddr_cache, cm->ngetaddr_cache);
}

/* Relay one fresh address to ADDR_RELAY_PEERS peers chosen by a keyed hash of the address and
 * the day, never back to where it came from. */
static void relay_addr(struct connman *cm, const struct peer *from, const struct peer_addr *a)
{
	uint64_t day = (uint64_t)clock_now(cm->cfg.clock) / 86400;
	uint8_t msg[1 + PEER_ADDR_MAX_LEN + 2 + 8];
	msg[0] = a->net;
	memcpy(msg + 1, a->addr, PEER_ADDR_MAX_LEN);
	msg[33] = (uint8_t)(a->port >> 8);
	msg[34] = (uint8_t)a->port;
	memcpy(msg + 35, &day, 8);
	struct peer *best[ADDR_RELAY_PEERS] = {NULL};
	uint64_t best_key[ADDR_RELAY_PEERS] = {0};
	for (struct peer *p = cm->peers; p; p = p->next) {
		if (p == from || p->state != PEER_ESTABLISHED || !p->addr_relay_enabled)
			continue;
		uint8_t h[crypto_shorthash_siphash24_BYTES];
		uint8_t in[sizeof(msg) + 8];
		memcpy(in, msg, sizeof(msg));
		memcpy(in + sizeof(msg), &p->id, 8);
		crypto_shorthash_siphash24(h, in, sizeof(in), cm->relay_key);
		uint64_t k;
		memcpy(&k, h, sizeof(k));
		for (int i = 0; i < ADDR_RELAY_PEERS; i++)
			if (!best[i] || k > best_key[i]) {
				for (int j = ADDR_RELAY_PEERS - 1; j > i; j--) {
					best[j] = best[j - 1];
					best_key[j] = best_key[j - 1];
				}
				best[i] = p;
				best_key[i] = k;
				break;
			}
	}
	for (int i = 0; i < ADDR_RELAY_PEERS; i++)
		if (best[i])
			push_addr(best[i], a);
}

static void take_tokens(struct peer *p)
{
	int64_t now = clock_mono_us();
	double add = (double)(now - p->addr_tokens_us) / 1e6 * ADDR_RATE_PER_SEC;
	p->addr_tokens_us = now;
	p->addr_tokens += add;
	if (p->addr_tokens > ADDR_TOKEN_BURST && !p->getaddr_sent)
		p->addr_tokens = ADDR_TOKEN_BURST;
}

static void on_addrv2(struct connman *cm, struct peer *p, const uint8_t *payload, size_t len)
{
	struct wire_addrv2 *w = NULL;
	size_t n = 0, skipped = 0;
	if (wire_decode_addrv2(&w, &n, &skipped, payload, len) != 0) {
		p->malformed++;
		peer_misbehaving(p, OFF_MALFORMED, "addrv2");
		log_debug(LOG_ADDRMAN, "malformed addrv2 from peer=%" PRIu64, p->id);
		return;
	}
	take_tokens(p);
	int64_t now = clock_now(cm->cfg.clock);
	struct peer_addr *keep = calloc(n ? n : 1, sizeof(*keep));
	size_t nkeep = 0;
	bool relay = n <= ADDR_RELAY_MAX_ENTRIES && p->type != CONN_ADDR_FETCH;
	struct peer_addr from;
	bool have_from = peer_addr_from_netaddr(&from, &p->addr) == 0;
	for (size_t i = 0; keep && i < n; i++) {
		struct peer_addr a;
		peer_addr_from_wire(&a, &w[i]);
		/* A peer announcing its own address (its IP, any port) costs no token: that is how
		 * a node makes itself known, and it cannot be used to spam other addresses. */
		bool self = have_from && a.net == from.net && a.addrlen == from.addrlen &&
			    memcmp(a.addr, from.addr, a.addrlen) == 0 && n == 1;
		if (!self && p->addr_tokens < 1.0 && !(p->perms & NET_PERM_ADDR)) {
			p->addr_rate_limited++;
			if (p->addr_rate_limited % ADDR_FLOOD_PENALTY_ITEMS == 0)
				peer_misbehaving(p, OFF_FLOOD, "addresses");
			continue;
		}
		if (!self)
			p->addr_tokens -= 1.0;
		p->addr_processed++;
		if (a.time > now + 10 * 60 || a.time < 1000000000u)
			a.time = (uint32_t)(now - 5 * 86400);
		addr_known(p, &a);
		keep[nkeep++] = a;
		if (relay && (int64_t)a.time > now - ADDR_RELAY_FRESH_SECS && peer_addr_valid(&a))
			relay_addr(cm, p, &a);
	}
	if (nkeep && cm->cfg.addrman) {
		struct peer_addr source;
		if (peer_addr_from_netaddr(&source, &p->addr) == 0)
			addrman_add(cm->cfg.addrman, keep, nkeep, &source, ADDR_GOSSIP_PENALTY);
	}
	free(keep);
	free(w);
	/* An address-fetch connection has done its job once the answer came (whatever its size:
	 * a seed with a small book answers with few addresses, or none). */
	if (p->type == CONN_ADDR_FETCH)
		peer_disconnect(p, "addresses received (addr-fetch)");
}

bool addrrelay_message(struct connman *cm, struct peer *p, const char *cmd, const uint8_t *payload,
		       size_t len)
{
	if (strcmp(cmd, CMD_GETADDR) == 0) {
		if (cm->cfg.addrman)
			answer_getaddr(cm, p);
		return true;
	}
	if (strcmp(cmd, CMD_ADDRV2) == 0) {
		on_addrv2(cm, p, payload, len);
		return true;
	}
	return false;
}

void addrrelay_tick(struct connman *cm, struct peer *p, int64_t now, int64_t now_us)
{
	if (p->state != PEER_ESTABLISHED || !p->addr_relay_enabled)
		return;
	struct peer_addr self;
	if (now >= p->next_self_announce) {
		p->next_self_announce = now + SELF_ANNOUNCE_INTERVAL;
		if (local_address(cm, &self))
			push_addr(p, &self);
	}
	if (now_us < p->next_addr_send_us)
		return;
	p->next_addr_send_us = now_us + trickle_delay_us(cm);
	if (p->naddr_queue == 0)
		return;
	send_addrs(p, p->addr_queue, p->naddr_queue);
	p->naddr_queue = 0;
}
