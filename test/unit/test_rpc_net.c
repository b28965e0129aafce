/* Unit tests for rpc/net: the network commands through rpc_server_execute, on a node whose
 * connection manager talks over loopback to a second connection manager (and to a raw socket)
 * on the same event loop. Checks each command's result shape and its errors, and the -31 a node
 * without a network gives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/connman.h"
#include "net/scoring.h"
#include "node/context.h"
#include "rpc/auth.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "rpc/spec.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"
#include "util/version.h"
#include "wire/frame.h"
#include "wire/messages.h"

#include "unit_util.h"

/* As in test_rpc_server.c: the real one is in the node library, not linked here. */
void node_request_shutdown(struct node *node)
{
	node->shutdown_requested = true;
}

/* A service bit we do not know, advertised by the other node to check "UNKNOWN[2^10]". */
#define ODD_SERVICE (UINT64_C(1) << 10)

struct fixture {
	struct node node;     /* node.connman is "A": the node whose RPC we call */
	struct connman *peer; /* "B": the other node */
	struct clock peer_clock;
	uint16_t port_a, port_b;
	char addr_b[32]; /* "127.0.0.1:<port_b>" */
	struct rpc_auth *auth;
	struct rpc_server *s;
};

static struct connman *mk_connman(struct event_base *base, struct clock *clock, uint16_t port,
				  uint64_t services)
{
	struct connman_config cfg;
	unit_connman_config(&cfg, base, clock, port);
	cfg.local_services = services;
	return unit_connman_start(&cfg);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || random_init() != 0)
		return -1;
	unit_node_defaults(&f->node);
	f->node.base = event_base_new();
	f->auth = unit_rpc_auth();
	if (f->node.base == NULL || f->auth == NULL)
		return -1;
	f->port_a = unit_free_port();
	f->port_b = unit_free_port();
	snprintf(f->addr_b, sizeof(f->addr_b), "127.0.0.1:%u", f->port_b);
	f->node.connman = mk_connman(f->node.base, &f->node.clock, f->port_a, NODE_MSGSTORE);
	f->peer = mk_connman(f->node.base, &f->peer_clock, f->port_b, NODE_MSGSTORE | ODD_SERVICE);
	f->s = unit_rpc_server(f->node.base, &f->node, f->auth);
	if (f->s == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rpc_server_free(f->s);
	connman_free(f->node.connman);
	connman_free(f->peer);
	rpc_auth_free(f->auth);
	event_base_free(f->node.base);
	free(f);
	log_shutdown();
	return 0;
}

/* ---- the loop ----------------------------------------------------------------------------- */

static int one_link(void *ctx)
{
	struct fixture *f = ctx;
	return unit_established(f->node.connman) == 1 && unit_established(f->peer) == 1;
}

static int two_links(void *ctx)
{
	struct fixture *f = ctx;
	return unit_established(f->node.connman) == 2 && unit_established(f->peer) == 2;
}

static int no_peers(void *ctx)
{
	struct fixture *f = ctx;
	return unit_npeers(f->node.connman) == 0 && unit_npeers(f->peer) == 0;
}

/* Every peer of A has a round trip measured and no ping outstanding. */
static int pings_done(void *ctx)
{
	struct fixture *f = ctx;
	for (const struct peer *p = connman_peers(f->node.connman); p; p = p->next)
		if (p->last_ping_us < 0 || p->ping_nonce != 0)
			return 0;
	return 1;
}

/* A dials B (A's peer 1: outbound), then B dials A (A's peer 2: inbound); both handshakes
 * and first pings done. */
