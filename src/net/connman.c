/* The connection manager (include/net/connman.h): listening, dialling, reading and fair
 * processing, back-pressure, housekeeping and the added-node list.
 *
 * I/O goes through libevent bufferevents. Each peer's input is bounded by a read high-water
 * mark (-maxreceivebuffer): once that much is buffered and unprocessed, libevent stops reading
 * the socket and TCP pushes back on the sender. A peer whose output to us exceeds
 * -maxsendbuffer is not served (its messages stay unprocessed) until it reads. Each wake-up
 * processes at most PEER_MSGS_PER_TURN messages of a peer; the rest are picked up by the peer's
 * process event on a later turn of the loop, after the other peers had theirs. */
#include "net/connman.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <sodium.h>

#include "connman_impl.h"
#include "net/banman.h"
#include "net/eviction.h"
#include "net/reconnectgate.h"
#include "net/reputation.h"
#include "net/scoring.h"
#include "net/transport.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"

/* Pending connections the kernel queues for accept(). */
#define LISTEN_BACKLOG 128
/* Back-off between attempts to reach an added node: first retry, and the cap. */
#define ADDNODE_BACKOFF_MIN 1
#define ADDNODE_BACKOFF_MAX 60

static int64_t mono_secs(void)
{
	return clock_mono_us() / 1000000;
}

/* ---- peers ---- */

/* Start a connection from what we remember of its address (doc/scoring.md "Reputation"). */
static void recall(struct connman *cm, struct peer *p)
{
	if (!cm->cfg.reputation || p->addr.len == 0)
		return;
	double bad, good;
	reputation_get(cm->cfg.reputation, &p->addr, &bad, &good);
	if (netaddr_is_shared_loopback(&p->addr))
		bad = 0; /* never held against it (remember()), also if an older version did */
	p->remembered_bad = bad;
	p->remembered_good = good;
	p->misbehaviour = bad;
	p->misbehaviour_us = clock_mono_us();
}

/* Remember the connection's outcome for its address. */
static void remember(struct connman *cm, struct peer *p)
{
	if (!cm->cfg.reputation || p->addr.len == 0 || !p->version)
		return;
	int64_t now = clock_now(cm->cfg.clock), now_us = clock_mono_us();
	struct score_breakdown b;
	peer_score(p, now, now_us, &b);
	double good = b.uptime + b.first_deliveries + b.answers;
	/* Good behaviour adds to what was remembered; the bad points already started from it. */
	/* A noban peer's points are not held against its address: it is trusted, and another
	 * connection from that address may not be. Nor are the points of a peer at 127.0.0.1 or
	 * ::1, which every local process shares (a local testnet's nodes all connect from it). */
	bool forgive = p->noban || netaddr_is_shared_loopback(&p->addr);
	reputation_put(cm->cfg.reputation, &p->addr, forgive ? 0 : -b.misbehaviour,
		       p->remembered_good + good);
}

static void peer_process(struct peer *p);

static void process_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peer_process(arg);
}

static void peer_free(struct peer *p)
{
	if (p->cm->handler.peer_gone)
		p->cm->handler.peer_gone(p->cm->handler.ctx, p);
	addrrelay_peer_free(p);
	if (p->bev)
		bufferevent_free(p->bev);
	if (p->process_ev)
		event_free(p->process_ev);
	transport_free(p->transport);
	free(p);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	peer_process(arg);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct peer *p = arg;
	if (p->send_paused &&
	    evbuffer_get_length(bufferevent_get_output(bev)) <= p->cm->cfg.max_send_buffer / 2) {
		p->send_paused = false;
		log_debug(LOG_NET, "peer=%" PRIu64 " send buffer drained; serving again", p->id);
		event_active(p->process_ev, EV_READ, 0);
	}
	struct connman *cm = p->cm;
	if (cm->handler.peer_writable && p->state == PEER_ESTABLISHED &&
	    evbuffer_get_length(bufferevent_get_output(bev)) <= cm->cfg.max_send_buffer / 2)
		cm->handler.peer_writable(cm->handler.ctx, p);
}

