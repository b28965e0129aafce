/* Start-up and shutdown of p2pd (include/node/init.h).
 *
 * The order matters and is the same as Bitcoin Core's: options and config, network choice,
 * daemonize (before taking the lock: fcntl locks are not inherited across fork), lock the data
 * directory, log, node key, database, RPC, loop. Shutdown undoes it in reverse. */
#include "node/init.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "crypto/hash.h"
#include "crypto/keys.h"
#include "msg/gossip.h"
#include "msg/sync.h"
#include "msg/store.h"
#include "net/addrman.h"
#include "net/banman.h"
#include "net/connman.h"
#include "net/reputation.h"
#include "node/context.h"
#include "node/options.h"
#include "rpc/auth.h"
#include "rpc/server.h"
#include "store/db.h"
#include "util/args.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"
#include "util/version.h"
#include "wire/addr.h"
#include "wire/messages.h"

/* Room for one start-up error message. */
#define INIT_ERR_LEN 1024
/* The address book is saved this often (and at shutdown), so a crash loses little of it. */
#define ADDRMAN_SAVE_INTERVAL (15 * 60)
/* The node key file holds 64 hex characters and a newline; anything much longer is not ours. */
#define NODEKEY_FILE_MAX 256

/* Report a start-up error on stderr and in the log (when open). Returns -1. */
static int init_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int init_error(const char *fmt, ...)
{
	char msg[INIT_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "Error: %s\n", msg);
	if (log_file_path()[0])
		log_error("%s", msg);
	return -1;
}

void node_request_shutdown(struct node *node)
{
	if (node->shutdown_requested)
		return;
	node->shutdown_requested = true;
	log_info("Shutdown requested");
	if (node->base)
		event_base_loopexit(node->base, NULL);
}

/* Grace period between a fatal database error and the shutdown (see on_db_failure). */
#define FATAL_SHUTDOWN_GRACE_MS 200

static void fatal_shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	node_request_shutdown(arg);
}

/* A database write failed (disk full, file size limit, I/O error): what callers believe is
 * stored may not be, so stop at once, as cleanly as the database still allows, and exit with
 * status 1. Nothing more is acknowledged: publish answers with an error, and the shutdown's own
 * writes (address book, reputations) may fail too and are only logged. */
static void on_db_failure(void *ctx, const char *error)
{
	struct node *node = ctx;
	if (node->fatal_error)
		return;
	node->fatal_error = true;
	log_error("Fatal: database write failed (%s); shutting down to keep the stored data "
		  "consistent. Free disk space (or lift the file size limit) and restart.",
		  error);
	fprintf(stderr, "Error: database write failed (%s); shutting down\n", error);
	/* Stop after a short grace period, so the RPC call that hit the failure still gets its
	 * error answer out; every write meanwhile fails the same way (LevelDB keeps the error). */
	struct timeval grace = {0, FATAL_SHUTDOWN_GRACE_MS * 1000};
	if (!node->base ||
	    event_base_once(node->base, -1, EV_TIMEOUT, fatal_shutdown_cb, node, &grace) != 0)
		node_request_shutdown(node);
}

/* Resolve name relative to dir unless it is absolute. */
static int path_in(char *out, size_t outlen, const char *dir, const char *name)
{
	if (name[0] == '/') {
		if (strlen(name) >= outlen)
			return -1;
		strcpy(out, name); /* NOLINT: length checked above */
		return 0;
	}
	return fs_join(out, outlen, dir, name);
}

/* Options, config file and network. Returns 1 to exit 0 now (help, version), 0 to go on, -1 on
 * error. */
