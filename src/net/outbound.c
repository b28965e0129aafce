/* Automatic outbound connections: anchors, the 8 full-relay slots filled from the address book
 * across network groups, feelers, seed nodes, DNS and fixed seeds (doc/discovery.md). Part of the
 * connection manager; runs on the loop thread from its one-second tick. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/util.h>

#include "connman_impl.h"
#include "net/addrman.h"
#include "net/banman.h"
#include "net/peer.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"

/* Mean time between feeler connections (Bitcoin's FEELER_INTERVAL). */
#define FEELER_INTERVAL_SECS 120
/* DNS seeds: query when the book holds fewer addresses than this ... */
#define DNSSEED_MIN_ADDRESSES 1000
/* ... and this long after start there are fewer than DNSSEED_MIN_OUTBOUND outbound peers. */
#define DNSSEED_DELAY_SECS   11
#define DNSSEED_MIN_OUTBOUND 2
/* Fixed seeds: used when nothing worked this long after start. */
#define FIXEDSEED_DELAY_SECS 60
/* An address-fetch connection is closed after this long even without an answer. */
#define ADDR_FETCH_TIMEOUT 120
/* Selection: picks per attempt, and when recently tried addresses and other ports are allowed. */
#define SELECT_TRIES              100
#define SELECT_RECENT_TRY_SECS    600
#define SELECT_ALLOW_RECENT_AFTER 30
#define SELECT_ALLOW_PORT_AFTER   50
/* Longest outbound group key: address group + port (regtest loopback). */
#define OUT_GROUP_MAX (PEER_ADDR_GROUP_MAX + 2)

static int64_t poisson_us(int64_t mean_secs)
{
	return (int64_t)random_exponential((double)mean_secs * 1e6);
}

/* The group an outbound connection occupies. On regtest, loopback and private addresses are
 * grouped per port, so nodes on one machine count as distinct groups. */
static size_t out_group(const struct connman *cm, const struct peer_addr *a,
			uint8_t out[OUT_GROUP_MAX])
{
	size_t n = peer_addr_group(a, out);
	if (cm->cfg.allow_local && !peer_addr_routable(a)) {
		out[n++] = (uint8_t)(a->port >> 8);
		out[n++] = (uint8_t)a->port;
	}
	return n;
}

static bool peer_paddr(const struct peer *p, struct peer_addr *out)
{
	return p->addr.len > 0 && peer_addr_from_netaddr(out, &p->addr) == 0;
}

static bool connected_to(const struct connman *cm, const struct peer_addr *a)
{
	for (const struct peer *p = cm->peers; p; p = p->next) {
		struct peer_addr pa;
		if (p->state != PEER_DISCONNECTING && peer_paddr(p, &pa) && peer_addr_equal(&pa, a))
			return true;
	}
	return false;
}

static bool group_taken(const struct connman *cm, const struct peer_addr *a)
{
	uint8_t g[OUT_GROUP_MAX], h[OUT_GROUP_MAX];
	size_t n = out_group(cm, a, g);
	for (const struct peer *p = cm->peers; p; p = p->next) {
		struct peer_addr pa;
		if (p->type == CONN_INBOUND || p->type == CONN_FEELER ||
		    p->type == CONN_ADDR_FETCH || p->state == PEER_DISCONNECTING ||
		    !peer_paddr(p, &pa))
			continue;
		if (out_group(cm, &pa, h) == n && memcmp(g, h, n) == 0)
			return true;
	}
	return false;
}

/* Addresses not dialled automatically: banned and discouraged ones, and on a local testnet
 * (regtest) anything but loopback — a local testnet lives on this machine, and the addresses
 * its nodes gossip (tests flood made-up ones) must never turn into connections elsewhere. */
static bool avoided(const struct connman *cm, const struct peer_addr *a)
{
	struct netaddr na;
	if (peer_addr_to_netaddr(&na, a) != 0)
		return true;
	if (cm->cfg.allow_local && !netaddr_is_loopback(&na))
		return true;
	if (!cm->cfg.banman)
		return false;
	return banman_is_banned(cm->cfg.banman, &na) || banman_is_discouraged(cm->cfg.banman, &na);
}

