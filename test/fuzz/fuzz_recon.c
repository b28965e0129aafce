/* Fuzz the catch-up sync decoders and both roles. The first input byte chooses what the rest
 * feeds (its value mod 4):
 *   0: recon_decode as a syncreq; 1: as a syncresp. A payload that decodes re-encodes to
 *      exactly its bytes; a failure leaves the output empty.
 *   2: recon_respond over a fixed set; a syncreq it accepts gets a syncresp that decodes,
 *      within RECON_MAX_PAYLOAD; anything else leaves the output empty.
 *   3: recon_initiator_step of a fresh session over that set, the rest as the syncresp; the
 *      next syncreq (RECON_CONTINUE) decodes; have and need stay within RECON_MAX_STEP_IDS,
 *      and are empty on an error.
 * The set (built once) has FUZZ_SET_ITEMS items in a short window, many sharing a time, so
 * fuzzed bounds land among them. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "msg/recon.h"
#include "msg/reconset.h"
#include "util/bytes.h"
#include "wire/recon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Items of the fixed set, and its window [FUZZ_SINCE, FUZZ_UNTIL). */
#define FUZZ_SET_ITEMS 600
#define FUZZ_SINCE     1000
#define FUZZ_UNTIL     1100

static struct reconset *fixed_set(void)
{
	static struct reconset *set;
	if (set)
		return set;
	set = reconset_new();
	assert(set);
	for (uint32_t i = 0; i < FUZZ_SET_ITEMS; i++) {
		struct recon_item it = {.created_at = FUZZ_SINCE + i % 97};
		/* Deterministic, spread ids (a multiplicative hash of i). */
		for (size_t k = 0; k < 32; k++)
			it.id[k] = (uint8_t)((i * 2654435761u) >> (k % 4 * 8)) ^ (uint8_t)(k * 31);
		reconset_insert(set, &it);
	}
	return set;
}

static void check_decode(bool request, const uint8_t *p, size_t len)
{
	struct recon_msg m;
	struct bytebuf b;

	if (recon_decode(&m, request, p, len) != 0) {
		assert(m.ranges == NULL && m.nranges == 0);
		return;
	}
	assert(m.nranges >= 1 && m.nranges <= RECON_MAX_RANGES);
	bytebuf_init(&b, RECON_MAX_PAYLOAD);
	recon_encode(&b, &m);
	assert(bytebuf_ok(&b) && b.len == len && memcmp(b.data, p, len) == 0);
	bytebuf_free(&b);
	recon_msg_clear(&m);
}

static void check_respond(const uint8_t *p, size_t len)
{
	struct bytebuf out;
	struct recon_msg m;

	bytebuf_init(&out, RECON_MAX_PAYLOAD);
	enum recon_status st = recon_respond(fixed_set(), p, len, &out);
	if (st == RECON_CONTINUE) {
		assert(out.len <= RECON_MAX_PAYLOAD);
		assert(recon_decode(&m, false, out.data, out.len) == 0);
		recon_msg_clear(&m);
	} else {
		assert(out.len == 0);
	}
	bytebuf_free(&out);
}

static void check_step(const uint8_t *p, size_t len)
{
	struct bytebuf out;
	struct recon_ids have = {0}, need = {0};
	struct recon_msg m;

	bytebuf_init(&out, RECON_MAX_PAYLOAD);
	struct recon_session *s = recon_initiate(fixed_set(), FUZZ_SINCE, FUZZ_UNTIL, &out);
	assert(s);
	enum recon_status st = recon_initiator_step(s, fixed_set(), p, len, &out, &have, &need);
	assert(have.n <= RECON_MAX_STEP_IDS && need.n <= RECON_MAX_STEP_IDS);
	if (st == RECON_CONTINUE) {
		assert(recon_decode(&m, true, out.data, out.len) == 0);
		recon_msg_clear(&m);
	} else {
		assert(out.len == 0);
	}
	if (st < 0)
		assert(have.n == 0 && need.n == 0);
	recon_session_free(s);
	recon_ids_free(&have);
	recon_ids_free(&need);
	bytebuf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
	case 1:
		check_decode(data[0] % 4 == 0, data + 1, size - 1);
		break;
	case 2:
		check_respond(data + 1, size - 1);
		break;
	case 3:
		check_step(data + 1, size - 1);
		break;
	}
	return 0;
}
