/* Time: wall-clock time that tests can mock, and a monotonic clock that they cannot.
 *
 * Every module that needs "now" for protocol or policy decisions (timestamps, expiry, bans)
 * reads it through a struct clock owned by the node context, so regtest's setmocktime moves all
 * of them at once. Timeouts and measurements of elapsed time use clock_mono_us(). */
#ifndef P2PD_UTIL_CLOCK_H
#define P2PD_UTIL_CLOCK_H

#include <stdint.h>

struct clock {
	int64_t mock_time; /* unix seconds; 0 means "use the real clock" */
};

/* Unix time in seconds: the mock time when set, else the system clock. */
int64_t clock_now(const struct clock *c);
/* Set (t > 0) or clear (t == 0) the mock time. */
void clock_set_mock(struct clock *c, int64_t t);
/* Real system time in microseconds since the epoch (never mocked; logs, uptime). */
int64_t clock_real_us(void);
/* Monotonic microseconds since an arbitrary origin (never mocked). */
int64_t clock_mono_us(void);

#endif
