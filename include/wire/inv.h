/* Inventory messages: inv, getdata and notfound share one payload format (Bitcoin's): a
 * compactsize count, then count entries of (uint32 type, 32-byte hash). */
#ifndef P2PD_WIRE_INV_H
#define P2PD_WIRE_INV_H

#include <stddef.h>
#include <stdint.h>

#include "util/bytes.h"

#define CMD_INV      "inv"
#define CMD_GETDATA  "getdata"
#define CMD_NOTFOUND "notfound"
#define CMD_MSG      "msg"

/* Our inventory type for signed messages. Bitcoin's types are 1-5 (with a 0x40000000 witness
 * flag); ours stays clear of them so a Bitcoin parser shows it as unknown, not as a tx. */
#define INV_SIGNED_MSG 0x20u

/* Most entries in one inv/getdata/notfound (Bitcoin's MAX_INV_SZ). More is malformed. */
#define WIRE_MAX_INV 50000

struct inv_entry {
	uint32_t type;
	uint8_t hash[32];
};

/* Decode a payload into a malloc'd array (*out, caller frees; NULL when count is 0). Returns 0,
 * or -1 if malformed (truncated, count above WIRE_MAX_INV, trailing bytes). */
int wire_decode_inv(struct inv_entry **out, size_t *count, const uint8_t *payload, size_t len);
void wire_encode_inv(struct bytebuf *b, const struct inv_entry *e, size_t count);

#endif