static void connect_both_ways(struct fixture *f)
{
	char addr_a[32], params[64];
	snprintf(params, sizeof(params), "[\"%s\",\"onetry\"]", f->addr_b);
	json_t *r = unit_rpc_call_ok(f->s, "addnode", params);
	unit_assert_json(r, "null");
	json_decref(r);
	assert_true(unit_run_until(f->node.base, one_link, f, 5, 1000000));
	snprintf(addr_a, sizeof(addr_a), "127.0.0.1:%u", f->port_a);
	assert_int_equal(connman_addnode(f->peer, addr_a, ADDNODE_ONETRY), ADDNODE_OK);
	assert_true(unit_run_until(f->node.base, two_links, f, 5, 1000000));
	assert_true(unit_run_until(f->node.base, pings_done, f, 5, 1000000));
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_p2p_disabled(void **state)
{
	struct fixture *f = *state;
	struct connman *cm = f->node.connman;
	static const char *const calls[][2] = {
		{"getpeerinfo", "[]"},
		{"getconnectioncount", "[]"},
		{"getnettotals", "[]"},
		{"ping", "[]"},
		{"addnode", "[\"127.0.0.1:1\",\"add\"]"},
		{"getaddednodeinfo", "[]"},
		{"disconnectnode", "[\"127.0.0.1:1\"]"},
		{"setnetworkactive", "[true]"},
		{"getnodeaddresses", "[]"},
		{"getaddrmaninfo", "[]"},
		{"addpeeraddress", "[\"1.2.3.4\",9733]"},
	};
	f->node.connman = NULL;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		unit_rpc_call_err(f->s, calls[i][0], calls[i][1], RPC_CLIENT_P2P_DISABLED,
				  "Error: Peer-to-peer functionality missing or disabled");
	/* argument errors still come first */
	unit_rpc_call_err(f->s, "addnode", "[\"127.0.0.1:1\",\"nosuch\"]", RPC_MISC_ERROR,
			  "addnode \"node\"");
	unit_rpc_call_err(f->s, "setnetworkactive", "[]", RPC_INVALID_PARAMS,
			  "Missing required parameter");
	f->node.connman = cm;
}

static void test_getpeerinfo(void **state)
{
	struct fixture *f = *state;
	json_t *r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	unit_assert_json(r, "[]");
	json_decref(r);
	r = unit_rpc_call_ok(f->s, "getconnectioncount", "[]");
	unit_assert_json(r, "0");
	json_decref(r);

	connect_both_ways(f);
	r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	assert_int_equal(json_array_size(r), 2);
	const json_t *out = json_array_get(r, 0), *in = json_array_get(r, 1);
	assert_true(unit_json_num(out, "id") < unit_json_num(in, "id"));
	static const char keys[] =
		"id,addr,addrbind,network,inbound,connection_type,state,services,servicesnames,"
		"version,subver,startingheight,relay,conntime,lastsend,lastrecv,bytessent,"
		"bytesrecv,"
		"bytessent_per_msg,bytesrecv_per_msg,pingtime,minping,timeoffset,checksum_errors,"
		"malformed,protocol_violations,unknown_messages,msgs_announced,msgs_requested,"
		"msgs_received,msgs_sent,msgs_duplicate,msgs_invalid,msgs_notfound,"
		"msgs_unrequested,msgs_inflight,addr_relay_enabled,addr_processed,"
		"addr_rate_limited,zlib,misbehaviour,offences,discouraged,permissions,score,"
		"score_breakdown";
	unit_assert_keys(out, keys);
	unit_assert_keys(in, keys);

	/* the outbound peer: B as we dialled it */
	assert_string_equal(unit_json_str(out, "addr"), f->addr_b);
	assert_true(strncmp(unit_json_str(out, "addrbind"), "127.0.0.1:", 10) == 0);
	assert_string_equal(unit_json_str(out, "network"), "ipv4");
	assert_true(json_is_false(json_object_get(out, "inbound")));
	assert_string_equal(unit_json_str(out, "connection_type"), "manual");
	assert_string_equal(unit_json_str(out, "state"), "established");
	assert_string_equal(unit_json_str(out, "services"), "0000000000000401");
	unit_assert_json(json_object_get(out, "servicesnames"), "[\"MSGSTORE\",\"UNKNOWN[2^10]\"]");
	assert_int_equal(unit_json_num(out, "version"), PROTOCOL_VERSION);
	assert_string_equal(unit_json_str(out, "subver"), CLIENT_SUBVERSION);
	assert_true(json_is_true(json_object_get(out, "relay")));
	int64_t now = clock_now(&f->node.clock);
	assert_true(unit_json_num(out, "conntime") <= now &&
		    unit_json_num(out, "conntime") > now - 60);
	assert_true(unit_json_num(out, "lastrecv") >= unit_json_num(out, "conntime"));
	assert_true(unit_json_num(out, "lastsend") >= unit_json_num(out, "conntime"));
	/* no gossip engine on this node: the message counters read 0; no compression offered */
	assert_int_equal(unit_json_num(out, "msgs_announced") + unit_json_num(out, "msgs_sent") +
				 unit_json_num(out, "msgs_inflight"),
			 0);
	assert_true(json_is_false(json_object_get(out, "zlib")));
	/* address gossip: both sides sent sendaddrv2; no addresses came */
	assert_true(json_is_boolean(json_object_get(out, "addr_relay_enabled")));
	assert_int_equal(
		unit_json_num(out, "addr_processed") + unit_json_num(out, "addr_rate_limited"), 0);
	assert_int_equal(unit_json_num(out, "checksum_errors") + unit_json_num(out, "malformed") +
				 unit_json_num(out, "protocol_violations") +
				 unit_json_num(out, "unknown_messages"),
			 0);
	/* the per-command counts hold only non-zero entries and add up to the totals */
	static const char *const dirs[][2] = {{"bytessent", "bytessent_per_msg"},
					      {"bytesrecv", "bytesrecv_per_msg"}};
	for (size_t d = 0; d < 2; d++) {
		const json_t *per = json_object_get(out, dirs[d][1]);
		const char *k;
		const json_t *v;
		json_int_t sum = 0;
		json_object_foreach((json_t *)per, k, v)
		{
			assert_true(json_integer_value(v) >= WIRE_HEADER_SIZE);
			sum += json_integer_value(v);
		}
		assert_int_equal(sum, unit_json_num(out, dirs[d][0]));
		assert_non_null(json_object_get(per, "version"));
		assert_non_null(json_object_get(per, "verack"));
		assert_null(json_object_get(per, "*other*"));
	}
	/* round trips in seconds: real numbers */
	const json_t *ping = json_object_get(out, "pingtime"),
		     *min = json_object_get(out, "minping");
	assert_true(json_is_real(ping) && json_is_real(min));
	assert_true(json_real_value(min) >= 0 && json_real_value(min) <= json_real_value(ping));
	assert_true(json_real_value(ping) < 5);

	/* the inbound peer: B's own view of that connection matches */
	const struct peer *b_out = NULL;
	for (const struct peer *p = connman_peers(f->peer); p; p = p->next)
		if (p->type == CONN_MANUAL)
			b_out = p;
	assert_non_null(b_out);
	char b_bind[NETADDR_STRLEN], a_listen[32];
	netaddr_format(&b_out->addr_bind, b_bind, sizeof(b_bind));
	snprintf(a_listen, sizeof(a_listen), "127.0.0.1:%u", f->port_a);
	assert_string_equal(unit_json_str(in, "addr"), b_bind);
	assert_string_equal(unit_json_str(in, "addrbind"), a_listen);
	assert_true(json_is_true(json_object_get(in, "inbound")));
	assert_string_equal(unit_json_str(in, "connection_type"), "inbound");
	json_decref(r);

	/* the address counters are the peer's own (net/ counts them; set here to tell them
	 * apart) */
	struct peer *a_in = NULL;
	for (struct peer *p = connman_peers(f->node.connman); p; p = p->next)
		if (p->type == CONN_INBOUND)
			a_in = p;
	assert_non_null(a_in);
	a_in->addr_processed = 1234;
	a_in->addr_rate_limited = 56;
	a_in->addr_relay_enabled = false;
	r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	in = json_array_get(r, 1);
	assert_int_equal(unit_json_num(in, "addr_processed"), 1234);
	assert_int_equal(unit_json_num(in, "addr_rate_limited"), 56);
	assert_true(json_is_false(json_object_get(in, "addr_relay_enabled")));
	a_in->addr_relay_enabled = true;
	json_decref(r);
	r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	assert_true(json_is_true(json_object_get(json_array_get(r, 1), "addr_relay_enabled")));
	json_decref(r);

	/* misbehaviour: points (decaying), the offences committed, permissions */
	a_in->perms = NET_PERM_NOBAN | NET_PERM_RELAY;
	a_in->noban = true;
	peer_misbehaving(a_in, OFF_BAD_CHECKSUM, "test");
	peer_misbehaving(a_in, OFF_BAD_CHECKSUM, "test");
	peer_misbehaving(a_in, OFF_UNREQUESTED, "test");
	r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	in = json_array_get(r, 1);
	double score = json_real_value(json_object_get(in, "misbehaviour"));
	assert_true(score > 29.9 && score <= 30.0);
	json_t *off = json_object_get(in, "offences");
	assert_int_equal(json_object_size(off), 2);
	assert_int_equal(json_integer_value(json_object_get(off, "bad-checksum")), 2);
	assert_int_equal(json_integer_value(json_object_get(off, "unrequested")), 1);
	json_t *perms = json_object_get(in, "permissions");
	assert_int_equal(json_array_size(perms), 2);
	assert_string_equal(json_string_value(json_array_get(perms, 0)), "noban");
	assert_string_equal(json_string_value(json_array_get(perms, 1)), "relay");
	assert_true(json_is_false(json_object_get(in, "discouraged")));
	/* noban: the threshold is reached, the peer stays */
	for (int i = 0; i < 10; i++)
		peer_misbehaving(a_in, OFF_INVALID_SIG, "test");
	assert_int_not_equal(a_in->state, PEER_DISCONNECTING);
	json_decref(r);

	/* ping: outstanding pings show as pingwait until the pongs come */
	r = unit_rpc_call_ok(f->s, "ping", "[]");
	unit_assert_json(r, "null");
	json_decref(r);
	r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	for (size_t i = 0; i < 2; i++) {
		const json_t *w = json_object_get(json_array_get(r, i), "pingwait");
		assert_true(json_is_real(w) && json_real_value(w) >= 0 && json_real_value(w) < 5);
	}
	json_decref(r);
	assert_true(unit_run_until(f->node.base, pings_done, f, 5, 1000000));
	r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	assert_null(json_object_get(json_array_get(r, 0), "pingwait"));
	json_decref(r);

	r = unit_rpc_call_ok(f->s, "getconnectioncount", "[]");
	unit_assert_json(r, "2");
	json_decref(r);
}

static void test_getnetworkinfo_and_totals(void **state)
{
	struct fixture *f = *state;
	connect_both_ways(f);
	json_t *r = unit_rpc_call_ok(f->s, "getnetworkinfo", "[]");
	char expected[256];
	unit_assert_keys(r, "version,subversion,protocolversion,network,nodepubkey,localservices,"
			    "localservicesnames,networkactive,connections,connections_in,"
			    "connections_out,localaddresses,warnings");
	assert_string_equal(unit_json_str(r, "localservices"), "0000000000000001");
	unit_assert_json(json_object_get(r, "localservicesnames"), "[\"MSGSTORE\"]");
	assert_true(json_is_true(json_object_get(r, "networkactive")));
	assert_int_equal(unit_json_num(r, "connections"), 2);
	assert_int_equal(unit_json_num(r, "connections_in"), 1);
	assert_int_equal(unit_json_num(r, "connections_out"), 1);
	snprintf(expected, sizeof(expected), "[{\"address\":\"127.0.0.1\",\"port\":%u}]",
		 f->port_a);
	unit_assert_json(json_object_get(r, "localaddresses"), expected);
	json_decref(r);

	r = unit_rpc_call_ok(f->s, "getnettotals", "[]");
	unit_assert_keys(r, "totalbytesrecv,totalbytessent,totalbytessaved,timemillis");
	assert_int_equal(unit_json_num(r, "totalbytessaved"), 0); /* no compression configured */
	json_t *peers = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	json_int_t recv = 0, sent = 0;
	for (size_t i = 0; i < json_array_size(peers); i++) {
		recv += unit_json_num(json_array_get(peers, i), "bytesrecv");
		sent += unit_json_num(json_array_get(peers, i), "bytessent");
	}
	assert_true(recv > 0 && sent > 0);
	assert_true(unit_json_num(r, "totalbytesrecv") >= recv);
	assert_true(unit_json_num(r, "totalbytessent") >= sent);
	json_int_t ms = clock_real_us() / 1000;
	assert_true(unit_json_num(r, "timemillis") <= ms &&
		    unit_json_num(r, "timemillis") > ms - 60000);
	json_decref(peers);
	json_decref(r);
}

static int added_connected(void *ctx)
{
	struct fixture *f = ctx;
	struct added_node_info info[1];
	return connman_added_nodes(f->node.connman, info, 1) == 1 && info[0].peer != NULL &&
	       info[0].peer->state == PEER_ESTABLISHED;
}

static void test_addnode(void **state)
{
	struct fixture *f = *state;
	char add[64], remove[64], one[64], expected[256];
	snprintf(add, sizeof(add), "[\"%s\",\"add\"]", f->addr_b);
	snprintf(remove, sizeof(remove), "[\"%s\",\"remove\"]", f->addr_b);
	snprintf(one, sizeof(one), "[\"%s\"]", f->addr_b);

	json_t *r = unit_rpc_call_ok(f->s, "addnode", add);
	unit_assert_json(r, "null");
	json_decref(r);
	unit_rpc_call_err(f->s, "addnode", add, RPC_CLIENT_NODE_ALREADY_ADDED,
			  "Node already added");
	assert_true(unit_run_until(f->node.base, added_connected, f, 5, 1000000));
	r = unit_rpc_call_ok(f->s, "getaddednodeinfo", "[]");
	snprintf(expected, sizeof(expected),
		 "[{\"addednode\":\"%s\",\"connected\":true,\"addresses\":[{\"address\":\"%s\","
		 "\"connected\":\"outbound\"}]}]",
		 f->addr_b, f->addr_b);
	unit_assert_json(r, expected);
	json_decref(r);
	r = unit_rpc_call_ok(f->s, "getaddednodeinfo", one);
	unit_assert_json(r, expected);
	json_decref(r);
	unit_rpc_call_err(f->s, "getaddednodeinfo", "[\"127.0.0.1:1\"]", RPC_CLIENT_NODE_NOT_ADDED,
			  "Node has not been added");

	/* a bad command answers with the help text, as Bitcoin Core does */
	char *help = rpc_spec_help(rpc_spec_find("addnode"));
	assert_true(strlen(help) < sizeof(((struct rpc_error *)0)->message));
	unit_rpc_call_err(f->s, "addnode", "[\"127.0.0.1:1\",\"nosuch\"]", RPC_MISC_ERROR, help);
	free(help);
	unit_rpc_call_err(f->s, "addnode", "[\"[::1\",\"add\"]", RPC_INVALID_PARAMETER,
			  "Invalid node address");
	unit_rpc_call_err(f->s, "addnode", "[\"127.0.0.1:1\",\"remove\"]",
			  RPC_CLIENT_NODE_NOT_ADDED, "Node has not been added");

	/* remove: the list is empty again (the connection itself stays) */
	r = unit_rpc_call_ok(f->s, "addnode", remove);
	unit_assert_json(r, "null");
	json_decref(r);
	r = unit_rpc_call_ok(f->s, "getaddednodeinfo", "[]");
	unit_assert_json(r, "[]");
	json_decref(r);
	unit_rpc_call_err(f->s, "getaddednodeinfo", one, RPC_CLIENT_NODE_NOT_ADDED,
			  "Node has not been added");

	/* a full list (names that are never dialled: the loop does not run) */
	for (int i = 0; i < CONNMAN_MAX_ADDED; i++) {
		snprintf(add, sizeof(add), "[\"127.0.0.1:%d\",\"add\"]", i + 1);
		json_decref(unit_rpc_call_ok(f->s, "addnode", add));
	}
	r = unit_rpc_call_ok(f->s, "getaddednodeinfo", "[]");
	assert_int_equal(json_array_size(r), CONNMAN_MAX_ADDED);
	unit_assert_json(json_object_get(json_array_get(r, 0), "connected"), "false");
	unit_assert_json(json_object_get(json_array_get(r, 0), "addresses"), "[]");
	json_decref(r);
	unit_rpc_call_err(f->s, "addnode", "[\"127.0.0.1:999\",\"add\"]",
			  RPC_CLIENT_NODE_CAPACITY_REACHED, "full");
	for (int i = 0; i < CONNMAN_MAX_ADDED; i++) {
		snprintf(remove, sizeof(remove), "[\"127.0.0.1:%d\",\"remove\"]", i + 1);
		json_decref(unit_rpc_call_ok(f->s, "addnode", remove));
	}
}

static void test_disconnectnode(void **state)
{
	struct fixture *f = *state;
	char params[128];
	connect_both_ways(f);
	json_t *peers = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	json_int_t in_id = unit_json_num(json_array_get(peers, 1), "id");
	json_decref(peers);

	static const char only_one[] = "Only one of address and nodeid should be provided.";
	snprintf(params, sizeof(params), "[\"%s\",%lld]", f->addr_b, (long long)in_id);
	unit_rpc_call_err(f->s, "disconnectnode", params, RPC_INVALID_PARAMS, only_one);
	unit_rpc_call_err(f->s, "disconnectnode", "[]", RPC_INVALID_PARAMS, only_one);
	unit_rpc_call_err(f->s, "disconnectnode", "{}", RPC_INVALID_PARAMS, only_one);
	static const char gone[] = "Node not found in connected nodes";
	unit_rpc_call_err(f->s, "disconnectnode", "[\"127.0.0.1:1\"]",
			  RPC_CLIENT_NODE_NOT_CONNECTED, gone);
	unit_rpc_call_err(f->s, "disconnectnode", "[\"\"]", RPC_CLIENT_NODE_NOT_CONNECTED, gone);
	unit_rpc_call_err(f->s, "disconnectnode", "[\"\",999]", RPC_CLIENT_NODE_NOT_CONNECTED,
			  gone);
	unit_rpc_call_err(f->s, "disconnectnode", "{\"nodeid\":-1}", RPC_CLIENT_NODE_NOT_CONNECTED,
			  gone);
	unit_rpc_call_err(f->s, "disconnectnode", "[1]", RPC_TYPE_ERROR, "address");

	/* by address: the peer shows as disconnecting until the loop turns, and no longer counts */
	snprintf(params, sizeof(params), "[\"%s\"]", f->addr_b);
	json_t *r = unit_rpc_call_ok(f->s, "disconnectnode", params);
	unit_assert_json(r, "null");
	json_decref(r);
	unit_rpc_call_err(f->s, "disconnectnode", params, RPC_CLIENT_NODE_NOT_CONNECTED, gone);
	peers = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	assert_string_equal(unit_json_str(json_array_get(peers, 0), "state"), "disconnecting");
	json_decref(peers);
	r = unit_rpc_call_ok(f->s, "getconnectioncount", "[]");
	unit_assert_json(r, "1");
	json_decref(r);
	assert_true(unit_run_until(f->node.base, one_link, f, 5, 1000000));

	/* by id, named */
	snprintf(params, sizeof(params), "{\"nodeid\":%lld}", (long long)in_id);
	r = unit_rpc_call_ok(f->s, "disconnectnode", params);
	unit_assert_json(r, "null");
	json_decref(r);
	assert_true(unit_run_until(f->node.base, no_peers, f, 5, 1000000));
	r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	unit_assert_json(r, "[]");
	json_decref(r);
	snprintf(params, sizeof(params), "[\"\",%lld]", (long long)in_id);
	unit_rpc_call_err(f->s, "disconnectnode", params, RPC_CLIENT_NODE_NOT_CONNECTED, gone);
}

static void test_setnetworkactive(void **state)
{
	struct fixture *f = *state;
	connect_both_ways(f);
	json_t *r = unit_rpc_call_ok(f->s, "setnetworkactive", "[false]");
	unit_assert_json(r, "false");
	json_decref(r);
	assert_true(unit_run_until(f->node.base, no_peers, f, 5, 1000000));
	r = unit_rpc_call_ok(f->s, "getnetworkinfo", "[]");
	assert_true(json_is_false(json_object_get(r, "networkactive")));
	assert_int_equal(unit_json_num(r, "connections"), 0);
	json_decref(r);
	unit_rpc_call_err(f->s, "setnetworkactive", "[\"yes\"]", RPC_TYPE_ERROR, "state");
	r = unit_rpc_call_ok(f->s, "setnetworkactive", "{\"state\":true}");
	unit_assert_json(r, "true");
	json_decref(r);
	r = unit_rpc_call_ok(f->s, "getnetworkinfo", "[]");
	assert_true(json_is_true(json_object_get(r, "networkactive")));
	json_decref(r);
}

static int version_received(void *ctx)
{
	struct fixture *f = ctx;
	const struct peer *p = connman_peers(f->node.connman);
	return p != NULL && p->state == PEER_AWAIT_VERACK;
}

/* A peer's user agent is its own choice of bytes: the net layer keeps printable ASCII only, so
 * invalid UTF-8 cannot make getpeerinfo fail (JSON cannot carry it). Also the entry of a peer
 * whose handshake is half done. */
static void test_subver_sanitised(void **state)
{
	struct fixture *f = *state;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(f->port_a)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	struct msg_version v = {.version = PROTOCOL_VERSION, .services = 0, .nonce = 42};
	snprintf(v.user_agent, sizeof(v.user_agent), "/odd\xff\xfe\x01\x1b[31m:1/");
	struct bytebuf b;
	bytebuf_init(&b, 1024);
	wire_encode_version(&b, &v);
	assert_true(bytebuf_ok(&b));
	uint8_t header[WIRE_HEADER_SIZE];
	frame_header_encode(header, f->node.params->magic, CMD_VERSION, b.data, b.len);
	assert_int_equal(write(fd, header, sizeof(header)), (ssize_t)sizeof(header));
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	bytebuf_free(&b);

	assert_true(unit_run_until(f->node.base, version_received, f, 5, 1000000));
	json_t *r = unit_rpc_call_ok(f->s, "getpeerinfo", "[]");
	assert_string_equal(unit_json_str(json_array_get(r, 0), "subver"), "/odd????[31m:1/");
	assert_string_equal(unit_json_str(json_array_get(r, 0), "state"), "await_verack");
	assert_string_equal(unit_json_str(json_array_get(r, 0), "services"), "0000000000000000");
	unit_assert_json(json_object_get(json_array_get(r, 0), "servicesnames"), "[]");
	json_decref(r);
	close(fd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_p2p_disabled),     T(test_getpeerinfo),    T(test_getnetworkinfo_and_totals),
		T(test_addnode),          T(test_disconnectnode), T(test_setnetworkactive),
		T(test_subver_sanitised),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
