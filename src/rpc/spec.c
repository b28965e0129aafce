/* The RPC command table and the text built from it (help, usage, the overview), plus the
 * argument conversion p2p-cli applies to its command-line words.
 *
 * The table is plain data: adding a command means adding an entry here, a handler in the file of
 * its category, and regenerating doc/rpc.md (test/unit/test_spec --write-doc doc/rpc.md). */
#include "rpc/spec.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct rpc_spec spec_getrpcinfo = {
	.name = "getrpcinfo",
	.category = "control",
	.description = "Returns details of the RPC server.",
	.result =
		"{                              (json object)\n"
		"  \"active_commands\" : [        (json array) All active commands\n"
		"    {                          (json object) Information about an active command\n"
		"      \"method\" : \"str\",        (string) The name of the RPC command\n"
		"      \"duration\" : n           (numeric) The running time in microseconds\n"
		"    },\n"
		"    ...\n"
		"  ],\n"
		"  \"logpath\" : \"str\"            (string) The complete file path to the debug "
		"log,\n"
		"                               or \"\" when the node logs to no file\n"
		"}",
	.examples = "p2p-cli getrpcinfo",
};

static const struct rpc_spec spec_help = {
	.name = "help",
	.category = "control",
	.description = "List all commands, or get help for a specified command.",
	.args = {{"command", RPC_T_STR, true, "all commands", "The command to get help on"}},
	.result = "\"str\"    (string) The help text",
	.examples = "p2p-cli help\n"
		    "p2p-cli help getnetworkinfo",
};

static const struct rpc_spec spec_logging = {
	.name = "logging",
	.category = "control",
	.description =
		"Gets and sets the logging configuration.\n"
		"When called without an argument, returns the list of categories with their status "
		"(being debug logged or not).\n"
		"When called with arguments, adds or removes categories from debug logging and "
		"returns the list above.\n"
		"The arguments are evaluated in order \"include\", \"exclude\".\n"
		"If an item is both included and excluded, it will thus end up being excluded.\n"
		"The valid logging categories are: net, msg, addrman, rpc, db, http, crypto, "
		"config\n"
		"In addition, the following are available as category names with special "
		"meanings:\n"
		"  - \"all\",  \"1\" : represent all logging categories.\n"
		"  - \"none\", \"0\" : even if other logging categories are specified, ignore all "
		"of "
		"them.\n"
		"An unknown category name is an error (code -8) and changes nothing.",
	.args = {{"include", RPC_T_ARR, true, NULL,
		  "The categories to add to debug logging: a JSON array of category names"},
		 {"exclude", RPC_T_ARR, true, NULL,
		  "The categories to remove from debug logging: a JSON array of category names"}},
	.result = "{                           (json object) keys are the logging categories, and "
		  "values their status\n"
		  "  \"category\" : true|false,  (boolean) if being debug logged or not. "
		  "false:inactive, true:active\n"
		  "  ...\n"
		  "}",
	.examples = "p2p-cli logging\n"
		    "p2p-cli logging '[\"all\"]' '[\"http\"]'\n"
		    "p2p-cli logging '[]' '[\"net\",\"rpc\"]'",
};

static const struct rpc_spec spec_stop = {
	.name = "stop",
	.category = "control",
	.description = "Request a graceful shutdown of p2pd.",
	.result = "\"str\"    (string) A string with the content 'p2pd stopping'",
	.examples = "p2p-cli stop",
};

static const struct rpc_spec spec_uptime = {
	.name = "uptime",
	.category = "control",
	.description = "Returns the total uptime of the server.",
	.result = "n    (numeric) The number of seconds that the server has been running",
	.examples = "p2p-cli uptime",
};

static const struct rpc_spec spec_addpeeraddress = {
	.name = "addpeeraddress",
	.category = "hidden",
	.description =
		"Add an address to the address book, as if a peer at 127.0.0.1 had told us of "
		"it\n"
		"(-regtest only; for tests). Its time is now and its services MSGSTORE.",
	.args = {{"address", RPC_T_STR, false, NULL,
		  "The IP address (IPv4 or IPv6, without brackets), Tor v3 .onion or I2P .b32.i2p\n"
		  "name of the peer, without a port. Error -8 when it is not one"},
		 {"port", RPC_T_INT, false, NULL,
		  "The port of the peer (1 to 65535; error -8 otherwise)"},
		 {"tried", RPC_T_BOOL, true, "false",
		  "If true, also mark the address as tried (as after a successful connection)"}},
	.result = "{                          (json object)\n"
		  "  \"success\" : true|false   (boolean) Whether the address was added: false "
		  "when\n"
		  "                           the book refused it (already there, its slot "
		  "taken)\n"
		  "                           or, with tried, when its tried slot holds another\n"
		  "                           address (it then stays in new)\n"
		  "}",
	.examples = "p2p-cli -regtest addpeeraddress \"1.2.3.4\" 29733\n"
		    "p2p-cli -regtest addpeeraddress \"1.2.3.4\" 29733 true",
};

static const struct rpc_spec spec_setmocktime = {
	.name = "setmocktime",
	.category = "hidden",
	.description = "Set the local time to given timestamp (-regtest only).",
	.args = {{"timestamp", RPC_T_INT, false, NULL,
		  "UNIX seconds timestamp to set the local time to.\n"
		  "Pass 0 to go back to using the system time."}},
	.result = "null    (json null)",
	.examples = "p2p-cli -regtest setmocktime 1700000000\n"
		    "p2p-cli -regtest setmocktime 0",
};

/* The fields of a message as getmessage and decodemessage show it, between the opening brace
 * and "received_at" / "valid". */