bool peer_send_full(const struct peer *p)
{
	return !p->bev ||
	       evbuffer_get_length(bufferevent_get_output(p->bev)) > p->cm->cfg.max_send_buffer;
}

static struct added_node *added_for_peer(struct connman *cm, uint64_t id)
{
	for (size_t i = 0; i < cm->nadded; i++)
		if (cm->added[i].peer_id == id)
			return &cm->added[i];
	return NULL;
}

static void fill_local_addr(struct peer *p, evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		netaddr_from_sockaddr(&p->addr_bind, (struct sockaddr *)&ss, len);
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		netaddr_from_sockaddr(&p->addr, (struct sockaddr *)&ss, len);
}

static void set_nodelay(evutil_socket_t fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct peer *p = arg;
	if (what & BEV_EVENT_CONNECTED) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		set_nodelay(fd);
		fill_local_addr(p, fd);
		recall(p->cm, p);
		struct added_node *an = added_for_peer(p->cm, p->id);
		if (an)
			an->backoff = ADDNODE_BACKOFF_MIN;
		peer_set_state(p, PEER_AWAIT_VERSION, "connected");
		process_send_version(p);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		peer_disconnect(p, "connection closed by peer");
	} else if (what & BEV_EVENT_ERROR) {
		int dns = bufferevent_socket_get_dns_error(bev);
		char why[128];
		if (dns)
			snprintf(why, sizeof(why), "cannot resolve: %s", evutil_gai_strerror(dns));
		else
			snprintf(why, sizeof(why), "%s: %s",
				 p->state == PEER_CONNECTING ? "connect failed" : "socket error",
				 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		peer_disconnect(p, why);
	}
}

static struct peer *peer_new(struct connman *cm, evutil_socket_t fd, enum conn_type type)
{
	struct peer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cm = cm;
	p->id = ++cm->next_id;
	p->type = type;
	p->state = PEER_CONNECTING;
	p->last_ping_us = p->min_ping_us = -1;
	p->conn_time = p->last_recv = p->last_send = clock_now(cm->cfg.clock);
	p->connected_us = clock_mono_us();
	p->bev = bufferevent_socket_new(cm->cfg.base, fd, BEV_OPT_CLOSE_ON_FREE);
	p->process_ev = event_new(cm->cfg.base, -1, 0, process_cb, p);
	p->transport = transport_v1_new(cm->cfg.params->magic);
	if (!p->bev || !p->process_ev || !p->transport) {
		if (!p->bev && fd >= 0)
			evutil_closesocket(fd);
		peer_free(p);
		return NULL;
	}
	bufferevent_setcb(p->bev, read_cb, write_cb, event_cb, p);
	bufferevent_setwatermark(p->bev, EV_READ, 0, cm->cfg.max_receive_buffer);
	bufferevent_setwatermark(p->bev, EV_WRITE, cm->cfg.max_send_buffer / 2, 0);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
	p->next = cm->peers;
	cm->peers = p;
	cm->npeers++;
	return p;
}

static void peer_process(struct peer *p)
{
	struct connman *cm = p->cm;
	if (p->state == PEER_DISCONNECTING || p->send_paused || !p->bev)
		return;
	struct evbuffer *in = bufferevent_get_input(p->bev);
	struct evbuffer *out = bufferevent_get_output(p->bev);
	for (int n = 0; n < PEER_MSGS_PER_TURN; n++) {
		struct net_frame f;
		enum frame_status why = FRAME_OK;
		enum transport_read r = p->transport->ops->read_frame(p->transport, in, &f, &why);
		if (r == TRANSPORT_NEED_MORE) {
			/* A frame larger than the receive buffer must still fit while it arrives.
			 */
			size_t mark = f.wire_len > cm->cfg.max_receive_buffer
					      ? f.wire_len
					      : cm->cfg.max_receive_buffer;
			bufferevent_setwatermark(p->bev, EV_READ, 0, mark);
			return;
		}
		if (r == TRANSPORT_ERROR) {
			char reason[64];
			snprintf(reason, sizeof(reason), "bad frame: %s", frame_status_name(why));
			peer_misbehaving(p, OFF_BAD_FRAME, frame_status_name(why));
			peer_disconnect(p, reason);
			return;
		}
		process_frame(p, &f);
		net_frame_clear(&f);
		if (p->state == PEER_DISCONNECTING)
			return;
		if (evbuffer_get_length(out) > cm->cfg.max_send_buffer) {
			p->send_paused = true;
			log_debug(LOG_NET, "peer=%" PRIu64 " send buffer full; not serving it",
				  p->id);
			return;
		}
	}
	/* Budget used up: continue after the other peers had their turn. */
	if (evbuffer_get_length(in) > 0)
		event_active(p->process_ev, EV_READ, 0);
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connman *cm = arg;
	(void)fd;
	(void)what;
	struct peer **pp = &cm->peers;
	while (*pp) {
		struct peer *p = *pp;
		if (p->state != PEER_DISCONNECTING) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		cm->npeers--;
		outbound_peer_closed(cm, p);
		remember(cm, p);
		struct added_node *an = added_for_peer(cm, p->id);
		if (an) {
			an->peer_id = 0;
			an->next_attempt = mono_secs() + an->backoff;
			an->backoff = an->backoff * 2 > ADDNODE_BACKOFF_MAX ? ADDNODE_BACKOFF_MAX
									    : an->backoff * 2;
		}
		peer_free(p);
	}
}

