/* Unit tests for net/connman: two or three connection managers in one process, on one event
 * loop, talking over loopback sockets (no node needed, which is the point of the node-context
 * design). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "net/connman.h"
#include "util/clock.h"
#include "util/netparams.h"
#include "util/random.h"

#include "unit_util.h"

struct env {
	struct event_base *base;
	struct clock clock;
};

static struct connman *mk(struct env *e, uint16_t port, int maxconn)
{
	struct connman_config cfg;
	unit_connman_config(&cfg, e->base, &e->clock, port);
	cfg.max_connections = maxconn;
	cfg.listen = port != 0;
	return unit_connman_start(&cfg);
}

typedef int (*pred_fn)(void *ctx);

/* Run the loop until pred holds or seconds pass. Returns pred's last value. */
static int run_until(struct env *e, pred_fn pred, void *ctx, double seconds)
{
	return unit_run_until(e->base, pred, ctx, seconds, 1000000);
}

struct two {
	struct connman *a, *b;
	size_t want_a, want_b;
};

static int both_established(void *ctx)
{
	struct two *t = ctx;
	return unit_established(t->a) == t->want_a && unit_established(t->b) == t->want_b;
}

static int setup(void **state)
{
	static struct env e;
	random_init();
	e.base = event_base_new();
	e.clock.mock_time = 0;
	*state = &e;
	return e.base ? 0 : -1;
}

static int teardown(void **state)
{
	struct env *e = *state;
	event_base_free(e->base);
	return 0;
}

static void test_handshake(void **state)
{
	struct env *e = *state;
	uint16_t port = unit_free_port();
	struct connman *a = mk(e, port, 20), *b = mk(e, 0, 20);
	char dest[32];
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", port);
	assert_int_equal(connman_addnode(b, dest, ADDNODE_ONETRY), ADDNODE_OK);
	struct two t = {a, b, 1, 1};
	assert_true(run_until(e, both_established, &t, 5));
	const struct peer *pa = connman_peers(a), *pb = connman_peers(b);
	assert_int_equal(pa->type, CONN_INBOUND);
	assert_int_equal(pb->type, CONN_MANUAL);
	assert_string_equal(pa->subver, "/p2pd:0.1.0/");
	assert_int_equal(pb->version, 80001);
	assert_int_equal(pb->services, NODE_MSGSTORE);
	assert_true(pb->bytes_recv > 0 && pb->bytes_sent > 0);
	assert_true(pb->recv_per_msg[STAT_VERSION] > 0);
	size_t in, out;
	assert_int_equal(connman_count(a, &in, &out), 1);
	assert_int_equal(in, 1);
	assert_int_equal(connman_count(b, &in, &out), 1);
	assert_int_equal(out, 1);
	/* disconnect by id: both sides see it go */
	assert_int_equal(connman_disconnect_id(b, pb->id), 0);
	assert_int_equal(connman_disconnect_id(b, 999), -1);
	t.want_a = t.want_b = 0;
	assert_true(run_until(e, both_established, &t, 5));
	connman_free(a);
	connman_free(b);
}

struct self {
	struct connman *a;
	int saw_peer;
};

static int self_gone(void *ctx)
{
	struct self *s = ctx;
	s->saw_peer |= connman_peers(s->a) != NULL;
	return s->saw_peer && connman_peers(s->a) == NULL;
}

static void test_self_connection_dropped(void **state)
{
	struct env *e = *state;
	uint16_t port = unit_free_port();
	struct connman *a = mk(e, port, 20);
	char dest[32];
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", port);
	connman_addnode(a, dest, ADDNODE_ONETRY);
	struct self s = {a, 0};
	assert_true(run_until(e, self_gone, &s, 5));
	assert_int_equal(unit_established(a), 0);
	connman_free(a);
}

