/* syncreq / syncresp payloads (doc/protocol.md, "Catch-up sync (syncreq / syncresp)"): bounds,
 * their order and minimal encoding, and the codec. The byte layout is in include/wire/recon.h.
 *
 * The decoder reads with a sticky-failure cursor and checks the semantic rules as it goes; it
 * allocates the range array only after checking that the payload can hold the announced
 * count (every range takes at least 2 bytes), and lists are borrowed from the payload, never
 * copied. */
#include "wire/recon.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Fewest bytes a range takes on the wire: a one-byte time and the mode byte (SKIP). */
#define RANGE_MIN_SIZE 2

void recon_bound_end(struct recon_bound *out)
{
	memset(out, 0, sizeof(*out));
	out->created_at = INT64_MAX;
}

bool recon_bound_is_end(const struct recon_bound *b)
{
	return b->created_at == INT64_MAX && b->prefix_len == 0;
}

void recon_bound_time(struct recon_bound *out, int64_t created_at)
{
	memset(out, 0, sizeof(*out));
	out->created_at = created_at;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

int recon_bound_cmp(const struct recon_bound *a, const struct recon_bound *b)
{
	int c = cmp_i64(a->created_at, b->created_at);
	if (c)
		return c;
	for (size_t i = 0; i < RECON_ID_LEN; i++) {
		uint8_t x = i < a->prefix_len ? a->prefix[i] : 0;
		uint8_t y = i < b->prefix_len ? b->prefix[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

int recon_item_cmp_bound(const struct recon_item *it, const struct recon_bound *b)
{
	int c = cmp_i64(it->created_at, b->created_at);
	if (c)
		return c;
	c = memcmp(it->id, b->prefix, b->prefix_len);
	if (c)
		return c < 0 ? -1 : 1;
	for (size_t i = b->prefix_len; i < RECON_ID_LEN; i++) {
		if (it->id[i])
			return 1;
	}
	return 0;
}

int recon_item_cmp(const struct recon_item *a, const struct recon_item *b)
{
	int c = cmp_i64(a->created_at, b->created_at);
	if (c)
		return c;
	c = memcmp(a->id, b->id, RECON_ID_LEN);
	return c < 0 ? -1 : c > 0;
}

void recon_bound_between(struct recon_bound *out, const struct recon_item *prev,
			 const struct recon_item *next)
{
	size_t k = 0;

	recon_bound_time(out, next->created_at);
	if (prev->created_at != next->created_at)
		return;
	/* prev < next with equal times: the ids differ, first at byte k, where next's is larger. */
	while (k < RECON_ID_LEN - 1 && prev->id[k] == next->id[k])
		k++;
	out->prefix_len = (uint8_t)(k + 1);
	memcpy(out->prefix, next->id, k + 1);
}

/* ---- encoding ---- */

/* The compactsize t of a bound after one at prev_ts: 0 for END, else 1 + the time delta. */
static uint64_t bound_delta(const struct recon_bound *b, int64_t prev_ts)
{
	if (recon_bound_is_end(b))
		return 0;
	assert(b->created_at >= prev_ts);
	return (uint64_t)(b->created_at - prev_ts) + 1;
}

size_t recon_range_size(const struct recon_range *r, int64_t prev_ts)
{
	size_t size = compactsize_len(bound_delta(&r->upper, prev_ts)) + 1 + r->upper.prefix_len;

	switch (r->mode) {
	case RECON_SKIP:
		break;
	case RECON_FINGERPRINT:
		size += RECON_FP_LEN;
		break;
	case RECON_IDLIST:
		size += compactsize_len(r->nids) + r->nids * RECON_ID_LEN;
		break;
	case RECON_IDLIST_REPLY:
		size += compactsize_len(r->nids) + r->nids * RECON_ID_LEN + compactsize_len(r->n) +
			(r->n + 7) / 8;
		break;
	}
	return size;
}

void recon_encode_range(struct bytebuf *b, const struct recon_range *r, int64_t *prev_ts)
{
	bytebuf_compactsize(b, bound_delta(&r->upper, *prev_ts));
	bytebuf_u8(b, (uint8_t)(r->mode | r->upper.prefix_len << 2));
	if (!recon_bound_is_end(&r->upper)) {
		bytebuf_append(b, r->upper.prefix, r->upper.prefix_len);
		*prev_ts = r->upper.created_at;
	}
	switch (r->mode) {
	case RECON_SKIP:
		break;
	case RECON_FINGERPRINT:
		bytebuf_append(b, r->fp, RECON_FP_LEN);
		break;
	case RECON_IDLIST:
		bytebuf_compactsize(b, r->nids);
		bytebuf_append(b, r->ids, r->nids * RECON_ID_LEN);
		break;
	case RECON_IDLIST_REPLY:
		bytebuf_compactsize(b, r->nids);
		bytebuf_append(b, r->ids, r->nids * RECON_ID_LEN);
		bytebuf_compactsize(b, r->n);
		bytebuf_append(b, r->bitmap, (r->n + 7) / 8);
		break;
	}
}

void recon_encode_header(struct bytebuf *b, bool request, uint8_t flags, int64_t since,
			 int64_t until, size_t nranges)
{
	bytebuf_u8(b, RECON_VERSION);
	bytebuf_u8(b, flags);
	if (request) {
		bytebuf_i64le(b, since);
		bytebuf_i64le(b, until);
	}
	bytebuf_compactsize(b, nranges);
}

void recon_encode(struct bytebuf *b, const struct recon_msg *m)
{
	int64_t prev = m->request ? m->since : 0;

	recon_encode_header(b, m->request, m->flags, m->since, m->until, m->nranges);
	for (size_t i = 0; i < m->nranges; i++)
		recon_encode_range(b, &m->ranges[i], &prev);
}

/* ---- decoding ---- */

int recon_check_bounds(const struct recon_range *ranges, size_t n, int64_t since, int64_t until)
{
	struct recon_bound prev;

	recon_bound_time(&prev, since);
	for (size_t i = 0; i < n; i++) {
		const struct recon_bound *u = &ranges[i].upper;
		bool last = i + 1 == n;
		if (recon_bound_is_end(u) != last)
			return -1;
		if (last)
			break;
		if (recon_bound_cmp(u, &prev) <= 0 || u->created_at >= until)
			return -1;
		prev = *u;
	}
	return 0;
}

static void decode_bound(struct cursor *c, struct recon_bound *out, uint8_t prefix_len, uint64_t t,
			 int64_t *prev_ts)
{
	if (t == 0) {
		recon_bound_end(out);
		if (prefix_len != 0)
			cursor_fail(c);
		return;
	}
	/* A bound's time stays below INT64_MAX (END's place). prev_ts is 0 or a decoded time. */
	if (t - 1 > (uint64_t)(INT64_MAX - 1 - *prev_ts)) {
		cursor_fail(c);
		return;
	}
	out->created_at = *prev_ts + (int64_t)(t - 1);
	out->prefix_len = prefix_len;
	cursor_bytes(c, out->prefix, prefix_len);
	*prev_ts = out->created_at;
}

static void decode_reply(struct cursor *c, struct recon_range *r)
{
	r->nids = (size_t)cursor_compactsize(c, RECON_MAX_IDS);
	r->ids = cursor_borrow(c, r->nids * RECON_ID_LEN);
	r->n = (size_t)cursor_compactsize(c, RECON_MAX_IDS);
	r->bitmap = cursor_borrow(c, (r->n + 7) / 8);
	/* Bits at and after n in the last byte must be clear. */
	if (cursor_ok(c) && r->n % 8 && r->bitmap[r->n / 8] >> (r->n % 8))
		cursor_fail(c);
}

static void decode_range(struct cursor *c, struct recon_range *r, bool request, int64_t *prev_ts)
{
	uint64_t t = cursor_compactsize(c, UINT64_MAX);
	uint8_t h = cursor_u8(c);
	uint8_t prefix_len = h >> 2;

	if (prefix_len > RECON_ID_LEN) {
		cursor_fail(c);
		return;
	}
	decode_bound(c, &r->upper, prefix_len, t, prev_ts);
	r->mode = (enum recon_mode)(h & 3);
	switch (r->mode) {
	case RECON_SKIP:
		break;
	case RECON_FINGERPRINT:
		cursor_bytes(c, r->fp, RECON_FP_LEN);
		break;
	case RECON_IDLIST:
		r->nids = (size_t)cursor_compactsize(c, RECON_MAX_IDS);
		r->ids = cursor_borrow(c, r->nids * RECON_ID_LEN);
		break;
	case RECON_IDLIST_REPLY:
		if (request)
			cursor_fail(c);
		else
			decode_reply(c, r);
		break;
	}
}

/* Version, flags, the window of a syncreq and the range count; 0 or -1. */
static int decode_header(struct cursor *c, struct recon_msg *out, size_t *count)
{
	uint8_t version = cursor_u8(c);

	out->flags = cursor_u8(c);
	if (out->request) {
		out->since = cursor_i64le(c);
		out->until = cursor_i64le(c);
	}
	*count = (size_t)cursor_compactsize(c, RECON_MAX_RANGES);
	if (!cursor_ok(c) || version != RECON_VERSION || *count == 0)
		return -1;
	if (out->request && (out->since < 0 || out->until <= out->since))
		return -1;
	/* Refuse a count the payload cannot hold before allocating for it. */
	return *count <= c->left / RANGE_MIN_SIZE ? 0 : -1;
}

int recon_decode(struct recon_msg *out, bool request, const uint8_t *payload, size_t len)
{
	struct cursor c;
	size_t count;
	int64_t prev;

	memset(out, 0, sizeof(*out));
	out->request = request;
	if (len > RECON_MAX_PAYLOAD)
		return -1;
	cursor_init(&c, payload, len);
	if (decode_header(&c, out, &count) != 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	out->ranges = calloc(count, sizeof(*out->ranges));
	if (!out->ranges) {
		memset(out, 0, sizeof(*out));
		return -2;
	}
	out->nranges = count;
	prev = request ? out->since : 0;
	for (size_t i = 0; i < count && cursor_ok(&c); i++)
		decode_range(&c, &out->ranges[i], request, &prev);
	if (!cursor_ok(&c) || c.left != 0 ||
	    recon_check_bounds(out->ranges, count, request ? out->since : 0,
			       request ? out->until : INT64_MAX) != 0) {
		recon_msg_clear(out);
		return -1;
	}
	return 0;
}

void recon_msg_clear(struct recon_msg *m)
{
	if (!m)
		return;
	free(m->ranges);
	memset(m, 0, sizeof(*m));
}