#define MSG_FIELDS                                                                                \
	"  \"id\" : \"hex\",                (string) The message id (64 hex characters)\n"        \
	"  \"version\" : n,               (numeric) The format version\n"                         \
	"  \"topic\" : \"str\",             (string) The topic\n"                                 \
	"  \"created_at\" : xxx,          (numeric) The creation time set by the author, UNIX\n"  \
	"                               epoch seconds\n"                                          \
	"  \"author\" : \"hex\",            (string) The author's x-only public key (32 bytes)\n" \
	"  \"refs\" : [                   (json array) Ids of the messages it refers to\n"        \
	"    \"hex\",                     (string) A message id\n"                                \
	"    ...\n"                                                                               \
	"  ],\n"                                                                                  \
	"  \"body\" : \"str\",              (string, optional) The body as text, only when\n"     \
	"                               it is valid UTF-8 without NUL bytes\n"                    \
	"  \"body_hex\" : \"hex\",          (string) The body's bytes\n"                          \
	"  \"size\" : n,                  (numeric) The serialized message's size in bytes\n"     \
	"  \"pow\" : n,                   (numeric) Proof-of-work: leading zero bits of the id\n" \
	"  \"nonce\" : n,                 (numeric) The proof-of-work nonce\n"                    \
	"  \"sig\" : \"hex\",               (string) The BIP340 signature (64 bytes)"

static const struct rpc_spec spec_decodemessage = {
	.name = "decodemessage",
	.category = "messages",
	.description =
		"Decodes a serialized message (as p2p-util sign prints it) and tells whether "
		"this node\n"
		"would accept it, without storing or relaying it.\n"
		"Error -22 when it does not decode.",
	.args = {{"hexstring", RPC_T_STR, false, NULL, "The serialized message, hex-encoded"}},
	.result =
		"{                              (json object)\n" MSG_FIELDS ",\n"
		"  \"valid\" : \"str\"              (string) The verdict of this node's full\n"
		"                               validation: \"valid\" when it would be accepted,\n"
		"                               else malformed, bad-signature, too-new, expired,\n"
		"                               low-pow or too-large\n"
		"}",
	.examples = "p2p-cli decodemessage \"<hex>\"",
};

static const struct rpc_spec spec_getmessage = {
	.name = "getmessage",
	.category = "messages",
	.description = "Returns a stored message.\n"
		       "Error -5 when no message with this id is stored.",
	.args = {{"id", RPC_T_STR, false, NULL, "The message id (64 hex characters)"},
		 {"verbose", RPC_T_BOOL, true, "true",
		  "true for a JSON object, false for the serialized message as hex"}},
	.result =
		"{                              (json object) With verbose = true (the "
		"default)\n" MSG_FIELDS ",\n"
		"  \"received_at\" : xxx          (numeric) When this node stored it, UNIX epoch\n"
		"                               seconds\n"
		"}\n"
		"\n"
		"\"hex\"    (string) With verbose = false: the serialized message, hex-encoded",
	.examples = "p2p-cli getmessage \"<id>\"\n"
		    "p2p-cli getmessage \"<id>\" false",
};

static const struct rpc_spec spec_getstoreinfo = {
	.name = "getstoreinfo",
	.category = "messages",
	.description = "Returns the state of the message store and the node's message policy.",
	.result =
		"{                        (json object)\n"
		"  \"count\" : n,           (numeric) Messages stored\n"
		"  \"bytes\" : n,           (numeric) Their serialized sizes, summed\n"
		"  \"oldest\" : xxx,        (numeric) The oldest creation time stored, 0 when "
		"empty\n"
		"  \"newest\" : xxx,        (numeric) The newest creation time stored, 0 when "
		"empty\n"
		"  \"retention\" : n,       (numeric) -msgretention: seconds a message is kept "
		"after its\n"
		"                         creation time\n"
		"  \"maxstoremb\" : n,      (numeric) -maxstoremb: the store's cap in MiB, 0 for "
		"none\n"
		"  \"pruned\" : n,          (numeric) Messages deleted by pruning over the store's "
		"life\n"
		"  \"minpow\" : n,          (numeric) -minpow: the proof-of-work required, in "
		"bits\n"
		"  \"maxmsgsize\" : n       (numeric) -maxmsgsize: the largest body accepted, in "
		"bytes\n"
		"}",
	.examples = "p2p-cli getstoreinfo",
};

static const struct rpc_spec spec_getsyncinfo = {
	.name = "getsyncinfo",
	.category = "messages",
	.description =
		"Returns the state of catch-up sync (range-based set reconciliation of message "
		"stores with peers):\nthe index, totals since start and the sessions "
		"running.",
	.result =
		"{                              (json object)\n"
		"  \"loaded\" : true|false,       (boolean) The index holds the whole store (no "
		"session\n"
		"                               runs before)\n"
		"  \"items\" : n,                 (numeric) Messages in the index\n"
		"  \"memory\" : n,                (numeric) Bytes the index takes\n"
		"  \"interval\" : n,              (numeric) -syncinterval, seconds (0: no periodic "
		"sessions)\n"
		"  \"sessions_started\" : n,      (numeric) Sessions this node started\n"
		"  \"sessions_completed\" : n,    (numeric) ... that converged\n"
		"  \"sessions_failed\" : n,       (numeric) ... ended by an error of the peer, or "
		"at "
		"64 round\n"
		"                               trips and not continued\n"
		"  \"sessions_timed_out\" : n,    (numeric) ... abandoned without an answer\n"
		"  \"sessions_continued\" : n,    (numeric) ... that reached 64 round trips having "
		"queued at\n"
		"                               least 64 new ids: a new session went on (8 in a "
		"row at\n"
		"                               most)\n"
		"  \"requests_answered\" : n,     (numeric) Peers' syncreqs this node answered\n"
		"  \"rounds\" : n,                (numeric) Round trips of this node's sessions\n"
		"  \"bytes_sent\" : n,            (numeric) syncreq and syncresp payload bytes "
		"sent, both\n"
		"                               roles (only those: the inv, getdata and msg "
		"traffic\n"
		"                               sync causes is in getpeerinfo's "
		"bytessent_per_msg)\n"
		"  \"bytes_recv\" : n,            (numeric) ... and received\n"
		"  \"ids_needed\" : n,            (numeric) Ids peers had that this node lacked, "
		"queued to\n"
		"                               be fetched (not below -minpow, not stored)\n"
		"  \"ids_offered\" : n,           (numeric) Ids this node had that peers lacked, "
		"queued to\n"
		"                               be announced\n"
		"  \"messages_fetched\" : n,      (numeric) Messages that arrived after a session "
		"listed\n"
		"                               them\n"
		"  \"ids_announced\" : n,         (numeric) Ids announced because a session found "
		"them\n"
		"                               missing at the peer\n"
		"  \"messages_sent\" : n,         (numeric) Message bodies sent to peers that "
		"asked for them\n"
		"                               after sync told them of the id (announced or "
		"listed in a\n"
		"                               syncresp; an estimate, see doc/protocol.md)\n"
		"  \"sessions\" : [               (json array) Running sessions (and sessions "
		"whose "
		"ids\n"
		"                               are still being fetched or announced)\n"
		"    {                          (json object)\n"
		"      \"peer\" : n,              (numeric) The peer's id (getpeerinfo)\n"
		"      \"started\" : xxx,         (numeric) UNIX epoch seconds\n"
		"      \"rounds\" : n,            (numeric) Round trips so far\n"
		"      \"bytes_sent\" : n,        (numeric) syncreq bytes sent\n"
		"      \"bytes_recv\" : n,        (numeric) syncresp bytes received\n"
		"      \"need\" : n,              (numeric) Ids found missing here\n"
		"      \"have\" : n,              (numeric) Ids found missing at the peer\n"
		"      \"need_queued\" : n,       (numeric) ... still to be fetched\n"
		"      \"have_queued\" : n,       (numeric) ... still to be announced\n"
		"      \"waiting\" : true|false   (boolean) A syncreq is outstanding\n"
		"    },\n"
		"    ...\n"
		"  ]\n"
		"}",
	.examples = "p2p-cli getsyncinfo",
};

