/* p2p-cli's pure logic: command-line words to a JSON-RPC request, and an HTTP reply to the text
 * the user sees and the exit code. No I/O here, so all of it is unit-tested. */
#ifndef P2PD_CLI_CLI_FORMAT_H
#define P2PD_CLI_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* p2p-cli's exit codes (documented in -help and src/cli/README.md). */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_RPC_ERROR = 1, /* the node returned an error, or an unusable reply */
	CLI_EXIT_USAGE = 2,     /* bad options, arguments or configuration */
	CLI_EXIT_CONNECT = 3,   /* could not connect (or no credentials to connect with) */
	CLI_EXIT_AUTH = 4,      /* HTTP 401 */
};

/* Most parameters one command line may pass (argv plus -stdin lines). */
#define CLI_MAX_PARAMS 1024

/* Build the params of method from words: positional words become a JSON array, converted by
 * the RPC spec table (strings stay strings, other types are parsed as JSON); with named, each
 * word is name=value and they become a JSON object. Returns a new reference, or NULL with a
 * message in err (a word that is not valid JSON for its type, a named word without '=' or with
 * an empty or repeated name, more than CLI_MAX_PARAMS words). */
json_t *cli_build_params(const char *method, const char *const *words, size_t nwords, bool named,
			 char *err, size_t errlen);

/* JSON text of a 1.0-style request {"method", "params", "id"}. params is borrowed. Returns a
 * malloc'd string or NULL on OOM. */
char *cli_request_body(const char *method, json_t *params);
/* JSON text of the -getinfo batch: getnetworkinfo (id 0) and uptime (id 1). */
char *cli_getinfo_body(void);

/* What to print once a reply has been interpreted. */
struct cli_output {
	char *out;   /* for stdout, malloc'd, or NULL for nothing */
	char *err;   /* for stderr, malloc'd, or NULL for nothing */
	bool warmup; /* the node answered RPC_IN_WARMUP (-28): -rpcwait retries */
};

/* Interpret the reply to a single request. status is the HTTP status, body/len the body (need
 * not be NUL-terminated). A string result is printed raw with a newline, null prints nothing,
 * anything else is indented JSON. A JSON-RPC error prints "error code: <c>\nerror message:\n<m>"
 * to stderr. 401 is an authentication failure whatever the body. Fills *o (clear it with
 * cli_output_clear) and returns the exit code. */
enum cli_exit cli_interpret_reply(int status, const char *body, size_t len, struct cli_output *o);
/* The same for the -getinfo batch: prints the human-readable summary. */
enum cli_exit cli_interpret_getinfo(int status, const char *body, size_t len, struct cli_output *o);

/* Most calls in one of p2p-cli's own batches (-getinfo, -netinfo). */
#define CLI_MAX_BATCH 4
/* Interpret the reply to a batch of n <= CLI_MAX_BATCH calls with ids 0..n-1, in any order.
 * On success returns the parsed reply (new reference; the caller frees it) with results[i]
 * borrowed from it, and sets *rc to CLI_EXIT_OK. Otherwise returns NULL with *o filled (clear it
 * with cli_output_clear) and *rc set: authentication failure, a body that is not JSON, a server
 * error for the whole batch, a missing member, or the first call (by id) that failed. */
json_t *cli_batch_results(int status, const char *body, size_t len, size_t n,
			  const json_t **results, struct cli_output *o, enum cli_exit *rc);
void cli_output_clear(struct cli_output *o);

/* Messages for the failures that happen before any reply. host/port name the server; detail
 * (may be NULL) is added in parentheses after the address. malloc'd. */
char *cli_connect_error_text(const char *host, unsigned port, const char *detail);

#endif