void connman_discourage(struct connman *cm, struct peer *p)
{
	char addr[NETADDR_STRLEN];
	netaddr_format_ip(&p->addr, addr, sizeof(addr));
	log_info("Discouraging %s (peer=%" PRIu64 "): misbehaviour", addr, p->id);
	if (cm->cfg.banman)
		banman_discourage(cm->cfg.banman, &p->addr);
}

void connman_schedule_reap(struct connman *cm)
{
	event_active(cm->reaper, EV_TIMEOUT, 0);
}

/* ---- outbound ---- */

static size_t count_type(const struct connman *cm, enum conn_type t)
{
	size_t n = 0;
	for (const struct peer *p = cm->peers; p; p = p->next)
		n += p->type == t && p->state != PEER_DISCONNECTING;
	return n;
}

struct peer *connman_dial(struct connman *cm, const char *dest, enum conn_type type)
{
	char host[NETADDR_STRLEN + 192];
	uint16_t port;
	if (!cm->active)
		return NULL;
	if (netaddr_split_host_port(dest, host, sizeof(host), &port, cm->cfg.params->p2p_port) !=
	    0) {
		log_warn("cannot connect to '%s': not host[:port]", dest);
		return NULL;
	}
	if (type == CONN_MANUAL && count_type(cm, CONN_MANUAL) >= CONNMAN_MAX_MANUAL) {
		log_warn("cannot connect to %s: %d manual connections already", dest,
			 CONNMAN_MAX_MANUAL);
		return NULL;
	}
	struct peer *p = peer_new(cm, -1, type);
	if (!p)
		return NULL;
	snprintf(p->dest, sizeof(p->dest), "%s", dest);
	struct netaddr na;
	int rc;
	if (netaddr_parse(&na, dest, cm->cfg.params->p2p_port) == 0) {
		p->addr = na;
		rc = bufferevent_socket_connect(p->bev, (struct sockaddr *)&na.ss, (int)na.len);
	} else if (cm->cfg.dns) {
		rc = bufferevent_socket_connect_hostname(p->bev, cm->cfg.dns, AF_UNSPEC, host,
							 port);
	} else {
		rc = -1;
	}
	log_debug(LOG_NET, "connecting to %s peer=%" PRIu64, dest, p->id);
	if (rc != 0)
		peer_disconnect(p, "connect failed");
	return p;
}

bool connman_is_local_nonce(const struct connman *cm, uint64_t nonce)
{
	for (const struct peer *p = cm->peers; p; p = p->next)
		if (p->type != CONN_INBOUND && p->local_nonce == nonce)
			return true;
	return false;
}

/* ---- permissions ---- */

