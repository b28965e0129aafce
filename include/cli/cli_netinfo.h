/* p2p-cli -netinfo: a readable table of the node's peers, in the manner of bitcoin-cli -netinfo
 * (simpler). Pure formatting: the batch to send and the text made from its reply; no I/O. */
#ifndef P2PD_CLI_CLI_NETINFO_H
#define P2PD_CLI_CLI_NETINFO_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli_format.h"

/* JSON text of the -netinfo batch: getpeerinfo (id 0) and getnetworkinfo (id 1). malloc'd, or
 * NULL on OOM. */
char *cli_netinfo_body(void);

/* Interpret the reply to the -netinfo batch (see cli_interpret_reply for status, body, len and
 * the errors). now is the current UNIX time in seconds, against which last send, last receive
 * and age are computed. The text is a header line, then one row per peer in getpeerinfo's order:
 *   <->   "in" or "out"
 *   type  the short connection type (in, full, manual, feeler, fetch)
 *   ping  pingtime in milliseconds, "." when none yet
 *   send  seconds since lastsend, recv: since lastrecv
 *   age   minutes since conntime
 *   id, address (addr), version (subver)
 * A missing value prints as "."; then "peers: in N, out M, total T" and "local addresses: ..."
 * (the listening addresses, or "none"). Fills *o and returns the exit code. */
enum cli_exit cli_interpret_netinfo(int status, const char *body, size_t len, int64_t now,
				    struct cli_output *o);

#endif