static int load_config(struct node *node, int argc, char **argv)
{
	char err[INIT_ERR_LEN];
	int first;
	node->args = args_new(node_options, node_options_count);
	if (!node->args)
		return init_error("out of memory");
	struct args *a = node->args;
	if (args_parse_cmdline(a, argc, argv, &first, err, sizeof(err)) != 0)
		return init_error("%s (see p2pd -help)", err);
	if (first < argc)
		return init_error(
			"unexpected argument '%s': p2pd takes only options (see p2pd -help)",
			argv[first]);
	if (args_get_bool(a, "help", false) || args_get_bool(a, "h", false) ||
	    args_get_bool(a, "?", false)) {
		char *help = args_help_text(node_options, node_options_count);
		printf("%s version %s\n\nUsage: p2pd [options]\n\n%s", CLIENT_NAME,
		       CLIENT_VERSION_STRING, help ? help : "");
		free(help);
		return 1;
	}
	if (args_get_bool(a, "version", false)) {
		printf("%s version %s\n", CLIENT_NAME, CLIENT_VERSION_STRING);
		return 1;
	}

	if (args_is_set(a, "datadir")) {
		const char *d = args_get_str(a, "datadir", "");
		if (strlen(d) >= sizeof(node->datadir) || d[0] == '\0')
			return init_error("invalid -datadir '%s'", d);
		if (!fs_is_dir(d))
			return init_error("specified data directory \"%s\" does not exist", d);
		strcpy(node->datadir, d); /* NOLINT: length checked above */
	} else {
		if (fs_default_datadir(node->datadir, sizeof(node->datadir)) != 0)
			return init_error("default data directory path too long");
		if (fs_mkdirs(node->datadir) != 0)
			return init_error("cannot create data directory %s: %s", node->datadir,
					  strerror(errno));
	}

	char conf[FS_MAX_PATH];
	bool conf_given = args_is_set(a, "conf");
	if (path_in(conf, sizeof(conf), node->datadir, args_get_str(a, "conf", "p2pd.conf")) != 0)
		return init_error("config file path too long");
	if (args_read_config_file(a, conf, conf_given, err, sizeof(err)) != 0)
		return init_error("%s", err);

	int chosen = 0;
	const char *chain = "main";
	if (args_get_bool(a, "testnet", false)) {
		chain = "testnet";
		chosen++;
	}
	if (args_get_bool(a, "regtest", false)) {
		chain = "regtest";
		chosen++;
	}
	if (args_is_set(a, "chain")) {
		chain = args_get_str(a, "chain", "main");
		chosen++;
	}
	if (chosen > 1)
		return init_error("invalid combination of -regtest, -testnet and -chain: use one");
	node->params = netparams_by_name(chain);
	if (!node->params)
		return init_error("unknown chain '%s' (expected main, testnet or regtest)", chain);
	args_select_network(a, node->params->name);

	if (node->params->subdir[0] == '\0')
		strcpy(node->netdir, node->datadir); /* NOLINT: buffers of one size */
	else if (fs_join(node->netdir, sizeof(node->netdir), node->datadir, node->params->subdir) !=
		 0)
		return init_error("data directory path too long");
	if (fs_mkdirs(node->netdir) != 0)
		return init_error("cannot create %s: %s", node->netdir, strerror(errno));
	return 0;
}

/* Detach: the parent waits on a pipe for the child's start-up result and exits with it. Returns
 * the write end of the pipe in the child (-1 when not daemonizing), or -2 on error. The parent
 * never returns. */
static int daemonize(void)
{
	int fds[2];
	if (pipe(fds) != 0) {
		init_error("cannot create a pipe: %s", strerror(errno));
		return -2;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		init_error("cannot fork: %s", strerror(errno));
		return -2;
	}
	if (pid > 0) {
		close(fds[1]);
		char status = 1;
		ssize_t n;
		do
			n = read(fds[0], &status, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 && status == 0 ? 0 : 1);
	}
	close(fds[0]);
	if (setsid() < 0) {
		init_error("setsid failed: %s", strerror(errno));
		return -2;
	}
	return fds[1];
}

/* Tell the waiting parent how start-up went, then cut the terminal off. */
static void daemon_notify(int *fd, bool ok)
{
	if (*fd < 0)
		return;
	char status = ok ? 0 : 1;
	ssize_t n;
	do
		n = write(*fd, &status, 1);
	while (n < 0 && errno == EINTR);
	close(*fd);
	*fd = -1;
	if (ok) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
			if (devnull > STDERR_FILENO)
				close(devnull);
		}
	}
}

