/* Unit tests for msg/gossip: three in-process nodes (connection manager, LevelDB store, gossip
 * engine each) on one event loop, wired A - B - C over loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
#include <event2/thread.h>

#include "crypto/keys.h"
#include "msg/gossip.h"
#include "msg/store.h"
#include "net/connman.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/netparams.h"
#include "util/random.h"

#include "unit_util.h"

#define NNODES 3

struct tnode {
	char dir[64];
	struct clock clock;
	struct db *db;
	struct msgstore *store;
	struct connman *cm;
	struct gossip *g;
	uint16_t port;
	int heard;
};

struct env {
	struct event_base *base;
	struct tnode n[NNODES];
};

static const uint8_t seckey[32] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9,
				   9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

static void on_new(void *ctx, const struct sigmsg *m, const uint8_t id[32])
{
	(void)m;
	(void)id;
	((struct tnode *)ctx)->heard++;
}

static void node_start(struct env *e, struct tnode *t, int threads)
{
	char err[512];
	assert_non_null(unit_mkdtemp(t->dir, sizeof(t->dir), "gossip"));
	assert_int_equal(db_open(&t->db, t->dir, 1, err, sizeof(err)), DB_OPEN_OK);
	t->store = msgstore_open(t->db, err, sizeof(err));
	assert_non_null(t->store);
	t->port = unit_free_port();
	struct connman_config cc;
	unit_connman_config(&cc, e->base, &t->clock, t->port);
	cc.max_receive_buffer = 1 << 20;
	cc.max_send_buffer = 1 << 20;
	cc.compression = true;
	t->cm = connman_new(&cc, err, sizeof(err));
	assert_non_null(t->cm);
	struct gossip_config gc = {0};
	gc.base = e->base;
	gc.clock = &t->clock;
	gc.connman = t->cm;
	gc.store = t->store;
	gc.verify_threads = threads;
	gc.relay_delay_ms = 0;
	gc.inbound_delay_ms = 0;
	gc.request_timeout = 5;
	gc.policy = (struct msg_policy){0, 3600, 65536, 0};
	gc.prune_interval = 60;
	t->g = gossip_new(&gc, err, sizeof(err));
	assert_non_null(t->g);
	assert_true(gossip_listen(t->g, on_new, t) > 0);
	connman_start(t->cm);
}

static void node_stop(struct tnode *t)
{
	gossip_free(t->g);
	connman_free(t->cm);
	msgstore_free(t->store);
	db_close(t->db);
	unit_rm_rf(t->dir);
}

typedef int (*pred_fn)(struct env *e, void *arg);

struct pred_call {
	struct env *e;
	pred_fn pred;
	void *arg;
};

static int pred_holds(void *ctx)
{
	const struct pred_call *c = ctx;
	return c->pred(c->e, c->arg);
}

static int run_until(struct env *e, pred_fn pred, void *arg, double seconds)
{
	struct pred_call c = {e, pred, arg};
	return unit_run_until(e->base, pred_holds, &c, seconds, 500000);
}

static int line_up(struct env *e, void *arg)
{
	(void)arg;
	return unit_established(e->n[0].cm) == 1 && unit_established(e->n[1].cm) == 2 &&
	       unit_established(e->n[2].cm) == 1;
}

static void connect_line(struct env *e)
{
	char dest[32];
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", e->n[1].port);
	connman_addnode(e->n[0].cm, dest, ADDNODE_ONETRY);
	snprintf(dest, sizeof(dest), "127.0.0.1:%u", e->n[2].port);
	connman_addnode(e->n[1].cm, dest, ADDNODE_ONETRY);
	assert_true(run_until(e, line_up, NULL, 5));
}

static int setup_with(void **state, int threads)
{
	static struct env e;
	memset(&e, 0, sizeof(e));
	e.base = event_base_new();
	for (int i = 0; i < NNODES; i++)
		node_start(&e, &e.n[i], threads);
	connect_line(&e);
	*state = &e;
	return 0;
}

static int setup_inline(void **state)
{
	return setup_with(state, 0);
}

static int setup_threads(void **state)
{
	return setup_with(state, 1);
}

static int teardown(void **state)
{
	struct env *e = *state;
	for (int i = 0; i < NNODES; i++)
		node_stop(&e->n[i]);
	event_base_free(e->base);
	return 0;
}

static void make_msg(struct sigmsg *m, uint8_t id[32], const char *topic, const char *body,
		     int64_t created)
{
	memset(m, 0, sizeof(*m));
	m->version = SIGMSG_FORMAT_VERSION;
	snprintf(m->topic, sizeof(m->topic), "%s", topic);
	m->created_at = created;
	m->body_len = (uint32_t)strlen(body);
	m->body = malloc(m->body_len + 1);
	memcpy(m->body, body, m->body_len + 1);
	assert_int_equal(sigmsg_sign(m, id, seckey, 0, 0), 0);
}

struct want {
	const uint8_t *id;
};

static int everywhere(struct env *e, void *arg)
{
	const uint8_t *id = arg;
	for (int i = 0; i < NNODES; i++)
		if (!msgstore_has(e->n[i].store, id))
			return 0;
	return 1;
}

static uint64_t received_total(struct tnode *t, uint64_t *dups)
{
	uint64_t n = 0;
	*dups = 0;
	for (struct peer *p = connman_peers(t->cm); p; p = p->next) {
		struct gossip_peer_stats st;
		if (gossip_peer_stats(t->g, p->id, &st)) {
			n += st.received;
			*dups += st.duplicates;
		}
	}
	return n;
}

static void test_flood_reaches_all_once(void **state)
{
	struct env *e = *state;
	struct sigmsg m;
	uint8_t id[32];
	make_msg(&m, id, "chat", "hello over three nodes", clock_now(&e->n[0].clock));
	bool already, dberr;
	assert_int_equal(gossip_submit_local(e->n[0].g, &m, id, &already, &dberr), MSG_VALID);
	assert_false(already);
	assert_false(dberr);
	assert_true(run_until(e, everywhere, id, 5));
	uint64_t dups;
	assert_int_equal(received_total(&e->n[0], &dups), 0);
	assert_int_equal(received_total(&e->n[1], &dups), 1);
	assert_int_equal(dups, 0);
	assert_int_equal(received_total(&e->n[2], &dups), 1);
	assert_int_equal(dups, 0);
	assert_int_equal(e->n[2].heard, 1);
	/* submitting again: already there, nothing relayed */
	assert_int_equal(gossip_submit_local(e->n[0].g, &m, id, &already, &dberr), MSG_VALID);
	assert_true(already);
	sigmsg_clear(&m);
}

