/* Message validation rules and their verdicts (doc/protocol.md, "Validation").
 *
 * A verdict says whether a message is accepted and, if not, whose fault it is: the sender's
 * (malformed, bad signature: the scoring issue penalises these) or an honest difference of
 * policy or clock (too old, too new, below our -minpow, above our -maxmsgsize: never
 * penalised). */
#ifndef P2PD_MSG_VALIDATE_H
#define P2PD_MSG_VALIDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "wire/sigmsg.h"

/* How far in the future a creation time may be (clocks differ). */
#define MSG_MAX_FUTURE_SECS 600
/* Defaults of the policy options. */
#define DEFAULT_MSG_RETENTION_SECS (14 * 24 * 3600) /* -msgretention */
#define DEFAULT_MAX_MSG_SIZE       (64u * 1024)     /* -maxmsgsize (body bytes) */

enum msg_verdict {
	MSG_VALID,
	/* the sender's fault */
	MSG_MALFORMED, /* does not decode (format rules) */
	MSG_BAD_SIG,   /* signature does not verify */
	/* honest differences */
	MSG_TOO_NEW,   /* created more than MSG_MAX_FUTURE_SECS ahead of our clock */
	MSG_EXPIRED,   /* older than our retention window */
	MSG_LOW_POW,   /* fewer leading zero bits than our -minpow */
	MSG_TOO_LARGE, /* body above our -maxmsgsize (within the protocol maximum) */
};

struct msg_policy {
	int64_t now;       /* node clock */
	int64_t retention; /* seconds */
	uint32_t max_body; /* bytes */
	int min_pow;       /* bits */
};

/* Every rule but the signature (cheap checks first, so invalid floods cost little). */
enum msg_verdict msg_check_policy(const struct sigmsg *m, const uint8_t id[32],
				  const struct msg_policy *p);
/* Policy and signature, synchronously (RPC submissions, tests). */
enum msg_verdict msg_validate(const struct sigmsg *m, const uint8_t id[32],
			      const struct msg_policy *p);
/* Whether the verdict is the sender's fault. */
bool msg_verdict_is_offence(enum msg_verdict v);
/* "valid", "malformed", "bad-signature", "too-new", "expired", "low-pow", "too-large". */
const char *msg_verdict_name(enum msg_verdict v);

#endif