static const struct rpc_spec spec_listmessages = {
	.name = "listmessages",
	.category = "messages",
	.description = "Lists stored messages in (created_at, id) order, oldest first (newest "
		       "first with reverse).\n"
		       "Error -8 for an unknown filter key or a bad value.",
	.args = {{"filter", RPC_T_OBJ, true, "all messages, at most 100",
		  "Which messages; every key is optional\n"
		  "{\n"
		  "  \"topic\": \"str\",        (string) Only this topic\n"
		  "  \"author\": \"hex\",       (string) Only this author (x-only public key)\n"
		  "  \"since\": n,            (numeric) Only those created at or after this time\n"
		  "  \"until\": n,            (numeric) Only those created at or before this time\n"
		  "  \"replies_to\": \"hex\",   (string) Only those that refer to this message id\n"
		  "  \"limit\": n,            (numeric, default=100) At most this many (1 to "
		  "1000)\n"
		  "  \"reverse\": bool,       (boolean, default=false) Newest first\n"
		  "}"}},
	.result = "[                   (json array)\n"
		  "  {...},            (json object) A message, as getmessage shows it\n"
		  "  ...\n"
		  "]",
	.examples = "p2p-cli listmessages\n"
		    "p2p-cli listmessages "
		    "'{\"topic\":\"chat/general\",\"reverse\":true,\"limit\":10}'\n"
		    "p2p-cli listmessages '{\"replies_to\":\"<id>\"}'",
};

static const struct rpc_spec spec_publish = {
	.name = "publish",
	.category = "messages",
	.description =
		"Signs a new message with the node key, mines its proof-of-work to the node's "
		"-minpow,\n"
		"stores it durably and relays it to the peers.\n"
		"Mining runs on the node's event loop: 16 bits take about 65,000 hashes "
		"(milliseconds),\n"
		"and every further bit doubles that, so with -minpow above about 24 publish takes "
		"seconds\n"
		"during which the node serves nothing else.\n"
		"Errors: -8 for a bad topic, a bad reference or a body above -maxmsgsize; -31 when "
		"the\n"
		"node runs without its P2P layer.",
	.args = {{"topic", RPC_T_STR, false, NULL,
		  "The topic: 1 to 64 characters of a-z, 0-9, '.', '_', '/' and '-'"},
		 {"body", RPC_T_STR, false, NULL,
		  "The body (its UTF-8 bytes; at most -maxmsgsize bytes)"},
		 {"refs", RPC_T_ARR, true, "[]",
		  "Ids of earlier messages it refers to (at most 8)\n"
		  "[\n"
		  "  \"id\",    (string) A message id (64 hex characters)\n"
		  "  ...\n"
		  "]"}},
	.result = "\"hex\"    (string) The message id (64 hex characters)",
	.examples = "p2p-cli publish \"chat/general\" \"hello\"\n"
		    "p2p-cli publish \"chat/general\" \"hello to you\" '[\"<id>\"]'",
};

static const struct rpc_spec spec_sendrawmessage = {
	.name = "sendrawmessage",
	.category = "messages",
	.description =
		"Submits a message signed elsewhere (as p2p-util sign prints it): validates "
		"it against\n"
		"this node's policy, stores it durably and relays it.\n"
		"A message already stored is not an error: its id is returned.\n"
		"Errors: -22 \"Message decode failed\" when it does not decode; -26 with the "
		"verdict\n"
		"(bad-signature, too-new, expired, low-pow, too-large) when it is refused; "
		"-31 when\n"
		"the node runs without its P2P layer.",
	.args = {{"hexstring", RPC_T_STR, false, NULL, "The serialized message, hex-encoded"}},
	.result = "\"hex\"    (string) The message id (64 hex characters)",
	.examples = "p2p-cli sendrawmessage \"$(p2p-util sign <secret> chat/general hello)\"",
};