static int setup_logging(struct node *node)
{
	struct args *a = node->args;
	bool daemon = args_get_bool(a, "daemon", false);
	log_set_console(args_get_bool(a, "printtoconsole", !daemon));
	log_set_timestamps(args_get_bool(a, "logtimestamps", true));
	const char *const *cats;
	size_t n = args_get_list(a, "debug", &cats);
	for (size_t i = 0; i < n; i++) {
		if (!log_category_known(cats[i]))
			return init_error("unknown logging category -debug=%s", cats[i]);
		log_enable(log_category_from_name(cats[i]));
	}
	n = args_get_list(a, "debugexclude", &cats);
	for (size_t i = 0; i < n; i++) {
		if (!log_category_known(cats[i]))
			return init_error("unknown logging category -debugexclude=%s", cats[i]);
		log_disable(log_category_from_name(cats[i]));
	}
	if (!args_is_negated(a, "debuglogfile")) {
		char path[FS_MAX_PATH];
		if (path_in(path, sizeof(path), node->netdir,
			    args_get_str(a, "debuglogfile", "debug.log")) != 0)
			return init_error("log file path too long");
		if (log_open_file(path) != 0)
			return init_error("cannot open log file %s: %s", path, strerror(errno));
	}
	return 0;
}

static int write_pidfile(struct node *node)
{
	struct args *a = node->args;
	if (!args_get_bool(a, "daemon", false) && !args_is_set(a, "pid"))
		return 0;
	if (path_in(node->pidfile, sizeof(node->pidfile), node->netdir,
		    args_get_str(a, "pid", "p2pd.pid")) != 0)
		return init_error("pid file path too long");
	char text[32];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	if (fs_write_file(node->pidfile, text, (size_t)n, 0644) != 0) {
		int e = errno;
		node->pidfile[0] = '\0';
		return init_error("cannot write pid file: %s", strerror(e));
	}
	return 0;
}

/* Load the node key, or make one on first start. A malformed key file is never overwritten. */
static int load_node_key(struct node *node)
{
	char path[FS_MAX_PATH];
	if (fs_join(path, sizeof(path), node->netdir, "nodekey") != 0)
		return init_error("node key path too long");
	char *text = NULL;
	size_t len;
	if (fs_read_file(path, NODEKEY_FILE_MAX, &text, &len) == 0) {
		int bad = key_seckey_parse(node->node_seckey, text, len) != 0;
		secure_wipe(text, len);
		free(text);
		if (bad)
			return init_error(
				"node key file %s is malformed (expected 64 hex characters "
				"of a valid secp256k1 secret key); it was left untouched",
				path);
		log_info("Loaded node key from %s", path);
	} else if (errno == ENOENT) {
		if (key_generate(node->node_seckey) != 0)
			return init_error("cannot generate a node key");
		char hex[65 + 1];
		hex_encode(hex, node->node_seckey, 32);
		hex[64] = '\n';
		int r = fs_write_file(path, hex, 65, 0600);
		int e = errno;
		secure_wipe(hex, sizeof(hex));
		if (r != 0)
			return init_error("cannot write node key %s: %s", path, strerror(e));
		log_info("Generated a new node key in %s", path);
	} else {
		return init_error("cannot read node key %s: %s", path,
				  errno == EFBIG ? "file too large" : strerror(errno));
	}
	if (key_xonly_pubkey(node->node_pubkey, node->node_seckey) != 0)
		return init_error("cannot derive the node public key");
	char pub[65];
	hex_encode(pub, node->node_pubkey, 32);
	log_info("Node public key: %s", pub);
	return 0;
}

