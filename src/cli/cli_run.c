/* Gathering p2p-cli's words and making its call (see include/cli/cli_run.h). */
#include "cli/cli_run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli/cli_netinfo.h"
#include "cli/rpc_client.h"
#include "util/clock.h"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int words_push(struct cli_words *w, const char *s, char *err, size_t errlen)
{
	if (w->n >= CLI_MAX_PARAMS) {
		set_err(err, errlen, "too many parameters (at most %d)", CLI_MAX_PARAMS);
		return -1;
	}
	w->v[w->n++] = s;
	return 0;
}

static int read_stdin_lines(struct cli_words *w, FILE *in, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, in)) >= 0) {
		total += (size_t)n;
		if (total > CLI_MAX_STDIN) {
			set_err(err, errlen, "more than %u bytes on standard input", CLI_MAX_STDIN);
			free(line);
			return -1;
		}
		line[strcspn(line, "\r\n")] = '\0';
		if (words_push(w, line, err, errlen) != 0) {
			free(line);
			return -1;
		}
		w->nowned++;
		line = NULL;
		cap = 0;
	}
	free(line);
	if (ferror(in)) {
		set_err(err, errlen, "cannot read standard input: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int cli_words_collect(struct cli_words *w, int argc, char *const argv[], int first, bool from_stdin,
		      FILE *in, char *err, size_t errlen)
{
	memset(w, 0, sizeof(*w));
	w->v = calloc(CLI_MAX_PARAMS, sizeof(*w->v));
	if (!w->v) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	for (int i = first; i < argc; i++) {
		if (words_push(w, argv[i], err, errlen) != 0)
			return -1;
	}
	return from_stdin ? read_stdin_lines(w, in, err, errlen) : 0;
}

void cli_words_free(struct cli_words *w)
{
	if (w->v) {
		for (size_t i = w->n - w->nowned; i < w->n; i++)
			free((char *)w->v[i]);
	}
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/* One attempt. *transient says whether -rpcwait may retry it. */
/* Render a reply as mode says. */
static enum cli_exit interpret(enum cli_mode mode, const struct rpc_client_reply *reply,
			       struct cli_output *res)
{
	switch (mode) {
	case CLI_MODE_CALL:
		return cli_interpret_reply(reply->status, reply->body, reply->len, res);
	case CLI_MODE_GETINFO:
		return cli_interpret_getinfo(reply->status, reply->body, reply->len, res);
	case CLI_MODE_NETINFO:
		return cli_interpret_netinfo(reply->status, reply->body, reply->len,
					     clock_real_us() / 1000000, res);
	}
	return CLI_EXIT_RPC_ERROR;
}

static enum cli_exit attempt(const struct cli_options *o, const char *body, enum cli_mode mode,
			     struct cli_output *res, bool *transient)
{
	char why[FS_MAX_PATH + 128];
	struct rpc_client_reply reply;
	enum rpc_client_result r;
	enum cli_exit rc = CLI_EXIT_RPC_ERROR;
	char *creds = cli_credentials(o, why, sizeof(why));

	memset(res, 0, sizeof(*res));
	*transient = true;
	if (!creds) {
		res->err = cli_connect_error_text(o->host, o->port, why);
		return CLI_EXIT_CONNECT;
	}
	r = rpc_client_post(o->host, o->port, creds, body, o->client_timeout, &reply);
	sodium_memzero(creds, strlen(creds));
	free(creds);
	switch (r) {
	case RPC_CLIENT_NO_CONNECT:
		res->err = cli_connect_error_text(o->host, o->port,
						  reply.detail[0] ? reply.detail : NULL);
		rc = CLI_EXIT_CONNECT;
		break;
	case RPC_CLIENT_FAILED:
		*transient = false;
		res->err = malloc(sizeof(reply.detail) + 16);
		if (res->err)
			snprintf(res->err, sizeof(reply.detail) + 16, "error: %s\n", reply.detail);
		rc = CLI_EXIT_RPC_ERROR;
		break;
	case RPC_CLIENT_OK:
		rc = interpret(mode, &reply, res);
		*transient = res->warmup;
		break;
	}
	rpc_client_reply_clear(&reply);
	return rc;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

enum cli_exit cli_run_call(const struct cli_options *o, const char *body, enum cli_mode mode,
			   FILE *out, FILE *err)
{
	const int64_t start = clock_mono_us();
	const int64_t limit_us = o->wait_timeout * 1000000;

	for (;;) {
		struct cli_output res;
		bool transient;
		enum cli_exit rc = attempt(o, body, mode, &res, &transient);
		int64_t left_ms = o->wait_timeout > 0
					  ? (limit_us - (clock_mono_us() - start)) / 1000
					  : CLI_WAIT_RETRY_MS;

		if (o->wait && transient && left_ms > 0) {
			cli_output_clear(&res);
			sleep_ms(left_ms < CLI_WAIT_RETRY_MS ? left_ms : CLI_WAIT_RETRY_MS);
			continue;
		}
		/* -rpcwait gave up: whatever the last answer, the node never became ready. */
		if (o->wait && transient)
			rc = CLI_EXIT_CONNECT;
		if (res.out)
			fputs(res.out, out);
		if (res.err)
			fputs(res.err, err);
		cli_output_clear(&res);
		if (fflush(out) != 0 && rc == CLI_EXIT_OK)
			rc = CLI_EXIT_RPC_ERROR;
		return rc;
	}
}
