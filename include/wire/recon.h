/* Catch-up sync messages: syncreq (initiator -> responder) and syncresp (responder ->
 * initiator), the wire half of range-based set reconciliation (doc/protocol.md, "Catch-up sync
 * (syncreq / syncresp)"). The algorithm that fills them is in msg/recon.h.
 *
 * An item is a stored message's (created_at, id), ordered by created_at, then by the id's
 * bytes: the order of the store's time index. A bound (created_at, id prefix of 0..32 bytes)
 * stands for the smallest item at or above it (missing id bytes are 0x00). A message splits a
 * window of time [since, until) into consecutive ranges: each range ends (exclusive) at its
 * upper bound and starts at the previous range's upper bound (the first at (since, "")); the
 * last range ends at END, the end of the window. Each range carries a mode and its data.
 *
 * Payload (all integers little-endian, compactsize as everywhere in the protocol):
 *   u8 version (1), u8 flags (0; ignored on receipt),
 *   syncreq only: int64 since, int64 until (0 <= since < until),
 *   compactsize count (1..RECON_MAX_RANGES), count ranges:
 *     compactsize t: 0 is END; else the bound's created_at = prev + t - 1, where prev is the
 *       created_at of the previous bound of the message (the first: since in a syncreq, 0 in
 *       a syncresp),
 *     u8 h: mode = h & 3, prefix length = h >> 2 (0..32; 0 for END),
 *     prefix bytes (not for END),
 *     SKIP: nothing; FINGERPRINT: 16 bytes;
 *     IDLIST: compactsize n (0..RECON_MAX_IDS), n ids of 32 bytes;
 *     IDLIST_REPLY (syncresp only): compactsize k (0..RECON_MAX_IDS), k ids, compactsize n
 *       (0..RECON_MAX_IDS), ceil(n/8) bitmap bytes (bit i, LSB first, set: the responder lacks
 *       the i-th id of the IDLIST answered; bits from n on are 0).
 * Bounds must increase strictly from the window start, stay below (until, "") (a syncresp
 * does not carry the window: below INT64_MAX here, the initiator checks its window), and END
 * must end the last range and no other. END is represented as created_at INT64_MAX with an
 * empty prefix: no item can sit there, so comparing it as a value puts it after every bound. */
#ifndef P2PD_WIRE_RECON_H
#define P2PD_WIRE_RECON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define CMD_SYNCREQ  "syncreq"
#define CMD_SYNCRESP "syncresp"

#define RECON_VERSION 1
#define RECON_ID_LEN  32
#define RECON_FP_LEN  16

/* Largest syncreq or syncresp payload; larger is malformed. Both roles cut their message short
 * before it grows past this (the rest of the window goes into one FINGERPRINT range), so every
 * answer to any acceptable request fits. 512 KiB: a 1% difference between two stores of
 * 100,000 messages needs no cut (its largest message is 74 KB), a 10% difference one, and
 * about 15,000 ids travel per message when one side lacks everything. Far below
 * WIRE_MAX_PAYLOAD and the 5 MB receive buffer. */
#define RECON_MAX_PAYLOAD 524288u
/* Most ranges in one message; more is malformed, and both roles cut their message short
 * before it has more. Bounds the decoder's allocation (104 bytes per range, 1.7 MB) and a
 * responder's work per message (a position lookup and a fingerprint or a split per range:
 * 25 ms measured at 100,000 stored items, 60 ms at 1,000,000). 16,384 lets a 10% difference
 * between 100,000-item stores converge in 9 rounds (8,192: 16 rounds). */
#define RECON_MAX_RANGES 16384u
/* Most ids in one IDLIST or IDLIST_REPLY list (and the most ids an IDLIST_REPLY answers: n).
 * An honest IDLIST holds at most RECON_IDLIST_THRESHOLD ids; a reply names at most this many
 * missing ids, 8 KiB. A side that would have to name more splits the range instead. */
#define RECON_MAX_IDS 256u
/* Bytes of a syncreq before its first range at most: version, flags, since, until and a
 * compactsize count of up to 3 bytes. The ranges of any message fit in
 * RECON_MAX_PAYLOAD - RECON_HEADER_MAX bytes. */
#define RECON_HEADER_MAX 21u

enum recon_mode {
	RECON_SKIP = 0,         /* the sender considers the range done */
	RECON_FINGERPRINT = 1,  /* the fingerprint of the sender's items in the range */
	RECON_IDLIST = 2,       /* all the sender's ids in the range, in item order */
	RECON_IDLIST_REPLY = 3, /* the responder's answer to an IDLIST */
};

