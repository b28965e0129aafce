/* Reconnection gate: how often one IP address may open an inbound connection while it is
 * discouraged (doc/scoring.md, "Misbehaviour").
 *
 * A discouraged address still gets spare inbound slots, but every connection it opens costs the
 * node a handshake, a database read of its reputation and whatever it sends before its first
 * offence ends it. An offender that reconnects at once, again and again, would make the node
 * pay that many times a second. The gate gives each address a token bucket of `burst`
 * connections refilled at `per_second`; a connection without a token is closed at accept,
 * before anything is read or allocated.
 *
 * The table is bounded: `slots` entries (a power of two), found by SipHash of the address under
 * a key chosen at creation, probed over RECONNECT_GATE_PROBE neighbours. When all of them are
 * taken the entry that was used longest ago is reused, so an attacker with many addresses can
 * at worst give some of them a fresh burst, never grow the table. Time is passed in
 * (microseconds, monotonic) so tests drive it. Not thread-safe: the event loop owns it. */
#ifndef P2PD_NET_RECONNECTGATE_H
#define P2PD_NET_RECONNECTGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The node's settings: three connections in a row, then one per 10 s. Three leaves an honest
 * peer behind a shared address (or one that tripped over a bug and was discouraged) a few
 * retries; one per 10 s bounds a reconnecting offender's cost to about nothing. */
#define RECONNECT_GATE_BURST      3.0
#define RECONNECT_GATE_PER_SECOND 0.1
/* 1,024 addresses (about 40 KiB): far more than the inbound slots, so an address only loses
 * its entry to a flood of other discouraged addresses. */
#define RECONNECT_GATE_SLOTS 1024
#define RECONNECT_GATE_PROBE 8

struct reconnect_gate;

/* NULL when out of memory or slots is not a power of two. */
struct reconnect_gate *reconnect_gate_new(size_t slots, double per_second, double burst);
void reconnect_gate_free(struct reconnect_gate *g);
/* Whether ip may connect now; if so its token is taken. */
bool reconnect_gate_admit(struct reconnect_gate *g, const uint8_t ip[16], int64_t now_us);
/* Addresses with an entry (for tests). */
size_t reconnect_gate_size(const struct reconnect_gate *g);

#endif