static const struct rpc_spec spec_syncwithpeer = {
	.name = "syncwithpeer",
	.category = "messages",
	.description = "Starts a catch-up sync session with a connected peer now (one runs with "
		       "every new outbound\npeer and every -syncinterval seconds anyway). The "
		       "session runs in the background: see\ngetsyncinfo.\n"
		       "Error -29 when no such peer is connected; -1 when a session with it is "
		       "running, the\nsession limit (8) is reached or the index is still "
		       "loading.",
	.args = {{"nodeid", RPC_T_INT, false, NULL, "The peer's id (see getpeerinfo)"}},
	.result = "null    (json null)",
	.examples = "p2p-cli syncwithpeer 3",
};

static const struct rpc_spec spec_waitformessage = {
	.name = "waitformessage",
	.category = "messages",
	.description =
		"Waits for the next message this node stores (from a peer, publish or "
		"sendrawmessage)\n"
		"after the call, of the given topic if any, and returns it; or null when the "
		"timeout\n"
		"passes first. The node keeps serving other requests and peers meanwhile.\n"
		"The call holds one -rpcworkqueue slot while it waits; it cannot be part of a "
		"batch.\n"
		"Give p2p-cli a -rpcclienttimeout longer than the timeout (or 0).\n"
		"Error -8 for an unknown option key or a bad value.",
	.args = {{"options", RPC_T_OBJ, true, "any topic, 60 seconds",
		  "\n"
		  "{\n"
		  "  \"topic\": \"str\",        (string) Only a message of this topic\n"
		  "  \"timeout\": n,          (numeric, default=60) Seconds to wait (1 to 3600)\n"
		  "}"}},
	.result = "{...}    (json object) The message, as getmessage shows it\n"
		  "\n"
		  "or null    (json null) when the timeout passed",
	.examples = "p2p-cli waitformessage\n"
		    "p2p-cli -rpcclienttimeout=0 waitformessage '{\"topic\":\"chat/general\","
		    "\"timeout\":600}'",
};

static const struct rpc_spec spec_addnode = {
	.name = "addnode",
	.category = "network",
	.description = "Attempts to add or remove a node from the added-node list,\n"
		       "or to connect to a node once.\n"
		       "Added nodes are kept connected, retried with back-off.",
	.args = {{"node", RPC_T_STR, false, NULL, "The node address (host[:port])"},
		 {"command", RPC_T_STR, false, NULL,
		  "'add' to add a node to the list, 'remove' to remove it,\n"
		  "'onetry' to try a connection to the node once"}},
	.result = "null    (json null)",
	.examples = "p2p-cli addnode \"192.168.0.6:9733\" \"onetry\"",
};

static const struct rpc_spec spec_clearbanned = {
	.name = "clearbanned",
	.category = "network",
	.description = "Lifts every ban (setban). Discouraged addresses stay discouraged.",
	.result = "null    (json null)",
	.examples = "p2p-cli clearbanned",
};

static const struct rpc_spec spec_disconnectnode = {
	.name = "disconnectnode",
	.category = "network",
	.description = "Immediately disconnects from the specified peer node.\n"
		       "\n"
		       "Strictly one out of 'address' and 'nodeid' can be provided to identify the "
		       "node.\n"
		       "\n"
		       "To disconnect by nodeid, either set 'address' to the empty string, or call "
		       "using the named 'nodeid' argument only.\n"
		       "Error -29 when no such peer is connected.",
	.args = {{"address", RPC_T_STR, true, "fallback to nodeid",
		  "The IP address/port of the node, as getpeerinfo's addr shows it"},
		 {"nodeid", RPC_T_INT, true, "fallback to address",
		  "The node ID (see getpeerinfo for node IDs)"}},
	.result = "null    (json null)",
	.examples = "p2p-cli disconnectnode \"192.168.0.6:9733\"\n"
		    "p2p-cli disconnectnode \"\" 1",
};

static const struct rpc_spec spec_getaddednodeinfo = {
	.name = "getaddednodeinfo",
	.category = "network",
	.description = "Returns information about the given added node, or all added nodes\n"
		       "(note that onetry addnodes are not listed here).\n"
		       "Error -24 when the given node has not been added.",
	.args = {{"node", RPC_T_STR, true, "all nodes",
		  "If provided, return information about this specific node, otherwise all "
		  "nodes are returned."}},
	.result = "[                                (json array)\n"
		  "  {                              (json object)\n"
		  "    \"addednode\" : \"str\",         (string) The node address as added\n"
		  "    \"connected\" : true|false,    (boolean) If connected\n"
		  "    \"addresses\" : [              (json array) Only when connected = true\n"
		  "      {                          (json object)\n"
		  "        \"address\" : \"str\",       (string) The address we are connected "
		  "to\n"
		  "        \"connected\" : \"str\"      (string) connection, \"outbound\"\n"
		  "      },\n"
		  "      ...\n"
		  "    ]\n"
		  "  },\n"
		  "  ...\n"
		  "]",
	.examples = "p2p-cli getaddednodeinfo \"192.168.0.201:9733\"\n"
		    "p2p-cli getaddednodeinfo",
};

static const struct rpc_spec spec_getaddrmaninfo = {
	.name = "getaddrmaninfo",
	.category = "network",
	.description = "Provides information about the node's address book: the number of "
		       "addresses\n"
		       "in its \"new\" and \"tried\" tables, per network and in all.",
	.result = "{                        (json object) keyed by network\n"
		  "  \"network\" : {          (json object) ipv4, ipv6, onion, i2p, cjdns, and "
		  "all_networks\n"
		  "                         for the whole book\n"
		  "    \"new\" : n,           (numeric) addresses in the new table, never "
		  "connected to\n"
		  "    \"tried\" : n,         (numeric) addresses in the tried table, connected "
		  "to\n"
		  "                         at least once\n"
		  "    \"total\" : n          (numeric) new + tried\n"
		  "  },\n"
		  "  ...\n"
		  "}",
	.examples = "p2p-cli getaddrmaninfo",
};

static const struct rpc_spec spec_getconnectioncount = {
	.name = "getconnectioncount",
	.category = "network",
	.description = "Returns the number of connections to other nodes (handshake done or "
		       "not).",
	.result = "n    (numeric) The connection count",
	.examples = "p2p-cli getconnectioncount",
};