static int open_database(struct node *node)
{
	char path[FS_MAX_PATH], err[INIT_ERR_LEN];
	if (fs_join(path, sizeof(path), node->netdir, "db") != 0)
		return init_error("database path too long");
	size_t cache = (size_t)args_get_int(node->args, "dbcache", DEFAULT_DB_CACHE_MB);
	if (db_open(&node->db, path, cache, err, sizeof(err)) != DB_OPEN_OK)
		return init_error("%s", err);
	log_info("Opened database %s (schema version %u)", path, db_schema_version(node->db));
	db_set_failure_handler(node->db, on_db_failure, node);
	node->msgstore = msgstore_open(node->db, err, sizeof(err));
	if (!node->msgstore)
		return init_error("%s", err);
	struct msgstore_stats st;
	if (msgstore_stats(node->msgstore, &st) == 0)
		log_info("Message store: %" PRIu64 " messages, %" PRIu64 " bytes", st.count,
			 st.bytes);
	return 0;
}

/* Message policy from the options and the network's defaults. */
static void load_policy(struct node *node)
{
	struct args *a = node->args;
	node->policy.retention = args_get_int(a, "msgretention", DEFAULT_MSG_RETENTION_SECS);
	node->policy.max_body = (uint32_t)args_get_int(a, "maxmsgsize", DEFAULT_MAX_MSG_SIZE);
	node->policy.min_pow = (int)args_get_int(a, "minpow", node->params->default_min_pow);
	node->max_store_bytes = (uint64_t)args_get_int(a, "maxstoremb", 0) * 1024 * 1024;
}

static int start_gossip(struct node *node)
{
	struct args *a = node->args;
	char err[INIT_ERR_LEN];
	struct gossip_config cfg = {0};
	cfg.base = node->base;
	cfg.clock = &node->clock;
	cfg.connman = node->connman;
	cfg.store = node->msgstore;
	cfg.verify_threads = (int)args_get_int(a, "verifythreads", 1);
	cfg.relay_delay_ms = args_get_int(a, "relaydelay", node->params->default_relay_delay_ms);
	cfg.inbound_delay_ms = node->params->inbound_request_delay_ms;
	cfg.request_timeout = args_get_int(a, "msgrequesttimeout", DEFAULT_REQUEST_TIMEOUT);
	cfg.policy = node->policy;
	cfg.prune_interval = args_get_int(a, "pruneinterval", 60);
	cfg.max_store_bytes = node->max_store_bytes;
	cfg.sync_interval = args_get_int(a, "syncinterval", DEFAULT_SYNC_INTERVAL);
	node->gossip = gossip_new(&cfg, err, sizeof(err));
	if (!node->gossip)
		return init_error("%s", err);
	return 0;
}

/* Whether an -rpcbind value names a loopback address. */
static bool is_loopback_bind(const char *addr)
{
	return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
	       strncmp(addr, "[::1]", 5) == 0 || strncmp(addr, "localhost", 9) == 0;
}

static int setup_rpc_auth(struct node *node)
{
	struct args *a = node->args;
	char err[INIT_ERR_LEN];
	node->rpc_auth = rpc_auth_new();
	if (!node->rpc_auth)
		return init_error("out of memory");
	const char *user = args_get_str(a, "rpcuser", "");
	const char *pass = args_get_str(a, "rpcpassword", "");
	if (pass[0] != '\0') {
		if (rpc_auth_add_password(node->rpc_auth, user, pass, err, sizeof(err)) != 0)
			return init_error("-rpcuser/-rpcpassword: %s", err);
	} else {
		if (user[0] != '\0')
			return init_error("-rpcuser is set but -rpcpassword is not");
		char path[FS_MAX_PATH];
		if (path_in(path, sizeof(path), node->netdir,
			    args_get_str(a, "rpccookiefile", ".cookie")) != 0)
			return init_error("cookie file path too long");
		if (rpc_auth_create_cookie(node->rpc_auth, path, err, sizeof(err)) != 0)
			return init_error("%s", err);
		log_debug(LOG_RPC, "wrote RPC cookie %s", path);
	}
	const char *const *entries;
	size_t n = args_get_list(a, "rpcauth", &entries);
	for (size_t i = 0; i < n; i++)
		if (rpc_auth_add_rpcauth(node->rpc_auth, entries[i], err, sizeof(err)) != 0)
			return init_error("-rpcauth=%s: %s", entries[i], err);
	return 0;
}

