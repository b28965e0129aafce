/* Time: the mockable wall clock of a node context, the real wall clock and a monotonic clock.
 *
 * struct clock holds no pointer and no lock: it belongs to the node context and is read and set
 * on the event-loop thread only. The real and monotonic clocks are stateless. */
#include "util/clock.h"

#include <time.h>

int64_t clock_now(const struct clock *c)
{
	if (c && c->mock_time > 0)
		return c->mock_time;
	return (int64_t)time(NULL);
}

void clock_set_mock(struct clock *c, int64_t t)
{
	c->mock_time = t > 0 ? t : 0;
}

static int64_t timespec_us(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0; /* CLOCK_REALTIME and CLOCK_MONOTONIC always exist on Linux */
	return (int64_t)ts.tv_sec * 1000000 + (int64_t)(ts.tv_nsec / 1000);
}

int64_t clock_real_us(void)
{
	return timespec_us(CLOCK_REALTIME);
}

int64_t clock_mono_us(void)
{
	return timespec_us(CLOCK_MONOTONIC);
}