static const struct rpc_spec spec_getnettotals = {
	.name = "getnettotals",
	.category = "network",
	.description = "Returns information about network traffic, including bytes in, bytes "
		       "out,\n"
		       "and current system time.",
	.result = "{                          (json object)\n"
		  "  \"totalbytesrecv\" : n,    (numeric) Total bytes received\n"
		  "  \"totalbytessent\" : n,    (numeric) Total bytes sent\n"
		  "  \"totalbytessaved\" : n,   (numeric) Bytes compression kept off the wire, "
		  "sent and\n"
		  "                           received (uncompressed minus compressed sizes)\n"
		  "  \"timemillis\" : xxx       (numeric) Current system UNIX epoch time in "
		  "milliseconds\n"
		  "}",
	.examples = "p2p-cli getnettotals",
};

static const struct rpc_spec spec_getnetworkinfo = {
	.name = "getnetworkinfo",
	.category = "network",
	.description = "Returns an object containing various state info regarding P2P networking.",
	.result = "{                                (json object)\n"
		  "  \"version\" : n,                 (numeric) the server version\n"
		  "  \"subversion\" : \"str\",          (string) the server subversion string\n"
		  "  \"protocolversion\" : n,         (numeric) the protocol version\n"
		  "  \"network\" : \"str\",             (string) the network: main, testnet or "
		  "regtest\n"
		  "  \"nodepubkey\" : \"hex\",          (string) the node's x-only public key (32 "
		  "bytes)\n"
		  "  \"localservices\" : \"hex\",       (string) the services we offer to the "
		  "network\n"
		  "  \"localservicesnames\" : [       (json array) the services we offer to the "
		  "network,\n"
		  "                                 in human-readable form\n"
		  "    \"str\",                       (string) the service name\n"
		  "    ...\n"
		  "  ],\n"
		  "  \"networkactive\" : true|false,  (boolean) whether p2p networking is enabled\n"
		  "  \"connections\" : n,             (numeric) the total number of connections\n"
		  "  \"connections_in\" : n,          (numeric) the number of inbound connections\n"
		  "  \"connections_out\" : n,         (numeric) the number of outbound "
		  "connections\n"
		  "  \"localaddresses\" : [           (json array) the addresses we listen on\n"
		  "    {                            (json object)\n"
		  "      \"address\" : \"str\",         (string) network address\n"
		  "      \"port\" : n                 (numeric) network port\n"
		  "    },\n"
		  "    ...\n"
		  "  ],\n"
		  "  \"warnings\" : \"str\"             (string) any network warnings\n"
		  "}",
	.examples = "p2p-cli getnetworkinfo",
};

static const struct rpc_spec spec_getnodeaddresses = {
	.name = "getnodeaddresses",
	.category = "network",
	.description = "Return addresses from the node's address book, chosen at random among "
		       "those\n"
		       "that are not too old and have not failed too often. They can be used to "
		       "find\n"
		       "new peers; the book may know more addresses than are returned.",
	.args = {{"count", RPC_T_INT, true, "1",
		  "The most addresses to return, at most 2500; 0 returns all that qualify\n"
		  "(again at most 2500). A negative count is error -8"},
		 {"network", RPC_T_STR, true, "all networks",
		  "Return only addresses of this network: ipv4, ipv6, onion, i2p or cjdns\n"
		  "(error -8 for any other name)"}},
	.result = "[                         (json array)\n"
		  "  {                       (json object)\n"
		  "    \"time\" : xxx,         (numeric) The UNIX epoch time the address was "
		  "last heard of\n"
		  "                          as online\n"
		  "    \"services\" : n,       (numeric) The service bits it announced\n"
		  "    \"address\" : \"str\",    (string) The address (IP without brackets, "
		  ".onion or\n"
		  "                          .b32.i2p name)\n"
		  "    \"port\" : n,           (numeric) The port\n"
		  "    \"network\" : \"str\"     (string) The network: ipv4, ipv6, onion, i2p or "
		  "cjdns\n"
		  "  },\n"
		  "  ...\n"
		  "]",
	.examples = "p2p-cli getnodeaddresses 8\n"
		    "p2p-cli getnodeaddresses 0 \"ipv6\"\n"
		    "p2p-cli -named getnodeaddresses network=onion count=12",
};

static const struct rpc_spec spec_getpeerscores = {
	.name = "getpeerscores",
	.category = "network",
	.description = "List the reputation remembered per IP address from earlier connections\n"
		       "(doc/scoring.md, \"Reputation\"): bad points halve every 24 hours, good\n"
		       "points every 7 days. At most 10,000 addresses are remembered.",
	.result = "[                         (json array)\n"
		  "  {                       (json object)\n"
		  "    \"address\" : \"str\",    (string) The IP address\n"
		  "    \"bad\" : n.n,          (numeric) Remembered misbehaviour points, decayed "
		  "to now\n"
		  "    \"good\" : n.n,         (numeric) Remembered good score, decayed to now\n"
		  "    \"updated\" : xxx       (numeric) When it was last remembered (UNIX time)\n"
		  "  },\n"
		  "  ...\n"
		  "]",
	.examples = "p2p-cli getpeerscores",
};