static size_t count_type_live(const struct connman *cm, enum conn_type t)
{
	size_t n = 0;
	for (const struct peer *p = cm->peers; p; p = p->next)
		n += p->type == t && p->state != PEER_DISCONNECTING;
	return n;
}

static size_t count_established(const struct connman *cm, enum conn_type t)
{
	size_t n = 0;
	for (const struct peer *p = cm->peers; p; p = p->next)
		n += p->type == t && p->state == PEER_ESTABLISHED;
	return n;
}

struct peer *outbound_dial(struct connman *cm, const struct peer_addr *a, enum conn_type type)
{
	struct netaddr na;
	char dest[NETADDR_STRLEN];
	if (peer_addr_to_netaddr(&na, a) != 0)
		return NULL;
	netaddr_format(&na, dest, sizeof(dest));
	if (cm->cfg.addrman)
		addrman_attempt(cm->cfg.addrman, a, true);
	return connman_dial(cm, dest, type);
}

/* Pick an address for a new full-relay connection (doc/discovery.md, "Connections"). */
static bool select_outbound(struct connman *cm, struct peer_addr *out)
{
	int64_t now = clock_now(cm->cfg.clock);
	for (int tries = 0; tries < SELECT_TRIES; tries++) {
		int64_t last_try = 0;
		if (addrman_select(cm->cfg.addrman, false, ADDRMAN_NETS_REACHABLE, out,
				   &last_try) != 1)
			return false;
		if (connected_to(cm, out) || addrrelay_is_local(cm, out) || group_taken(cm, out) ||
		    avoided(cm, out))
			continue;
		if (cm->cfg.allow_local || peer_addr_routable(out)) {
			if (last_try && now - last_try < SELECT_RECENT_TRY_SECS &&
			    tries < SELECT_ALLOW_RECENT_AFTER)
				continue;
			if (out->port != cm->cfg.params->p2p_port && !cm->cfg.allow_local &&
			    tries < SELECT_ALLOW_PORT_AFTER)
				continue;
			return true;
		}
	}
	return false;
}

static void feeler(struct connman *cm)
{
	struct peer_addr a;
	int64_t last_try = 0;
	if (count_type_live(cm, CONN_FEELER) > 0)
		return;
	bool have =
		addrman_select_collision(cm->cfg.addrman, &a, &last_try) == 1 ||
		addrman_select(cm->cfg.addrman, true, ADDRMAN_NETS_REACHABLE, &a, &last_try) == 1;
	if (!have || connected_to(cm, &a) || addrrelay_is_local(cm, &a) || avoided(cm, &a))
		return;
	char s[PEER_ADDR_STRLEN];
	peer_addr_format(&a, s, sizeof(s));
	log_debug(LOG_NET, "feeler connection to %s", s);
	outbound_dial(cm, &a, CONN_FEELER);
}

/* ---- seeds ---- */

struct dns_query {
	struct connman *cm;
	char name[256];
};

static void dns_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct dns_query *q = arg;
	struct connman *cm = q->cm;
	size_t added = 0, found = 0;
	if (result == 0) {
		for (struct evutil_addrinfo *ai = res; ai; ai = ai->ai_next) {
			struct netaddr na;
			struct peer_addr a;
			netaddr_from_sockaddr(&na, ai->ai_addr, (socklen_t)ai->ai_addrlen);
			if (peer_addr_from_netaddr(&a, &na) != 0)
				continue;
			found++;
			a.port = cm->cfg.params->p2p_port;
			a.time = (uint32_t)(clock_now(cm->cfg.clock) - 3 * 86400);
			a.services = 1;
			added += addrman_add(cm->cfg.addrman, &a, 1, &a, 0);
		}
		evutil_freeaddrinfo(res);
		log_info("DNS seed %s: %zu addresses, %zu new", q->name, found, added);
	} else if (result != EVUTIL_EAI_CANCEL) {
		log_info("DNS seed %s: %s", q->name, evutil_gai_strerror(result));
	}
	if (result != EVUTIL_EAI_CANCEL)
		cm->dns_pending--;
	free(q);
}

