/* p2p-cli's option table and its resolution into a struct cli_options.
 *
 * Order of resolution, as p2pd does it: the command line first (it names the data directory
 * and the config file), then the config file, then the network (-chain / -testnet / -regtest,
 * from the command line or the top of the file), whose [section] then applies to everything
 * read afterwards. */
#include "cli/cli_options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util/args.h"
#include "util/version.h"

#define CAT_OPTIONS NULL /* general options: listed first, without a heading */
#define CAT_CHAIN   "Chain selection options"

static const struct arg_def cli_defs[] = {
	{"conf", ARG_STRING, ARG_CMDLINE_ONLY, 0, 0, "<file>",
	 "Specify the configuration file, relative to the data directory unless absolute "
	 "(default: p2pd.conf).",
	 CAT_OPTIONS},
	{"datadir", ARG_STRING, ARG_CMDLINE_ONLY, 0, 0, "<dir>",
	 "Specify the data directory (default: ~/.p2pd).", CAT_OPTIONS},
	{"getinfo", ARG_BOOL, 0, 0, 0, NULL,
	 "Get general information from the remote server: version, network, node public key, "
	 "connections and uptime.",
	 CAT_OPTIONS},
	{"help", ARG_BOOL, ARG_CMDLINE_ONLY, 0, 0, NULL, "Print this help message and exit.",
	 CAT_OPTIONS},
	{"h", ARG_BOOL, ARG_CMDLINE_ONLY | ARG_HIDDEN, 0, 0, NULL, "Same as -help.", CAT_OPTIONS},
	{"?", ARG_BOOL, ARG_CMDLINE_ONLY | ARG_HIDDEN, 0, 0, NULL, "Same as -help.", CAT_OPTIONS},
	{"netinfo", ARG_BOOL, 0, 0, 0, NULL,
	 "Get a table of the node's peers: direction (<-> in/out), connection type, ping (ms), "
	 "seconds since the last send and the last receive, age (minutes), peer id, address and "
	 "version (user agent); then the peer counts and the listening addresses. A \".\" "
	 "stands for a value not known yet.",
	 CAT_OPTIONS},
	{"named", ARG_BOOL, 0, 0, 0, NULL,
	 "Pass named instead of positional arguments: each parameter is name=value.", CAT_OPTIONS},
	{"rpcclienttimeout", ARG_INT, 0, 0, INT32_MAX, "<n>",
	 "Timeout in seconds during HTTP requests, or 0 for no timeout (default: 900).",
	 CAT_OPTIONS},
	{"rpcconnect", ARG_STRING, 0, 0, 0, "<ip>",
	 "Send commands to the node running on <ip>, optionally with :port (default: "
	 "127.0.0.1).",
	 CAT_OPTIONS},
	{"rpccookiefile", ARG_STRING, 0, 0, 0, "<loc>",
	 "Location of the authentication cookie, relative to the network directory unless "
	 "absolute (default: .cookie in the network directory).",
	 CAT_OPTIONS},
	{"rpcpassword", ARG_STRING, 0, 0, 0, "<pw>", "Password for JSON-RPC connections.",
	 CAT_OPTIONS},
	{"rpcport", ARG_INT, 0, 1, 65535, "<port>",
	 "Connect to JSON-RPC on <port> (default: 9732, testnet: 19732, regtest: 29732).",
	 CAT_OPTIONS},
	{"rpcuser", ARG_STRING, 0, 0, 0, "<user>", "Username for JSON-RPC connections.",
	 CAT_OPTIONS},
	{"rpcwait", ARG_BOOL, 0, 0, 0, NULL,
	 "Wait for the RPC server to start, retrying every 250 ms.", CAT_OPTIONS},
	{"rpcwaittimeout", ARG_INT, 0, 0, INT32_MAX, "<n>",
	 "Timeout in seconds to wait for the RPC server to start, or 0 for no timeout "
	 "(default: 0).",
	 CAT_OPTIONS},
	{"stdin", ARG_BOOL, 0, 0, 0, NULL,
	 "Read extra arguments from standard input, one per line until EOF.", CAT_OPTIONS},
	{"version", ARG_BOOL, ARG_CMDLINE_ONLY, 0, 0, NULL, "Print the version and exit.",
	 CAT_OPTIONS},
	{"chain", ARG_STRING, 0, 0, 0, "<chain>",
	 "Use the network <chain>: main, testnet or regtest (default: main).", CAT_CHAIN},
	{"regtest", ARG_BOOL, 0, 0, 0, NULL, "Use the regtest network. Same as -chain=regtest.",
	 CAT_CHAIN},
	{"testnet", ARG_BOOL, 0, 0, 0, NULL, "Use the testnet network. Same as -chain=testnet.",
	 CAT_CHAIN},
};

#define CLI_NDEFS (sizeof(cli_defs) / sizeof(cli_defs[0]))

