/* A peer's state machine, sending, and disconnecting (include/net/peer.h).
 *
 * The one place where a peer changes state is peer_set_state(); peer_disconnect() is the one
 * way into PEER_DISCONNECTING. Freeing happens later, in the connection manager's reaper, so
 * that no callback ever runs on a freed peer. */
#include "net/peer.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "connman_impl.h"
#include "net/transport.h"
#include "wire/compress.h"
#include "wire/inv.h"
#include "util/clock.h"
#include "util/log.h"

const char *peer_state_name(enum peer_state s)
{
	switch (s) {
	case PEER_CONNECTING:
		return "connecting";
	case PEER_AWAIT_VERSION:
		return "await_version";
	case PEER_AWAIT_VERACK:
		return "await_verack";
	case PEER_ESTABLISHED:
		return "established";
	case PEER_DISCONNECTING:
		return "disconnecting";
	}
	return "?";
}

const char *conn_type_name(enum conn_type t)
{
	switch (t) {
	case CONN_INBOUND:
		return "inbound";
	case CONN_MANUAL:
		return "manual";
	case CONN_OUTBOUND_FULL:
		return "outbound-full-relay";
	case CONN_FEELER:
		return "feeler";
	case CONN_ADDR_FETCH:
		return "addr-fetch";
	}
	return "?";
}

static const char *const stat_names[STAT_COUNT] = {
	[STAT_VERSION] = CMD_VERSION,
	[STAT_VERACK] = CMD_VERACK,
	[STAT_SENDADDRV2] = CMD_SENDADDRV2,
	[STAT_PING] = CMD_PING,
	[STAT_PONG] = CMD_PONG,
	[STAT_SENDZLIB] = CMD_SENDZLIB,
	[STAT_ZLIB] = CMD_ZLIB,
	[STAT_INV] = CMD_INV,
	[STAT_GETDATA] = CMD_GETDATA,
	[STAT_NOTFOUND] = CMD_NOTFOUND,
	[STAT_MSG] = CMD_MSG,
	[STAT_OTHER] = "*other*",
};

const char *msg_stat_name(enum msg_stat s)
{
	return s < STAT_COUNT && stat_names[s] ? stat_names[s] : "?";
}

enum msg_stat msg_stat_from_command(const char *command)
{
	for (int i = 0; i < STAT_OTHER; i++)
		if (stat_names[i] && strcmp(stat_names[i], command) == 0)
			return (enum msg_stat)i;
	return STAT_OTHER;
}

void peer_set_state(struct peer *p, enum peer_state s, const char *reason)
{
	if (p->state == s)
		return;
	log_debug(LOG_NET, "peer=%llu %s -> %s (%s)", (unsigned long long)p->id,
		  peer_state_name(p->state), peer_state_name(s), reason);
	p->state = s;
}

int peer_send(struct peer *p, const char *command, const uint8_t *payload, size_t len)
{
	if (p->state == PEER_DISCONNECTING || !p->bev)
		return -1;
	struct evbuffer *out = bufferevent_get_output(p->bev);
	int n = -1;
	const char *wire_cmd = command; /* what the frame says: statistics count frames */
	if (p->zlib_ok && len >= ZLIB_MIN_PAYLOAD) {
		struct bytebuf z;
		bytebuf_init(&z, WIRE_MAX_PAYLOAD);
		if (wire_zlib_wrap(&z, command, payload, len) == 0) {
			n = p->transport->ops->write_frame(p->transport, out, CMD_ZLIB, z.data,
							   z.len);
			if (n >= 0) {
				p->cm->bytes_saved += len - z.len;
				wire_cmd = CMD_ZLIB;
			}
		}
		bytebuf_free(&z);
	}
	if (n < 0)
		n = p->transport->ops->write_frame(p->transport, out, command, payload, len);
	if (n < 0) {
		peer_disconnect(p, "out of memory queueing a message");
		return -1;
	}
	p->bytes_sent += (uint64_t)n;
	p->sent_per_msg[msg_stat_from_command(wire_cmd)] += (uint64_t)n;
	p->cm->total_sent += (uint64_t)n;
	p->last_send = clock_now(p->cm->cfg.clock);
	log_debug(LOG_NET, "sending %s (%zu bytes) peer=%llu", command, len,
		  (unsigned long long)p->id);
	return 0;
}

void peer_disconnect(struct peer *p, const char *reason)
{
	if (p->state == PEER_DISCONNECTING)
		return;
	char addr[NETADDR_STRLEN];
	netaddr_format(&p->addr, addr, sizeof(addr));
	snprintf(p->disconnect_reason, sizeof(p->disconnect_reason), "%s", reason);
	log_debug(LOG_NET, "disconnecting peer=%llu %s: %s", (unsigned long long)p->id,
		  p->dest[0] ? p->dest : addr, reason);
	peer_set_state(p, PEER_DISCONNECTING, reason);
	if (p->bev)
		bufferevent_disable(p->bev, EV_READ | EV_WRITE);
	connman_schedule_reap(p->cm);
}