static void query_dns_seeds(struct connman *cm)
{
	cm->dns_queried = true;
	if (!cm->cfg.dns)
		return;
	for (size_t i = 0; i < cm->cfg.ndnsseeds; i++) {
		struct dns_query *q = calloc(1, sizeof(*q));
		if (!q)
			return;
		q->cm = cm;
		snprintf(q->name, sizeof(q->name), "%s", cm->cfg.dnsseeds[i]);
		struct evutil_addrinfo hints;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
		log_info("Querying DNS seed %s", q->name);
		cm->dns_pending++;
		if (!evdns_getaddrinfo(cm->cfg.dns, q->name, NULL, &hints, dns_cb, q)) {
			/* Answered (or failed) at once: the callback already ran. */
		}
	}
}

static void add_fixed_seeds(struct connman *cm)
{
	cm->fixed_used = true;
	size_t added = 0;
	for (size_t i = 0; i < cm->cfg.nfixedseeds; i++) {
		struct peer_addr a;
		if (peer_addr_parse(&a, cm->cfg.fixedseeds[i], cm->cfg.params->p2p_port) != 0)
			continue;
		a.time = (uint32_t)(clock_now(cm->cfg.clock) - 7 * 86400);
		a.services = 1;
		added += addrman_add(cm->cfg.addrman, &a, 1, &a, 0);
	}
	log_info("Added %zu fixed seed addresses", added);
}

/* ---- local addresses ---- */

