/* Fuzz the signed-message decoder. Whatever the bytes, sigmsg_decode must not read out of
 * bounds or leak; a message that decodes obeys every format rule, re-encodes to exactly the
 * bytes it was read from (each field has one encoding and nothing may follow), decodes again to
 * the same fields, and has an id whose proof-of-work is in range, the same whether computed
 * from the fields or from the bytes (sigmsg_decode_id). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/bytes.h"
#include "wire/sigmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool sigmsg_equal(const struct sigmsg *a, const struct sigmsg *b)
{
	return a->version == b->version && strcmp(a->topic, b->topic) == 0 &&
	       a->created_at == b->created_at && memcmp(a->author, b->author, 32) == 0 &&
	       a->nrefs == b->nrefs && memcmp(a->refs, b->refs, (size_t)a->nrefs * 32) == 0 &&
	       a->body_len == b->body_len &&
	       (a->body_len == 0 || memcmp(a->body, b->body, a->body_len) == 0) &&
	       a->nonce == b->nonce && memcmp(a->sig, b->sig, 64) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigmsg m, again;
	struct bytebuf b;
	uint8_t id[32];
	int pow;

	if (sigmsg_decode(&m, data, size) != 0)
		return 0;
	assert(size <= SIGMSG_MAX_SIZE);
	assert(m.version == SIGMSG_FORMAT_VERSION);
	assert(sigmsg_topic_valid(m.topic, strlen(m.topic)));
	assert(m.created_at >= 0);
	assert(m.nrefs <= SIGMSG_MAX_REFS);
	assert(m.body_len <= SIGMSG_MAX_BODY);
	assert((m.body_len == 0) == (m.body == NULL));

	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	sigmsg_encode(&b, &m);
	assert(bytebuf_ok(&b) && b.len == size && memcmp(b.data, data, size) == 0);
	assert(sigmsg_decode(&again, b.data, b.len) == 0);
	assert(sigmsg_equal(&m, &again));

	assert(sigmsg_id(id, &m) == 0);
	{
		struct sigmsg third;
		uint8_t id2[32];
		assert(sigmsg_decode_id(&third, id2, data, size) == 0);
		assert(memcmp(id, id2, 32) == 0);
		sigmsg_clear(&third);
	}
	pow = sigmsg_pow(id);
	assert(pow >= 0 && pow <= 256);

	sigmsg_clear(&again);
	sigmsg_clear(&m);
	bytebuf_free(&b);
	return 0;
}
