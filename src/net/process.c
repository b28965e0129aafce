/* Control-message handling: the handshake, negotiation, ping/pong, and the per-peer timers.
 *
 * Every reaction here is the one doc/protocol.md states: "disconnect" for what breaks the
 * protocol's order or identity, "ignore and count" for what a later scoring layer penalises. */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "connman_impl.h"
#include "net/peer.h"
#include "net/transport.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/random.h"
#include "util/version.h"
#include "wire/compress.h"
#include "wire/messages.h"

/* Largest version payload we build: fixed fields plus the user agent. */
#define VERSION_MSG_MAX (128 + WIRE_MAX_USER_AGENT)

static uint64_t nonzero_random(void)
{
	uint64_t n;
	do
		n = random_u64();
	while (n == 0);
	return n;
}

int process_send_version(struct peer *p)
{
	struct connman *cm = p->cm;
	struct msg_version v;
	memset(&v, 0, sizeof(v));
	v.version = PROTOCOL_VERSION;
	v.services = cm->cfg.local_services;
	v.timestamp = clock_now(cm->cfg.clock);
	wire_addr_from_sockaddr(&v.addr_recv, (const struct sockaddr *)&p->addr.ss, 0);
	v.addr_from.services = cm->cfg.local_services;
	v.nonce = p->local_nonce = nonzero_random();
	snprintf(v.user_agent, sizeof(v.user_agent), "%s", CLIENT_SUBVERSION);
	v.start_height = cm->start_height; /* number of stored messages */
	v.relay = true;
	struct bytebuf b;
	bytebuf_init(&b, VERSION_MSG_MAX);
	wire_encode_version(&b, &v);
	int rc = bytebuf_ok(&b) ? peer_send(p, CMD_VERSION, b.data, b.len) : -1;
	bytebuf_free(&b);
	if (rc == 0)
		p->version_sent = true;
	return rc;
}

static void send_nonce(struct peer *p, const char *command, uint64_t nonce)
{
	struct bytebuf b;
	bytebuf_init(&b, 8);
	wire_encode_nonce(&b, nonce);
	if (bytebuf_ok(&b))
		peer_send(p, command, b.data, b.len);
	bytebuf_free(&b);
}

void process_ping(struct peer *p)
{
	if (p->state != PEER_ESTABLISHED || p->ping_nonce != 0)
		return;
	p->ping_nonce = nonzero_random();
	p->ping_start_us = clock_mono_us();
	p->ping_sent_time = clock_now(p->cm->cfg.clock);
	p->next_ping_time = p->ping_sent_time + PING_INTERVAL;
	send_nonce(p, CMD_PING, p->ping_nonce);
}

static void handle_version(struct peer *p, const struct net_frame *f)
{
	if (p->state != PEER_AWAIT_VERSION) {
		p->protocol_violations++;
		peer_misbehaving(p, OFF_PROTOCOL_ORDER, "second version");
		log_debug(LOG_NET, "peer=%" PRIu64 " sent a second version; ignored", p->id);
		return;
	}
	struct msg_version v;
	if (wire_decode_version(&v, f->payload, f->len) != 0) {
		peer_misbehaving(p, OFF_MALFORMED, "version");
		peer_disconnect(p, "malformed version");
		return;
	}
	if (v.version < MIN_PEER_PROTO_VERSION) {
		char why[96];
		snprintf(why, sizeof(why), "protocol version %" PRId32 " below minimum %d",
			 v.version, MIN_PEER_PROTO_VERSION);
		peer_disconnect(p, why);
		return;
	}
	if (p->type == CONN_INBOUND && connman_is_local_nonce(p->cm, v.nonce)) {
		log_info("Connected to self at peer=%" PRIu64 ", disconnecting", p->id);
		peer_disconnect(p, "connected to self");
		return;
	}
	p->version = v.version;
	p->services = v.services;
	/* Keep only printable ASCII, as Bitcoin's cleanSubVer: the user agent goes into logs and
	 * JSON, and neither should carry a peer's control bytes or invalid UTF-8. */
	for (size_t i = 0; i < sizeof(p->subver); i++) {
		unsigned char c = (unsigned char)v.user_agent[i];
		p->subver[i] = (c == 0 || (c >= 0x20 && c < 0x7f)) ? (char)c : '?';
		if (c == 0)
			break;
	}
	p->start_height = v.start_height;
	p->relay = v.relay;
	p->time_offset = v.timestamp - clock_now(p->cm->cfg.clock);
	addrrelay_seen_as(p->cm, p, &v.addr_recv);
	if (!p->version_sent && process_send_version(p) != 0)
		return;
	peer_send(p, CMD_SENDADDRV2, NULL, 0);
	if (p->cm->cfg.compression) {
		peer_send(p, CMD_SENDZLIB, NULL, 0);
		p->zlib_sent = true;
	}
	peer_send(p, CMD_VERACK, NULL, 0);
	peer_set_state(p, PEER_AWAIT_VERACK, "version received");
}

