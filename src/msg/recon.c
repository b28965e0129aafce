/* Catch-up sync sessions (include/msg/recon.h): the initiator's steps and the stateless
 * responder over a reconset.
 *
 * Both roles walk the ranges of the message they got in order and compute an answer for each
 * (a few ranges, and for the initiator the ids to announce and to fetch) into a scratch area,
 * then append it to the message being built if it fits; the first answer that does not fit
 * ends the message with one FINGERPRINT range over the rest of the window. Adjacent SKIP
 * ranges merge: a SKIP is held back (pending) until a range of another mode follows or the
 * message ends, and a later SKIP only moves its bound.
 *
 * The initiator keeps a copy of the syncreq it sent and decodes it again when the answer
 * comes, to find the ids an IDLIST_REPLY's bitmap refers to. */
#include "msg/recon.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "msg/reconset.h"

/* Bytes of the FINGERPRINT range to END that ends a message cut short. */
#define REST_SIZE (2 + RECON_FP_LEN)
/* Bytes of one range of an answer at most: a 9-byte time, the mode byte, a 32-byte prefix and
 * a fingerprint (a split's ranges; an IDLIST_REPLY is counted separately below). */
#define SPLIT_RANGE_MAX (9 + 1 + RECON_ID_LEN + RECON_FP_LEN)
/* Bytes of the largest IDLIST_REPLY range: bound, list of RECON_MAX_IDS ids, n and bitmap. */
#define REPLY_RANGE_MAX \
	(9 + 1 + RECON_ID_LEN + 3 + RECON_MAX_IDS * RECON_ID_LEN + 3 + RECON_MAX_IDS / 8)

/* Most ranges one answer has: a split of an IDLIST's range (or RECON_BRANCH). */
#define RECON_ANSWER_MAX (RECON_LIST_PARTS + 1)

/* The first answer of a message always fits, so every round makes progress. */
_Static_assert(RECON_ANSWER_MAX >= RECON_BRANCH, "answers fit in the scratch area");
_Static_assert(RECON_ANSWER_MAX + 2 <= RECON_MAX_RANGES, "a split fits in a message");
_Static_assert((RECON_ANSWER_MAX * SPLIT_RANGE_MAX) + REST_SIZE + RECON_HEADER_MAX <=
		       RECON_MAX_PAYLOAD,
	       "a split fits in a message");
/* The replies to a whole split fit in one syncresp, and their ids in one step. */
_Static_assert((RECON_LIST_PARTS * REPLY_RANGE_MAX) + (RECON_ANSWER_MAX * SPLIT_RANGE_MAX) +
			       REST_SIZE + RECON_HEADER_MAX <=
		       RECON_MAX_PAYLOAD,
	       "a split's replies fit in a message");
_Static_assert((RECON_LIST_PARTS * RECON_MAX_IDS) <= RECON_MAX_STEP_IDS,
	       "a split's ids fit in a step");
_Static_assert(REPLY_RANGE_MAX + REST_SIZE + RECON_HEADER_MAX <= RECON_MAX_PAYLOAD,
	       "a reply fits in a message");
_Static_assert(RECON_MAX_IDS <= RECON_MAX_STEP_IDS, "one answer's ids fit in a step");
/* A split range holds at least as many items as parts. */
_Static_assert(RECON_IDLIST_THRESHOLD + 1 >= RECON_BRANCH, "a split never makes empty parts");
_Static_assert(RECON_MAX_IDS >= RECON_BRANCH, "a split never makes empty parts");
_Static_assert(RECON_MAX_IDS % 8 == 0, "bitmap size");

/* A message being built: the ranges written so far (body), a held-back SKIP. */
struct builder {
	struct bytebuf body;
	size_t count;    /* ranges in body */
	size_t nonskip;  /* ranges other than SKIP added */
	int64_t prev_ts; /* created_at of the last bound in body (the base before the first) */
	bool pending;
	struct recon_bound pending_upper;
};

