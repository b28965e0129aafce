/* p2pd's option table: every command-line option and config-file key the daemon accepts. */
#ifndef P2PD_NODE_OPTIONS_H
#define P2PD_NODE_OPTIONS_H

#include <stddef.h>

#include "util/args.h"

extern const struct arg_def node_options[];
extern const size_t node_options_count;

/* Defaults shared by the option help texts and the code that applies them. */
#define DEFAULT_RPC_SERVER_TIMEOUT 30 /* seconds an idle RPC connection is kept */
#define DEFAULT_RPC_WORKQUEUE      16 /* RPC requests in flight before 503 */
#define DEFAULT_DB_CACHE_MB        16 /* LevelDB block cache */

#endif