struct recon_item {
	int64_t created_at; /* >= 0 */
	uint8_t id[RECON_ID_LEN];
};

/* The smallest item (created_at, prefix || zeros). END: created_at INT64_MAX, prefix_len 0. */
struct recon_bound {
	int64_t created_at;
	uint8_t prefix_len; /* 0..32 */
	uint8_t prefix[RECON_ID_LEN];
};

/* One range of a message. ids and bitmap point into memory the range does not own: the
 * decoded payload (decoder) or the builder's buffers. */
struct recon_range {
	struct recon_bound upper;
	enum recon_mode mode;
	uint8_t fp[RECON_FP_LEN]; /* FINGERPRINT */
	const uint8_t *ids;       /* IDLIST, IDLIST_REPLY: nids * 32 bytes */
	size_t nids;              /* IDLIST: n; IDLIST_REPLY: k */
	size_t n;                 /* IDLIST_REPLY: length of the list answered */
	const uint8_t *bitmap;    /* IDLIST_REPLY: (n + 7) / 8 bytes */
};

struct recon_msg {
	bool request;               /* syncreq (true) or syncresp */
	uint8_t flags;              /* as received; sent as 0 */
	int64_t since, until;       /* syncreq only */
	struct recon_range *ranges; /* malloc'd by recon_decode */
	size_t nranges;
};

/* The END bound. */
void recon_bound_end(struct recon_bound *out);
bool recon_bound_is_end(const struct recon_bound *b);
/* The bound (created_at, "") : every item from created_at on. */
void recon_bound_time(struct recon_bound *out, int64_t created_at);
/* Compare bounds as the items they stand for: <0, 0, >0. (5, "ab") equals (5, "ab00"). */
int recon_bound_cmp(const struct recon_bound *a, const struct recon_bound *b);
/* Compare an item with a bound: <0 if the item is below it, >=0 if at or above. */
int recon_item_cmp_bound(const struct recon_item *it, const struct recon_bound *b);
/* Compare items by (created_at, id). */
int recon_item_cmp(const struct recon_item *a, const struct recon_item *b);
/* The shortest bound b with prev < b <= next (prev < next required): (next's created_at, "")
 * when the times differ, else next's created_at with the shortest prefix of next's id that is
 * above prev's id. */
void recon_bound_between(struct recon_bound *out, const struct recon_item *prev,
			 const struct recon_item *next);

/* Bytes range r takes on the wire when the previous bound's created_at is prev_ts. */
size_t recon_range_size(const struct recon_range *r, int64_t prev_ts);
/* Append a message's fields before its ranges: version, flags, the window (request only) and
 * the range count. */
void recon_encode_header(struct bytebuf *b, bool request, uint8_t flags, int64_t since,
			 int64_t until, size_t nranges);
/* Append range r, whose previous bound's created_at is *prev_ts; update *prev_ts to its own
 * bound's (unchanged for END). r must be well formed (its bound at or above *prev_ts). */
void recon_encode_range(struct bytebuf *b, const struct recon_range *r, int64_t *prev_ts);
/* Append the payload of m (a syncreq when m->request) to b. m must be well formed (what
 * recon_decode accepts); the flags are written as m->flags. Check bytebuf_ok(b) after. */
void recon_encode(struct bytebuf *b, const struct recon_msg *m);
/* Decode a syncreq (request) or syncresp payload into out. Every rule of the header comment is
 * checked: version, window, range count, bound encoding and order, modes (IDLIST_REPLY only in
 * a syncresp), list lengths, bitmap padding, truncation, trailing bytes, the payload size. The
 * ranges' ids and bitmaps point into payload, which must outlive out. Returns 0, -1 if
 * malformed, -2 out of memory; on failure out is empty (nothing to clear). */
int recon_decode(struct recon_msg *out, bool request, const uint8_t *payload, size_t len);
/* Free the ranges of a decoded message and empty it. NULL and empty messages are fine. */
void recon_msg_clear(struct recon_msg *m);
/* Check that the bounds of ranges increase strictly from (since, ""), stay below (until, ""),
 * and that END ends the last range and no other. Returns 0 or -1. recon_decode applies it
 * with the syncreq's window, or with [0, INT64_MAX) to a syncresp. */
int recon_check_bounds(const struct recon_range *ranges, size_t n, int64_t since, int64_t until);

#endif
