/* Token bucket (include/util/tokenbucket.h). */
#include "util/tokenbucket.h"

static void refill(struct token_bucket *tb, int64_t now_us)
{
	if (now_us > tb->last_us) {
		double add = (double)(now_us - tb->last_us) / 1e6 * tb->rate;
		/* Refilling never lowers a credit above the burst. */
		if (tb->tokens < tb->burst) {
			tb->tokens += add;
			if (tb->tokens > tb->burst)
				tb->tokens = tb->burst;
		}
	}
	tb->last_us = now_us;
}

void tb_init(struct token_bucket *tb, double rate, double burst, int64_t now_us)
{
	tb->rate = rate;
	tb->burst = burst;
	tb->tokens = burst;
	tb->last_us = now_us;
}

bool tb_take(struct token_bucket *tb, double n, int64_t now_us)
{
	refill(tb, now_us);
	if (tb->tokens < n)
		return false;
	tb->tokens -= n;
	return true;
}

void tb_credit(struct token_bucket *tb, double n)
{
	tb->tokens += n;
}
