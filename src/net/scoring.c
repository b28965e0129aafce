/* Misbehaviour scoring (include/net/scoring.h). */
#include "net/scoring.h"

#include <inttypes.h>
#include <stdio.h>

#include "connman_impl.h"
#include "net/netaddr.h"
#include "net/peer.h"
#include "util/clock.h"
#include "util/log.h"

static const struct offence_info table[OFF_COUNT] = {
	[OFF_BAD_FRAME] = {"bad-frame", 100, "disconnect, discourage"},
	[OFF_BAD_CHECKSUM] = {"bad-checksum", 10, "frame dropped"},
	[OFF_MALFORMED] = {"malformed", 50, "message dropped"},
	[OFF_PROTOCOL_ORDER] = {"protocol-order", 10, "message ignored"},
	[OFF_INVALID_SIG] = {"invalid-signature", 100, "message rejected, disconnect, discourage"},
	[OFF_UNREQUESTED] = {"unrequested", 10, "message dropped"},
	[OFF_BOMB] = {"decompression-bomb", 100, "disconnect, discourage"},
	[OFF_FLOOD] = {"flood", 10, "excess dropped"},
	[OFF_BROKEN_PROMISE] = {"broken-promise", 5, "next announcer asked"},
	[OFF_SYNC_ENDLESS] = {"sync-endless", 100, "session abandoned, disconnect, discourage"},
	[OFF_SYNC_LIE] = {"sync-lie", 20, "next announcer asked"},
};

const struct offence_info *offence_info(enum offence o)
{
	return o < OFF_COUNT ? &table[o] : NULL;
}

/* Points decay in whole points, one per DECAY_STEP_US, so offences that add up to exactly the
 * threshold within one step reach it (a continuous decay would leave them a hair short). */
#define DECAY_STEP_US (3600000000LL / MISBEHAVIOUR_DECAY_PER_HOUR)

static int64_t decay_steps(const struct peer *p, int64_t now_us)
{
	return now_us > p->misbehaviour_us ? (now_us - p->misbehaviour_us) / DECAY_STEP_US : 0;
}

double peer_misbehaviour(const struct peer *p, int64_t now_us)
{
	double v = p->misbehaviour - (double)decay_steps(p, now_us);
	return v > 0 ? v : 0;
}

void peer_misbehaving(struct peer *p, enum offence o, const char *detail)
{
	if (o >= OFF_COUNT)
		return;
	int64_t now = clock_mono_us();
	int64_t steps = decay_steps(p, now);
	double left = p->misbehaviour - (double)steps;
	/* Keep the part of a step already elapsed, unless nothing is left to decay. */
	p->misbehaviour_us = left > 0 ? p->misbehaviour_us + steps * DECAY_STEP_US : now;
	p->misbehaviour = (left > 0 ? left : 0) + table[o].points;
	p->offences[o]++;
	log_debug(LOG_NET, "peer=%" PRIu64 " misbehaving: %s (+%d -> %.0f)%s%s", p->id,
		  table[o].name, table[o].points, p->misbehaviour, detail ? ": " : "",
		  detail ? detail : "");
	if (p->misbehaviour < MISBEHAVIOUR_THRESHOLD || p->state == PEER_DISCONNECTING)
		return;
	if (p->noban) {
		log_info("peer=%" PRIu64
			 " reached the misbehaviour threshold (%s) but has noban: kept",
			 p->id, table[o].name);
		return;
	}
	if (netaddr_is_shared_loopback(&p->addr))
		log_info("peer=%" PRIu64 " reached the misbehaviour threshold (%s): disconnected, "
			 "but its address is not discouraged (every local process shares it)",
			 p->id, table[o].name);
	else
		connman_discourage(p->cm, p);
	char why[96];
	snprintf(why, sizeof(why), "misbehaviour threshold reached (%s)", table[o].name);
	peer_disconnect(p, why);
}

/* Reputation weights and caps (doc/scoring.md). */
#define SCORE_UPTIME_PER_HOUR 1.0
#define SCORE_UPTIME_CAP      10.0
#define SCORE_DELIVERY        0.1
#define SCORE_DELIVERY_CAP    50.0
#define SCORE_ANSWER          0.05
#define SCORE_ANSWER_CAP      20.0
#define SCORE_COLOCATION      10.0

static double capped(double v, double cap)
{
	return v > cap ? cap : v;
}

double peer_score(const struct peer *p, int64_t now, int64_t now_us, struct score_breakdown *out)
{
	struct score_breakdown b;
	double hours = now > p->conn_time ? (double)(now - p->conn_time) / 3600.0 : 0;
	b.uptime = capped(hours * SCORE_UPTIME_PER_HOUR, SCORE_UPTIME_CAP);
	b.first_deliveries =
		capped((double)p->first_deliveries * SCORE_DELIVERY, SCORE_DELIVERY_CAP);
	b.answers = capped((double)p->answers * SCORE_ANSWER, SCORE_ANSWER_CAP);
	b.misbehaviour = -peer_misbehaviour(p, now_us);
	b.colocation = -(double)p->colocated * SCORE_COLOCATION;
	b.remembered = p->remembered_good;
	if (out)
		*out = b;
	return b.uptime + b.first_deliveries + b.answers + b.misbehaviour + b.colocation +
	       b.remembered;
}
