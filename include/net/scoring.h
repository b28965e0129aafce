/* Misbehaviour scoring: every offence a peer can commit, its points, and the reaction
 * (doc/scoring.md is the table in prose; this file is the table in code).
 *
 * A peer's points decay linearly (MISBEHAVIOUR_DECAY_PER_HOUR) so an honest peer that slipped
 * once recovers. Reaching MISBEHAVIOUR_THRESHOLD disconnects the peer and discourages its
 * address: it is not dialled, its inbound connections are accepted only into spare slots and are
 * the first evicted. A peer with the noban permission is never discouraged (its offences are
 * still counted and logged). Honest differences (clock skew, policy such as -minpow or
 * -maxmsgsize, expired messages) are not offences and never reach this file. */
#ifndef P2PD_NET_SCORING_H
#define P2PD_NET_SCORING_H

#include <stdint.h>

struct peer;

#define MISBEHAVIOUR_THRESHOLD      100
#define MISBEHAVIOUR_DECAY_PER_HOUR 100

enum offence {
	OFF_BAD_FRAME,    /* bad magic, invalid command bytes, oversize header (also disconnects) */
	OFF_BAD_CHECKSUM, /* frame checksum mismatch */
	OFF_MALFORMED,    /* a known message whose payload does not decode (incl. inv/getdata
			   * over 50,000 entries, addrv2 over 1,000) */
	OFF_PROTOCOL_ORDER, /* second version, message before verack, zlib without negotiation */
	OFF_INVALID_SIG,    /* a message whose signature does not verify */
	OFF_UNREQUESTED,    /* a message body we did not ask for */
	OFF_BOMB,           /* a zlib frame that inflates past its declared length */
	OFF_FLOOD,          /* beyond a rate limit (announcements, requests, bytes, addresses) */
	OFF_BROKEN_PROMISE, /* announced a message, was asked, never delivered it */
	OFF_SYNC_ENDLESS,   /* a catch-up sync session that does not converge (RECON_MAX_ROUNDS) */
	OFF_SYNC_LIE,       /* listed an id in a sync session, then answered notfound for it */
	OFF_COUNT,
};

struct offence_info {
	const char *name; /* "bad-checksum", ... (getpeerinfo, logs) */
	int points;
	const char *reaction; /* for doc/scoring.md and help texts */
};

const struct offence_info *offence_info(enum offence o);

/* Current points of a peer after decay to now_us (monotonic). */
double peer_misbehaviour(const struct peer *p, int64_t now_us);

/* Record an offence: decay, add its points, count it, log it under -debug=net with detail. At
 * the threshold the peer is disconnected and (unless noban) its address discouraged. */
void peer_misbehaving(struct peer *p, enum offence o, const char *detail);

/* The peer's reputation score and its parts (doc/scoring.md, "Reputation"). */
struct score_breakdown {
	double uptime, first_deliveries, answers, misbehaviour, colocation, remembered;
};
/* Compute the score now (now: node clock seconds; now_us: monotonic); parts may be NULL. */
double peer_score(const struct peer *p, int64_t now, int64_t now_us, struct score_breakdown *parts);

#endif