static int start_rpc(struct node *node)
{
	struct args *a = node->args;
	char err[INIT_ERR_LEN];
	if (!args_get_bool(a, "server", true)) {
		log_info("RPC server disabled (-server=0)");
		return 0;
	}
	if (setup_rpc_auth(node) != 0)
		return -1;
	static const char *const default_bind[] = {"127.0.0.1", "::1"};
	struct rpc_server_config cfg = {0};
	cfg.nallowip = args_get_list(a, "rpcallowip", &cfg.allowip);
	const char *const *binds;
	size_t nbind = args_get_list(a, "rpcbind", &binds);
	for (size_t i = 0; i < nbind; i++)
		if (!is_loopback_bind(binds[i]) && cfg.nallowip == 0)
			return init_error(
				"-rpcbind=%s is not a loopback address and no -rpcallowip is "
				"given: the RPC server would be reachable from other hosts "
				"but answer none of them. Add -rpcallowip for the hosts that "
				"may connect (and protect the credentials), or bind to "
				"127.0.0.1",
				binds[i]);
	cfg.bind = nbind ? binds : default_bind;
	cfg.nbind = nbind ? nbind : 2;
	cfg.port = (uint16_t)args_get_int(a, "rpcport", node->params->rpc_port);
	cfg.timeout_secs = (int)args_get_int(a, "rpcservertimeout", DEFAULT_RPC_SERVER_TIMEOUT);
	cfg.workqueue = (int)args_get_int(a, "rpcworkqueue", DEFAULT_RPC_WORKQUEUE);
	cfg.auth = node->rpc_auth;
	node->rpc = rpc_server_new(node->base, node, &cfg, err, sizeof(err));
	if (!node->rpc)
		return init_error("cannot start the RPC server: %s", err);
	log_info("RPC server listening on port %u", cfg.port);
	return 0;
}

/* Anchors: the addresses of two outbound peers saved at shutdown ('m' "anchors", BIP155
 * encoding), dialled first at the next start and then forgotten. */
static const char ANCHORS_KEY[] = {DB_PREFIX_META, 'a', 'n', 'c', 'h', 'o', 'r', 's'};

static size_t load_anchors(struct node *node, struct peer_addr *out, size_t max)
{
	uint8_t *val = NULL;
	size_t len = 0, n = 0, skipped;
	struct wire_addrv2 *w = NULL;
	if (db_get(node->db, ANCHORS_KEY, sizeof(ANCHORS_KEY), &val, &len) != 1)
		return 0;
	if (wire_decode_addrv2(&w, &n, &skipped, val, len) != 0) {
		log_warn("anchors record is malformed; ignored");
		n = 0;
	}
	size_t k = 0;
	for (size_t i = 0; i < n && k < max; i++, k++)
		peer_addr_from_wire(&out[k], &w[i]);
	free(w);
	free(val);
	db_delete(node->db, ANCHORS_KEY, sizeof(ANCHORS_KEY), true);
	if (k)
		log_info("Loaded %zu anchor addresses", k);
	return k;
}

static void save_anchors(struct node *node)
{
	struct peer_addr a[CONNMAN_MAX_ANCHORS];
	size_t n = connman_anchors(node->connman, a, CONNMAN_MAX_ANCHORS);
	if (n == 0)
		return;
	struct wire_addrv2 w[CONNMAN_MAX_ANCHORS];
	for (size_t i = 0; i < n; i++)
		peer_addr_to_wire(&w[i], &a[i]);
	struct bytebuf b;
	bytebuf_init(&b, 1024);
	wire_encode_addrv2(&b, w, n);
	if (bytebuf_ok(&b) &&
	    db_put(node->db, ANCHORS_KEY, sizeof(ANCHORS_KEY), b.data, b.len, true) == 0)
		log_info("Saved %zu anchor addresses", n);
	bytebuf_free(&b);
}

