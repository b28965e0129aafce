/* Token bucket: at most `rate` units per second on average, with bursts up to `burst`.
 * Time is passed in (microseconds, monotonic) so tests drive it. */
#ifndef P2PD_UTIL_TOKENBUCKET_H
#define P2PD_UTIL_TOKENBUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct token_bucket {
	double tokens;
	double rate;  /* units per second */
	double burst; /* most tokens held */
	int64_t last_us;
};

/* Start full. */
void tb_init(struct token_bucket *tb, double rate, double burst, int64_t now_us);
/* Take n units if the bucket holds them: returns true and takes them; otherwise false and
 * takes nothing. */
bool tb_take(struct token_bucket *tb, double n, int64_t now_us);
/* Add n units beyond the burst (e.g. room for an answer we asked for). */
void tb_credit(struct token_bucket *tb, double n);

#endif
