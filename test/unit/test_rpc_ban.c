/* Unit tests for the ban commands of rpc/net: setban, listbanned and clearbanned through
 * rpc_server_execute, on a node whose ban manager is a real banman on a LevelDB in a temporary
 * directory (the node's mocked clock). Checks listbanned's shape and values, the bantime forms
 * (default from -bantime, relative, absolute, 0 and negative), every error with its code, bans
 * surviving a restart of the ban manager, expiry, clearbanned, that adding a ban disconnects the
 * connected peers inside the subnet (and only those), and the -31 a node without a network
 * gives. */
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

#include "net/banman.h"
#include "net/connman.h"
#include "node/context.h"
#include "rpc/auth.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"
#include "wire/messages.h"

#include "unit_util.h"

/* As in test_rpc_server.c: the real one is in the node library, not linked here. */
void node_request_shutdown(struct node *node)
{
	node->shutdown_requested = true;
}

#define T0      1700000000 /* the node's mock time */
#define BANTIME 3600       /* the node's -bantime in these tests */
#define DAY     86400
/* The code of a failed unban: Bitcoin Core's RPC_CLIENT_INVALID_IP_OR_SUBNET. */
#define UNBAN_FAILED (-30)

struct fixture {
	struct node node; /* node.banman: the bans the commands change */
	char dir[64];
	struct rpc_auth *auth;
	struct rpc_server *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (f == NULL || random_init() != 0)
		return -1;
	if (unit_mkdtemp(f->dir, sizeof(f->dir), "rpc-ban") == NULL)
		return -1;
	unit_node_defaults(&f->node);
	f->node.bantime = BANTIME;
	clock_set_mock(&f->node.clock, T0);
	f->node.base = event_base_new();
	f->node.db = unit_open_db(f->dir);
	f->node.banman = banman_new(&f->node.clock, f->node.db);
	f->auth = unit_rpc_auth();
	if (f->node.base == NULL || f->node.banman == NULL || f->auth == NULL)
		return -1;
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
	banman_free(f->node.banman);
	db_close(f->node.db);
	rpc_auth_free(f->auth);
	event_base_free(f->node.base);
	unit_rm_rf(f->dir);
	free(f);
	log_shutdown();
	return 0;
}

/* ---- calling ---------------------------------------------------------------------------- */

/* The call must succeed with null. */
static void call_null(struct fixture *f, const char *method, const char *params)
{
	json_t *r = unit_rpc_call_ok(f->s, method, params);
	if (!json_is_null(r))
		fail_msg("%s %s: expected null", method, params);
	json_decref(r);
}

/* listbanned must give exactly expected (compact JSON). */
static void assert_listbanned(struct fixture *f, const char *expected)
{
	json_t *r = unit_rpc_call_ok(f->s, "listbanned", "[]");
	char *s = json_dumps(r, JSON_COMPACT);
	assert_non_null(s);
	if (strcmp(s, expected) != 0)
		fail_msg("listbanned %s\nexpected   %s", s, expected);
	free(s);
	json_decref(r);
}

