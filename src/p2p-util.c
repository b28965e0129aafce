/* p2p-util: offline key tool. `genkey` prints a new secret key, `pubkey <secret>` its x-only
 * public key. No node, no network, no data directory.
 *
 * Exit codes: 0 done; 1 the input was understood but is not valid (a bad secret key) or
 * randomness failed; 2 bad usage (unknown command or option, missing or extra arguments). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "util/args.h"
#include "util/bytes.h"
#include "util/random.h"
#include "util/version.h"

enum util_exit {
	UTIL_EXIT_OK = 0,
	UTIL_EXIT_FAILED = 1,
	UTIL_EXIT_USAGE = 2,
};

static const struct arg_def util_options[] = {
	{"help", ARG_BOOL, 0, 0, 0, NULL, "Print this help message and exit.", NULL},
	{"h", ARG_BOOL, ARG_HIDDEN, 0, 0, NULL, "Same as -help.", NULL},
	{"version", ARG_BOOL, 0, 0, 0, NULL, "Print the version and exit.", NULL},
};

#define UTIL_NOPTIONS (sizeof(util_options) / sizeof(util_options[0]))

static const char usage_head[] =
	"p2p-util version " CLIENT_VERSION_STRING "\n"
	"\n"
	"Offline key tool for p2pd.\n"
	"\n"
	"Usage: p2p-util [options] <command> [arguments]\n"
	"\n"
	"Commands:\n"
	"  genkey            Print a new random secret key (64 hex characters).\n"
	"  pubkey <secret>   Print the x-only public key (64 hex) of a secret key.\n"
	"\n";

static void print_usage(FILE *f)
{
	char *opts = args_help_text(util_options, UTIL_NOPTIONS);

	fputs(usage_head, f);
	if (opts)
		fputs(opts, f);
	free(opts);
}

/* Print "error: <message>" and the usage on stderr; returns UTIL_EXIT_USAGE. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n\n", stderr);
	print_usage(stderr);
	return UTIL_EXIT_USAGE;
}

static int cmd_genkey(void)
{
	uint8_t sk[32];
	char hex[65];

	if (key_generate(sk) != 0) {
		fputs("error: could not generate a key (randomness failed)\n", stderr);
		return UTIL_EXIT_FAILED;
	}
	hex_encode(hex, sk, sizeof(sk));
	printf("%s\n", hex);
	secure_wipe(sk, sizeof(sk));
	secure_wipe(hex, sizeof(hex));
	return fflush(stdout) == 0 ? UTIL_EXIT_OK : UTIL_EXIT_FAILED;
}

static int cmd_pubkey(const char *secret)
{
	uint8_t sk[32], pub[32];
	char hex[65];
	int rc = UTIL_EXIT_OK;

	if (hex_decode(sk, sizeof(sk), secret) != 0) {
		fputs("error: the secret key must be 64 hexadecimal characters\n", stderr);
		rc = UTIL_EXIT_FAILED;
	} else if (key_xonly_pubkey(pub, sk) != 0) {
		fputs("error: invalid secret key (zero, or not below the curve order)\n", stderr);
		rc = UTIL_EXIT_FAILED;
	} else {
		hex_encode(hex, pub, sizeof(pub));
		printf("%s\n", hex);
		if (fflush(stdout) != 0)
			rc = UTIL_EXIT_FAILED;
	}
	secure_wipe(sk, sizeof(sk));
	return rc;
}

/* Run one command; words[0] is its name. */
static int run_command(int nwords, char *const words[])
{
	const char *cmd = words[0];

	if (strcmp(cmd, "genkey") == 0) {
		if (nwords != 1)
			return usage_error("%s takes no arguments", cmd);
		return cmd_genkey();
	}
	if (strcmp(cmd, "pubkey") == 0) {
		if (nwords != 2)
			return usage_error("%s takes exactly one argument: <secret>", cmd);
		return cmd_pubkey(words[1]);
	}
	return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char *argv[])
{
	char err[256];
	int first = argc;
	int rc;
	struct args *a = args_new(util_options, UTIL_NOPTIONS);

	if (!a) {
		fputs("error: out of memory\n", stderr);
		return UTIL_EXIT_FAILED;
	}
	if (args_parse_cmdline(a, argc, argv, &first, err, sizeof(err)) != 0) {
		fprintf(stderr, "error: %s\n", err);
		args_free(a);
		return UTIL_EXIT_USAGE;
	}
	if (args_get_bool(a, "help", false) || args_get_bool(a, "h", false)) {
		print_usage(stdout);
		args_free(a);
		return UTIL_EXIT_OK;
	}
	if (args_get_bool(a, "version", false)) {
		printf("p2p-util version %s\n", CLIENT_VERSION_STRING);
		args_free(a);
		return UTIL_EXIT_OK;
	}
	args_free(a);
	if (first >= argc)
		return usage_error("no command given");
	if (random_init() != 0 || keys_init() != 0) {
		fputs("error: could not initialise the crypto libraries\n", stderr);
		return UTIL_EXIT_FAILED;
	}
	rc = run_command(argc - first, argv + first);
	keys_shutdown();
	return rc;
}
