/* Fuzz JSON-RPC request handling: the input is an HTTP request body, handed to
 * rpc_server_execute_body as the HTTP layer does after authentication, on a regtest node with
 * an in-memory address book, ban list and reputation table but no connections, message store
 * or gossip engine (commands needing those answer with their error). Every command of the table
 * can be reached, with any parameters, named or positional, alone or in a batch.
 *
 * Whatever the bytes, nothing may crash, leak or hang, and the answer must be one a client can
 * use: a body that is not JSON gets the -32700 parse error with HTTP 500; otherwise the HTTP
 * status is 200, 204 (and then no reply: a JSON-RPC 2.0 notification or a batch of them), 400,
 * 404 or 500; every reply object has an id (the request's, or null) and, in JSON-RPC 2.0,
 * exactly one of result and error, in 1.0 both with one of them null; every error has an integer
 * code and a string message; a batch answers with at most one reply per request; and the reply
 * prints as JSON that parses back to the same value (so no invalid UTF-8 reaches the client). */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "msg/validate.h"
#include "net/addrman.h"
#include "net/banman.h"
#include "net/reputation.h"
#include "node/context.h"
#include "rpc/auth.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netparams.h"
#include "util/random.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Node-clock time every input starts at, so answers do not depend on when the fuzzer runs. */
#define FUZZ_MOCK_TIME 1700000000

/* The real one is in src/node/init.c (the node library, not linked here): record the request
 * as it does; there is no loop to stop. */
void node_request_shutdown(struct node *node)
{
	node->shutdown_requested = true;
}

struct fuzz_rpc {
	struct event_base *base;
	struct rpc_auth *auth;
	struct rpc_server *server;
	struct node node;
};

static struct fuzz_rpc *fuzz_setup(void)
{
	static struct fuzz_rpc f;
	static bool done;
	char err[256];
	if (done)
		return &f;
	assert(random_init() == 0);
	f.base = event_base_new();
	f.auth = rpc_auth_new();
	assert(f.base != NULL && f.auth != NULL);
	assert(rpc_auth_add_password(f.auth, "user", "pass", err, sizeof(err)) == 0);
	struct rpc_server_config cfg = {.timeout_secs = 30, .workqueue = 16, .auth = f.auth};
	f.server = rpc_server_new(f.base, &f.node, &cfg, err, sizeof(err));
	assert(f.server != NULL);
	done = true;
	return &f;
}

/* Each input starts from the same node: fresh settings and mock time, no bans, an empty
 * address book (made again only when the last input added to it: making one costs more than
 * most requests), the same empty reputation table (no command changes it). */
static void node_reset(struct node *n)
{
	static const uint8_t key[ADDRMAN_KEY_LEN] = {1};
	struct addrman *am = n->addrman;
	struct banman *bm = n->banman;
	struct reputation *rep = n->reputation;
	memset(n, 0, sizeof(*n));
	n->params = netparams_get(NET_REGTEST);
	n->start_us = clock_mono_us();
	n->lock_fd = -1;
	for (size_t i = 0; i < sizeof(n->node_pubkey); i++)
		n->node_pubkey[i] = (uint8_t)(0xa0 + i);
	clock_set_mock(&n->clock, FUZZ_MOCK_TIME);
	n->policy.retention = DEFAULT_MSG_RETENTION_SECS;
	n->policy.max_body = DEFAULT_MAX_MSG_SIZE;
	n->policy.min_pow = n->params->default_min_pow;
	n->bantime = BANMAN_DEFAULT_BANTIME;
	random_seed_insecure(1);
	if (am != NULL && addrman_size(am) > 0) {
		addrman_free(am);
		am = NULL;
	}
	n->addrman = am ? am : addrman_new(key, &n->clock, true);
	n->banman = bm ? bm : banman_new(&n->clock, NULL);
	n->reputation = rep ? rep : reputation_load(NULL, &n->clock);
	assert(n->addrman != NULL && n->banman != NULL && n->reputation != NULL);
	assert(banman_clear(n->banman) == BANMAN_OK);
}

/* After a request: the book is consistent, and process-wide settings are put back. */
static void node_after(struct node *n)
{
	if (addrman_size(n->addrman) > 0)
		assert(addrman_check(n->addrman) == 0);
	assert(reputation_count(n->reputation) == 0);
	/* The logging command changes the process-wide categories. */
	log_disable(LOG_ALL);
}

static void check_error(const json_t *e)
{
	assert(json_is_object(e));
	assert(json_is_integer(json_object_get(e, "code")));
	assert(json_is_string(json_object_get(e, "message")));
}

/* One reply object; req is its request when known (NULL inside a batch). */
static void check_reply(const json_t *reply, const json_t *req)
{
	assert(json_is_object(reply));
	const json_t *rid = json_object_get(reply, "id");
	const json_t *result = json_object_get(reply, "result");
	const json_t *error = json_object_get(reply, "error");
	const json_t *version = json_object_get(reply, "jsonrpc");
	assert(rid != NULL);
	if (req != NULL) {
		const json_t *id = json_is_object(req) ? json_object_get(req, "id") : NULL;
		assert(id != NULL ? json_equal(id, rid) : json_is_null(rid));
	}
	if (version != NULL) {
		assert(json_is_string(version) && strcmp(json_string_value(version), "2.0") == 0);
		assert((result == NULL) != (error == NULL));
		assert(json_object_size(reply) == 3);
	} else {
		assert(result != NULL && error != NULL);
		assert(json_is_null(result) || json_is_null(error));
		assert(json_object_size(reply) == 3);
	}
	if (error != NULL && !json_is_null(error))
		check_error(error);
}

/* What is sent is JSON that reads back as the same value. */
static void check_prints(const json_t *reply)
{
	char *text = json_dumps(reply, JSON_ENCODE_ANY | JSON_COMPACT);
	assert(text != NULL);
	json_error_t jerr;
	json_t *again = json_loads(text, JSON_DECODE_ANY, &jerr);
	assert(again != NULL && json_equal(again, reply));
	json_decref(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_rpc *f = fuzz_setup();
	json_error_t jerr;
	int status = -1;

	if (size > RPC_MAX_BODY)
		return 0; /* refused by the HTTP layer (413) before it gets here */
	/* The request as the server will see it (NULL: not JSON). */
	json_t *req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);

	node_reset(&f->node);
	json_t *reply =
		rpc_server_execute_body(f->server, (const char *)data, size, "user", &status);
	node_after(&f->node);

	assert(status == 200 || status == 204 || status == 400 || status == 404 || status == 500);
	assert((reply == NULL) == (status == 204));
	if (req == NULL) {
		assert(status == 500);
		check_reply(reply, NULL);
		assert(json_integer_value(json_object_get(json_object_get(reply, "error"),
							  "code")) == RPC_PARSE_ERROR);
	} else if (reply != NULL && json_is_array(reply)) {
		assert(json_is_array(req) && json_array_size(reply) <= json_array_size(req));
		assert(json_array_size(reply) > 0 && status == 200);
		for (size_t i = 0; i < json_array_size(reply); i++)
			check_reply(json_array_get(reply, i), NULL);
	} else if (reply != NULL) {
		check_reply(reply, json_is_array(req) ? NULL : req);
		if (json_is_array(req)) {
			size_t n = json_array_size(req);
			assert(n == 0 || n > RPC_MAX_BATCH);
		}
	} else {
		/* Nothing to answer: notifications only. */
		assert(json_is_object(req) || (json_is_array(req) && json_array_size(req) > 0));
	}
	if (reply != NULL)
		check_prints(reply);
	json_decref(reply);
	json_decref(req);
	return 0;
}