static bool banned(struct fixture *f, const char *address)
{
	struct netaddr a;
	assert_int_equal(netaddr_parse(&a, address, 1), 0);
	return banman_is_banned(f->node.banman, &a);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_p2p_disabled(void **state)
{
	struct fixture *f = *state;
	struct banman *bm = f->node.banman;
	f->node.banman = NULL;
	unit_rpc_call_err(f->s, "setban", "[\"1.2.3.4\",\"add\"]", RPC_CLIENT_P2P_DISABLED,
			  "Error: Peer-to-peer functionality missing or disabled");
	unit_rpc_call_err(f->s, "setban", "[\"1.2.3.4\",\"remove\"]", RPC_CLIENT_P2P_DISABLED,
			  "Error: Peer-to-peer functionality missing or disabled");
	unit_rpc_call_err(f->s, "listbanned", "[]", RPC_CLIENT_P2P_DISABLED,
			  "Error: Peer-to-peer functionality missing or disabled");
	unit_rpc_call_err(f->s, "clearbanned", "[]", RPC_CLIENT_P2P_DISABLED,
			  "Error: Peer-to-peer functionality missing or disabled");
	/* argument errors still come first */
	unit_rpc_call_err(f->s, "setban", "[\"1.2.3.4\",\"nosuch\"]", RPC_MISC_ERROR,
			  "setban \"subnet\"");
	unit_rpc_call_err(f->s, "setban", "[\"1.2.3.4\"]", RPC_INVALID_PARAMS,
			  "Missing required parameter");
	f->node.banman = bm;
}

static void test_setban_add(void **state)
{
	struct fixture *f = *state;
	assert_listbanned(f, "[]");
	/* no bantime: -bantime */
	call_null(f, "setban", "[\"1.2.3.4\",\"add\"]");
	assert_listbanned(f, "[{\"address\":\"1.2.3.4/32\",\"ban_created\":1700000000,"
			     "\"banned_until\":1700003600,\"ban_duration\":3600,"
			     "\"time_remaining\":3600}]");
	assert_true(banned(f, "1.2.3.4"));
	assert_false(banned(f, "1.2.3.5"));
	/* relative bantime; absolute false given */
	call_null(f, "setban", "[\"10.0.0.0/8\",\"add\",600,false]");
	/* absolute; a netmask */
	call_null(f, "setban", "[\"192.168.7.7/255.255.0.0\",\"add\",1800000000,true]");
	/* 0 and negative: -bantime, and absolute is then ignored */
	call_null(f, "setban", "[\"2001:db8::/32\",\"add\",0,true]");
	call_null(f, "setban", "[\"2001:db9::1\",\"add\",-5]");
	/* named parameters */
	call_null(f, "setban",
		  "{\"subnet\":\"172.16.0.0/12\",\"command\":\"add\",\"bantime\":1700000100,"
		  "\"absolute\":true}");
	clock_set_mock(&f->node.clock, T0 + 60);
	assert_listbanned(
		f, "[{\"address\":\"1.2.3.4/32\",\"ban_created\":1700000000,\"banned_until\":"
		   "1700003600,\"ban_duration\":3600,\"time_remaining\":3540},"
		   "{\"address\":\"10.0.0.0/8\",\"ban_created\":1700000000,\"banned_until\":"
		   "1700000600,\"ban_duration\":600,\"time_remaining\":540},"
		   "{\"address\":\"172.16.0.0/12\",\"ban_created\":1700000000,\"banned_until\":"
		   "1700000100,\"ban_duration\":100,\"time_remaining\":40},"
		   "{\"address\":\"192.168.0.0/16\",\"ban_created\":1700000000,\"banned_until\":"
		   "1800000000,\"ban_duration\":100000000,\"time_remaining\":99999940},"
		   "{\"address\":\"2001:db8::/32\",\"ban_created\":1700000000,\"banned_until\":"
		   "1700003600,\"ban_duration\":3600,\"time_remaining\":3540},"
		   "{\"address\":\"2001:db9::1/128\",\"ban_created\":1700000000,\"banned_until\":"
		   "1700003600,\"ban_duration\":3600,\"time_remaining\":3540}]");
	assert_true(banned(f, "[2001:db8:1::1]:9733"));
	assert_true(banned(f, "::ffff:10.1.2.3"));

	/* a node without -bantime set uses the built-in day */
	f->node.bantime = 0;
	call_null(f, "setban", "[\"5.5.5.5\",\"add\"]");
	json_t *r = unit_rpc_call_ok(f->s, "listbanned", "[]");
	const json_t *last = NULL;
	for (size_t i = 0; i < json_array_size(r); i++)
		if (strcmp(json_string_value(json_object_get(json_array_get(r, i), "address")),
			   "5.5.5.5/32") == 0)
			last = json_array_get(r, i);
	assert_non_null(last);
	assert_int_equal(json_integer_value(json_object_get(last, "ban_duration")), DAY);
	json_decref(r);

	/* expiry: listbanned drops what ended */
	clock_set_mock(&f->node.clock, T0 + 600);
	assert_false(banned(f, "10.1.2.3"));
	r = unit_rpc_call_ok(f->s, "listbanned", "[]");
	assert_int_equal(json_array_size(r), 5);
	json_decref(r);
	clock_set_mock(&f->node.clock, 1800000000);
	assert_listbanned(f, "[]");
	assert_int_equal(banman_count(f->node.banman), 0);
}

static void test_setban_errors(void **state)
{
	struct fixture *f = *state;
	call_null(f, "setban", "[\"1.2.3.0/24\",\"add\"]");
	unit_rpc_call_err(f->s, "setban", "[\"1.2.3.0/24\",\"add\"]", RPC_CLIENT_NODE_ALREADY_ADDED,
			  "Error: IP/Subnet already banned");
	unit_rpc_call_err(f->s, "setban", "[\"1.2.3.9/255.255.255.0\",\"add\",99]",
			  RPC_CLIENT_NODE_ALREADY_ADDED, "Error: IP/Subnet already banned");
	/* one address inside a banned subnet, as Bitcoin Core */
	unit_rpc_call_err(f->s, "setban", "[\"1.2.3.4\",\"add\"]", RPC_CLIENT_NODE_ALREADY_ADDED,
			  "Error: IP/Subnet already banned");
	static const char *const bad[] = {"",
					  "1.2.3.4/33",
					  "1.2.3.4:9733",
					  "example.com",
					  "2001:db8::/129",
					  "1.2.3.4/255.0.255.0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char params[128];
		snprintf(params, sizeof(params), "[\"%s\",\"add\"]", bad[i]);
		unit_rpc_call_err(f->s, "setban", params, RPC_INVALID_PARAMETER,
				  "Error: Invalid IP/Subnet");
		snprintf(params, sizeof(params), "[\"%s\",\"remove\"]", bad[i]);
		unit_rpc_call_err(f->s, "setban", params, RPC_INVALID_PARAMETER,
				  "Error: Invalid IP/Subnet");
	}
	/* an absolute time not after now, and a relative one past the end of time */
	unit_rpc_call_err(f->s, "setban", "[\"8.8.8.8\",\"add\",1700000000,true]",
			  RPC_INVALID_PARAMETER, "Error: Absolute timestamp is in the past");
	unit_rpc_call_err(f->s, "setban", "[\"8.8.8.8\",\"add\",1,true]", RPC_INVALID_PARAMETER,
			  "Error: Absolute timestamp is in the past");
	unit_rpc_call_err(f->s, "setban", "[\"8.8.8.8\",\"add\",9223372036854775807]",
			  RPC_INVALID_PARAMETER, "Error: bantime out of range");
	/* type errors from the table */
	unit_rpc_call_err(f->s, "setban", "[\"8.8.8.8\",\"add\",\"1\"]", RPC_TYPE_ERROR, "");
	unit_rpc_call_err(f->s, "setban", "[\"8.8.8.8\",\"add\",1,1]", RPC_TYPE_ERROR, "");
	unit_rpc_call_err(f->s, "setban", "[\"8.8.8.8\",\"Add\"]", RPC_MISC_ERROR,
			  "setban \"subnet\"");
	assert_false(banned(f, "8.8.8.8"));

	/* remove takes the subnet as banned */
	unit_rpc_call_err(
		f->s, "setban", "[\"1.2.3.4\",\"remove\"]", UNBAN_FAILED,
		"Error: Unban failed. Requested address/subnet was not previously manually "
		"banned.");
	call_null(f, "setban", "[\"1.2.3.77/24\",\"remove\"]");
	assert_false(banned(f, "1.2.3.4"));
	unit_rpc_call_err(f->s, "setban", "[\"1.2.3.0/24\",\"remove\"]", UNBAN_FAILED,
			  "Error: Unban failed");
	assert_listbanned(f, "[]");
}

/* Bans survive a restart: a new ban manager on the same database. */
static void test_restart_and_clear(void **state)
{
	struct fixture *f = *state;
	call_null(f, "setban", "[\"1.2.3.4\",\"add\",100]");
	call_null(f, "setban", "[\"2001:db8::/48\",\"add\"]");
	call_null(f, "setban", "[\"9.9.9.9\",\"add\"]");
	call_null(f, "setban", "[\"9.9.9.9\",\"remove\"]");
	static const char before[] =
		"[{\"address\":\"1.2.3.4/32\",\"ban_created\":1700000000,\"banned_until\":"
		"1700000100,\"ban_duration\":100,\"time_remaining\":100},"
		"{\"address\":\"2001:db8::/48\",\"ban_created\":1700000000,\"banned_until\":"
		"1700003600,\"ban_duration\":3600,\"time_remaining\":3600}]";
	assert_listbanned(f, before);

	banman_free(f->node.banman);
	db_close(f->node.db);
	f->node.db = unit_open_db(f->dir);
	f->node.banman = banman_new(&f->node.clock, f->node.db);
	assert_non_null(f->node.banman);
	assert_listbanned(f, before);
	assert_true(banned(f, "1.2.3.4"));

	/* expired while the node was down: gone after the next start */
	banman_free(f->node.banman);
	clock_set_mock(&f->node.clock, T0 + 100);
	f->node.banman = banman_new(&f->node.clock, f->node.db);
	assert_int_equal(banman_count(f->node.banman), 1);

	call_null(f, "clearbanned", "[]");
	assert_listbanned(f, "[]");
	call_null(f, "clearbanned", "[]"); /* nothing to clear: still fine */
	banman_free(f->node.banman);
	f->node.banman = banman_new(&f->node.clock, f->node.db);
	assert_int_equal(banman_count(f->node.banman), 0);
}

/* ---- disconnection ---------------------------------------------------------------------- */

static struct connman *mk_connman(struct event_base *base, struct clock *clock, uint16_t port)
{
	struct connman_config cfg;
	unit_connman_config(&cfg, base, clock, port);
	return unit_connman_start(&cfg);
}

struct pair {
	struct connman *a, *b;
};

static int two_links(void *ctx)
{
	const struct pair *p = ctx;
	return unit_established(p->a) == 2 && unit_established(p->b) == 2;
}

static int no_peers(void *ctx)
{
	const struct pair *p = ctx;
	return unit_npeers(p->a) == 0 && unit_npeers(p->b) == 0;
}

static void test_setban_disconnects(void **state)
{
	struct fixture *f = *state;
	struct clock b_clock = {0};
	clock_set_mock(&f->node.clock, 0); /* real time: the handshake checks timestamps */
	uint16_t port_a = unit_free_port(), port_b = unit_free_port();
	f->node.connman = mk_connman(f->node.base, &f->node.clock, port_a);
	struct pair p = {f->node.connman, mk_connman(f->node.base, &b_clock, port_b)};
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port_b);
	assert_int_equal(connman_addnode(p.a, addr, ADDNODE_ONETRY), ADDNODE_OK);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port_a);
	assert_int_equal(connman_addnode(p.b, addr, ADDNODE_ONETRY), ADDNODE_OK);
	assert_true(unit_run_until(f->node.base, two_links, &p, 5, 1000000));

	/* a ban elsewhere leaves them alone */
	call_null(f, "setban", "[\"10.0.0.0/8\",\"add\"]");
	call_null(f, "setban", "[\"::1\",\"add\"]");
	for (const struct peer *q = connman_peers(p.a); q; q = q->next)
		assert_int_not_equal(q->state, PEER_DISCONNECTING);
	assert_false(unit_run_until(f->node.base, no_peers, &p, 0.2, 1000000));
	assert_int_equal(unit_established(p.a), 2);

	/* a ban on their subnet drops both connections (inbound and outbound) at once */
	call_null(f, "setban", "[\"127.0.0.0/8\",\"add\"]");
	for (const struct peer *q = connman_peers(p.a); q; q = q->next)
		assert_int_equal(q->state, PEER_DISCONNECTING);
	assert_true(unit_run_until(f->node.base, no_peers, &p, 5, 1000000));
	connman_free(p.b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_p2p_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setban_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setban_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_and_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setban_disconnects, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