static void handle_pong(struct peer *p, uint64_t nonce)
{
	if (nonce == 0 || nonce != p->ping_nonce) {
		log_debug(LOG_NET, "peer=%" PRIu64 " pong with unexpected nonce; ignored", p->id);
		return;
	}
	int64_t rtt = clock_mono_us() - p->ping_start_us;
	if (rtt < 0)
		rtt = 0;
	p->last_ping_us = rtt;
	if (p->min_ping_us < 0 || rtt < p->min_ping_us)
		p->min_ping_us = rtt;
	p->ping_nonce = 0;
}

static bool is_negotiation(const char *command)
{
	return strcmp(command, CMD_SENDADDRV2) == 0 || strcmp(command, CMD_SENDZLIB) == 0;
}

static void dispatch(struct peer *p, const char *cmd, const uint8_t *payload, size_t len,
		     bool inner);

/* A zlib frame: inflate (bounded) and handle the inner message. */
static void handle_zlib(struct peer *p, const uint8_t *payload, size_t len)
{
	if (!p->zlib_sent) {
		p->protocol_violations++;
		peer_misbehaving(p, OFF_PROTOCOL_ORDER, "zlib without negotiation");
		log_debug(LOG_NET, "peer=%" PRIu64 " sent zlib without negotiation; ignored",
			  p->id);
		return;
	}
	char inner[WIRE_COMMAND_SIZE + 1];
	uint8_t *data = NULL;
	size_t n = 0;
	enum zlib_unwrap_status st = wire_zlib_unwrap(inner, &data, &n, payload, len);
	switch (st) {
	case ZLIB_OK:
		p->cm->bytes_saved += n > len ? n - len : 0;
		dispatch(p, inner, data, n, true);
		break;
	case ZLIB_BOMB:
		peer_misbehaving(p, OFF_BOMB, NULL);
		peer_disconnect(p, "decompression bomb");
		break;
	case ZLIB_MALFORMED:
	case ZLIB_TOO_LARGE:
	case ZLIB_CORRUPT:
		p->malformed++;
		peer_misbehaving(p, OFF_MALFORMED, "zlib frame");
		log_debug(LOG_NET, "peer=%" PRIu64 " bad zlib frame (%s); dropped", p->id,
			  zlib_unwrap_status_name(st));
		break;
	}
	free(data);
}