/* Scratch for answering one range, reused across ranges and rounds. */
struct work {
	struct recon_range ranges[RECON_ANSWER_MAX];
	size_t nranges;
	uint8_t ids[RECON_MAX_IDS][RECON_ID_LEN]; /* the list of an IDLIST or IDLIST_REPLY */
	uint8_t bitmap[RECON_MAX_IDS / 8];
	uint8_t have[RECON_MAX_IDS][RECON_ID_LEN];
	size_t nhave;
	uint8_t need[RECON_MAX_IDS][RECON_ID_LEN];
	size_t nneed;
	/* Own ids of a range answering an IDLIST (at most its length + RECON_MAX_IDS), in item
	 * order and sorted; the peer's list sorted. */
	uint8_t own[2 * RECON_MAX_IDS][RECON_ID_LEN];
	uint8_t own_sorted[2 * RECON_MAX_IDS][RECON_ID_LEN];
	uint8_t list_sorted[RECON_MAX_IDS][RECON_ID_LEN];
	struct builder b;
};

/* Where the initiator is in the syncreq it sent, to match IDLIST_REPLY ranges. */
struct sent_cursor {
	const struct recon_msg *msg;
	size_t next;              /* first sent range not yet passed */
	struct recon_bound lower; /* its lower bound */
};

struct recon_session {
	int64_t since, until;
	uint8_t *sent; /* the last syncreq payload, while its answer is outstanding */
	size_t sent_len;
	struct recon_stats stats;
	struct work *w;
};

const char *recon_status_name(enum recon_status st)
{
	switch (st) {
	case RECON_DONE:
		return "done";
	case RECON_CONTINUE:
		return "continue";
	case RECON_ERR_MALFORMED:
		return "malformed";
	case RECON_ERR_PROTOCOL:
		return "protocol";
	case RECON_ERR_ROUNDS:
		return "rounds";
	case RECON_ERR_NOMEM:
		return "nomem";
	}
	return "unknown";
}

void recon_ids_free(struct recon_ids *l)
{
	if (!l)
		return;
	free(l->ids);
	memset(l, 0, sizeof(*l));
}

/* Append n ids; 0 or -1 (out of memory). */
static int ids_append(struct recon_ids *l, const void *ids, size_t n)
{
	if (l->n + n > l->cap) {
		size_t cap = l->cap ? l->cap : 64;
		while (cap < l->n + n)
			cap *= 2;
		uint8_t(*p)[RECON_ID_LEN] = realloc(l->ids, cap * sizeof(*p));
		if (!p)
			return -1;
		l->ids = p;
		l->cap = cap;
	}
	if (n)
		memcpy(l->ids[l->n], ids, n * RECON_ID_LEN);
	l->n += n;
	return 0;
}

/* ---- building a message ---- */

static void builder_init(struct builder *b, int64_t base)
{
	bytebuf_reset(&b->body);
	b->count = 0;
	b->nonskip = 0;
	b->prev_ts = base;
	b->pending = false;
}

static int64_t bound_ts(const struct recon_bound *u, int64_t prev_ts)
{
	return recon_bound_is_end(u) ? prev_ts : u->created_at;
}

static size_t skip_size(const struct recon_bound *u, int64_t prev_ts)
{
	struct recon_range r = {.upper = *u, .mode = RECON_SKIP};
	return recon_range_size(&r, prev_ts);
}

/* Whether n more ranges fit and leave room for the FINGERPRINT range that ends a message cut
 * short. */
static bool builder_fits(const struct builder *b, const struct recon_range *r, size_t n)
{
	size_t size = b->body.len, count = b->count;
	int64_t prev = b->prev_ts;
	bool pending = b->pending;
	struct recon_bound pu = b->pending_upper;

	for (size_t i = 0; i < n; i++) {
		if (r[i].mode == RECON_SKIP) {
			pending = true;
			pu = r[i].upper;
			continue;
		}
		if (pending) {
			size += skip_size(&pu, prev);
			count++;
			prev = bound_ts(&pu, prev);
			pending = false;
		}
		size += recon_range_size(&r[i], prev);
		count++;
		prev = bound_ts(&r[i].upper, prev);
	}
	if (pending) {
		size += skip_size(&pu, prev);
		count++;
	}
	return count + 1 <= RECON_MAX_RANGES &&
	       size + REST_SIZE <= RECON_MAX_PAYLOAD - RECON_HEADER_MAX;
}

static void builder_flush(struct builder *b)
{
	if (!b->pending)
		return;
	struct recon_range r = {.upper = b->pending_upper, .mode = RECON_SKIP};
	recon_encode_range(&b->body, &r, &b->prev_ts);
	b->count++;
	b->pending = false;
}

