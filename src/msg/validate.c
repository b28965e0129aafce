/* Message validation rules and verdicts (include/msg/validate.h, doc/protocol.md "Validation"). */
#include "msg/validate.h"

enum msg_verdict msg_check_policy(const struct sigmsg *m, const uint8_t id[32],
				  const struct msg_policy *p)
{
	if (m->created_at > p->now + MSG_MAX_FUTURE_SECS)
		return MSG_TOO_NEW;
	if (m->created_at < p->now - p->retention)
		return MSG_EXPIRED;
	if (m->body_len > p->max_body)
		return MSG_TOO_LARGE;
	if (sigmsg_pow(id) < p->min_pow)
		return MSG_LOW_POW;
	return MSG_VALID;
}

enum msg_verdict msg_validate(const struct sigmsg *m, const uint8_t id[32],
			      const struct msg_policy *p)
{
	enum msg_verdict v = msg_check_policy(m, id, p);
	if (v != MSG_VALID)
		return v;
	return sigmsg_verify_sig(m, id) ? MSG_VALID : MSG_BAD_SIG;
}

bool msg_verdict_is_offence(enum msg_verdict v)
{
	switch (v) {
	case MSG_MALFORMED:
	case MSG_BAD_SIG:
		return true;
	case MSG_VALID:
	case MSG_TOO_NEW:
	case MSG_EXPIRED:
	case MSG_LOW_POW:
	case MSG_TOO_LARGE:
		return false;
	}
	return false;
}

const char *msg_verdict_name(enum msg_verdict v)
{
	switch (v) {
	case MSG_VALID:
		return "valid";
	case MSG_MALFORMED:
		return "malformed";
	case MSG_BAD_SIG:
		return "bad-signature";
	case MSG_TOO_NEW:
		return "too-new";
	case MSG_EXPIRED:
		return "expired";
	case MSG_LOW_POW:
		return "low-pow";
	case MSG_TOO_LARGE:
		return "too-large";
	}
	return "?";
}