int net_perm_parse(const char *s, unsigned *flags, const char **rest, char *err, size_t errlen)
{
	const char *at = strchr(s, '@');
	*flags = NET_PERM_NOBAN;
	*rest = s;
	if (!at)
		return 0;
	*flags = 0;
	*rest = at + 1;
	const char *p = s;
	while (p < at) {
		const char *comma = memchr(p, ',', (size_t)(at - p));
		const char *end = comma ? comma : at;
		size_t n = (size_t)(end - p);
		if (n == 5 && memcmp(p, "noban", 5) == 0)
			*flags |= NET_PERM_NOBAN;
		else if (n == 4 && memcmp(p, "addr", 4) == 0)
			*flags |= NET_PERM_ADDR;
		else if (n == 5 && memcmp(p, "relay", 5) == 0)
			*flags |= NET_PERM_RELAY;
		else if (n == 3 && memcmp(p, "all", 3) == 0)
			*flags |= NET_PERM_NOBAN | NET_PERM_ADDR | NET_PERM_RELAY;
		else {
			snprintf(err, errlen, "unknown permission '%.*s' (noban, addr, relay, all)",
				 (int)n, p);
			return -1;
		}
		p = end + (comma ? 1 : 0);
	}
	return 0;
}

static unsigned whitelist_perms(const struct connman *cm, const struct netaddr *a)
{
	unsigned f = 0;
	for (size_t i = 0; i < cm->nwhitelist; i++)
		if (subnet_contains(&cm->whitelist[i].subnet, a))
			f |= cm->whitelist[i].flags;
	return f;
}

/* ---- inbound ---- */

/* Inbound slots are full: evict one inbound peer if one is not protected. Returns true if room
 * was made. */
static bool make_room(struct connman *cm)
{
	size_t n = 0;
	for (struct peer *p = cm->peers; p; p = p->next)
		n += p->type == CONN_INBOUND && p->state != PEER_DISCONNECTING;
	if (n == 0)
		return false;
	struct evict_candidate *c = calloc(n, sizeof(*c));
	if (!c)
		return false;
	size_t k = 0;
	for (struct peer *p = cm->peers; p && k < n; p = p->next) {
		if (p->type != CONN_INBOUND || p->state == PEER_DISCONNECTING)
			continue;
		uint64_t group = netaddr_group(&p->addr);
		uint8_t h[crypto_shorthash_siphash24_BYTES];
		crypto_shorthash_siphash24(h, (const uint8_t *)&group, sizeof(group),
					   cm->group_key);
		c[k].id = p->id;
		c[k].connected = p->connected_us;
		c[k].min_ping_us = p->min_ping_us;
		c[k].last_useful = p->last_useful;
		c[k].netgroup = group;
		c[k].discouraged = p->discouraged;
		c[k].score = peer_score(p, clock_now(cm->cfg.clock), clock_mono_us(), NULL);
		memcpy(&c[k].keyed_group, h, sizeof(c[k].keyed_group));
		k++;
	}
	uint64_t victim = evict_select(c, k);
	free(c);
	if (victim == 0)
		return false;
	for (struct peer *p = cm->peers; p; p = p->next)
		if (p->id == victim) {
			peer_disconnect(p, "evicted to make room for a new inbound peer");
			return true;
		}
	return false;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		      void *arg)
{
	struct connman *cm = arg;
	struct netaddr from;
	char addr[NETADDR_STRLEN];
	netaddr_from_sockaddr(&from, sa, (socklen_t)len);
	unsigned perms = whitelist_perms(cm, &from);
	for (size_t i = 0; i < cm->nlisteners; i++)
		if (cm->listeners[i] == l)
			perms |= cm->listen_perms[i];
	netaddr_format(&from, addr, sizeof(addr));
	if (!cm->active) {
		log_debug(LOG_NET, "refusing connection from %s: network not active", addr);
		evutil_closesocket(fd);
		return;
	}
	if (cm->cfg.banman && !(perms & NET_PERM_NOBAN) &&
	    banman_is_banned(cm->cfg.banman, &from)) {
		log_debug(LOG_NET, "refusing connection from banned %s", addr);
		evutil_closesocket(fd);
		return;
	}
	bool discouraged = cm->cfg.banman && !(perms & NET_PERM_NOBAN) &&
			   banman_is_discouraged(cm->cfg.banman, &from);
	bool full = count_type(cm, CONN_INBOUND) >= cm->max_inbound;
	if (full && discouraged) {
		log_debug(LOG_NET, "refusing connection from discouraged %s: no spare slot", addr);
		evutil_closesocket(fd);
		return;
	}
	uint8_t ip[16];
	if (discouraged && netaddr_ip16(&from, ip) &&
	    !reconnect_gate_admit(cm->reconnect_gate, ip, clock_mono_us())) {
		log_debug(LOG_NET,
			  "refusing connection from discouraged %s: reconnecting too often", addr);
		evutil_closesocket(fd);
		return;
	}
	if (full && !make_room(cm)) {
		log_debug(LOG_NET, "refusing connection from %s: %zu inbound slots full", addr,
			  cm->max_inbound);
		evutil_closesocket(fd);
		return;
	}
	set_nodelay(fd);
	struct peer *p = peer_new(cm, fd, CONN_INBOUND);
	if (!p) {
		log_warn("cannot accept connection from %s: out of memory", addr);
		return;
	}
	fill_local_addr(p, fd);
	p->discouraged = discouraged;
	p->perms = perms;
	recall(cm, p);
	p->noban = perms & NET_PERM_NOBAN;
	log_debug(LOG_NET, "accepted connection from %s peer=%" PRIu64, addr, p->id);
	peer_set_state(p, PEER_AWAIT_VERSION, "accepted");
}

