/* p2pd's option table (include/node/options.h). Help texts state each default. */
#include "node/options.h"

#include "msg/gossip.h"
#include "msg/sync.h"
#include "msg/verify.h"
#include "net/connman.h"

#include <stdint.h>

#define STR(x)  #x
#define XSTR(x) STR(x)

const struct arg_def node_options[] = {
	{"help", ARG_BOOL, ARG_CMDLINE_ONLY, 0, 0, NULL, "Print this help message and exit.",
	 "General"},
	{"h", ARG_BOOL, ARG_CMDLINE_ONLY | ARG_HIDDEN, 0, 0, NULL, "Same as -help.", "General"},
	{"?", ARG_BOOL, ARG_CMDLINE_ONLY | ARG_HIDDEN, 0, 0, NULL, "Same as -help.", "General"},
	{"version", ARG_BOOL, ARG_CMDLINE_ONLY, 0, 0, NULL, "Print the version and exit.",
	 "General"},
	{"datadir", ARG_STRING, ARG_CMDLINE_ONLY, 0, 0, "<dir>",
	 "Data directory (default: ~/.p2pd). It must exist when given.", "General"},
	{"conf", ARG_STRING, ARG_CMDLINE_ONLY, 0, 0, "<file>",
	 "Config file, relative to the data directory unless absolute (default: p2pd.conf). A "
	 "file named with -conf must exist.",
	 "General"},
	{"daemon", ARG_BOOL, 0, 0, 0, NULL,
	 "Run in the background; the command returns once the node is up (default: 0).", "General"},
	{"pid", ARG_STRING, 0, 0, 0, "<file>",
	 "Pid file, relative to the network directory unless absolute (default: p2pd.pid; "
	 "written with -daemon or when this option is given).",
	 "General"},
	{"dbcache", ARG_INT, 0, 1, 16384, "<MiB>",
	 "Database cache size in MiB (default: " XSTR(DEFAULT_DB_CACHE_MB) ").", "General"},

	{"chain", ARG_STRING, 0, 0, 0, "<name>",
	 "Network to use: main, testnet or regtest (default: main).", "Chain selection"},
	{"testnet", ARG_BOOL, 0, 0, 0, NULL, "Use the test network. Same as -chain=testnet.",
	 "Chain selection"},
	{"regtest", ARG_BOOL, 0, 0, 0, NULL,
	 "Use the local regression-test network (local testnets). Same as -chain=regtest.",
	 "Chain selection"},

	{"port", ARG_INT, 0, 1, 65535, "<port>",
	 "Listen for peers on this port (default: 9733, testnet: 19733, regtest: 29733).",
	 "Connections"},
	{"bind", ARG_LIST, 0, 0, 0, "<addr>[:port]",
	 "Listen for peers on this address (default: 0.0.0.0 and ::). May be repeated.",
	 "Connections"},
	{"listen", ARG_BOOL, 0, 0, 0, NULL, "Accept connections from peers (default: 1).",
	 "Connections"},
	{"connect", ARG_LIST, 0, 0, 0, "<host>[:port]",
	 "Connect to this node and keep the connection up (retried with back-off); no automatic "
	 "outbound connections are made. -connect=0 makes no outbound connections at all. May be "
	 "repeated.",
	 "Connections"},
	{"addnode", ARG_LIST, 0, 0, 0, "<host>[:port]",
	 "Add a node to keep connected to (retried with back-off; see also the addnode RPC). May "
	 "be repeated.",
	 "Connections"},
	{"seednode", ARG_LIST, 0, 0, 0, "<host>[:port]",
	 "Connect to this node to ask for peer addresses, then disconnect. May be repeated.",
	 "Connections"},
	{"dnsseed", ARG_BOOL, 0, 0, 0, NULL,
	 "Query DNS seeds when the address book is too small (default: 1; regtest has none).",
	 "Connections"},
	{"forcednsseed", ARG_BOOL, 0, 0, 0, NULL,
	 "Query DNS seeds at every start, whatever the address book holds (default: 0).",
	 "Connections"},
	{"dnsseedhost", ARG_LIST, 0, 0, 0, "<name>",
	 "DNS seed to use instead of the network's list. May be repeated.", "Connections"},
	{"dnsserver", ARG_STRING, 0, 0, 0, "<ip>[:port]",
	 "DNS server for seeds and host names, instead of /etc/resolv.conf.", "Connections"},
	{"fixedseeds", ARG_BOOL, 0, 0, 0, NULL,
	 "Fall back to the compiled-in seed addresses when nothing else worked within 60 seconds "
	 "(default: 1).",
	 "Connections"},
	{"externalip", ARG_LIST, 0, 0, 0, "<ip>[:port]",
	 "Our public address, announced to peers. May be repeated.", "Connections"},
	{"discover", ARG_BOOL, 0, 0, 0, NULL,
	 "Find our public addresses from the network interfaces and from what peers see "
	 "(default: 1 when listening without -externalip).",
	 "Connections"},
	{"bantime", ARG_INT, 0, 1, 10LL * 365 * 24 * 3600, "<secs>",
	 "Default duration of a setban ban (default: 86400).", "Connections"},
	{"whitelist", ARG_LIST, 0, 0, 0, "<[perms@]subnet>",
	 "Give peers connecting from this subnet permissions: noban, addr, relay or all, "
	 "comma-separated (default: noban). May be repeated.",
	 "Connections"},
	{"whitebind", ARG_LIST, 0, 0, 0, "<[perms@]addr[:port]>",
	 "Also listen on this address; its peers get the permissions (as -whitelist). May be "
	 "repeated.",
	 "Connections"},
	{"maxconnections", ARG_INT, 0, 0, 100000, "<n>",
	 "Keep at most this many connections; all but " XSTR(
		 CONNMAN_OUTBOUND_SLOTS) " may be inbound. Manual connections (-connect, -addnode) "
					 "come on top, up to " XSTR(
						 CONNMAN_MAX_MANUAL) " (default: " XSTR(DEFAULT_MAX_CONNECTIONS) ").",
	 "Connections"},
	{"maxreceivebuffer", ARG_INT, 0, 1, 1000000, "<KiB>",
	 "Per-connection receive buffer; a peer that sends faster than we process is not read "
	 "beyond it, or beyond the one frame being received when that is larger (default: " XSTR(
		 DEFAULT_MAX_RECEIVE_BUFFER_KB) ").",
	 "Connections"},
	{"maxsendbuffer", ARG_INT, 0, 1, 1000000, "<KiB>",
	 "Per-connection send buffer; a peer that does not read its data is not served beyond it "
	 "(default: " XSTR(DEFAULT_MAX_SEND_BUFFER_KB) ").",
	 "Connections"},
	{"peertimeout", ARG_INT, 0, 1, 3600, "<secs>",
	 "Disconnect a peer that has not completed the handshake after this many seconds "
	 "(default: " XSTR(DEFAULT_PEER_TIMEOUT) ").",
	 "Connections"},

	{"maxmsgsize", ARG_INT, 0, 0, 262144, "<bytes>",
	 "Accept message bodies up to this size (default: 65536; protocol maximum 262144).",
	 "Messages"},
	{"msgretention", ARG_INT, 0, 60, 10 * 365 * 24 * 3600, "<secs>",
	 "Keep messages this long after their creation time, and refuse older ones (default: "
	 "1209600, 14 days).",
	 "Messages"},
	{"minpow", ARG_INT, 0, 0, 256, "<bits>",
	 "Accept messages whose id has at least this many leading zero bits; publish mines to it "
	 "(default: main 16, testnet 8, regtest 0).",
	 "Messages"},
	{"relaydelay", ARG_INT, 0, 0, 60000, "<ms>",
	 "Mean delay before announcing messages to a peer (randomised per peer; halved for "
	 "outbound peers) (default: main and testnet 2000, regtest 0).",
	 "Messages"},
	{"maxstoremb", ARG_INT, 0, 0, 16 * 1024 * 1024, "<MiB>",
	 "Keep the message store below this size, dropping the oldest messages first (default: "
	 "0, no cap).",
	 "Messages"},
	{"verifythreads", ARG_INT, 0, 0, VERIFY_MAX_THREADS, "<n>",
	 "Threads verifying message signatures; 0 verifies on the event loop (default: 1).",
	 "Messages"},
	{"compress", ARG_BOOL, 0, 0, 0, NULL, "Offer zlib-compressed frames to peers (default: 1).",
	 "Messages"},
	{"msgrequesttimeout", ARG_INT, 0, 1, 3600, "<secs>",
	 "Ask the next announcer of a message after this many seconds without an answer "
	 "(default: " XSTR(DEFAULT_REQUEST_TIMEOUT) ").",
	 "Messages"},
	{"pruneinterval", ARG_INT, 0, 1, 86400, "<secs>",
	 "Seconds between removals of expired messages (default: 60).", "Messages"},
	{"syncinterval", ARG_INT, 0, 0, 86400, "<secs>",
	 "Seconds between catch-up sync sessions with a random outbound peer (besides one with "
	 "every new outbound peer); 0: none (default: " XSTR(DEFAULT_SYNC_INTERVAL) ").",
	 "Messages"},

	{"printtoconsole", ARG_BOOL, 0, 0, 0, NULL,
	 "Send log lines to standard output (default: 1 unless -daemon).", "Logging"},
	{"debuglogfile", ARG_STRING, 0, 0, 0, "<file>",
	 "Log file, relative to the network directory unless absolute (default: debug.log); "
	 "-nodebuglogfile writes no file.",
	 "Logging"},
	{"debug", ARG_LIST, 0, 0, 0, "<category>",
	 "Log debug messages of a category: net, msg, addrman, rpc, db, http, crypto, config; "
	 "all or 1 for every category. May be repeated.",
	 "Logging"},
	{"debugexclude", ARG_LIST, 0, 0, 0, "<category>",
	 "Exclude a category from -debug (useful with -debug=all). May be repeated.", "Logging"},
	{"logtimestamps", ARG_BOOL, 0, 0, 0, NULL,
	 "Prefix log lines with a timestamp (default: 1).", "Logging"},

	{"server", ARG_BOOL, 0, 0, 0, NULL, "Accept JSON-RPC commands (default: 1).", "RPC server"},
	{"rpcbind", ARG_LIST, 0, 0, 0, "<addr>[:port]",
	 "Listen for JSON-RPC on this address (default: 127.0.0.1 and ::1). A non-loopback "
	 "address needs -rpcallowip. May be repeated.",
	 "RPC server"},
	{"rpcport", ARG_INT, 0, 1, 65535, "<port>",
	 "Listen for JSON-RPC on this port (default: 9732, testnet: 19732, regtest: 29732).",
	 "RPC server"},
	{"rpcallowip", ARG_LIST, 0, 0, 0, "<ip>",
	 "Allow JSON-RPC from this source besides loopback: an address, address/bits or "
	 "address/netmask. May be repeated.",
	 "RPC server"},
	{"rpcuser", ARG_STRING, 0, 0, 0, "<user>", "User name for JSON-RPC (with -rpcpassword).",
	 "RPC server"},
	{"rpcpassword", ARG_STRING, 0, 0, 0, "<pw>",
	 "Password for JSON-RPC. Without it a random cookie is written to .cookie in the network "
	 "directory.",
	 "RPC server"},
	{"rpcauth", ARG_LIST, 0, 0, 0, "<userpw>",
	 "User and salted HMAC-SHA256 of a password, as user:salt$hash "
	 "(contrib/rpcauth/rpcauth.py makes one). May be repeated.",
	 "RPC server"},
	{"rpccookiefile", ARG_STRING, 0, 0, 0, "<file>",
	 "Cookie file, relative to the network directory unless absolute (default: .cookie).",
	 "RPC server"},
	{"rpcservertimeout", ARG_INT, 0, 1, 3600, "<secs>",
	 "Timeout of an HTTP connection to the RPC server (default: " XSTR(
		 DEFAULT_RPC_SERVER_TIMEOUT) ").",
	 "RPC server"},
	{"rpcworkqueue", ARG_INT, 0, 1, 4096, "<n>",
	 "Most RPC requests in flight; more are answered 503 (default: " XSTR(
		 DEFAULT_RPC_WORKQUEUE) ").",
	 "RPC server"},
};

const size_t node_options_count = sizeof(node_options) / sizeof(node_options[0]);