static const struct rpc_spec spec_getpeerinfo = {
	.name = "getpeerinfo",
	.category = "network",
	.description = "Returns data about each connected network peer as a json array of "
		       "objects,\n"
		       "in the order the connections began.",
	.result =
		"[                                 (json array)\n"
		"  {                               (json object)\n"
		"    \"id\" : n,                     (numeric) Peer index\n"
		"    \"addr\" : \"str\",               (string) (host:port) The IP address and "
		"port of the peer\n"
		"    \"addrbind\" : \"str\",           (string, optional) (ip:port) Bind address "
		"of the connection to the peer\n"
		"    \"network\" : \"str\",            (string) Network (ipv4, ipv6; unknown while "
		"a "
		"host name\n"
		"                                  is being resolved)\n"
		"    \"inbound\" : true|false,       (boolean) Inbound (true) or Outbound "
		"(false)\n"
		"    \"connection_type\" : \"str\",    (string) Type of connection: "
		"outbound-full-relay,\n"
		"                                  manual, feeler, addr-fetch, inbound\n"
		"    \"state\" : \"str\",              (string) Connection state: connecting, "
		"await_version,\n"
		"                                  await_verack, established, disconnecting\n"
		"    \"services\" : \"hex\",           (string) The services offered\n"
		"    \"servicesnames\" : [           (json array) the services offered, in "
		"human-readable form\n"
		"      \"str\",                      (string) the service name if it is "
		"recognised,\n"
		"                                  else UNKNOWN[2^n]\n"
		"      ...\n"
		"    ],\n"
		"    \"version\" : n,                (numeric) The peer version, such as 80001\n"
		"    \"subver\" : \"str\",             (string) The string version (printable "
		"ASCII; "
		"other bytes\n"
		"                                  show as '?')\n"
		"    \"startingheight\" : n,         (numeric) The starting height of the peer\n"
		"    \"relay\" : true|false,         (boolean) Whether the peer asked us to relay "
		"messages\n"
		"    \"conntime\" : xxx,             (numeric) The UNIX epoch time of the "
		"connection\n"
		"    \"lastsend\" : xxx,             (numeric) The UNIX epoch time of the last "
		"send\n"
		"    \"lastrecv\" : xxx,             (numeric) The UNIX epoch time of the last "
		"receive\n"
		"    \"bytessent\" : n,              (numeric) The total bytes sent\n"
		"    \"bytesrecv\" : n,              (numeric) The total bytes received\n"
		"    \"bytessent_per_msg\" : {       (json object)\n"
		"      \"msg\" : n,                  (numeric) The total bytes sent aggregated "
		"by message type,\n"
		"                                  header included; only non-zero entries; "
		"\"*other*\"\n"
		"                                  for the others\n"
		"      ...\n"
		"    },\n"
		"    \"bytesrecv_per_msg\" : {       (json object)\n"
		"      \"msg\" : n,                  (numeric) The total bytes received "
		"aggregated by message type,\n"
		"                                  header included; only non-zero entries; "
		"unknown\n"
		"                                  commands count as \"*other*\"\n"
		"      ...\n"
		"    },\n"
		"    \"pingtime\" : n,               (numeric, optional) The last ping time in "
		"seconds, if any\n"
		"    \"minping\" : n,                (numeric, optional) The minimum observed ping "
		"time in seconds, if any\n"
		"    \"pingwait\" : n,               (numeric, optional) The duration in seconds "
		"of an outstanding ping\n"
		"    \"timeoffset\" : n,             (numeric) The time offset in seconds\n"
		"    \"checksum_errors\" : n,        (numeric) Frames dropped for a bad checksum\n"
		"    \"malformed\" : n,              (numeric) Known messages dropped as "
		"malformed\n"
		"    \"protocol_violations\" : n,    (numeric) Messages ignored as out of place\n"
		"    \"unknown_messages\" : n,       (numeric) Messages with an unknown command\n"
		"    \"msgs_announced\" : n,         (numeric) Message ids the peer announced to "
		"us\n"
		"    \"msgs_requested\" : n,         (numeric) Messages we requested from the "
		"peer\n"
		"    \"msgs_received\" : n,          (numeric) Message bodies received from the "
		"peer\n"
		"    \"msgs_sent\" : n,              (numeric) Message bodies sent to the peer\n"
		"    \"msgs_duplicate\" : n,         (numeric) Bodies received that we already "
		"had\n"
		"    \"msgs_invalid\" : n,           (numeric) Bodies refused by the sender's "
		"fault\n"
		"                                  (malformed, bad signature)\n"
		"    \"msgs_notfound\" : n,          (numeric) notfound answers received\n"
		"    \"msgs_unrequested\" : n,       (numeric) Bodies we had not asked for "
		"(dropped)\n"
		"    \"msgs_inflight\" : n,          (numeric) Our requests it has not answered "
		"yet\n"
		"    \"addr_relay_enabled\" : true|false, (boolean) Whether we relay addresses "
		"to the peer\n"
		"                                  (it sent sendaddrv2)\n"
		"    \"addr_processed\" : n,         (numeric) Addresses from the peer that we "
		"processed\n"
		"                                  (not rate-limited)\n"
		"    \"addr_rate_limited\" : n,      (numeric) Addresses from the peer dropped by "
		"the rate\n"
		"                                  limit (0.1 per second, burst 1000)\n"
		"    \"zlib\" : true|false           (boolean) Whether compression was negotiated\n"
		"    \"misbehaviour\" : n.n,         (numeric) Misbehaviour points now (decay "
		"100/h;\n"
		"                                  at 100 the peer is disconnected, discouraged)\n"
		"    \"offences\" : { \"name\": n }, (object) Offences committed, by name\n"
		"                                  (doc/scoring.md)\n"
		"    \"discouraged\" : true|false    (boolean) Whether its address was discouraged "
		"when\n"
		"                                  it connected\n"
		"    \"permissions\" : [ \"perm\" ]    (array) noban, addr, relay (-whitelist,\n"
		"                                  -whitebind)\n"
		"    \"score\" : n.n,                (numeric) Reputation score (doc/scoring.md)\n"
		"    \"score_breakdown\" : { ... }   (object) Its parts: uptime, "
		"first_deliveries,\n"
		"                                  answers, misbehaviour, colocation, remembered\n"
		"  },\n"
		"  ...\n"
		"]",
	.examples = "p2p-cli getpeerinfo",
};