static void builder_add(struct builder *b, const struct recon_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].mode == RECON_SKIP) {
			b->pending = true;
			b->pending_upper = r[i].upper;
			continue;
		}
		builder_flush(b);
		recon_encode_range(&b->body, &r[i], &b->prev_ts);
		b->count++;
		b->nonskip++;
	}
}

/* Write the whole message into out (reset first). 0, or -1 if out could not hold it. */
static int builder_finish(struct builder *b, struct bytebuf *out, bool request, int64_t since,
			  int64_t until)
{
	builder_flush(b);
	bytebuf_reset(out);
	recon_encode_header(out, request, 0, since, until, b->count);
	bytebuf_append(out, b->body.data, b->body.len);
	return bytebuf_ok(&b->body) && bytebuf_ok(out) ? 0 : -1;
}

/* ---- answers ---- */

static struct work *work_new(void)
{
	struct work *w = malloc(sizeof(*w));
	if (!w)
		return NULL;
	/* Room for the ranges and the rest range: builder_fits keeps the body below this. */
	bytebuf_init(&w->b.body, RECON_MAX_PAYLOAD);
	return w;
}

static void work_free(struct work *w)
{
	if (!w)
		return;
	bytebuf_free(&w->b.body);
	free(w);
}

static void answer_reset(struct work *w)
{
	w->nranges = 0;
	w->nhave = 0;
	w->nneed = 0;
}

static struct recon_range *answer_range(struct work *w, const struct recon_bound *upper,
					enum recon_mode mode)
{
	struct recon_range *r = &w->ranges[w->nranges++];
	memset(r, 0, sizeof(*r));
	r->upper = *upper;
	r->mode = mode;
	return r;
}

static void answer_skip(struct work *w, const struct recon_bound *upper)
{
	answer_range(w, upper, RECON_SKIP);
}

/* parts FINGERPRINT ranges over own items [lo, hi) (at least parts of them): part j holds
 * positions lo + j*m/parts up to lo + (j+1)*m/parts; a part ends at the shortest bound between
 * its last item and the next part's first; the last part ends at upper. */
static void answer_split(struct work *w, struct reconset *set, size_t lo, size_t hi,
			 const struct recon_bound *upper, size_t parts)
{
	size_t m = hi - lo;
	for (size_t j = 0; j < parts; j++) {
		size_t a = lo + j * m / parts, b = lo + (j + 1) * m / parts;
		struct recon_bound bound;
		if (j + 1 == parts)
			bound = *upper;
		else
			recon_bound_between(&bound, reconset_at(set, b - 1), reconset_at(set, b));
		struct recon_range *r = answer_range(w, &bound, RECON_FINGERPRINT);
		reconset_fingerprint(set, r->fp, a, b);
	}
}

/* Split own items [lo, hi) answering an IDLIST that lacks more than RECON_MAX_IDS of them.
 * With at most RECON_LIST_PARTS * RECON_MAX_IDS items: parts of at most RECON_MAX_IDS items (at
 * least RECON_BRANCH). With more: RECON_LIST_PARTS parts of exactly RECON_MAX_IDS items, then
 * one part with the rest. */
static void answer_split_list(struct work *w, struct reconset *set, size_t lo, size_t hi,
			      const struct recon_bound *upper)
{
	size_t m = hi - lo;

	if (m <= (size_t)RECON_LIST_PARTS * RECON_MAX_IDS) {
		size_t parts = (m + RECON_MAX_IDS - 1) / RECON_MAX_IDS;
		answer_split(w, set, lo, hi, upper, parts < RECON_BRANCH ? RECON_BRANCH : parts);
		return;
	}
	for (size_t j = 0; j < RECON_LIST_PARTS; j++) {
		size_t a = lo + j * RECON_MAX_IDS, b = a + RECON_MAX_IDS;
		struct recon_bound bound;
		recon_bound_between(&bound, reconset_at(set, b - 1), reconset_at(set, b));
		struct recon_range *r = answer_range(w, &bound, RECON_FINGERPRINT);
		reconset_fingerprint(set, r->fp, a, b);
	}
	struct recon_range *r = answer_range(w, upper, RECON_FINGERPRINT);
	reconset_fingerprint(set, r->fp, lo + (size_t)RECON_LIST_PARTS * RECON_MAX_IDS, hi);
}

