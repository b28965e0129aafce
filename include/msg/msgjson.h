/* Signed messages as JSON: the verbose object getmessage, decodemessage, listmessages,
 * waitformessage and p2p-util decode all print (doc/messages.md), built in one place. */
#ifndef P2PD_MSG_MSGJSON_H
#define P2PD_MSG_MSGJSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "wire/sigmsg.h"

/* The verbose object: id, version, topic, created_at, author, refs, body (only when the body is
 * valid UTF-8 without a NUL byte), body_hex, size (serialized bytes), pow, nonce (a real above
 * 2^63-1), sig, and received_at when received_at >= 0. Returns a new reference, or NULL when
 * out of memory. */
json_t *sigmsg_json(const struct sigmsg *m, const uint8_t id[32], size_t size, int64_t received_at);
/* A JSON string of len bytes in lowercase hex; NULL when out of memory. */
json_t *json_hex(const uint8_t *data, size_t len);

#endif