static const struct rpc_spec spec_listbanned = {
	.name = "listbanned",
	.category = "network",
	.description = "Lists the banned IPs and subnets that have not expired yet (expired bans "
		       "are\n"
		       "forgotten here). Times are the node's clock (setmocktime moves it).",
	.result = "[                              (json array)\n"
		  "  {                            (json object)\n"
		  "    \"address\" : \"str\",         (string) The banned subnet, \"a.b.c.d/n\" or "
		  "\"x:y::/n\"\n"
		  "    \"ban_created\" : n,         (numeric) The UNIX epoch time the ban was set\n"
		  "    \"banned_until\" : n,        (numeric) The UNIX epoch time the ban ends\n"
		  "    \"ban_duration\" : n,        (numeric) The ban's length in seconds\n"
		  "    \"time_remaining\" : n       (numeric) Seconds until the ban ends\n"
		  "  },\n"
		  "  ...\n"
		  "]",
	.examples = "p2p-cli listbanned",
};

static const struct rpc_spec spec_ping = {
	.name = "ping",
	.category = "network",
	.description = "Requests that a ping be sent to all other nodes, to measure ping time.\n"
		       "Results provided in getpeerinfo, pingtime and pingwait fields are decimal "
		       "seconds.\n"
		       "A peer whose handshake is not done, or which owes us a pong, is not pinged "
		       "again.",
	.result = "null    (json null)",
	.examples = "p2p-cli ping",
};

static const struct rpc_spec spec_setban = {
	.name = "setban",
	.category = "network",
	.description =
		"Adds an IP or subnet to the banned list, or removes one from it.\n"
		"A banned address is refused when it connects and is not dialled; adding a ban\n"
		"disconnects every connected peer inside the subnet at once. Bans are saved and\n"
		"kept across restarts until they end (at most 10000 bans).\n"
		"Errors: -8 for an invalid IP/subnet, a bantime out of range or an absolute time\n"
		"in the past; -23 when the subnet is already banned (or the address lies in a\n"
		"banned subnet); -30 when remove names no ban.",
	.args = {{"subnet", RPC_T_STR, false, NULL,
		  "The IP or subnet (see getpeerinfo for peers'\n"
		  "addresses): an address (one host, /32 or /128), \"a.b.c.d/n\",\n"
		  "\"a.b.c.d/255.255.0.0\" or \"x:y::/n\". remove takes the subnet\n"
		  "as it was banned"},
		 {"command", RPC_T_STR, false, NULL,
		  "'add' to ban the IP/subnet, 'remove' to lift its\n"
		  "ban"},
		 {"bantime", RPC_T_INT, true, "0",
		  "How long the ban lasts in seconds, or with\n"
		  "absolute the UNIX epoch time it ends. 0 or less: the -bantime\n"
		  "option (default 86400, one day)"},
		 {"absolute", RPC_T_BOOL, true, "false",
		  "Whether bantime is an absolute UNIX epoch\n"
		  "time"}},
	.result = "null    (json null)",
	.examples = "p2p-cli setban \"192.168.0.6\" \"add\" 86400\n"
		    "p2p-cli setban \"192.168.0.0/24\" \"add\"\n"
		    "p2p-cli setban \"2001:db8::/32\" \"add\" 1893456000 true\n"
		    "p2p-cli setban \"192.168.0.0/24\" \"remove\"",
};

static const struct rpc_spec spec_setnetworkactive = {
	.name = "setnetworkactive",
	.category = "network",
	.description = "Disable/enable all p2p network activity.\n"
		       "Disabling disconnects every peer and refuses new connections; enabling "
		       "dials the added nodes again.",
	.args = {{"state", RPC_T_BOOL, false, NULL, "true to enable networking, false to disable"}},
	.result = "true|false    (boolean) The value that was passed in",
	.examples = "p2p-cli setnetworkactive false",
};

/* Sorted by category, then name (test_spec checks the order). */
static const struct rpc_spec *const all_specs[] = {
	/* control */
	&spec_getrpcinfo,
	&spec_help,
	&spec_logging,
	&spec_stop,
	&spec_uptime,
	/* hidden */
	&spec_addpeeraddress,
	&spec_setmocktime,
	/* messages */
	&spec_decodemessage,
	&spec_getmessage,
	&spec_getstoreinfo,
	&spec_getsyncinfo,
	&spec_listmessages,
	&spec_publish,
	&spec_sendrawmessage,
	&spec_syncwithpeer,
	&spec_waitformessage,
	/* network */
	&spec_addnode,
	&spec_clearbanned,
	&spec_disconnectnode,
	&spec_getaddednodeinfo,
	&spec_getaddrmaninfo,
	&spec_getconnectioncount,
	&spec_getnettotals,
	&spec_getnetworkinfo,
	&spec_getnodeaddresses,
	&spec_getpeerinfo,
	&spec_getpeerscores,
	&spec_listbanned,
	&spec_ping,
	&spec_setban,
	&spec_setnetworkactive,
};
#define N_SPECS (sizeof(all_specs) / sizeof(all_specs[0]))

const struct rpc_spec *rpc_spec_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < N_SPECS; i++)
		if (strcmp(all_specs[i]->name, name) == 0)
			return all_specs[i];
	return NULL;
}

size_t rpc_spec_all(const struct rpc_spec *const **out)
{
	*out = all_specs;
	return N_SPECS;
}

size_t rpc_spec_nargs(const struct rpc_spec *s)
{
	size_t n = 0;
	while (n < RPC_MAX_ARGS && s->args[n].name != NULL)
		n++;
	return n;
}

const char *rpc_type_name(enum rpc_type t)
{
	switch (t) {
	case RPC_T_STR:
		return "string";
	case RPC_T_INT:
		return "numeric";
	case RPC_T_NUM:
		return "numeric";
	case RPC_T_BOOL:
		return "boolean";
	case RPC_T_OBJ:
		return "json object";
	case RPC_T_ARR:
		return "json array";
	case RPC_T_ANY:
		return "any";
	}
	return "unknown";
}

int rpc_type_matches(enum rpc_type t, const json_t *v)
{
	if (v == NULL)
		return 0;
	switch (t) {
	case RPC_T_STR:
		return json_is_string(v);
	case RPC_T_INT:
		return json_is_integer(v);
	case RPC_T_NUM:
		return json_is_number(v);
	case RPC_T_BOOL:
		return json_is_boolean(v);
	case RPC_T_OBJ:
		return json_is_object(v);
	case RPC_T_ARR:
		return json_is_array(v);
	case RPC_T_ANY:
		return 1;
	}
	return 0;
}