static void test_many_from_both_ends(void **state)
{
	struct env *e = *state;
	enum { N = 30 };
	static uint8_t ids[N][32];
	for (int i = 0; i < N; i++) {
		struct sigmsg m;
		char body[32];
		snprintf(body, sizeof(body), "message %d", i);
		make_msg(&m, ids[i], i % 2 ? "even/odd" : "chat", body,
			 clock_now(&e->n[0].clock) - i);
		bool already, dberr;
		int from = i % 2 ? 0 : 2;
		assert_int_equal(gossip_submit_local(e->n[from].g, &m, ids[i], &already, &dberr),
				 MSG_VALID);
		sigmsg_clear(&m);
	}
	for (int i = 0; i < N; i++)
		assert_true(run_until(e, everywhere, ids[i], 5));
	struct msgstore_stats st;
	for (int i = 0; i < NNODES; i++) {
		assert_int_equal(msgstore_stats(e->n[i].store, &st), 0);
		assert_true(st.count >= N);
	}
	uint64_t dups;
	received_total(&e->n[1], &dups);
	assert_int_equal(dups, 0);
}

static void test_invalid_rejected_locally(void **state)
{
	struct env *e = *state;
	struct sigmsg m;
	uint8_t id[32];
	bool already, dberr;
	make_msg(&m, id, "chat", "too old", clock_now(&e->n[0].clock) - 7200);
	assert_int_equal(gossip_submit_local(e->n[0].g, &m, id, &already, &dberr), MSG_EXPIRED);
	sigmsg_clear(&m);
	make_msg(&m, id, "chat", "forged", clock_now(&e->n[0].clock));
	m.sig[0] ^= 1;
	assert_int_equal(gossip_submit_local(e->n[0].g, &m, id, &already, &dberr), MSG_BAD_SIG);
	assert_false(msgstore_has(e->n[0].store, id));
	sigmsg_clear(&m);
	struct gossip_stats gs;
	gossip_stats(e->n[0].g, &gs);
	assert_true(gs.rejected >= 2);
}

static void test_prune_follows_node_clock(void **state)
{
	struct env *e = *state;
	struct sigmsg m;
	uint8_t id[32];
	bool already, dberr;
	make_msg(&m, id, "old", "will expire", clock_now(&e->n[2].clock));
	assert_int_equal(gossip_submit_local(e->n[2].g, &m, id, &already, &dberr), MSG_VALID);
	sigmsg_clear(&m);
	assert_true(msgstore_has(e->n[2].store, id));
	clock_set_mock(&e->n[2].clock, clock_now(&e->n[2].clock) + 7200);
	assert_true(gossip_prune_now(e->n[2].g) >= 1);
	assert_false(msgstore_has(e->n[2].store, id));
	clock_set_mock(&e->n[2].clock, 0);
}

static int global_setup(void **state)
{
	(void)state;
	evthread_use_pthreads();
	return random_init() == 0 && keys_init() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flood_reaches_all_once, setup_inline,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_from_both_ends, setup_threads, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_rejected_locally, setup_inline,
						teardown),
		cmocka_unit_test_setup_teardown(test_prune_follows_node_clock, setup_inline,
						teardown),
	};
	return cmocka_run_group_tests(tests, global_setup, NULL);
}
