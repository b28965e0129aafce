/* p2p-cli's steps with side effects: gathering the command words (argv, then -stdin lines)
 * and making the call, with -rpcwait's retries. */
#ifndef P2PD_CLI_CLI_RUN_H
#define P2PD_CLI_CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/cli_format.h"
#include "cli/cli_options.h"

/* Total bytes read from stdin with -stdin: parameters are sent in one request, and the node
 * refuses large requests anyway; 32 MiB is far above its limit. */
#define CLI_MAX_STDIN (32u * 1024 * 1024)
/* Pause between -rpcwait attempts, in milliseconds. */
#define CLI_WAIT_RETRY_MS 250

/* The command words: the positional arguments, then (with -stdin) one word per input line. */
struct cli_words {
	const char **v; /* malloc'd array; argv strings are borrowed, stdin lines owned */
	size_t n;
	size_t nowned; /* the last nowned entries are malloc'd lines */
};

/* Collect argv[first..argc) and, when from_stdin, the lines of in (without "\n" or "\r\n").
 * Returns 0, or -1 with a message in err (read error, more than CLI_MAX_PARAMS words, more
 * than CLI_MAX_STDIN bytes). Free with cli_words_free in both cases. */
int cli_words_collect(struct cli_words *w, int argc, char *const argv[], int first, bool from_stdin,
		      FILE *in, char *err, size_t errlen);
void cli_words_free(struct cli_words *w);

/* What a request body is, so its reply is shown the right way. */
enum cli_mode {
	CLI_MODE_CALL,    /* one command: cli_interpret_reply */
	CLI_MODE_GETINFO, /* the -getinfo batch: cli_interpret_getinfo */
	CLI_MODE_NETINFO, /* the -netinfo batch: cli_interpret_netinfo, against the local clock */
};

/* Send body as o says, retrying every CLI_WAIT_RETRY_MS while the node is unreachable, has no
 * cookie yet or is warming up, when -rpcwait is on (until -rpcwaittimeout). Prints the result,
 * rendered as mode says, to out and errors to err and returns the exit code. */
enum cli_exit cli_run_call(const struct cli_options *o, const char *body, enum cli_mode mode,
			   FILE *out, FILE *err);

#endif
