/* p2p-util: offline key and message tool (doc/p2p-util.md). `genkey` prints a new secret key,
 * `pubkey <secret>` its x-only public key, `sign` builds, mines and signs a message, `verify`
 * checks one's format and signature, `decode` prints one as JSON. No node, no network, no data
 * directory.
 *
 * Exit codes: 0 done; 1 the input was understood but is not valid (a bad secret key, topic,
 * reference or body; a malformed or badly signed message) or randomness failed; 2 bad usage
 * (unknown command or option, missing or extra arguments). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "util/args.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/random.h"
#include "util/version.h"
#include "msg/msgjson.h"
#include "wire/sigmsg.h"

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

/* Options of `sign`, given after the command word. -pow stops at 256: an id has 256 bits. */
/* Most messages one sign -count=<n> makes: a test data set of a million fits. */
#define SIGN_MAX_COUNT 1000000

static const struct arg_def sign_options[] = {
	{"pow", ARG_INT, 0, 0, 256, "<n>", "Mine the nonce until the id has n leading zero bits.",
	 NULL},
	{"time", ARG_INT, 0, 0, INT64_MAX, "<t>", "Creation time, unix seconds (default: now).",
	 NULL},
	{"ref", ARG_LIST, 0, 0, 0, "<id>", "Reference an earlier message id (repeatable).", NULL},
	{"count", ARG_INT, 0, 1, SIGN_MAX_COUNT, "<n>",
	 "Sign n messages, the body of the i-th followed by \" i\" (i from 0), one per line.",
	 NULL},
};

#define SIGN_NOPTIONS (sizeof(sign_options) / sizeof(sign_options[0]))

static const char usage_head[] =
	"p2p-util version " CLIENT_VERSION_STRING "\n"
	"\n"
	"Offline key and message tool for p2pd.\n"
	"\n"
	"Usage: p2p-util [options] <command> [arguments]\n"
	"\n"
	"Commands:\n"
	"  genkey            Print a new random secret key (64 hex characters).\n"
	"  pubkey <secret>   Print the x-only public key (64 hex) of a secret key.\n"
	"  sign [-pow=<n>] [-time=<t>] [-ref=<id>]... <secret> <topic> <body>\n"
	"                    Build and sign a message; print it as hex. <body> is the text,\n"
	"                    - to read standard input, or @path to read a file. -pow=<n>\n"
	"                    mines until the id has n leading zero bits (default 0);\n"
	"                    -time=<t> sets the creation time (default now); -ref=<id> adds\n"
	"                    a reference to an earlier message id (up to 8); -count=<n>\n"
	"                    signs n messages whose bodies end in \" 0\", \" 1\", ... (test "
	"data).\n"
	"  verify <hex>      Check a message's format and signature; print\n"
	"                    \"valid <id> pow=<bits>\".\n"
	"  decode <hex>      Print a message as JSON (the object getmessage returns).\n"
	"                    For verify and decode, <hex> - reads the hex from standard\n"
	"                    input (a message above about 64 KiB is too long for an\n"
	"                    argument).\n"
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

