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

static struct db *open_db(const char *dir)
{
	char err[512];
	struct db *db;
	if (db_open(&db, dir, 1, err, sizeof(err)) != DB_OPEN_OK)
		fail_msg("db_open: %s", err);
	return db;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	if (f == NULL || random_init() != 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/p2pd-test-rpc-ban-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->node.params = netparams_get(NET_REGTEST);
	f->node.start_us = clock_mono_us();
	f->node.lock_fd = -1;
	f->node.bantime = BANTIME;
	clock_set_mock(&f->node.clock, T0);
	f->node.base = event_base_new();
	f->node.db = open_db(f->dir);
	f->node.banman = banman_new(&f->node.clock, f->node.db);
	f->auth = rpc_auth_new();
	if (f->node.base == NULL || f->node.banman == NULL || f->auth == NULL ||
	    rpc_auth_add_password(f->auth, "user", "pass", err, sizeof(err)) != 0)
		return -1;
	struct rpc_server_config cfg = {.timeout_secs = 30, .workqueue = 16, .auth = f->auth};
	f->s = rpc_server_new(f->node.base, &f->node, &cfg, err, sizeof(err));
	if (f->s == NULL) {
		fprintf(stderr, "rpc_server_new: %s\n", err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	rpc_server_free(f->s);
	connman_free(f->node.connman);
	banman_free(f->node.banman);
	db_close(f->node.db);
	rpc_auth_free(f->auth);
	event_base_free(f->node.base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	log_shutdown();
	return 0;
}

/* ---- calling ---------------------------------------------------------------------------- */

/* Execute method with params (JSON text: an array, or an object for named parameters).
 * Returns the result (new reference) and sets *code to 0, or returns NULL with *code and msg
 * set from the error. */
static json_t *call(struct fixture *f, const char *method, const char *params, int *code, char *msg,
		    size_t msglen)
{
	char text[1024];
	json_error_t jerr;
	int status;
	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params);
	json_t *req = json_loads(text, 0, &jerr);
	if (req == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	json_t *r = rpc_server_execute(f->s, req, "user", &status);
	json_decref(req);
	assert_non_null(r);
	const json_t *e = json_object_get(r, "error");
	json_t *result = NULL;
	*code = 0;
	if (e != NULL) {
		*code = (int)json_integer_value(json_object_get(e, "code"));
		snprintf(msg, msglen, "%s", json_string_value(json_object_get(e, "message")));
	} else {
		result = json_incref(json_object_get(r, "result"));
		assert_int_equal(status, 200);
	}
	json_decref(r);
	return result;
}

static json_t *call_ok(struct fixture *f, const char *method, const char *params)
{
	int code;
	char msg[512];
	json_t *r = call(f, method, params, &code, msg, sizeof(msg));
	if (r == NULL)
		fail_msg("%s %s failed: %d %s", method, params, code, msg);
	return r;
}

/* The call must succeed with null. */
static void call_null(struct fixture *f, const char *method, const char *params)
{
	json_t *r = call_ok(f, method, params);
	if (!json_is_null(r))
		fail_msg("%s %s: expected null", method, params);
	json_decref(r);
}

/* The call must fail with code and a message containing text. */
static void call_err(struct fixture *f, const char *method, const char *params, int code,
		     const char *text)
{
	int got;
	char msg[512];
	json_t *r = call(f, method, params, &got, msg, sizeof(msg));
	if (r != NULL || got != code || strstr(msg, text) == NULL)
		fail_msg("%s %s: expected error %d \"%s\", got %d \"%s\"", method, params, code,
			 text, got, r ? "(a result)" : msg);
}

/* listbanned must give exactly expected (compact JSON). */
static void assert_listbanned(struct fixture *f, const char *expected)
{
	json_t *r = call_ok(f, "listbanned", "[]");
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
	call_err(f, "setban", "[\"1.2.3.4\",\"add\"]", RPC_CLIENT_P2P_DISABLED,
		 "Error: Peer-to-peer functionality missing or disabled");
	call_err(f, "setban", "[\"1.2.3.4\",\"remove\"]", RPC_CLIENT_P2P_DISABLED,
		 "Error: Peer-to-peer functionality missing or disabled");
	call_err(f, "listbanned", "[]", RPC_CLIENT_P2P_DISABLED,
		 "Error: Peer-to-peer functionality missing or disabled");
	call_err(f, "clearbanned", "[]", RPC_CLIENT_P2P_DISABLED,
		 "Error: Peer-to-peer functionality missing or disabled");
	/* argument errors still come first */
	call_err(f, "setban", "[\"1.2.3.4\",\"nosuch\"]", RPC_MISC_ERROR, "setban \"subnet\"");
	call_err(f, "setban", "[\"1.2.3.4\"]", RPC_INVALID_PARAMS, "Missing required parameter");
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
	json_t *r = call_ok(f, "listbanned", "[]");
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
	r = call_ok(f, "listbanned", "[]");
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
	call_err(f, "setban", "[\"1.2.3.0/24\",\"add\"]", RPC_CLIENT_NODE_ALREADY_ADDED,
		 "Error: IP/Subnet already banned");
	call_err(f, "setban", "[\"1.2.3.9/255.255.255.0\",\"add\",99]",
		 RPC_CLIENT_NODE_ALREADY_ADDED, "Error: IP/Subnet already banned");
	/* one address inside a banned subnet, as Bitcoin Core */
	call_err(f, "setban", "[\"1.2.3.4\",\"add\"]", RPC_CLIENT_NODE_ALREADY_ADDED,
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
		call_err(f, "setban", params, RPC_INVALID_PARAMETER, "Error: Invalid IP/Subnet");
		snprintf(params, sizeof(params), "[\"%s\",\"remove\"]", bad[i]);
		call_err(f, "setban", params, RPC_INVALID_PARAMETER, "Error: Invalid IP/Subnet");
	}
	/* an absolute time not after now, and a relative one past the end of time */
	call_err(f, "setban", "[\"8.8.8.8\",\"add\",1700000000,true]", RPC_INVALID_PARAMETER,
		 "Error: Absolute timestamp is in the past");
	call_err(f, "setban", "[\"8.8.8.8\",\"add\",1,true]", RPC_INVALID_PARAMETER,
		 "Error: Absolute timestamp is in the past");
	call_err(f, "setban", "[\"8.8.8.8\",\"add\",9223372036854775807]", RPC_INVALID_PARAMETER,
		 "Error: bantime out of range");
	/* type errors from the table */
	call_err(f, "setban", "[\"8.8.8.8\",\"add\",\"1\"]", RPC_TYPE_ERROR, "");
	call_err(f, "setban", "[\"8.8.8.8\",\"add\",1,1]", RPC_TYPE_ERROR, "");
	call_err(f, "setban", "[\"8.8.8.8\",\"Add\"]", RPC_MISC_ERROR, "setban \"subnet\"");
	assert_false(banned(f, "8.8.8.8"));

	/* remove takes the subnet as banned */
	call_err(f, "setban", "[\"1.2.3.4\",\"remove\"]", UNBAN_FAILED,
		 "Error: Unban failed. Requested address/subnet was not previously manually "
		 "banned.");
	call_null(f, "setban", "[\"1.2.3.77/24\",\"remove\"]");
	assert_false(banned(f, "1.2.3.4"));
	call_err(f, "setban", "[\"1.2.3.0/24\",\"remove\"]", UNBAN_FAILED, "Error: Unban failed");
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
	f->node.db = open_db(f->dir);
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

static uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static struct connman *mk_connman(struct event_base *base, struct clock *clock, uint16_t port)
{
	static const char *const bind_lo[] = {"127.0.0.1"};
	struct connman_config cfg = {0};
	char err[256];
	cfg.base = base;
	cfg.clock = clock;
	cfg.params = netparams_get(NET_REGTEST);
	cfg.local_services = NODE_MSGSTORE;
	cfg.max_connections = 20;
	cfg.listen = true;
	cfg.bind = bind_lo;
	cfg.nbind = 1;
	cfg.port = port;
	cfg.max_receive_buffer = 64 * 1024;
	cfg.max_send_buffer = 64 * 1024;
	cfg.peer_timeout = 60;
	struct connman *cm = connman_new(&cfg, err, sizeof(err));
	if (cm == NULL)
		fail_msg("connman_new: %s", err);
	connman_start(cm);
	return cm;
}

static size_t established(const struct connman *cm)
{
	size_t n = 0;
	for (const struct peer *p = connman_peers(cm); p; p = p->next)
		n += p->state == PEER_ESTABLISHED;
	return n;
}

static size_t npeers(const struct connman *cm)
{
	size_t n = 0;
	for (const struct peer *p = connman_peers(cm); p; p = p->next)
		n++;
	return n;
}

struct pair {
	struct connman *a, *b;
};

typedef bool (*pred_fn)(const struct pair *p);

/* Run the loop until pred holds or seconds pass. Returns pred's last value. */
static bool run_until(struct event_base *base, const struct pair *p, pred_fn pred, double seconds)
{
	int64_t end = clock_mono_us() + (int64_t)(seconds * 1e6);
	while (!pred(p) && clock_mono_us() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	return pred(p);
}

static bool two_links(const struct pair *p)
{
	return established(p->a) == 2 && established(p->b) == 2;
}

static bool no_peers(const struct pair *p)
{
	return npeers(p->a) == 0 && npeers(p->b) == 0;
}

static void test_setban_disconnects(void **state)
{
	struct fixture *f = *state;
	struct clock b_clock = {0};
	clock_set_mock(&f->node.clock, 0); /* real time: the handshake checks timestamps */
	uint16_t port_a = free_port(), port_b = free_port();
	f->node.connman = mk_connman(f->node.base, &f->node.clock, port_a);
	struct pair p = {f->node.connman, mk_connman(f->node.base, &b_clock, port_b)};
	char addr[32];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port_b);
	assert_int_equal(connman_addnode(p.a, addr, ADDNODE_ONETRY), ADDNODE_OK);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port_a);
	assert_int_equal(connman_addnode(p.b, addr, ADDNODE_ONETRY), ADDNODE_OK);
	assert_true(run_until(f->node.base, &p, two_links, 5));

	/* a ban elsewhere leaves them alone */
	call_null(f, "setban", "[\"10.0.0.0/8\",\"add\"]");
	call_null(f, "setban", "[\"::1\",\"add\"]");
	for (const struct peer *q = connman_peers(p.a); q; q = q->next)
		assert_int_not_equal(q->state, PEER_DISCONNECTING);
	assert_false(run_until(f->node.base, &p, no_peers, 0.2));
	assert_int_equal(established(p.a), 2);

	/* a ban on their subnet drops both connections (inbound and outbound) at once */
	call_null(f, "setban", "[\"127.0.0.0/8\",\"add\"]");
	for (const struct peer *q = connman_peers(p.a); q; q = q->next)
		assert_int_equal(q->state, PEER_DISCONNECTING);
	assert_true(run_until(f->node.base, &p, no_peers, 5));
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