static void save_addrman_cb(evutil_socket_t fd, short what, void *arg)
{
	struct node *node = arg;
	(void)fd;
	(void)what;
	if (node->addrman && addrman_save(node->addrman, node->db, false) != 0)
		log_error("cannot save the address book");
	if (node->banman)
		banman_sweep(node->banman);
	if (node->reputation && reputation_save(node->reputation, node->db, false) != 0)
		log_error("cannot save peer reputations");
}

static struct evdns_base *make_resolver(struct node *node)
{
	const char *server = args_get_str(node->args, "dnsserver", "");
	if (server[0] == '\0')
		return evdns_base_new(node->base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	struct evdns_base *dns = evdns_base_new(node->base, 0);
	if (dns && evdns_base_nameserver_ip_add(dns, server) != 0) {
		evdns_base_free(dns, 0);
		init_error("-dnsserver=%s is not an address", server);
		return NULL;
	}
	return dns;
}

static int start_network(struct node *node)
{
	struct args *a = node->args;
	char err[INIT_ERR_LEN];
	struct connman_config cfg = {0};
	node->dns = make_resolver(node);
	if (!node->dns && args_is_set(a, "dnsserver"))
		return -1;
	if (!node->dns)
		log_warn("no DNS resolver (cannot read /etc/resolv.conf): host names in -connect "
			 "and -addnode will not resolve");
	node->bantime = args_get_int(a, "bantime", BANMAN_DEFAULT_BANTIME);
	node->banman = banman_new(&node->clock, node->db);
	if (!node->banman)
		return init_error("cannot load the ban list: %s", db_last_error(node->db));
	struct net_whitelist wl[CONNMAN_MAX_WHITELIST];
	const char *const *wls;
	size_t nwl = args_get_list(a, "whitelist", &wls);
	if (nwl > CONNMAN_MAX_WHITELIST)
		return init_error("too many -whitelist entries (at most %d)",
				  CONNMAN_MAX_WHITELIST);
	for (size_t i = 0; i < nwl; i++) {
		const char *rest;
		char perr[256];
		if (net_perm_parse(wls[i], &wl[i].flags, &rest, perr, sizeof(perr)) != 0 ||
		    subnet_parse(&wl[i].subnet, rest, perr, sizeof(perr)) != 0)
			return init_error("-whitelist=%s: %s", wls[i], perr);
	}
	node->reputation = reputation_load(node->db, &node->clock);
	if (!node->reputation)
		return init_error("cannot load peer reputations: %s", db_last_error(node->db));
	if (addrman_load(&node->addrman, node->db, &node->clock, node->params->allow_local) != 0)
		return init_error("cannot load the address book: %s", db_last_error(node->db));
	log_info("Address book: %zu addresses", addrman_size(node->addrman));
	struct peer_addr anchors[CONNMAN_MAX_ANCHORS];
	size_t nanchors = load_anchors(node, anchors, CONNMAN_MAX_ANCHORS);
	cfg.base = node->base;
	cfg.dns = node->dns;
	cfg.clock = &node->clock;
	cfg.params = node->params;
	cfg.local_services = NODE_MSGSTORE;
	cfg.max_connections = (int)args_get_int(a, "maxconnections", DEFAULT_MAX_CONNECTIONS);
	cfg.listen = args_get_bool(a, "listen", true);
	cfg.nbind = args_get_list(a, "bind", &cfg.bind);
	cfg.port = (uint16_t)args_get_int(a, "port", node->params->p2p_port);
	cfg.nconnect = args_get_list(a, "connect", &cfg.connect);
	/* -connect=0 (as Bitcoin Core): no outbound connections but the listed ones; a lone "0"
	 * lists none. */
	bool connect_zero = cfg.nconnect == 1 && strcmp(cfg.connect[0], "0") == 0;
	if (connect_zero)
		cfg.nconnect = 0;
	cfg.naddnode = args_get_list(a, "addnode", &cfg.addnode);
	cfg.max_receive_buffer =
		(size_t)args_get_int(a, "maxreceivebuffer", DEFAULT_MAX_RECEIVE_BUFFER_KB) * 1024;
	cfg.max_send_buffer =
		(size_t)args_get_int(a, "maxsendbuffer", DEFAULT_MAX_SEND_BUFFER_KB) * 1024;
	cfg.peer_timeout = (int)args_get_int(a, "peertimeout", DEFAULT_PEER_TIMEOUT);
	cfg.compression = args_get_bool(a, "compress", true);
	cfg.addrman = node->addrman;
	cfg.automatic_outbound = cfg.nconnect == 0 && !connect_zero;
	cfg.allow_local = node->params->allow_local;
	cfg.addr_trickle_ms = node->params->addr_trickle_ms;
	cfg.nexternalip = args_get_list(a, "externalip", &cfg.externalip);
	cfg.discover = args_get_bool(a, "discover", cfg.nexternalip == 0) && cfg.listen;
	cfg.nseednodes = args_get_list(a, "seednode", &cfg.seednodes);
	if (args_get_bool(a, "dnsseed", true) && cfg.automatic_outbound) {
		cfg.ndnsseeds = args_get_list(a, "dnsseedhost", &cfg.dnsseeds);
		if (cfg.ndnsseeds == 0) {
			cfg.dnsseeds = node->params->dns_seeds;
			while (cfg.dnsseeds[cfg.ndnsseeds])
				cfg.ndnsseeds++;
		}
	}
	cfg.forcednsseed = args_get_bool(a, "forcednsseed", false);
	if (args_get_bool(a, "fixedseeds", true) && cfg.automatic_outbound) {
		cfg.fixedseeds = node->params->fixed_seeds;
		while (cfg.fixedseeds[cfg.nfixedseeds])
			cfg.nfixedseeds++;
	}
	cfg.anchors = anchors;
	cfg.nanchors = nanchors;
	cfg.banman = node->banman;
	cfg.reputation = node->reputation;
	cfg.whitelist = wl;
	cfg.nwhitelist = nwl;
	cfg.nwhitebind = args_get_list(a, "whitebind", &cfg.whitebind);
	node->connman = connman_new(&cfg, err, sizeof(err));
	if (!node->connman)
		return init_error("%s", err);
	if (start_gossip(node) != 0)
		return -1;
	connman_start(node->connman);
	node->save_timer = event_new(node->base, -1, EV_PERSIST, save_addrman_cb, node);
	struct timeval every = {ADDRMAN_SAVE_INTERVAL, 0};
	if (!node->save_timer || event_add(node->save_timer, &every) != 0)
		return init_error("cannot start the address book timer");
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct node *node = arg;
	(void)what;
	if (sig == SIGHUP) {
		if (log_reopen() != 0)
			log_error("cannot reopen the log file: %s", strerror(errno));
		else
			log_info("Reopened the log file (SIGHUP)");
		return;
	}
	log_info("Received signal %d", (int)sig);
	node_request_shutdown(node);
}

static int setup_loop(struct node *node)
{
	if (evthread_use_pthreads() != 0)
		return init_error("libevent has no pthread support");
	node->base = event_base_new();
	if (!node->base)
		return init_error("cannot create the event loop");
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit (ulimit -f) makes writes fail with EFBIG instead of killing us: the
	 * database reports the failure and the node stops cleanly (on_db_failure). */
	signal(SIGXFSZ, SIG_IGN);
	const int sigs[NODE_NSIGNALS] = {SIGINT, SIGTERM, SIGHUP};
	for (int i = 0; i < NODE_NSIGNALS; i++) {
		node->signals[i] = evsignal_new(node->base, sigs[i], on_signal, node);
		if (!node->signals[i] || evsignal_add(node->signals[i], NULL) != 0)
			return init_error("cannot install signal handlers");
	}
	return 0;
}

static void shutdown_node(struct node *node)
{
	log_info("Shutdown: in progress...");
	rpc_server_free(node->rpc);
	node->rpc = NULL;
	gossip_free(node->gossip);
	node->gossip = NULL;
	if (node->connman)
		save_anchors(node);
	connman_free(node->connman);
	node->connman = NULL;
	if (node->save_timer)
		event_free(node->save_timer);
	node->save_timer = NULL;
	if (node->addrman && addrman_save(node->addrman, node->db, true) != 0)
		log_error("cannot save the address book");
	addrman_free(node->addrman);
	node->addrman = NULL;
	banman_free(node->banman);
	node->banman = NULL;
	if (node->reputation && reputation_save(node->reputation, node->db, true) != 0)
		log_error("cannot save peer reputations");
	reputation_free(node->reputation);
	node->reputation = NULL;
	if (node->dns)
		evdns_base_free(node->dns, 0);
	node->dns = NULL;
	if (node->rpc_auth) {
		rpc_auth_remove_cookie(node->rpc_auth);
		rpc_auth_free(node->rpc_auth);
		node->rpc_auth = NULL;
	}
	for (int i = 0; i < NODE_NSIGNALS; i++)
		if (node->signals[i])
			event_free(node->signals[i]);
	if (node->base)
		event_base_free(node->base);
	node->base = NULL;
	msgstore_free(node->msgstore);
	node->msgstore = NULL;
	db_close(node->db);
	node->db = NULL;
	if (node->pidfile[0] && unlink(node->pidfile) != 0)
		log_warn("cannot remove pid file %s: %s", node->pidfile, strerror(errno));
	secure_wipe(node->node_seckey, sizeof(node->node_seckey));
	keys_shutdown();
	log_info("Shutdown: done");
	if (node->lock_fd >= 0)
		close(node->lock_fd);
	args_free(node->args);
	log_shutdown();
	libevent_global_shutdown();
}

int node_main(int argc, char **argv)
{
	struct node node;
	memset(&node, 0, sizeof(node));
	node.lock_fd = -1;
	int daemon_fd = -1;
	int rc = 1;

	if (random_init() != 0) {
		fprintf(stderr, "Error: cannot initialise libsodium\n");
		return 1;
	}
	int r = load_config(&node, argc, argv);
	if (r != 0) {
		args_free(node.args);
		return r > 0 ? 0 : 1;
	}
	if (args_get_bool(node.args, "daemon", false)) {
		daemon_fd = daemonize();
		if (daemon_fd == -2) {
			args_free(node.args);
			return 1;
		}
	}
	node.lock_fd = fs_lock_dir(node.netdir);
	if (node.lock_fd < 0) {
		if (errno == EWOULDBLOCK || errno == EAGAIN || errno == EACCES)
			init_error("Cannot obtain a lock on data directory %s. p2pd is probably "
				   "already running.",
				   node.netdir);
		else
			init_error("cannot lock data directory %s: %s", node.netdir,
				   strerror(errno));
		goto out;
	}
	node.start_us = clock_mono_us();
	if (setup_logging(&node) != 0)
		goto out;
	log_info("%s version %s starting on %s", CLIENT_NAME, CLIENT_VERSION_STRING,
		 node.params->name);
	log_info("Data directory %s", node.netdir);
	if (write_pidfile(&node) != 0)
		goto out;
	if (keys_init() != 0) {
		init_error("cannot create the secp256k1 context");
		goto out;
	}
	load_policy(&node);
	if (load_node_key(&node) != 0 || open_database(&node) != 0 || setup_loop(&node) != 0 ||
	    start_network(&node) != 0 || start_rpc(&node) != 0)
		goto out;
	log_info("init: done loading");
	daemon_notify(&daemon_fd, true);
	if (event_base_dispatch(node.base) < 0)
		log_error("event loop failed");
	rc = node.fatal_error ? 1 : 0;
out:
	daemon_notify(&daemon_fd, rc == 0);
	shutdown_node(&node);
	return rc;
}
