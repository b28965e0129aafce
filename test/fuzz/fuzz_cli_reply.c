/* Fuzz p2p-cli's reading of the server's replies (src/cli/cli_format.c, cli_netinfo.c): the
 * HTTP status and body p2p-cli got, interpreted as the reply to a single call
 * (cli_interpret_reply), to -getinfo (cli_interpret_getinfo), to -netinfo
 * (cli_interpret_netinfo) or to a batch of 1-4 calls (cli_batch_results). The first input byte
 * chooses which (mod 4) and the batch size, the second the HTTP status (from a list), the rest
 * is the body. Properties:
 *   - the exit code is one of enum cli_exit; 401 is CLI_EXIT_AUTH whatever the body;
 *   - success prints nothing on stderr; a failure prints a message there and nothing on stdout
 *     (-getinfo and -netinfo print their text only on success); stdout and stderr texts are
 *     NUL-terminated strings; the warm-up flag is only set on an RPC error;
 *   - a batch returns its parsed reply exactly when it succeeds. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_format.h"
#include "cli/cli_netinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The node-clock time -netinfo computes ages against. */
#define FUZZ_NOW 1700000000

static const int statuses[] = {200, 401, 403, 404, 500, 503, 0, 204};

static void check_output(enum cli_exit rc, const struct cli_output *o)
{
	assert(rc == CLI_EXIT_OK || rc == CLI_EXIT_RPC_ERROR || rc == CLI_EXIT_USAGE ||
	       rc == CLI_EXIT_CONNECT || rc == CLI_EXIT_AUTH);
	if (o->out != NULL)
		(void)strlen(o->out);
	if (o->err != NULL)
		(void)strlen(o->err);
	if (rc == CLI_EXIT_OK) {
		assert(o->err == NULL && !o->warmup);
	} else {
		assert(o->err != NULL && o->out == NULL);
		assert(!o->warmup || rc == CLI_EXIT_RPC_ERROR);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned what = data[0] % 4, n = 1 + data[0] / 4 % CLI_MAX_BATCH;
	int status = statuses[data[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	size_t len = size - 2;
	/* An exact copy, so that ASan sees a read past the body's end. */
	char *body = malloc(len ? len : 1);
	assert(body != NULL);
	memcpy(body, data + 2, len);

	struct cli_output o;
	enum cli_exit rc;
	if (what == 3) {
		const json_t *results[CLI_MAX_BATCH] = {NULL};
		json_t *j = cli_batch_results(status, body, len, n, results, &o, &rc);
		if (j != NULL) {
			assert(rc == CLI_EXIT_OK);
			json_decref(j);
		} else {
			assert(rc != CLI_EXIT_OK);
			check_output(rc, &o);
			cli_output_clear(&o);
		}
	} else {
		if (what == 0)
			rc = cli_interpret_reply(status, body, len, &o);
		else if (what == 1)
			rc = cli_interpret_getinfo(status, body, len, &o);
		else
			rc = cli_interpret_netinfo(status, body, len, FUZZ_NOW, &o);
		check_output(rc, &o);
		if (what != 0 && rc == CLI_EXIT_OK)
			assert(o.out != NULL);
		cli_output_clear(&o);
	}
	if (status == 401)
		assert(rc == CLI_EXIT_AUTH);
	free(body);
	return 0;
}
