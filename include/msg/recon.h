/* Catch-up sync by range-based set reconciliation (doc/protocol.md, "Catch-up sync (syncreq /
 * syncresp)"): the two roles over a reconset, as pure functions. No sockets and no clock: the
 * caller sends and receives the payloads (commands CMD_SYNCREQ and CMD_SYNCRESP of
 * wire/recon.h) and passes the window's times.
 *
 *   initiator                                   responder
 *   sess = recon_initiate(set, since, until, &out)
 *   send syncreq(out) ------------------------> recon_respond(set, payload, &out)
 *   recon_initiator_step(sess, set, payload, <- send syncresp(out)
 *       &out, &have, &need)
 *     RECON_CONTINUE: announce have (inv), fetch need (getdata), send syncreq(out), repeat
 *     RECON_DONE:     announce have, fetch need; recon_session_free(sess)
 *     RECON_ERR_ROUNDS: announce have, fetch need (the last step's); recon_session_free(sess)
 *     < 0:            recon_session_free(sess); MALFORMED and PROTOCOL are the peer's fault
 *                     (doc/protocol.md, "Reactions to bad input"), ROUNDS may be, NOMEM ours
 *
 * Each role answers each range of the message it got, in order. A FINGERPRINT that matches
 * its own is done (SKIP); one that differs is answered with its own ids (IDLIST) when it has
 * at most RECON_IDLIST_THRESHOLD items there, else split into RECON_BRANCH FINGERPRINT ranges
 * of near-equal item counts. An IDLIST is answered by the responder with IDLIST_REPLY (its ids
 * the list lacks, and which listed ids it lacks) and resolved by the initiator directly (have /
 * need, SKIP); when more than RECON_MAX_IDS of one's own items are missing from the list, the
 * range is split instead, into parts of at most RECON_MAX_IDS items (RECON_LIST_PARTS). A message
 * that would grow past RECON_MAX_PAYLOAD or RECON_MAX_RANGES (or, for the initiator, a step whose
 * have or need would pass RECON_MAX_STEP_IDS) stops before the range that does not fit and covers
 * the rest of the window with one FINGERPRINT range: a later round reconciles it. Both sets may
 * change between rounds; the session converges on what they hold then. */
#ifndef P2PD_MSG_RECON_H
#define P2PD_MSG_RECON_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"
#include "wire/recon.h"

struct reconset;

/* Parts a differing FINGERPRINT range is split into. Measured at 100,000 items
 * (doc/benchmarks.md, "Reconciliation"; contrib/devtools/recon-tune.py): a 1% difference costs
 * 4.4% of a full id-list exchange with 4, 5.4% with 8, 6.4% with 16 (3: 4.3%, one more round);
 * identical sets cost the same with any. 4 takes 5 round trips at 1% (16: 3). */
#define RECON_BRANCH 4
/* A side with at most this many items in a differing range sends its ids (IDLIST) instead of
 * splitting it. Measured with RECON_BRANCH 4 at 100,000 items: 3 and 4 cost the same at a 1%
 * difference, 3 costs 5% less at 10% (26.5% of a full id-list exchange); 5, 6 and 8 cost 6%,
 * 12% and 31% more at 1%. */
#define RECON_IDLIST_THRESHOLD 3
/* A side answering an IDLIST that lacks more than RECON_MAX_IDS of its items (the peer has few
 * there) splits the range into parts of at most RECON_MAX_IDS items, each of which the peer
 * answers with its short list next round; but into at most this many such parts, plus one
 * part with the rest, split the same way next round while the first parts' ids travel. 60
 * replies of 256 ids fill one syncresp (and one step's have), so a one-sided difference
 * streams about 15,000 ids per round trip: 100,000 in 8 rounds (with parts for the whole
 * range and one cut message per round: 14). */
#define RECON_LIST_PARTS 60
/* Most ids one initiator step returns in have, and in need: as many as one syncresp can carry
 * (RECON_MAX_PAYLOAD / 32). A step stops before the range that would pass it. */
#define RECON_MAX_STEP_IDS (RECON_MAX_PAYLOAD / RECON_ID_LEN)
/* Round trips after which a session that has not converged is abandoned. The largest honest
 * cases measured at 100,000 items take 9 rounds (10% difference) and 8 (one side empty), so 64
 * leaves a wide margin. Rounds grow with the difference (messages are bounded): one side empty
 * takes one more round per about 15,000 ids (800,000 items: 54 rounds); a scattered two-sided
 * difference about one per 1,100 ids (10% of 200,000 items, 20,000 ids: 18 rounds; 80,000 ids:
 * over 64). Whether such a session is the peer's fault is the caller's call: msg/sync.h treats
 * one that found enough new ids as a large difference and goes on with a new session over the
 * same window (the sets then differ by less), and penalises the others. */
