/* p2p-cli: command-line JSON-RPC client for p2pd, in bitcoin-cli's manner.
 *
 *   p2p-cli [options] <command> [params...]
 *
 * The work is in src/cli/: cli_options (options, config, credentials), cli_format (request and
 * reply text), rpc_client (HTTP), cli_run (words, the call and -rpcwait). Exit codes are
 * enum cli_exit. */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli/cli_format.h"
#include "cli/cli_netinfo.h"
#include "cli/cli_options.h"
#include "cli/cli_run.h"
#include "util/version.h"

/* Print "error: <msg>" and return CLI_EXIT_USAGE. */
static int usage_error(const char *msg)
{
	fprintf(stderr, "error: %s\n", msg);
	return CLI_EXIT_USAGE;
}

/* How the reply to the request is shown. */
static enum cli_mode mode_of(const struct cli_options *o)
{
	if (o->getinfo)
		return CLI_MODE_GETINFO;
	return o->netinfo ? CLI_MODE_NETINFO : CLI_MODE_CALL;
}

/* The request body for the words, or NULL after printing why. */
static char *make_body(const struct cli_options *o, const struct cli_words *w, int *rc)
{
	char err[512];
	json_t *params;
	char *body;

	*rc = CLI_EXIT_USAGE;
	if (o->getinfo || o->netinfo) {
		if (w->n > 0) {
			usage_error(o->getinfo ? "-getinfo takes no arguments"
					       : "-netinfo takes no arguments");
			return NULL;
		}
		body = o->getinfo ? cli_getinfo_body() : cli_netinfo_body();
	} else {
		if (w->n == 0) {
			usage_error("too few parameters (need at least a command; see -help)");
			return NULL;
		}
		params = cli_build_params(w->v[0], w->v + 1, w->n - 1, o->named, err, sizeof(err));
		if (!params) {
			usage_error(err);
			return NULL;
		}
		body = cli_request_body(w->v[0], params);
		json_decref(params);
	}
	if (!body) {
		*rc = CLI_EXIT_RPC_ERROR;
		fputs("error: out of memory\n", stderr);
	}
	return body;
}

int main(int argc, char *argv[])
{
	struct cli_options o;
	struct cli_words w = {0};
	char err[512];
	char *body = NULL;
	int first, rc;

	if (cli_options_load(&o, argc, argv, &first, err, sizeof(err)) != 0) {
		rc = usage_error(err);
	} else if (o.help) {
		char *help = cli_help_text();
		rc = help ? CLI_EXIT_OK : CLI_EXIT_RPC_ERROR;
		if (help)
			fputs(help, stdout);
		free(help);
	} else if (o.version) {
		printf("p2p-cli version %s\n", CLIENT_VERSION_STRING);
		rc = CLI_EXIT_OK;
	} else if (cli_words_collect(&w, argc, argv, first, o.stdin_params, stdin, err,
				     sizeof(err)) != 0) {
		rc = usage_error(err);
	} else if ((body = make_body(&o, &w, &rc)) != NULL) {
		rc = cli_run_call(&o, body, mode_of(&o), stdout, stderr);
	}
	free(body);
	cli_words_free(&w);
	cli_options_clear(&o);
	return rc;
}