const struct arg_def *cli_arg_defs(size_t *n)
{
	*n = CLI_NDEFS;
	return cli_defs;
}

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

/* Copy s into out, or fail when it does not fit. */
static int copy_str(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= outlen)
		return -1;
	memcpy(out, s, n + 1);
	return 0;
}

/* path relative to dir unless absolute, into out. */
static int resolve_path(char *out, size_t outlen, const char *dir, const char *path)
{
	if (path[0] == '/')
		return copy_str(out, outlen, path);
	return fs_join(out, outlen, dir, path);
}

int cli_parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port, bool *has_port)
{
	const char *h = s, *colon;
	size_t hl;

	*has_port = false;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close == s + 1)
			return -1;
		h = s + 1;
		hl = (size_t)(close - h);
		if (close[1] == '\0')
			colon = NULL;
		else if (close[1] == ':')
			colon = close + 1;
		else
			return -1;
	} else {
		colon = strrchr(s, ':');
		/* More than one colon without brackets: a bare IPv6 address, no port. */
		if (colon && strchr(s, ':') != colon)
			colon = NULL;
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	if (colon) {
		int64_t p;
		if (parse_int64(colon + 1, &p) != 0 || p < 1 || p > 65535)
			return -1;
		*port = (uint16_t)p;
		*has_port = true;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

/* The network named by -chain / -testnet / -regtest (at most one of them). */
static const struct netparams *choose_network(const struct args *a, char *err, size_t errlen)
{
	const char *chain = args_get_str(a, "chain", NULL);
	bool testnet = args_get_bool(a, "testnet", false);
	bool regtest = args_get_bool(a, "regtest", false);
	const struct netparams *net;

	if ((chain != NULL) + testnet + regtest > 1) {
		set_err(err, errlen, "-chain, -testnet and -regtest cannot be combined");
		return NULL;
	}
	if (testnet)
		chain = "testnet";
	else if (regtest)
		chain = "regtest";
	else if (!chain)
		chain = "main";
	net = netparams_by_name(chain);
	if (!net)
		set_err(err, errlen, "unknown chain '%s' (main, testnet or regtest)", chain);
	return net;
}

/* Data directory and config file: fills o->datadir and reads the config into a. */
static int load_config(struct cli_options *o, struct args *a, char *err, size_t errlen)
{
	char conf[FS_MAX_PATH];
	const char *dd = args_get_str(a, "datadir", NULL);

	if (dd) {
		if (dd[0] == '\0' || !fs_is_dir(dd)) {
			set_err(err, errlen, "data directory \"%s\" does not exist", dd);
			return -1;
		}
		if (copy_str(o->datadir, sizeof(o->datadir), dd) != 0) {
			set_err(err, errlen, "-datadir is too long");
			return -1;
		}
	} else if (fs_default_datadir(o->datadir, sizeof(o->datadir)) != 0) {
		set_err(err, errlen, "the default data directory path is too long");
		return -1;
	}
	const char *cf = args_get_str(a, "conf", "p2pd.conf");
	if (cf[0] == '\0' || resolve_path(conf, sizeof(conf), o->datadir, cf) != 0) {
		set_err(err, errlen, "invalid -conf path \"%s\"", cf);
		return -1;
	}
	return args_read_config_file(a, conf, args_is_set(a, "conf"), err, errlen);
}

/* Everything that depends on the selected network. */
static int load_connection(struct cli_options *o, const struct args *a, char *err, size_t errlen)
{
	const char *connect = args_get_str(a, "rpcconnect", "127.0.0.1");
	const char *cookie = args_get_str(a, "rpccookiefile", ".cookie");
	uint16_t port = o->net->rpc_port;
	bool has_port;

	int len_err = o->net->subdir[0] == '\0'
			      ? copy_str(o->netdir, sizeof(o->netdir), o->datadir)
			      : fs_join(o->netdir, sizeof(o->netdir), o->datadir, o->net->subdir);
	if (len_err != 0) {
		set_err(err, errlen, "the data directory path is too long");
		return -1;
	}
	if (cli_parse_hostport(connect, o->host, sizeof(o->host), &port, &has_port) != 0) {
		set_err(err, errlen, "invalid -rpcconnect \"%s\"", connect);
		return -1;
	}
	if (args_is_set(a, "rpcport"))
		port = (uint16_t)args_get_int(a, "rpcport", port);
	o->port = port;
	if (cookie[0] == '\0' ||
	    resolve_path(o->cookie_path, sizeof(o->cookie_path), o->netdir, cookie) != 0) {
		set_err(err, errlen, "invalid -rpccookiefile \"%s\"", cookie);
		return -1;
	}
	const char *user = args_get_str(a, "rpcuser", NULL);
	const char *pass = args_get_str(a, "rpcpassword", NULL);
	set_err(err, errlen, "out of memory");
	if (user && !(o->rpcuser = strdup(user)))
		return -1;
	/* An empty password means "not given": the cookie is used, as bitcoin-cli does. */
	if (pass && pass[0] != '\0' && !(o->rpcpassword = strdup(pass)))
		return -1;
	return 0;
}

int cli_options_load(struct cli_options *o, int argc, char *argv[], int *first, char *err,
		     size_t errlen)
{
	struct args *a = args_new(cli_defs, CLI_NDEFS);
	int rc = -1;

	memset(o, 0, sizeof(*o));
	*first = argc;
	set_err(err, errlen, "out of memory");
	if (!a)
		return -1;
	args_set_ignore_unknown_config(a, true);
	if (args_parse_cmdline(a, argc, argv, first, err, errlen) != 0)
		goto out;
	o->help = args_get_bool(a, "help", false) || args_get_bool(a, "h", false) ||
		  args_get_bool(a, "?", false);
	o->version = args_get_bool(a, "version", false);
	if (o->help || o->version) {
		rc = 0;
		goto out;
	}
	if (load_config(o, a, err, errlen) != 0)
		goto out;
	o->net = choose_network(a, err, errlen);
	if (!o->net)
		goto out;
	args_select_network(a, o->net->name);
	if (load_connection(o, a, err, errlen) != 0)
		goto out;
	o->getinfo = args_get_bool(a, "getinfo", false);
	o->netinfo = args_get_bool(a, "netinfo", false);
	if (o->getinfo && o->netinfo) {
		set_err(err, errlen, "-getinfo and -netinfo cannot be combined");
		goto out;
	}
	o->named = args_get_bool(a, "named", false);
	o->stdin_params = args_get_bool(a, "stdin", false);
	o->wait = args_get_bool(a, "rpcwait", false);
	o->wait_timeout = args_get_int(a, "rpcwaittimeout", 0);
	o->client_timeout = args_get_int(a, "rpcclienttimeout", CLI_DEFAULT_CLIENT_TIMEOUT);
	rc = 0;
out:
	args_free(a);
	return rc;
}

void cli_options_clear(struct cli_options *o)
{
	if (o->rpcpassword) {
		sodium_memzero(o->rpcpassword, strlen(o->rpcpassword));
		free(o->rpcpassword);
	}
	free(o->rpcuser);
	memset(o, 0, sizeof(*o));
}

/* "a:b" into a new string. */
static char *join_userpass(const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass);
	char *s = malloc(ul + pl + 2);

	if (!s)
		return NULL;
	memcpy(s, user, ul); /* NOLINT(bugprone-not-null-terminated-result): ':' follows */
	s[ul] = ':';
	memcpy(s + ul + 1, pass, pl + 1);
	return s;
}

char *cli_credentials(const struct cli_options *o, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;

	if (o->rpcpassword) {
		char *s = join_userpass(o->rpcuser ? o->rpcuser : "", o->rpcpassword);
		if (!s)
			set_err(err, errlen, "out of memory");
		return s;
	}
	if (fs_read_file(o->cookie_path, CLI_MAX_COOKIE, &buf, &len) != 0) {
		if (errno == ENOENT)
			set_err(err, errlen, "no cookie file at %s, and no -rpcpassword given",
				o->cookie_path);
		else
			set_err(err, errlen, "cannot read the cookie file %s: %s", o->cookie_path,
				strerror(errno));
		return NULL;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!strchr(buf, ':')) {
		set_err(err, errlen, "the cookie file %s is not \"user:password\"", o->cookie_path);
		sodium_memzero(buf, len);
		free(buf);
		return NULL;
	}
	return buf;
}

char *cli_help_text(void)
{
	static const char head[] =
		"p2p-cli version " CLIENT_VERSION_STRING "\n"
		"\n"
		"The command-line JSON-RPC client for p2pd.\n"
		"\n"
		"Usage: p2p-cli [options] <command> [params]\n"
		"       p2p-cli [options] -named <command> [name=value]...\n"
		"       p2p-cli [options] help               List the commands\n"
		"       p2p-cli [options] help <command>     Get help for a command\n"
		"       p2p-cli [options] -getinfo           Summary of the node's state\n"
		"       p2p-cli [options] -netinfo           Table of the node's peers\n"
		"\n"
		"Exit status: 0 success, 1 the node returned an error, 2 bad usage or "
		"configuration,\n"
		"3 could not connect to the node, 4 authentication failed.\n"
		"\n";
	char *opts = args_help_text(cli_defs, CLI_NDEFS);
	size_t hl = sizeof(head) - 1, ol;
	char *s;

	if (!opts)
		return NULL;
	ol = strlen(opts);
	s = malloc(hl + ol + 1);
	if (s) {
		memcpy(s, head, hl);
		memcpy(s + hl, opts, ol + 1);
	}
	free(opts);
	return s;
}