static int listen_on(struct connman *cm, const struct netaddr *na, unsigned perms, char *err,
		     size_t errlen)
{
	char addr[NETADDR_STRLEN];
	netaddr_format(na, addr, sizeof(addr));
	if (cm->nlisteners >= CONNMAN_MAX_LISTEN) {
		snprintf(err, errlen, "too many -bind addresses (at most %d)", CONNMAN_MAX_LISTEN);
		return -1;
	}
	int fd = socket(na->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket for %s: %s", addr, strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (na->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&na->ss, na->len) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s (is another node running?)", addr,
			 strerror(errno));
		close(fd);
		return -1;
	}
	struct evconnlistener *l = evconnlistener_new(
		cm->cfg.base, accept_cb, cm, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	if (!l) {
		snprintf(err, errlen, "cannot listen on %s", addr);
		close(fd);
		return -1;
	}
	cm->listen_perms[cm->nlisteners] = perms;
	cm->listeners[cm->nlisteners] = l;
	cm->listen_addrs[cm->nlisteners++] = *na;
	log_info("Listening for peers on %s", addr);
	return 0;
}

static int start_listening(struct connman *cm, const struct connman_config *cfg, char *err,
			   size_t errlen)
{
	if (!cfg->listen)
		return 0;
	for (size_t i = 0; i < cfg->nbind; i++) {
		struct netaddr na;
		if (netaddr_parse(&na, cfg->bind[i], cfg->port) != 0) {
			snprintf(err, errlen, "-bind=%s is not a numeric address[:port]",
				 cfg->bind[i]);
			return -1;
		}
		if (listen_on(cm, &na, 0, err, errlen) != 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->nwhitebind; i++) {
		unsigned perms;
		const char *rest;
		struct netaddr na;
		if (net_perm_parse(cfg->whitebind[i], &perms, &rest, err, errlen) != 0)
			return -1;
		if (netaddr_parse(&na, rest, cfg->port) != 0) {
			snprintf(err, errlen, "-whitebind=%s is not [perms@]address[:port]",
				 cfg->whitebind[i]);
			return -1;
		}
		if (listen_on(cm, &na, perms, err, errlen) != 0)
			return -1;
	}
	if (cfg->nbind > 0 || cfg->nwhitebind > 0)
		return 0;
	/* Defaults: IPv4 must work; IPv6 may be missing on this host. */
	struct netaddr any4, any6;
	char any[32];
	snprintf(any, sizeof(any), "0.0.0.0:%u", cfg->port);
	netaddr_parse(&any4, any, cfg->port);
	snprintf(any, sizeof(any), "[::]:%u", cfg->port);
	netaddr_parse(&any6, any, cfg->port);
	if (listen_on(cm, &any4, 0, err, errlen) != 0)
		return -1;
	char err6[256];
	if (listen_on(cm, &any6, 0, err6, sizeof(err6)) != 0)
		log_warn("not listening on IPv6: %s", err6);
	return 0;
}

/* ---- limits ---- */

static int check_fd_limit(struct connman *cm, char *err, size_t errlen)
{
	struct rlimit rl;
	rlim_t needed = (rlim_t)cm->max_connections + CONNMAN_MAX_MANUAL + CONNMAN_RESERVED_FDS;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < needed && rl.rlim_cur != RLIM_INFINITY) {
		struct rlimit want = rl;
		want.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= needed)
					? needed
					: rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl = want;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= needed)
		return 0;
	long avail = (long)rl.rlim_cur - CONNMAN_RESERVED_FDS - CONNMAN_MAX_MANUAL;
	if (avail < CONNMAN_MIN_CONNECTIONS) {
		snprintf(err, errlen,
			 "not enough file descriptors: the limit is %lu, at least %d are needed "
			 "(raise it with ulimit -n)",
			 (unsigned long)rl.rlim_cur,
			 CONNMAN_RESERVED_FDS + CONNMAN_MAX_MANUAL + CONNMAN_MIN_CONNECTIONS);
		return -1;
	}
	log_warn("file descriptor limit %lu: -maxconnections lowered from %d to %ld",
		 (unsigned long)rl.rlim_cur, cm->max_connections, avail);
	cm->max_connections = (int)avail;
	return 0;
}