/* Messages of an established peer (inner: unwrapped from a zlib frame). */
static void dispatch(struct peer *p, const char *cmd, const uint8_t *payload, size_t len,
		     bool inner)
{
	struct net_handler *h = &p->cm->handler;
	uint64_t nonce;
	if (strcmp(cmd, CMD_VERSION) == 0) {
		p->protocol_violations++; /* a second version (here: inside a zlib frame) */
		peer_misbehaving(p, OFF_PROTOCOL_ORDER, "second version");
	} else if (is_negotiation(cmd)) {
		peer_disconnect(p, "negotiation message after verack");
	} else if (strcmp(cmd, CMD_PING) == 0) {
		if (wire_decode_nonce(&nonce, payload, len) != 0) {
			p->malformed++;
			peer_misbehaving(p, OFF_MALFORMED, "ping");
		} else {
			send_nonce(p, CMD_PONG, nonce);
		}
	} else if (strcmp(cmd, CMD_PONG) == 0) {
		if (wire_decode_nonce(&nonce, payload, len) != 0) {
			p->malformed++;
			peer_misbehaving(p, OFF_MALFORMED, "pong");
		} else {
			handle_pong(p, nonce);
		}
	} else if (strcmp(cmd, CMD_VERACK) == 0) {
		p->protocol_violations++;
		peer_misbehaving(p, OFF_PROTOCOL_ORDER, "second verack");
	} else if (strcmp(cmd, CMD_ZLIB) == 0) {
		if (inner) {
			p->malformed++; /* no nesting */
			peer_misbehaving(p, OFF_MALFORMED, "zlib inside zlib");
		} else
			handle_zlib(p, payload, len);
	} else if (addrrelay_message(p->cm, p, cmd, payload, len)) {
		/* address gossip */
	} else if (!h->message || !h->message(h->ctx, p, cmd, payload, len)) {
		p->unknown_messages++;
		log_debug(LOG_NET, "peer=%" PRIu64 " unknown command '%s' ignored", p->id, cmd);
	}
}

void process_frame(struct peer *p, struct net_frame *f)
{
	struct connman *cm = p->cm;
	p->bytes_recv += f->wire_len;
	p->recv_per_msg[msg_stat_from_command(f->command)] += f->wire_len;
	cm->total_recv += f->wire_len;
	p->last_recv = clock_now(cm->cfg.clock);
	log_debug(LOG_NET, "received %s (%zu bytes) peer=%" PRIu64, f->command, f->len, p->id);

	if (!f->checksum_ok) {
		p->checksum_errors++;
		peer_misbehaving(p, OFF_BAD_CHECKSUM, f->command);
		log_debug(LOG_NET, "peer=%" PRIu64 " bad checksum on %s; dropped", p->id,
			  f->command);
		return;
	}
	if (strcmp(f->command, CMD_VERSION) == 0) {
		handle_version(p, f);
		return;
	}
	switch (p->state) {
	case PEER_CONNECTING:
	case PEER_AWAIT_VERSION:
		peer_disconnect(p, "message before version");
		return;
	case PEER_AWAIT_VERACK:
		if (strcmp(f->command, CMD_VERACK) == 0) {
			peer_set_state(p, PEER_ESTABLISHED, "verack received");
			p->next_ping_time = clock_now(cm->cfg.clock);
			process_ping(p);
			addrrelay_peer_ready(cm, p);
			outbound_peer_ready(cm, p);
			if (p->state == PEER_ESTABLISHED && cm->handler.peer_ready)
				cm->handler.peer_ready(cm->handler.ctx, p);
		} else if (strcmp(f->command, CMD_SENDADDRV2) == 0) {
			p->wants_addrv2 = true;
		} else if (strcmp(f->command, CMD_SENDZLIB) == 0) {
			p->zlib_ok = p->zlib_sent;
		} else {
			p->protocol_violations++;
			peer_misbehaving(p, OFF_PROTOCOL_ORDER, "message before verack");
			log_debug(LOG_NET, "peer=%" PRIu64 " sent %s before verack; ignored", p->id,
				  f->command);
		}
		return;
	case PEER_ESTABLISHED:
		dispatch(p, f->command, f->payload, f->len, false);
		return;
	case PEER_DISCONNECTING:
		return;
	}
}

void process_housekeeping(struct peer *p, int64_t now)
{
	switch (p->state) {
	case PEER_CONNECTING:
	case PEER_AWAIT_VERSION:
	case PEER_AWAIT_VERACK:
		if (now - p->conn_time >= p->cm->cfg.peer_timeout)
			peer_disconnect(p, "handshake timeout");
		return;
	case PEER_ESTABLISHED:
		if (p->ping_nonce != 0 && now - p->ping_sent_time >= INACTIVITY_TIMEOUT) {
			peer_disconnect(p, "ping timeout");
			return;
		}
		if (now - p->last_recv >= INACTIVITY_TIMEOUT) {
			peer_disconnect(p, "inactivity timeout");
			return;
		}
		if (now >= p->next_ping_time)
			process_ping(p);
		return;
	case PEER_DISCONNECTING:
		return;
	}
}
