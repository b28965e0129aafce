/* Shared plumbing of the unit tests: see unit_util.h. */
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
#include "store/db.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/netparams.h"
#include "wire/messages.h"

#include "unit_util.h"

/* Ports for unit tests come from below the ephemeral range (32768-60999), where no outgoing
 * connection of a parallel test can take them between our check and the bind; each test
 * process walks its own slice of UNIT_PORT_MIN..UNIT_PORT_MAX chosen from its pid. (The Python
 * functional tests use 11000-32000.) */
#define UNIT_PORT_MIN   5000
#define UNIT_PORT_MAX   11000
#define UNIT_PORT_SLICE 200

uint16_t unit_free_port(void)
{
	static int next = 0;
	if (next == 0)
		next = UNIT_PORT_MIN +
		       (int)(getpid() % ((UNIT_PORT_MAX - UNIT_PORT_MIN) / UNIT_PORT_SLICE)) *
			       UNIT_PORT_SLICE;
	for (int tries = 0; tries < UNIT_PORT_MAX - UNIT_PORT_MIN; tries++) {
		int port = next;
		next = next + 1 < UNIT_PORT_MAX ? next + 1 : UNIT_PORT_MIN;
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return (uint16_t)port;
	}
	fail_msg("no free port in %d-%d", UNIT_PORT_MIN, UNIT_PORT_MAX);
	return 0;
}

char *unit_mkdtemp(char *dir, size_t len, const char *tag)
{
	snprintf(dir, len, "/tmp/p2pd-test-%s-XXXXXX", tag);
	return mkdtemp(dir);
}

int unit_rm_rf_status(const char *dir)
{
	char cmd[FS_MAX_PATH + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

void unit_rm_rf(const char *dir)
{
	assert_int_equal(unit_rm_rf_status(dir), 0);
}

struct db *unit_open_db(const char *dir)
{
	char err[512];
	struct db *db;
	if (db_open(&db, dir, 1, err, sizeof(err)) != DB_OPEN_OK)
		fail_msg("db_open: %s", err);
	return db;
}

void unit_connman_config(struct connman_config *cfg, struct event_base *base, struct clock *clock,
			 uint16_t port)
{
	static const char *const bind_lo[] = {"127.0.0.1"};
	memset(cfg, 0, sizeof(*cfg));
	cfg->base = base;
	cfg->clock = clock;
	cfg->params = netparams_get(NET_REGTEST);
	cfg->local_services = NODE_MSGSTORE;
	cfg->max_connections = 20;
	cfg->listen = true;
	cfg->bind = bind_lo;
	cfg->nbind = 1;
	cfg->port = port;
	cfg->max_receive_buffer = 64 * 1024;
	cfg->max_send_buffer = 64 * 1024;
	cfg->peer_timeout = 60;
}

struct connman *unit_connman_start(const struct connman_config *cfg)
{
	char err[256];
	struct connman *cm = connman_new(cfg, err, sizeof(err));
	if (cm == NULL)
		fail_msg("connman_new: %s", err);
	connman_start(cm);
	return cm;
}

size_t unit_established(const struct connman *cm)
{
	size_t n = 0;
	for (const struct peer *p = connman_peers(cm); p; p = p->next)
		n += p->state == PEER_ESTABLISHED;
	return n;
}

size_t unit_npeers(const struct connman *cm)
{
	size_t n = 0;
	for (const struct peer *p = connman_peers(cm); p; p = p->next)
		n++;
	return n;
}

int unit_run_until(struct event_base *base, int (*pred)(void *ctx), void *ctx, double seconds,
		   long nap_ns)
{
	int64_t end = clock_mono_us() + (int64_t)(seconds * 1e6);
	while (!pred(ctx) && clock_mono_us() < end) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		struct timespec ts = {0, nap_ns};
		nanosleep(&ts, NULL);
	}
	return pred(ctx);
}

void unit_assert_json(const json_t *j, const char *expected)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(s);
	if (strcmp(s, expected) != 0)
		fail_msg("got      %s\nexpected %s", s, expected);
	free(s);
}

json_t *unit_load_vectors(const char *name)
{
	char path[4096];
	const char *dir = getenv("TEST_VECTORS_DIR");
	const char *top = getenv("top_srcdir");
	json_error_t err;

	if (dir && *dir)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else if (top && *top)
		snprintf(path, sizeof(path), "%s/test/vectors/%s", top, name);
	else
		snprintf(path, sizeof(path), "test/vectors/%s", name);
	json_t *j = json_load_file(path, 0, &err);
	if (!j)
		fail_msg("cannot load %s: %s (line %d; set TEST_VECTORS_DIR or top_srcdir)", path,
			 err.text, err.line);
	return j;
}

void unit_assert_keys(const json_t *obj, const char *expected)
{
	char keys[1024] = "";
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		(void)v;
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys), "%s%s",
			 keys[0] ? "," : "", k);
	}
	if (strcmp(keys, expected) != 0)
		fail_msg("keys     %s\nexpected %s", keys, expected);
}

const char *unit_json_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (s == NULL)
		fail_msg("no string \"%s\"", key);
	return s;
}

json_int_t unit_json_num(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v))
		fail_msg("no integer \"%s\"", key);
	return json_integer_value(v);
}