/* ---- housekeeping ---- */

/* How often peers from the same IP are counted (an O(n^2) walk; 1,000 peers cost ~1 ms). */
#define COLOCATION_REFRESH_US 10000000

static void count_colocated(struct connman *cm)
{
	for (struct peer *p = cm->peers; p; p = p->next) {
		uint32_t n = 0;
		for (const struct peer *q = cm->peers; q; q = q->next)
			n += q != p && q->state != PEER_DISCONNECTING &&
			     netaddr_same_ip(&p->addr, &q->addr);
		p->colocated = n;
	}
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct connman *cm = arg;
	(void)fd;
	(void)what;
	int64_t now = clock_now(cm->cfg.clock), now_us = clock_mono_us();
	for (struct peer *p = cm->peers; p; p = p->next) {
		process_housekeeping(p, now);
		addrrelay_tick(cm, p, now, now_us);
	}
	if (now_us >= cm->next_colocation_us) {
		cm->next_colocation_us = now_us + COLOCATION_REFRESH_US;
		count_colocated(cm);
	}
	outbound_tick(cm);
	if (!cm->active)
		return;
	int64_t mono = mono_secs();
	for (size_t i = 0; i < cm->nadded; i++) {
		struct added_node *an = &cm->added[i];
		if (an->peer_id != 0 || mono < an->next_attempt)
			continue;
		struct peer *p = connman_dial(cm, an->name, CONN_MANUAL);
		if (p) {
			an->peer_id = p->id;
		} else {
			an->next_attempt = mono + an->backoff;
			an->backoff = an->backoff * 2 > ADDNODE_BACKOFF_MAX ? ADDNODE_BACKOFF_MAX
									    : an->backoff * 2;
		}
	}
}

static struct added_node *find_added(struct connman *cm, const char *name)
{
	for (size_t i = 0; i < cm->nadded; i++)
		if (strcmp(cm->added[i].name, name) == 0)
			return &cm->added[i];
	return NULL;
}

static enum addnode_result add_node(struct connman *cm, const char *name, bool from_config)
{
	char host[NETADDR_STRLEN + 192];
	uint16_t port;
	if (strlen(name) >= sizeof(cm->added[0].name) ||
	    netaddr_split_host_port(name, host, sizeof(host), &port, 1) != 0)
		return ADDNODE_BAD_ADDRESS;
	if (find_added(cm, name))
		return ADDNODE_ALREADY_ADDED;
	if (cm->nadded >= CONNMAN_MAX_ADDED)
		return ADDNODE_LIST_FULL;
	struct added_node *an = &cm->added[cm->nadded++];
	memset(an, 0, sizeof(*an));
	snprintf(an->name, sizeof(an->name), "%s", name);
	an->from_config = from_config;
	an->backoff = ADDNODE_BACKOFF_MIN;
	an->next_attempt = 0; /* on the next tick */
	return ADDNODE_OK;
}

