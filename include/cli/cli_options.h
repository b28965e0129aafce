/* p2p-cli's options: the option table, and the resolution of the command line plus p2pd.conf
 * into where to connect and how to authenticate.
 *
 * The cli reads the same p2pd.conf as the node, with the same [section]s; keys it does not know
 * (p2pd-only settings) are skipped there, while an unknown command-line option is an error. */
#ifndef P2PD_CLI_CLI_OPTIONS_H
#define P2PD_CLI_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/fs.h"
#include "util/netparams.h"

/* Longest host name or address in -rpcconnect (a DNS name is at most 253 characters). */
#define CLI_MAX_HOST 256
/* Largest cookie file read: "__cookie__:" and 64 hex characters fit many times over; a bigger
 * file is not a cookie. */
#define CLI_MAX_COOKIE 1024
/* Default -rpcclienttimeout, in seconds (bitcoin-cli's: long RPCs may take minutes). */
#define CLI_DEFAULT_CLIENT_TIMEOUT 900

struct arg_def;

struct cli_options {
	bool help, version; /* -help / -h / -?, -version: print and exit */
	bool getinfo, netinfo, named, stdin_params, wait;
	int64_t wait_timeout;        /* -rpcwaittimeout in seconds; 0 waits forever */
	int64_t client_timeout;      /* -rpcclienttimeout in seconds; 0: no timeout */
	const struct netparams *net; /* the selected network */
	char datadir[FS_MAX_PATH];
	char netdir[FS_MAX_PATH]; /* datadir, or datadir/<subdir> */
	char host[CLI_MAX_HOST];
	uint16_t port;
	char *rpcuser;     /* malloc'd; NULL when not given */
	char *rpcpassword; /* malloc'd; NULL when not given; wiped on clear */
	char cookie_path[FS_MAX_PATH];
};

/* The option table (for -help and tests). Sets *n to its length. */
const struct arg_def *cli_arg_defs(size_t *n);

/* Parse argv and, unless -help or -version was given, the config file; fill o. *first
 * receives the index of the first positional word (the command). Returns 0, or -1 with a
 * message in err for a usage error: unknown option, bad value, bad config file, conflicting
 * network options, -getinfo with -netinfo, missing data directory. Call cli_options_clear
 * afterwards in both cases. */
int cli_options_load(struct cli_options *o, int argc, char *argv[], int *first, char *err,
		     size_t errlen);
/* Free and wipe what o owns; o may then be loaded again. */
void cli_options_clear(struct cli_options *o);

/* Split "host", "host:port", "[v6]" or "[v6]:port". host receives the host (without
 * brackets); *port is set only when a port is present (1..65535). Returns 0, or -1 when s is
 * malformed or the host does not fit. */
int cli_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port, bool *has_port);

/* The "user:password" to send: -rpcuser/-rpcpassword when a password was given, else the
 * cookie file's first line. Returns a malloc'd string (the caller wipes and frees it), or NULL
 * with a message in err when neither is available. */
char *cli_credentials(const struct cli_options *o, char *err, size_t errlen);

/* The -help text (malloc'd). */
char *cli_help_text(void);

#endif