static void discover_interfaces(struct connman *cm)
{
	struct ifaddrs *ifs;
	if (getifaddrs(&ifs) != 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr ||
		    (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		struct netaddr na;
		struct peer_addr a;
		socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
								  : sizeof(struct sockaddr_in6);
		netaddr_from_sockaddr(&na, i->ifa_addr, len);
		if (peer_addr_from_netaddr(&a, &na) != 0 || !peer_addr_routable(&a))
			continue;
		a.port = cm->cfg.port;
		addrrelay_add_local(cm, &a, LOCAL_SCORE_IFACE);
	}
	freeifaddrs(ifs);
}

void outbound_start(struct connman *cm)
{
	cm->start_mono = clock_mono_us() / 1000000;
	cm->next_feeler_us = clock_mono_us() + poisson_us(FEELER_INTERVAL_SECS);
	for (size_t i = 0; i < cm->cfg.nexternalip; i++) {
		struct peer_addr a;
		if (peer_addr_parse(&a, cm->cfg.externalip[i], cm->cfg.port) == 0)
			addrrelay_add_local(cm, &a, LOCAL_SCORE_MANUAL);
		else
			log_warn("-externalip=%s is not an address; ignored",
				 cm->cfg.externalip[i]);
	}
	if (cm->cfg.discover && cm->cfg.listen)
		discover_interfaces(cm);
	cm->nanchors = 0;
	for (size_t i = 0; i < cm->cfg.nanchors && i < CONNMAN_MAX_ANCHORS; i++)
		cm->anchors[cm->nanchors++] = cm->cfg.anchors[i];
	for (size_t i = 0; i < cm->cfg.nseednodes; i++) {
		log_info("Connecting to seed node %s", cm->cfg.seednodes[i]);
		connman_dial(cm, cm->cfg.seednodes[i], CONN_ADDR_FETCH);
	}
}

void outbound_tick(struct connman *cm)
{
	int64_t now = clock_now(cm->cfg.clock);
	for (struct peer *p = cm->peers; p; p = p->next)
		if (p->type == CONN_ADDR_FETCH && p->state != PEER_DISCONNECTING &&
		    now - p->conn_time >= ADDR_FETCH_TIMEOUT)
			peer_disconnect(p, "addr-fetch timeout");
	if (!cm->active || !cm->cfg.addrman)
		return;
	addrman_resolve_collisions(cm->cfg.addrman);
	int64_t elapsed = clock_mono_us() / 1000000 - cm->start_mono;
	size_t size = addrman_size(cm->cfg.addrman);
	size_t full = count_established(cm, CONN_OUTBOUND_FULL);
	if (cm->cfg.ndnsseeds && !cm->dns_queried &&
	    (cm->cfg.forcednsseed || size == 0 ||
	     (size < DNSSEED_MIN_ADDRESSES && elapsed >= DNSSEED_DELAY_SECS &&
	      full < DNSSEED_MIN_OUTBOUND)))
		query_dns_seeds(cm);
	if (cm->cfg.nfixedseeds && !cm->fixed_used && elapsed >= FIXEDSEED_DELAY_SECS &&
	    size == 0 && full == 0)
		add_fixed_seeds(cm);
	if (!cm->cfg.automatic_outbound)
		return;
	int64_t now_us = clock_mono_us();
	if (now_us < cm->next_outbound_us)
		return;
	cm->next_outbound_us = now_us + 500000; /* at most one new connection per half second */
	while (cm->nanchors > 0) {
		struct peer_addr a = cm->anchors[--cm->nanchors];
		if (!connected_to(cm, &a) && !avoided(cm, &a)) {
			char s[PEER_ADDR_STRLEN];
			peer_addr_format(&a, s, sizeof(s));
			log_info("Connecting to anchor %s", s);
			outbound_dial(cm, &a, CONN_OUTBOUND_FULL);
			return;
		}
	}
	if (count_type_live(cm, CONN_OUTBOUND_FULL) < CONNMAN_OUTBOUND_FULL) {
		struct peer_addr a;
		if (select_outbound(cm, &a))
			outbound_dial(cm, &a, CONN_OUTBOUND_FULL);
		return;
	}
	if (now_us >= cm->next_feeler_us) {
		cm->next_feeler_us = now_us + poisson_us(FEELER_INTERVAL_SECS);
		feeler(cm);
	}
}

void outbound_peer_ready(struct connman *cm, struct peer *p)
{
	struct peer_addr a;
	if (!cm->cfg.addrman || p->type == CONN_INBOUND || !peer_paddr(p, &a))
		return;
	/* An address we reached and shook hands with is good: move it to tried. */
	a.time = (uint32_t)clock_now(cm->cfg.clock);
	a.services = p->services;
	addrman_add(cm->cfg.addrman, &a, 1, &a, 0);
	addrman_good(cm->cfg.addrman, &a);
	addrman_set_services(cm->cfg.addrman, &a, p->services);
	if (p->type == CONN_FEELER)
		peer_disconnect(p, "feeler: address tested");
}

void outbound_peer_closed(struct connman *cm, struct peer *p)
{
	struct peer_addr a;
	if (!cm->cfg.addrman || p->type == CONN_INBOUND || !p->version || !peer_paddr(p, &a))
		return;
	addrman_connected(cm->cfg.addrman, &a);
}

size_t connman_anchors(const struct connman *cm, struct peer_addr *out, size_t max)
{
	size_t n = 0;
	const struct peer *taken[CONNMAN_MAX_ANCHORS] = {NULL};
	while (n < max && n < CONNMAN_MAX_ANCHORS) {
		const struct peer *best = NULL;
		for (const struct peer *p = cm->peers; p; p = p->next) {
			bool used = false;
			for (size_t i = 0; i < n; i++)
				used |= taken[i] == p;
			if (used || p->type != CONN_OUTBOUND_FULL || p->state != PEER_ESTABLISHED)
				continue;
			if (!best || p->connected_us < best->connected_us)
				best = p;
		}
		if (!best || !peer_paddr(best, &out[n]))
			break;
		taken[n++] = best;
	}
	return n;
}