/* ---- public ---- */

struct connman *connman_new(const struct connman_config *cfg, char *err, size_t errlen)
{
	struct connman *cm = calloc(1, sizeof(*cm));
	if (!cm) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	cm->cfg = *cfg;
	for (size_t i = 0; i < cfg->nwhitelist && i < CONNMAN_MAX_WHITELIST; i++)
		cm->whitelist[cm->nwhitelist++] = cfg->whitelist[i];
	cm->cfg.whitelist = NULL;
	cm->cfg.nwhitelist = 0;
	cm->cfg.bind = cm->cfg.connect = cm->cfg.addnode = NULL;
	cm->cfg.nbind = cm->cfg.nconnect = cm->cfg.naddnode = 0;
	/* externalip, seednodes, anchors are used by outbound_start only (during connman_start,
	 * while the caller's lists are alive); dnsseeds and fixedseeds must outlive the manager. */
	cm->active = true;
	cm->max_connections = cfg->max_connections;
	random_bytes(cm->group_key, sizeof(cm->group_key));
	random_bytes(cm->relay_key, sizeof(cm->relay_key));
	cm->tick = event_new(cfg->base, -1, EV_PERSIST, tick_cb, cm);
	cm->reaper = event_new(cfg->base, -1, 0, reap_cb, cm);
	cm->reconnect_gate = reconnect_gate_new(RECONNECT_GATE_SLOTS, RECONNECT_GATE_PER_SECOND,
						RECONNECT_GATE_BURST);
	if (!cm->tick || !cm->reaper || !cm->reconnect_gate) {
		snprintf(err, errlen, "out of memory");
		connman_free(cm);
		return NULL;
	}
	if (check_fd_limit(cm, err, errlen) != 0) {
		connman_free(cm);
		return NULL;
	}
	cm->max_inbound = cm->max_connections > CONNMAN_OUTBOUND_SLOTS
				  ? (size_t)(cm->max_connections - CONNMAN_OUTBOUND_SLOTS)
				  : 0;
	for (size_t i = 0; i < cfg->nconnect + cfg->naddnode; i++) {
		const char *name =
			i < cfg->nconnect ? cfg->connect[i] : cfg->addnode[i - cfg->nconnect];
		enum addnode_result r = add_node(cm, name, true);
		if (r == ADDNODE_BAD_ADDRESS || r == ADDNODE_LIST_FULL) {
			snprintf(err, errlen, "%s=%s: %s",
				 i < cfg->nconnect ? "-connect" : "-addnode", name,
				 r == ADDNODE_LIST_FULL ? "too many added nodes"
							: "not host[:port]");
			connman_free(cm);
			return NULL;
		}
	}
	if (start_listening(cm, cfg, err, errlen) != 0) {
		connman_free(cm);
		return NULL;
	}
	return cm;
}

void connman_start(struct connman *cm)
{
	struct timeval one = {1, 0};
	cm->started = true;
	outbound_start(cm);
	event_add(cm->tick, &one);
	tick_cb(-1, 0, cm);
}

void connman_free(struct connman *cm)
{
	if (!cm)
		return;
	for (size_t i = 0; i < cm->nlisteners; i++)
		evconnlistener_free(cm->listeners[i]);
	while (cm->peers) {
		struct peer *p = cm->peers;
		cm->peers = p->next;
		remember(cm, p);
		peer_free(p);
	}
	if (cm->tick)
		event_free(cm->tick);
	if (cm->reaper)
		event_free(cm->reaper);
	reconnect_gate_free(cm->reconnect_gate);
	free(cm->getaddr_cache);
	free(cm);
}

struct peer *connman_peers(const struct connman *cm)
{
	return cm->peers;
}

size_t connman_count(const struct connman *cm, size_t *inbound, size_t *outbound)
{
	size_t in = 0, out = 0;
	for (const struct peer *p = cm->peers; p; p = p->next) {
		if (p->state == PEER_DISCONNECTING)
			continue;
		if (p->type == CONN_INBOUND)
			in++;
		else
			out++;
	}
	if (inbound)
		*inbound = in;
	if (outbound)
		*outbound = out;
	return in + out;
}