static void test_inbound_limit(void **state)
{
	struct env *e = *state;
	uint16_t port = unit_free_port();
	/* 11 connections leave 1 inbound slot. */
	struct connman *a = mk(e, port, CONNMAN_OUTBOUND_SLOTS + 1);
	struct connman *b = mk(e, 0, 20), *c = mk(e, 0, 20);
	assert_int_equal(connman_max_inbound(a), 1);
	char dest[32];
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", port);
	connman_addnode(b, dest, ADDNODE_ONETRY);
	struct two t = {a, b, 1, 1};
	assert_true(run_until(e, both_established, &t, 5));
	/* c is refused: its connection opens, then closes; a keeps one inbound peer */
	connman_addnode(c, dest, ADDNODE_ONETRY);
	struct self s = {c, 0};
	assert_true(run_until(e, self_gone, &s, 5));
	assert_null(connman_peers(c));
	size_t in;
	connman_count(a, &in, NULL);
	assert_int_equal(in, 1);
	assert_int_equal(unit_established(b), 1);
	connman_free(a);
	connman_free(b);
	connman_free(c);
}

static int pinged(void *ctx)
{
	struct connman *b = ctx;
	return connman_peers(b) && connman_peers(b)->last_ping_us >= 0 &&
	       connman_peers(b)->ping_nonce == 0;
}

static int no_peers(void *ctx)
{
	return connman_peers(ctx) == NULL;
}

static void test_ping_and_network_inactive(void **state)
{
	struct env *e = *state;
	uint16_t port = unit_free_port();
	struct connman *a = mk(e, port, 20), *b = mk(e, 0, 20);
	char dest[32];
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", port);
	assert_int_equal(connman_addnode(b, dest, ADDNODE_ADD), ADDNODE_OK);
	assert_int_equal(connman_addnode(b, dest, ADDNODE_ADD), ADDNODE_ALREADY_ADDED);
	assert_int_equal(connman_addnode(b, "[::1", ADDNODE_ADD), ADDNODE_BAD_ADDRESS);
	struct two t = {a, b, 1, 1};
	assert_true(run_until(e, both_established, &t, 5));
	/* the first ping goes out at the end of the handshake */
	assert_true(run_until(e, pinged, b, 5));
	assert_true(connman_peers(b)->min_ping_us >= 0);
	struct added_node_info info[4];
	assert_int_equal(connman_added_nodes(b, info, 4), 1);
	assert_non_null(info[0].peer);
	connman_set_active(b, false);
	assert_false(connman_active(b));
	assert_true(run_until(e, no_peers, b, 5));
	assert_true(run_until(e, no_peers, a, 5));
	/* back on: the added node is dialled again */
	connman_set_active(b, true);
	assert_true(run_until(e, both_established, &t, 5));
	assert_int_equal(connman_addnode(b, dest, ADDNODE_REMOVE), ADDNODE_OK);
	assert_int_equal(connman_addnode(b, dest, ADDNODE_REMOVE), ADDNODE_NOT_ADDED);
	connman_free(a);
	connman_free(b);
}

static int gone(void *ctx)
{
	return connman_count(ctx, NULL, NULL) == 0;
}

static int accepted(void *ctx)
{
	return connman_count(ctx, NULL, NULL) == 1;
}

static void test_handshake_timeout_follows_node_clock(void **state)
{
	struct env *e = *state;
	uint16_t port = unit_free_port();
	struct connman *a = mk(e, port, 20);
	/* a silent peer: TCP connect, nothing sent */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_true(run_until(e, accepted, a, 5));
	/* still there while the clock stands */
	assert_false(run_until(e, gone, a, 1.2));
	clock_set_mock(&e->clock, clock_now(&e->clock) + 61);
	assert_true(run_until(e, gone, a, 3));
	clock_set_mock(&e->clock, 0);
	close(fd);
	connman_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_self_connection_dropped),
		cmocka_unit_test(test_inbound_limit),
		cmocka_unit_test(test_ping_and_network_inactive),
		cmocka_unit_test(test_handshake_timeout_follows_node_clock),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