/* Print "invalid: <reason>" on stderr; returns UTIL_EXIT_FAILED. */
static int invalid(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int invalid(const char *fmt, ...)
{
	va_list ap;

	fputs("invalid: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return UTIL_EXIT_FAILED;
}

/* Read standard input to its end, at most SIGMSG_MAX_BODY bytes. Returns 0 with *out (malloc'd,
 * NULL when empty) and *len, or -1 after printing why. */
static int read_stdin_body(uint8_t **out, size_t *len)
{
	/* One byte more than allowed, to tell "exactly the maximum" from "too much". */
	uint8_t *buf = malloc(SIGMSG_MAX_BODY + 1);
	size_t n = 0, got;

	if (!buf) {
		fputs("error: out of memory\n", stderr);
		return -1;
	}
	while (n <= SIGMSG_MAX_BODY &&
	       (got = fread(buf + n, 1, SIGMSG_MAX_BODY + 1 - n, stdin)) > 0)
		n += got;
	if (ferror(stdin)) {
		fputs("error: cannot read standard input\n", stderr);
		free(buf);
		return -1;
	}
	if (n > SIGMSG_MAX_BODY) {
		fprintf(stderr, "error: the body is larger than %u bytes\n", SIGMSG_MAX_BODY);
		free(buf);
		return -1;
	}
	if (n == 0) {
		free(buf);
		buf = NULL;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* The body argument of sign: the text itself, "-" for standard input or "@path" for a file, at
 * most SIGMSG_MAX_BODY bytes. Returns 0 with *out (malloc'd, NULL when empty) and *len, or -1
 * after printing why. */
static int read_body_arg(const char *arg, uint8_t **out, size_t *len)
{
	char *data = NULL;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (strcmp(arg, "-") == 0)
		return read_stdin_body(out, len);
	if (arg[0] == '@') {
		if (fs_read_file(arg + 1, SIGMSG_MAX_BODY, &data, &n) != 0) {
			if (errno == EFBIG)
				fprintf(stderr, "error: %s is larger than %u bytes\n", arg + 1,
					SIGMSG_MAX_BODY);
			else
				fprintf(stderr, "error: cannot read %s: %s\n", arg + 1,
					strerror(errno));
			return -1;
		}
	} else {
		n = strlen(arg);
		if (n > SIGMSG_MAX_BODY) {
			fprintf(stderr, "error: the body is larger than %u bytes\n",
				SIGMSG_MAX_BODY);
			return -1;
		}
		data = malloc(n + 1);
		if (!data) {
			fputs("error: out of memory\n", stderr);
			return -1;
		}
		memcpy(data, arg, n + 1);
	}
	if (n == 0) {
		free(data);
		return 0;
	}
	*out = (uint8_t *)data;
	*len = n;
	return 0;
}

/* Fill m's topic, time and references from the command line. Returns 0, or -1 after printing
 * why. */
static int sign_fields(struct sigmsg *m, const struct args *a, const char *topic)
{
	const char *const *refs;
	size_t nrefs = args_get_list(a, "ref", &refs);
	size_t topic_len = strlen(topic);

	if (!sigmsg_topic_valid(topic, topic_len)) {
		fprintf(stderr,
			"error: invalid topic '%s' (1 to %d characters of a-z, 0-9, '.', '_', '/', "
			"'-')\n",
			topic, SIGMSG_TOPIC_MAX);
		return -1;
	}
	memcpy(m->topic, topic, topic_len + 1);
	m->version = SIGMSG_FORMAT_VERSION;
	m->created_at = args_get_int(a, "time", (int64_t)time(NULL));
	if (nrefs > SIGMSG_MAX_REFS) {
		fprintf(stderr, "error: at most %d references (-ref) per message\n",
			SIGMSG_MAX_REFS);
		return -1;
	}
	for (size_t i = 0; i < nrefs; i++) {
		if (hex_decode(m->refs[i], 32, refs[i]) != 0) {
			fprintf(stderr, "error: -ref=%s is not a message id (64 hex characters)\n",
				refs[i]);
			return -1;
		}
	}
	m->nrefs = (uint8_t)nrefs;
	return 0;
}

/* Make m's body base (len bytes) followed by " <i>" (a new allocation; the previous one is
 * freed unless it is base). Returns 0, or -1 after printing why. */
static int suffix_body(struct sigmsg *m, const uint8_t *base, size_t len, int64_t i)
{
	char tail[32];
	int n = snprintf(tail, sizeof(tail), " %" PRId64, i);
	if (len + (size_t)n > SIGMSG_MAX_BODY) {
		fputs("error: body too large\n", stderr);
		return -1;
	}
	uint8_t *body = malloc(len + (size_t)n);
	if (!body) {
		fputs("error: out of memory\n", stderr);
		return -1;
	}
	if (len)
		memcpy(body, base, len);
	memcpy(body + len, tail, (size_t)n);
	if (m->body != base)
		free(m->body);
	m->body = body;
	m->body_len = (uint32_t)(len + (size_t)n);
	return 0;
}

/* sign [options] <secret> <topic> <body>; words[0] is "sign". */
static int cmd_sign(int nwords, char *const words[])
{
	struct args *a = args_new(sign_options, SIGN_NOPTIONS);
	struct sigmsg m;
	struct bytebuf b;
	uint8_t sk[32], id[32];
	size_t body_len = 0;
	char err[256];
	int first = nwords, rc = UTIL_EXIT_FAILED;

	memset(&m, 0, sizeof(m));
	bytebuf_init(&b, SIGMSG_MAX_SIZE);
	if (!a) {
		fputs("error: out of memory\n", stderr);
		return UTIL_EXIT_FAILED;
	}
	if (args_parse_cmdline(a, nwords, words, &first, err, sizeof(err)) != 0) {
		args_free(a);
		return usage_error("%s", err);
	}
	if (nwords - first != 3) {
		args_free(a);
		return usage_error("sign takes exactly three arguments: <secret> <topic> <body>");
	}
	if (hex_decode(sk, sizeof(sk), words[first]) != 0) {
		fputs("error: the secret key must be 64 hexadecimal characters\n", stderr);
		goto out;
	}
	if (!key_seckey_valid(sk)) {
		fputs("error: invalid secret key (zero, or not below the curve order)\n", stderr);
		goto out;
	}
	if (sign_fields(&m, a, words[first + 1]) != 0 ||
	    read_body_arg(words[first + 2], &m.body, &body_len) != 0)
		goto out;
	m.body_len = (uint32_t)body_len;
	int64_t count = args_get_int(a, "count", 0);
	uint8_t *base = m.body;
	for (int64_t i = 0; i < (count ? count : 1); i++) {
		if (count && suffix_body(&m, base, body_len, i) != 0)
			goto out_base;
		bytebuf_reset(&b);
		if (sigmsg_sign(&m, id, sk, (int)args_get_int(a, "pow", 0), 0) != 0) {
			fputs("error: signing failed (a body too large?)\n", stderr);
			goto out_base;
		}
		sigmsg_encode(&b, &m);
		char *hex = bytebuf_ok(&b) ? malloc(2 * b.len + 1) : NULL;
		if (!hex) {
			fputs("error: out of memory\n", stderr);
			goto out_base;
		}
		hex_encode(hex, b.data, b.len);
		printf("%s\n", hex);
		free(hex);
	}
	rc = fflush(stdout) == 0 ? UTIL_EXIT_OK : UTIL_EXIT_FAILED;
out_base:
	if (m.body != base) {
		free(m.body);
		m.body = base;
		m.body_len = (uint32_t)body_len;
	}
out:
	secure_wipe(sk, sizeof(sk));
	sigmsg_clear(&m);
	bytebuf_free(&b);
	args_free(a);
	return rc;
}

/* Decode a message from hex text; see load_message. */
static int load_message_hex(struct sigmsg *m, uint8_t id[32], size_t *size, const char *hex)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	int rc;

	if (strlen(hex) > 2 * (size_t)SIGMSG_MAX_SIZE) {
		invalid("longer than the largest message (%zu bytes)", (size_t)SIGMSG_MAX_SIZE);
		return -1;
	}
	if (hex_decode_alloc(hex, SIGMSG_MAX_SIZE, &raw, &len) != 0) {
		invalid("not hexadecimal (an even number of 0-9, a-f)");
		return -1;
	}
	rc = sigmsg_decode(m, raw, len);
	free(raw);
	if (rc != 0) {
		invalid("malformed: does not decode as a signed message (doc/protocol.md)");
		return -1;
	}
	if (sigmsg_id(id, m) != 0) {
		sigmsg_clear(m);
		invalid("out of memory");
		return -1;
	}
	*size = len;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Longest hex text read from standard input: the largest message, plus room for line breaks
 * and spaces around it. */
#define HEX_STDIN_MAX (2 * (size_t)SIGMSG_MAX_SIZE + 4096)

/* Read hex text from standard input into a malloc'd NUL-terminated string with the white space
 * around it removed. Returns NULL after printing why. A message of more than about 64 KiB does
 * not fit in one command-line argument (Linux allows 128 KiB per argument), hence this. */
static char *read_stdin_hex(void)
{
	char *buf = malloc(HEX_STDIN_MAX + 1);
	size_t n = 0, got, start = 0;

	if (!buf) {
		fputs("error: out of memory\n", stderr);
		return NULL;
	}
	while (n < HEX_STDIN_MAX && (got = fread(buf + n, 1, HEX_STDIN_MAX - n, stdin)) > 0)
		n += got;
	if (ferror(stdin) || (n == HEX_STDIN_MAX && fgetc(stdin) != EOF)) {
		fputs(ferror(stdin) ? "error: cannot read standard input\n"
				    : "invalid: longer than the largest message\n",
		      stderr);
		free(buf);
		return NULL;
	}
	while (n > 0 && is_blank(buf[n - 1]))
		n--;
	while (start < n && is_blank(buf[start]))
		start++;
	memmove(buf, buf + start, n - start);
	buf[n - start] = '\0';
	return buf;
}

/* Decode a message given in hex ("-": read the hex from standard input). Returns 0 with m
 * (release with sigmsg_clear), its id and its serialized size, or -1 after printing why. */
static int load_message(struct sigmsg *m, uint8_t id[32], size_t *size, const char *arg)
{
	char *from_stdin = NULL;
	const char *hex = arg;
	int rc;

	memset(m, 0, sizeof(*m));
	if (strcmp(arg, "-") == 0) {
		from_stdin = read_stdin_hex();
		if (!from_stdin)
			return -1;
		hex = from_stdin;
	}
	rc = load_message_hex(m, id, size, hex);
	free(from_stdin);
	return rc;
}

static int cmd_verify(const char *hex)
{
	struct sigmsg m;
	uint8_t id[32];
	char idhex[65];
	size_t size;
	int rc;

	if (load_message(&m, id, &size, hex) != 0)
		return UTIL_EXIT_FAILED;
	if (sigmsg_verify_sig(&m, id) != 1) {
		rc = invalid("bad signature");
	} else {
		hex_encode(idhex, id, sizeof(id));
		printf("valid %s pow=%d\n", idhex, sigmsg_pow(id));
		rc = fflush(stdout) == 0 ? UTIL_EXIT_OK : UTIL_EXIT_FAILED;
	}
	sigmsg_clear(&m);
	return rc;
}

static int cmd_decode(const char *hex)
{
	struct sigmsg m;
	uint8_t id[32];
	size_t size;
	json_t *o;
	char *text;
	int rc = UTIL_EXIT_FAILED;

	if (load_message(&m, id, &size, hex) != 0)
		return UTIL_EXIT_FAILED;
	o = sigmsg_json(&m, id, size, -1);
	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	if (!text) {
		fputs("error: out of memory\n", stderr);
	} else {
		printf("%s\n", text);
		rc = fflush(stdout) == 0 ? UTIL_EXIT_OK : UTIL_EXIT_FAILED;
	}
	free(text);
	json_decref(o);
	sigmsg_clear(&m);
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
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(nwords, words);
	if (strcmp(cmd, "verify") == 0 || strcmp(cmd, "decode") == 0) {
		if (nwords != 2)
			return usage_error("%s takes exactly one argument: <hex>", cmd);
		return cmd[0] == 'v' ? cmd_verify(words[1]) : cmd_decode(words[1]);
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