uint64_t connman_bytes_saved(const struct connman *cm)
{
	return cm->bytes_saved;
}

void connman_set_start_height(struct connman *cm, int32_t height)
{
	cm->start_height = height;
}

void connman_set_handler(struct connman *cm, const struct net_handler *h)
{
	if (h)
		cm->handler = *h;
	else
		memset(&cm->handler, 0, sizeof(cm->handler));
}

uint64_t connman_local_services(const struct connman *cm)
{
	return cm->cfg.local_services;
}

int connman_max_connections(const struct connman *cm)
{
	return cm->max_connections;
}

size_t connman_max_inbound(const struct connman *cm)
{
	return cm->max_inbound;
}

void connman_totals(const struct connman *cm, uint64_t *recv, uint64_t *sent)
{
	*recv = cm->total_recv;
	*sent = cm->total_sent;
}

size_t connman_listening(const struct connman *cm, struct netaddr *out, size_t max)
{
	size_t n = cm->nlisteners < max ? cm->nlisteners : max;
	memcpy(out, cm->listen_addrs, n * sizeof(*out));
	return n;
}

enum addnode_result connman_addnode(struct connman *cm, const char *node, enum addnode_op op)
{
	switch (op) {
	case ADDNODE_ADD:
		return add_node(cm, node, false);
	case ADDNODE_REMOVE: {
		struct added_node *an = find_added(cm, node);
		if (!an)
			return ADDNODE_NOT_ADDED;
		size_t i = (size_t)(an - cm->added);
		memmove(&cm->added[i], &cm->added[i + 1], (cm->nadded - i - 1) * sizeof(*an));
		cm->nadded--;
		return ADDNODE_OK;
	}
	case ADDNODE_ONETRY: {
		char host[NETADDR_STRLEN + 192];
		uint16_t port;
		if (netaddr_split_host_port(node, host, sizeof(host), &port, 1) != 0)
			return ADDNODE_BAD_ADDRESS;
		connman_dial(cm, node, CONN_MANUAL);
		return ADDNODE_OK;
	}
	}
	return ADDNODE_BAD_ADDRESS;
}

size_t connman_added_nodes(const struct connman *cm, struct added_node_info *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < cm->nadded && n < max; i++, n++) {
		out[n].name = cm->added[i].name;
		out[n].peer = NULL;
		for (const struct peer *p = cm->peers; p; p = p->next)
			if (p->id == cm->added[i].peer_id && p->state != PEER_DISCONNECTING)
				out[n].peer = p;
	}
	return n;
}

int connman_disconnect_addr(struct connman *cm, const char *addr)
{
	int found = -1;
	for (struct peer *p = cm->peers; p; p = p->next) {
		char a[NETADDR_STRLEN];
		netaddr_format(&p->addr, a, sizeof(a));
		if (p->state != PEER_DISCONNECTING && addr[0] != '\0' &&
		    (strcmp(a, addr) == 0 || strcmp(p->dest, addr) == 0)) {
			peer_disconnect(p, "disconnectnode");
			found = 0;
		}
	}
	return found;
}

int connman_disconnect_id(struct connman *cm, uint64_t id)
{
	for (struct peer *p = cm->peers; p; p = p->next)
		if (p->id == id && p->state != PEER_DISCONNECTING) {
			peer_disconnect(p, "disconnectnode");
			return 0;
		}
	return -1;
}

void connman_set_active(struct connman *cm, bool active)
{
	if (cm->active == active)
		return;
	cm->active = active;
	log_info("setnetworkactive: network activity %s", active ? "enabled" : "disabled");
	if (!active)
		for (struct peer *p = cm->peers; p; p = p->next)
			peer_disconnect(p, "network disabled");
	else
		for (size_t i = 0; i < cm->nadded; i++)
			cm->added[i].next_attempt = 0;
}

bool connman_active(const struct connman *cm)
{
	return cm->active;
}

void connman_ping_all(struct connman *cm)
{
	for (struct peer *p = cm->peers; p; p = p->next)
		process_ping(p);
}