#define RECON_MAX_ROUNDS 64

enum recon_status {
	RECON_DONE = 0,           /* the session converged: nothing more to send */
	RECON_CONTINUE = 1,       /* out holds the next syncreq */
	RECON_ERR_MALFORMED = -1, /* the payload does not decode, or its bounds leave the window */
	RECON_ERR_PROTOCOL = -2,  /* an IDLIST_REPLY that answers no IDLIST we sent, or a step
				   * with no syncreq outstanding */
	RECON_ERR_ROUNDS = -3,    /* RECON_MAX_ROUNDS reached without converging */
	RECON_ERR_NOMEM = -4,
};

/* A short name for logs ("done", "continue", "malformed", "protocol", "rounds", "nomem"). */
const char *recon_status_name(enum recon_status st);

/* A list of ids: have (own ids the peer lacks: announce them) or need (the peer's ids we
 * lack: fetch them; ids the caller already stores may appear, as the set may have changed).
 * Start zeroed; recon_ids_free releases it. */
struct recon_ids {
	uint8_t (*ids)[RECON_ID_LEN];
	size_t n, cap;
};
void recon_ids_free(struct recon_ids *l);

/* Counters of a session, for logs and the RPC view. */
struct recon_stats {
	uint32_t rounds;      /* syncresp processed */
	uint64_t bytes_sent;  /* syncreq payload bytes */
	uint64_t bytes_recv;  /* syncresp payload bytes */
	uint64_t ranges_sent; /* ranges in the syncreqs */
	uint64_t ranges_recv; /* ranges in the syncresps */
	uint64_t have, need;  /* ids returned over all steps */
};

struct recon_session;

/* Start a session over the items of set with since <= created_at < until (0 <= since <
 * until): write the first syncreq payload into out (reset first; initialised by the caller
 * with a max of at least RECON_MAX_PAYLOAD). It is one FINGERPRINT range over the window, or
 * an IDLIST when the set has at most RECON_IDLIST_THRESHOLD items there. Returns the session
 * (the caller owns it: recon_session_free), or NULL for a bad window or out of memory. A
 * session holds about 72 KB of scratch, a copy of its last syncreq and the buffer it builds
 * the next one in (each at most RECON_MAX_PAYLOAD): at most about 1.1 MB. */
struct recon_session *recon_initiate(struct reconset *set, int64_t since, int64_t until,
				     struct bytebuf *out);

/* Process the syncresp payload answering the last syncreq. have and need are reset, then
 * receive this step's ids (at most RECON_MAX_STEP_IDS each). out is reset (its max must be at
 * least RECON_MAX_PAYLOAD). Returns RECON_CONTINUE with the next syncreq in out, RECON_DONE when
 * the next message would be all SKIP (nothing to send), RECON_ERR_ROUNDS when the session has not
 * converged after RECON_MAX_ROUNDS (have and need hold that last step's ids, which are as sound
 * as any step's: only the next syncreq is not made), or another error: then have and need are
 * empty. After anything but RECON_CONTINUE the session can only be freed. set is the initiator's
 * own set, the same one every step (it may have changed in between). */
enum recon_status recon_initiator_step(struct recon_session *sess, struct reconset *set,
				       const uint8_t *payload, size_t len, struct bytebuf *out,
				       struct recon_ids *have, struct recon_ids *need);

const struct recon_stats *recon_session_stats(const struct recon_session *sess);
void recon_session_free(struct recon_session *sess);

/* The responder (stateless): write into out (reset first; max at least RECON_MAX_PAYLOAD) the
 * syncresp answering the syncreq payload, over set restricted to the syncreq's window. It
 * keeps nothing between calls, so it cannot count a peer's rounds: the caller bounds how many
 * syncreqs it answers per peer (for example RECON_MAX_ROUNDS per session, one session at a
 * time). Each call allocates about 72 KB of scratch and up to RECON_MAX_PAYLOAD for the
 * answer being built, and frees them before it returns. Returns RECON_CONTINUE (send out),
 * RECON_ERR_MALFORMED (the syncreq does not decode: a malformed message; out is empty) or
 * RECON_ERR_NOMEM. */
enum recon_status recon_respond(struct reconset *set, const uint8_t *payload, size_t len,
				struct bytebuf *out);

#endif