/* Own ids [lo, hi) (at most RECON_IDLIST_THRESHOLD) as an IDLIST range. */
static void answer_idlist(struct work *w, struct reconset *set, size_t lo, size_t hi,
			  const struct recon_bound *upper)
{
	struct reconset_iter it;
	const struct recon_item *item;
	size_t k = 0;

	reconset_iter_init(&it, set, lo, hi);
	while ((item = reconset_iter_next(&it)) != NULL)
		memcpy(w->ids[k++], item->id, RECON_ID_LEN);
	struct recon_range *r = answer_range(w, upper, RECON_IDLIST);
	r->ids = &w->ids[0][0];
	r->nids = k;
}

static void answer_fingerprint(struct work *w, struct reconset *set, size_t lo, size_t hi,
			       const struct recon_range *in)
{
	uint8_t fp[RECON_FP_LEN];

	reconset_fingerprint(set, fp, lo, hi);
	if (memcmp(fp, in->fp, RECON_FP_LEN) == 0)
		answer_skip(w, &in->upper);
	else if (hi - lo <= RECON_IDLIST_THRESHOLD)
		answer_idlist(w, set, lo, hi, &in->upper);
	else
		answer_split(w, set, lo, hi, &in->upper, RECON_BRANCH);
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, RECON_ID_LEN);
}

static bool contains(const void *sorted, size_t n, const uint8_t *id)
{
	return bsearch(id, sorted, n, RECON_ID_LEN, cmp_id) != NULL;
}

/* Compare own items [lo, hi) with the peer's list in (an IDLIST): own ids in item order into
 * w->own, both sides sorted. Returns how many own ids the list lacks, or RECON_MAX_IDS + 1
 * when that is certainly more than RECON_MAX_IDS (then nothing is copied). */
static size_t compare_list(struct work *w, struct reconset *set, size_t lo, size_t hi,
			   const struct recon_range *in)
{
	struct reconset_iter it;
	const struct recon_item *item;
	size_t m = hi - lo, missing = 0;

	/* At most nids own items can be in the list. */
	if (m > in->nids + RECON_MAX_IDS)
		return RECON_MAX_IDS + 1;
	memcpy(w->list_sorted, in->ids, in->nids * RECON_ID_LEN);
	qsort(w->list_sorted, in->nids, RECON_ID_LEN, cmp_id);
	reconset_iter_init(&it, set, lo, hi);
	for (size_t i = 0; (item = reconset_iter_next(&it)) != NULL; i++) {
		memcpy(w->own[i], item->id, RECON_ID_LEN);
		missing += !contains(w->list_sorted, in->nids, item->id);
	}
	memcpy(w->own_sorted, w->own, m * RECON_ID_LEN);
	qsort(w->own_sorted, m, RECON_ID_LEN, cmp_id);
	return missing;
}

/* The responder's answer to an IDLIST: IDLIST_REPLY, or a split if it would name more than
 * RECON_MAX_IDS ids. */