/* A growable string for building help texts. A failed allocation sticks: every later append
 * does nothing and sbuf_finish returns NULL. */
struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

static void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sbuf_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	size_t need = b->len + (size_t)n + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < need)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (np == NULL) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static char *sbuf_finish(struct sbuf *b)
{
	if (b->failed || b->p == NULL) {
		free(b->p);
		return b->failed ? NULL : strdup("");
	}
	return b->p;
}

static void append_usage(struct sbuf *b, const struct rpc_spec *s)
{
	size_t n = rpc_spec_nargs(s);
	bool in_optional = false;
	sbuf_printf(b, "%s", s->name);
	for (size_t i = 0; i < n; i++) {
		const struct rpc_arg_spec *a = &s->args[i];
		if (a->optional && !in_optional) {
			sbuf_printf(b, " (");
			in_optional = true;
		}
		if (a->type == RPC_T_STR)
			sbuf_printf(b, " \"%s\"", a->name);
		else
			sbuf_printf(b, " %s", a->name);
	}
	if (in_optional)
		sbuf_printf(b, " )");
}

char *rpc_spec_usage(const struct rpc_spec *s)
{
	struct sbuf b = {0};
	append_usage(&b, s);
	return sbuf_finish(&b);
}

/* Append text with every line after the first indented by indent spaces. */
static void append_indented(struct sbuf *b, const char *text, int indent)
{
	for (const char *p = text; *p != '\0'; p++) {
		sbuf_printf(b, "%c", *p);
		if (*p == '\n' && p[1] != '\0')
			sbuf_printf(b, "%*s", indent, "");
	}
}

static void append_arguments(struct sbuf *b, const struct rpc_spec *s)
{
	size_t n = rpc_spec_nargs(s);
	int width = 0;
	for (size_t i = 0; i < n; i++) {
		int w = (int)strlen(s->args[i].name);
		if (w > width)
			width = w;
	}
	sbuf_printf(b, "\n\nArguments:");
	for (size_t i = 0; i < n; i++) {
		const struct rpc_arg_spec *a = &s->args[i];
		sbuf_printf(b, "\n%zu. %-*s    (%s, ", i + 1, width, a->name,
			    rpc_type_name(a->type));
		if (!a->optional)
			sbuf_printf(b, "required");
		else if (a->default_text != NULL)
			sbuf_printf(b, "optional, default=%s", a->default_text);
		else
			sbuf_printf(b, "optional");
		sbuf_printf(b, ") ");
		/* Continuation lines line up under the description's column. */
		append_indented(b, a->desc, width + 7);
	}
}

char *rpc_spec_help(const struct rpc_spec *s)
{
	struct sbuf b = {0};
	append_usage(&b, s);
	sbuf_printf(&b, "\n\n%s", s->description);
	if (rpc_spec_nargs(s) > 0)
		append_arguments(&b, s);
	sbuf_printf(&b, "\n\nResult:\n%s\n\nExamples:", s->result);
	const char *line = s->examples;
	while (*line != '\0') {
		size_t len = strcspn(line, "\n");
		sbuf_printf(&b, "\n> %.*s", (int)len, line);
		line += len;
		if (*line == '\n')
			line++;
	}
	return sbuf_finish(&b);
}

char *rpc_spec_overview(void)
{
	struct sbuf b = {0};
	const char *category = NULL;
	for (size_t i = 0; i < N_SPECS; i++) {
		const struct rpc_spec *s = all_specs[i];
		if (strcmp(s->category, "hidden") == 0)
			continue;
		if (category == NULL || strcmp(category, s->category) != 0) {
			sbuf_printf(&b, "%s== %c%s ==\n", category ? "\n\n" : "",
				    toupper((unsigned char)s->category[0]), s->category + 1);
			category = s->category;
		} else {
			sbuf_printf(&b, "\n");
		}
		append_usage(&b, s);
	}
	return sbuf_finish(&b);
}

/* Parse a word as any JSON value (scalars included). Returns a new reference or NULL. */
static json_t *parse_json_word(const char *word)
{
	json_error_t jerr;
	return json_loads(word, JSON_DECODE_ANY, &jerr);
}

static json_t *string_word(const char *word, char *err, size_t errlen)
{
	json_t *v = json_string(word);
	if (v == NULL)
		snprintf(err, errlen, "Argument is not valid UTF-8");
	return v;
}

static json_t *convert(const struct rpc_arg_spec *a, const char *word, char *err, size_t errlen)
{
	if (a != NULL && a->type == RPC_T_STR)
		return string_word(word, err, errlen);
	json_t *v = parse_json_word(word);
	if (v != NULL)
		return v;
	if (a == NULL)
		return string_word(word, err, errlen);
	snprintf(err, errlen, "Error parsing JSON: %s (argument \"%s\" must be %s)", word, a->name,
		 rpc_type_name(a->type));
	return NULL;
}

json_t *rpc_spec_convert_arg(const char *method, size_t i, const char *word, char *err,
			     size_t errlen)
{
	const struct rpc_spec *s = rpc_spec_find(method);
	const struct rpc_arg_spec *a = NULL;
	if (s != NULL && i < rpc_spec_nargs(s))
		a = &s->args[i];
	return convert(a, word, err, errlen);
}

json_t *rpc_spec_convert_named(const char *method, const char *name, const char *word, char *err,
			       size_t errlen)
{
	const struct rpc_spec *s = rpc_spec_find(method);
	const struct rpc_arg_spec *a = NULL;
	if (s != NULL && name != NULL) {
		size_t n = rpc_spec_nargs(s);
		for (size_t i = 0; i < n; i++)
			if (strcmp(s->args[i].name, name) == 0)
				a = &s->args[i];
	}
	return convert(a, word, err, errlen);
}
