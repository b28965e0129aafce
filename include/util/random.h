/* Randomness: every random byte the node uses comes through here.
 *
 * By default the bytes come from libsodium's system CSPRNG. Tests can switch the process to a
 * deterministic stream (random_seed_insecure) so that runs repeat; never used by the node
 * unless the hidden -testrandomseed option is given on regtest. */
#ifndef P2PD_UTIL_RANDOM_H
#define P2PD_UTIL_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* Initialise libsodium. Returns 0, or -1 if it cannot be initialised. Call once at start. */
int random_init(void);
/* Fill buf with len random bytes. */
void random_bytes(void *buf, size_t len);
uint64_t random_u64(void);
/* Uniform in [0, range); range must be > 0. */
uint64_t random_range(uint64_t range);
/* An exponentially distributed value with the given mean (Poisson process intervals: the
 * randomised relay and trickle timers). Returns 0 for mean <= 0. */
double random_exponential(double mean);
/* Make the stream deterministic from seed (tests only). */
void random_seed_insecure(uint64_t seed);

#endif