static void respond_idlist(struct work *w, struct reconset *set, size_t lo, size_t hi,
			   const struct recon_range *in)
{
	size_t m = hi - lo, k = 0;

	if (compare_list(w, set, lo, hi, in) > RECON_MAX_IDS) {
		answer_split_list(w, set, lo, hi, &in->upper);
		return;
	}
	for (size_t i = 0; i < m; i++) {
		if (!contains(w->list_sorted, in->nids, w->own[i]))
			memcpy(w->ids[k++], w->own[i], RECON_ID_LEN);
	}
	memset(w->bitmap, 0, sizeof(w->bitmap));
	for (size_t i = 0; i < in->nids; i++) {
		if (!contains(w->own_sorted, m, in->ids + i * RECON_ID_LEN))
			w->bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	struct recon_range *r = answer_range(w, &in->upper, RECON_IDLIST_REPLY);
	r->ids = &w->ids[0][0];
	r->nids = k;
	r->n = in->nids;
	r->bitmap = w->bitmap;
}

static void respond_range(struct work *w, struct reconset *set, size_t lo, size_t hi,
			  const struct recon_range *in)
{
	answer_reset(w);
	switch (in->mode) {
	case RECON_SKIP:
	case RECON_IDLIST_REPLY: /* never in a decoded syncreq */
		answer_skip(w, &in->upper);
		break;
	case RECON_FINGERPRINT:
		answer_fingerprint(w, set, lo, hi, in);
		break;
	case RECON_IDLIST:
		respond_idlist(w, set, lo, hi, in);
		break;
	}
}

/* Position of a range's upper bound in set: the window's end for END. */
static size_t upper_position(struct reconset *set, const struct recon_bound *u, size_t end)
{
	return recon_bound_is_end(u) ? end : reconset_position(set, u);
}

/* Cut a message short: one FINGERPRINT range over own items [lo, end) to END. */
static void add_rest(struct work *w, struct reconset *set, size_t lo, size_t end)
{
	struct recon_bound e;
	recon_bound_end(&e);
	answer_reset(w);
	struct recon_range *r = answer_range(w, &e, RECON_FINGERPRINT);
	reconset_fingerprint(set, r->fp, lo, end);
	builder_add(&w->b, w->ranges, w->nranges);
}

enum recon_status recon_respond(struct reconset *set, const uint8_t *payload, size_t len,
				struct bytebuf *out)
{
	struct recon_msg req;
	struct recon_bound since_b, until_b;
	struct work *w;
	int rc;

	bytebuf_reset(out);
	rc = recon_decode(&req, true, payload, len);
	if (rc != 0)
		return rc == -2 ? RECON_ERR_NOMEM : RECON_ERR_MALFORMED;
	w = work_new();
	if (!w) {
		recon_msg_clear(&req);
		return RECON_ERR_NOMEM;
	}
	recon_bound_time(&since_b, req.since);
	recon_bound_time(&until_b, req.until);
	size_t lo = reconset_position(set, &since_b), end = reconset_position(set, &until_b);
	builder_init(&w->b, 0);
	for (size_t i = 0; i < req.nranges; i++) {
		size_t hi = upper_position(set, &req.ranges[i].upper, end);
		respond_range(w, set, lo, hi, &req.ranges[i]);
		if (!builder_fits(&w->b, w->ranges, w->nranges)) {
			add_rest(w, set, lo, end);
			break;
		}
		builder_add(&w->b, w->ranges, w->nranges);
		lo = hi;
	}
	rc = builder_finish(&w->b, out, false, 0, 0);
	work_free(w);
	recon_msg_clear(&req);
	return rc == 0 ? RECON_CONTINUE : RECON_ERR_NOMEM;
}

/* ---- initiator ---- */

/* The initiator's answer to the responder's IDLIST: have and need directly (SKIP), or a split
 * if more than RECON_MAX_IDS own ids are missing from it. */
static void initiator_idlist(struct work *w, struct reconset *set, size_t lo, size_t hi,
			     const struct recon_range *in)
{
	size_t m = hi - lo;

	if (compare_list(w, set, lo, hi, in) > RECON_MAX_IDS) {
		answer_split_list(w, set, lo, hi, &in->upper);
		return;
	}
	for (size_t i = 0; i < m; i++) {
		if (!contains(w->list_sorted, in->nids, w->own[i]))
			memcpy(w->have[w->nhave++], w->own[i], RECON_ID_LEN);
	}
	for (size_t i = 0; i < in->nids; i++) {
		const uint8_t *id = in->ids + i * RECON_ID_LEN;
		if (!contains(w->own_sorted, m, id))
			memcpy(w->need[w->nneed++], id, RECON_ID_LEN);
	}
	answer_skip(w, &in->upper);
}

/* The sent range from lower to upper, if it exists and is an IDLIST; NULL otherwise. Calls
 * come with increasing bounds. */
static const struct recon_range *sent_idlist(struct sent_cursor *sc,
					     const struct recon_bound *lower,
					     const struct recon_bound *upper)
{
	const struct recon_msg *m = sc->msg;

	while (sc->next < m->nranges && recon_bound_cmp(&m->ranges[sc->next].upper, upper) < 0) {
		sc->lower = m->ranges[sc->next].upper;
		sc->next++;
	}
	if (sc->next == m->nranges)
		return NULL;
	const struct recon_range *r = &m->ranges[sc->next];
	if (recon_bound_cmp(&r->upper, upper) != 0 || recon_bound_cmp(&sc->lower, lower) != 0 ||
	    r->mode != RECON_IDLIST)
		return NULL;
	return r;
}

/* The initiator's answer to IDLIST_REPLY: need its ids, have the ids of our IDLIST it lacks.
 * Returns 0, or -1 if it answers no IDLIST we sent. */
static int initiator_reply(struct work *w, struct sent_cursor *sc, const struct recon_bound *lower,
			   const struct recon_range *in)
{
	const struct recon_range *sent = sent_idlist(sc, lower, &in->upper);

	if (!sent || sent->nids != in->n)
		return -1;
	for (size_t i = 0; i < in->n; i++) {
		if (in->bitmap[i / 8] >> (i % 8) & 1)
			memcpy(w->have[w->nhave++], sent->ids + i * RECON_ID_LEN, RECON_ID_LEN);
	}
	memcpy(w->need, in->ids, in->nids * RECON_ID_LEN);
	w->nneed = in->nids;
	answer_skip(w, &in->upper);
	return 0;
}

static int initiator_range(struct work *w, struct reconset *set, size_t lo, size_t hi,
			   struct sent_cursor *sc, const struct recon_bound *lower,
			   const struct recon_range *in)
{
	answer_reset(w);
	switch (in->mode) {
	case RECON_SKIP:
		answer_skip(w, &in->upper);
		return 0;
	case RECON_FINGERPRINT:
		answer_fingerprint(w, set, lo, hi, in);
		return 0;
	case RECON_IDLIST:
		initiator_idlist(w, set, lo, hi, in);
		return 0;
	case RECON_IDLIST_REPLY:
		return initiator_reply(w, sc, lower, in);
	}
	return -1;
}

/* Keep the finished syncreq in out as the one awaiting an answer. 0 or -1. */
static int session_sent(struct recon_session *sess, const struct bytebuf *out, size_t nranges)
{
	uint8_t *copy = malloc(out->len);
	if (!copy)
		return -1;
	memcpy(copy, out->data, out->len);
	free(sess->sent);
	sess->sent = copy;
	sess->sent_len = out->len;
	sess->stats.bytes_sent += out->len;
	sess->stats.ranges_sent += nranges;
	return 0;
}

static void session_forget_sent(struct recon_session *sess)
{
	free(sess->sent);
	sess->sent = NULL;
	sess->sent_len = 0;
}

struct recon_session *recon_initiate(struct reconset *set, int64_t since, int64_t until,
				     struct bytebuf *out)
{
	struct recon_session *sess;
	struct recon_bound lo_b, hi_b, end;

	bytebuf_reset(out);
	if (since < 0 || until <= since)
		return NULL;
	sess = calloc(1, sizeof(*sess));
	if (!sess)
		return NULL;
	sess->since = since;
	sess->until = until;
	sess->w = work_new();
	if (!sess->w) {
		recon_session_free(sess);
		return NULL;
	}
	struct work *w = sess->w;
	recon_bound_time(&lo_b, since);
	recon_bound_time(&hi_b, until);
	recon_bound_end(&end);
	size_t lo = reconset_position(set, &lo_b), hi = reconset_position(set, &hi_b);
	builder_init(&w->b, since);
	answer_reset(w);
	if (hi - lo <= RECON_IDLIST_THRESHOLD) {
		answer_idlist(w, set, lo, hi, &end);
	} else {
		struct recon_range *r = answer_range(w, &end, RECON_FINGERPRINT);
		reconset_fingerprint(set, r->fp, lo, hi);
	}
	builder_add(&w->b, w->ranges, w->nranges);
	if (builder_finish(&w->b, out, true, since, until) != 0 ||
	    session_sent(sess, out, 1) != 0) {
		recon_session_free(sess);
		bytebuf_reset(out);
		return NULL;
	}
	return sess;
}

/* Walk the syncresp's ranges, answering each into the next syncreq (w->b) and have / need.
 * Returns 0 or RECON_ERR_PROTOCOL / RECON_ERR_NOMEM. */
static enum recon_status initiator_walk(struct recon_session *sess, struct reconset *set,
					const struct recon_msg *resp, const struct recon_msg *sent,
					struct recon_ids *have, struct recon_ids *need)
{
	struct work *w = sess->w;
	struct recon_bound lower, until_b;
	struct sent_cursor sc = {.msg = sent};

	recon_bound_time(&lower, sess->since);
	recon_bound_time(&until_b, sess->until);
	sc.lower = lower;
	size_t lo = reconset_position(set, &lower), end = reconset_position(set, &until_b);
	builder_init(&w->b, sess->since);
	for (size_t i = 0; i < resp->nranges; i++) {
		const struct recon_range *in = &resp->ranges[i];
		size_t hi = upper_position(set, &in->upper, end);
		if (initiator_range(w, set, lo, hi, &sc, &lower, in) != 0)
			return RECON_ERR_PROTOCOL;
		if (!builder_fits(&w->b, w->ranges, w->nranges) ||
		    have->n + w->nhave > RECON_MAX_STEP_IDS ||
		    need->n + w->nneed > RECON_MAX_STEP_IDS) {
			add_rest(w, set, lo, end);
			break;
		}
		builder_add(&w->b, w->ranges, w->nranges);
		if (ids_append(have, w->have, w->nhave) != 0 ||
		    ids_append(need, w->need, w->nneed) != 0)
			return RECON_ERR_NOMEM;
		lo = hi;
		lower = in->upper;
	}
	return 0;
}

/* Decode the syncresp and our syncreq it answers, walk, and finish the next syncreq. */
static enum recon_status initiator_process(struct recon_session *sess, struct reconset *set,
					   const uint8_t *payload, size_t len, struct bytebuf *out,
					   struct recon_ids *have, struct recon_ids *need)
{
	struct recon_msg resp, sent;
	enum recon_status st;
	int rc = recon_decode(&resp, false, payload, len);

	if (rc != 0)
		return rc == -2 ? RECON_ERR_NOMEM : RECON_ERR_MALFORMED;
	if (recon_check_bounds(resp.ranges, resp.nranges, sess->since, sess->until) != 0) {
		recon_msg_clear(&resp);
		return RECON_ERR_MALFORMED;
	}
	sess->stats.ranges_recv += resp.nranges;
	rc = recon_decode(&sent, true, sess->sent, sess->sent_len);
	if (rc != 0) {
		recon_msg_clear(&resp);
		return RECON_ERR_NOMEM; /* our own message always decodes */
	}
	st = initiator_walk(sess, set, &resp, &sent, have, need);
	recon_msg_clear(&sent);
	recon_msg_clear(&resp);
	if (st != 0)
		return st;
	if (sess->w->b.nonskip == 0)
		return RECON_DONE;
	if (sess->stats.rounds >= RECON_MAX_ROUNDS)
		return RECON_ERR_ROUNDS;
	if (builder_finish(&sess->w->b, out, true, sess->since, sess->until) != 0)
		return RECON_ERR_NOMEM;
	return RECON_CONTINUE;
}

enum recon_status recon_initiator_step(struct recon_session *sess, struct reconset *set,
				       const uint8_t *payload, size_t len, struct bytebuf *out,
				       struct recon_ids *have, struct recon_ids *need)
{
	enum recon_status st;

	bytebuf_reset(out);
	have->n = 0;
	need->n = 0;
	if (!sess->sent)
		return RECON_ERR_PROTOCOL;
	sess->stats.rounds++;
	sess->stats.bytes_recv += len;
	st = initiator_process(sess, set, payload, len, out, have, need);
	if (st == RECON_CONTINUE && session_sent(sess, out, sess->w->b.count) != 0)
		st = RECON_ERR_NOMEM;
	if (st != RECON_CONTINUE)
		session_forget_sent(sess);
	if (st < 0)
		bytebuf_reset(out);
	/* The last round of a session that reached RECON_MAX_ROUNDS found its ids like any
	 * other: they are returned and counted. Other errors leave nothing. */
	if (st < 0 && st != RECON_ERR_ROUNDS) {
		have->n = 0;
		need->n = 0;
		return st;
	}
	sess->stats.have += have->n;
	sess->stats.need += need->n;
	return st;
}

const struct recon_stats *recon_session_stats(const struct recon_session *sess)
{
	return &sess->stats;
}

void recon_session_free(struct recon_session *sess)
{
	if (!sess)
		return;
	work_free(sess->w);
	free(sess->sent);
	free(sess);
}
