/* Signed messages: the format, the id, proof-of-work, signing (doc/protocol.md, "Signed
 * messages").
 *
 * A message is: format version, topic, creation time, author (x-only public key), up to
 * SIGMSG_MAX_REFS references to earlier message ids, body, proof-of-work nonce, BIP340
 * signature. Its id is tagged_hash(SIGMSG_TAG, serialization without the signature); the
 * signature signs the id; proof-of-work is the number of leading zero bits of the id.
 *
 * The decoder enforces the format (sizes within the protocol maxima, topic charset, reference
 * count, canonical encodings): a message that fails it is malformed, the sender's fault. Node
 * policy (time window, -maxmsgsize, -minpow) and the signature are checked by the msg layer. */
#ifndef P2PD_WIRE_SIGMSG_H
#define P2PD_WIRE_SIGMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define SIGMSG_FORMAT_VERSION 1
#define SIGMSG_TAG            "p2pd/msg"
#define SIGMSG_TOPIC_MAX      64
/* References per message: enough for a reply that quotes a few messages, small enough that an
 * index entry per reference stays cheap. */
#define SIGMSG_MAX_REFS 8
/* Protocol maximum body size (nodes may accept less: -maxmsgsize). */
#define SIGMSG_MAX_BODY (256u * 1024)
/* Largest serialized message: every field at its maximum. */
#define SIGMSG_MAX_SIZE                                                                           \
	(1 + 1 + SIGMSG_TOPIC_MAX + 8 + 32 + 1 + SIGMSG_MAX_REFS * 32 + 5 + SIGMSG_MAX_BODY + 8 + \
	 64)

struct sigmsg {
	uint8_t version;
	char topic[SIGMSG_TOPIC_MAX + 1]; /* NUL-terminated; 1-64 bytes of [a-z0-9._/-] */
	int64_t created_at;               /* unix seconds, >= 0 */
	uint8_t author[32];               /* x-only public key */
	uint8_t nrefs;
	uint8_t refs[SIGMSG_MAX_REFS][32];
	uint8_t *body; /* malloc'd, owned by the struct (NULL when body_len is 0) */
	uint32_t body_len;
	uint64_t nonce; /* proof-of-work nonce */
	uint8_t sig[64];
};

/* Whether topic (len bytes) is 1-64 bytes of [a-z0-9._/-]. */
bool sigmsg_topic_valid(const char *topic, size_t len);

/* Decode a serialized message. Returns 0, or -1 if malformed (out is then cleared). On
 * success out->body is allocated: release it with sigmsg_clear. */
int sigmsg_decode(struct sigmsg *out, const uint8_t *data, size_t len);
/* sigmsg_decode, and on success the id as well, hashed straight from data: a message that
 * decodes has exactly one encoding, so its unsigned serialization is data without the
 * trailing 64-byte signature (no re-encoding). Returns 0, or -1 if malformed. */
int sigmsg_decode_id(struct sigmsg *out, uint8_t id[32], const uint8_t *data, size_t len);
/* Free the body and zero the struct. */
void sigmsg_clear(struct sigmsg *m);

/* Append the full serialization (with signature). */
void sigmsg_encode(struct bytebuf *b, const struct sigmsg *m);
/* Append the serialization without the signature (what the id commits to). */
void sigmsg_encode_unsigned(struct bytebuf *b, const struct sigmsg *m);

/* The id: tagged_hash(SIGMSG_TAG, unsigned serialization). Returns 0, or -1 on OOM. */
int sigmsg_id(uint8_t id[32], const struct sigmsg *m);
/* Leading zero bits of an id (0-256), reading its bytes in order, most significant bit first. */
int sigmsg_pow(const uint8_t id[32]);

/* Set m->author from seckey, mine m->nonce (counting up from 0) until the id has at least
 * pow_bits leading zero bits (trying at most max_tries nonces, 0 = no limit), then sign the id
 * with fresh auxiliary randomness. Returns 0 with id filled, -1 if seckey is invalid or a field
 * is outside the format (it would not decode), -2 if max_tries ran out (at once when pow_bits is
 * above 256). */
int sigmsg_sign(struct sigmsg *m, uint8_t id[32], const uint8_t seckey[32], int pow_bits,
		uint64_t max_tries);
/* Check the signature against the id and author. Returns 1 valid, 0 invalid. */
int sigmsg_verify_sig(const struct sigmsg *m, const uint8_t id[32]);

#endif
