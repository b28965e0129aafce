/* Shared plumbing of the RPC unit tests: see unit_util.h. Its own object, so that only the
 * tests calling these link the RPC library (which needs a node_request_shutdown of the test). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "node/context.h"
#include "rpc/auth.h"
#include "rpc/server.h"
#include "util/clock.h"
#include "util/netparams.h"

#include "unit_util.h"

void unit_node_defaults(struct node *node)
{
	node->params = netparams_get(NET_REGTEST);
	node->start_us = clock_mono_us();
	node->lock_fd = -1;
}

struct rpc_auth *unit_rpc_auth(void)
{
	char err[256];
	struct rpc_auth *auth = rpc_auth_new();
	if (auth != NULL && rpc_auth_add_password(auth, "user", "pass", err, sizeof(err)) != 0) {
		rpc_auth_free(auth);
		return NULL;
	}
	return auth;
}

struct rpc_server *unit_rpc_server(struct event_base *base, struct node *node,
				   struct rpc_auth *auth)
{
	char err[256];
	struct rpc_server_config cfg = {.timeout_secs = 30, .workqueue = 16, .auth = auth};
	struct rpc_server *s = rpc_server_new(base, node, &cfg, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "rpc_server_new: %s\n", err);
	return s;
}

json_t *unit_rpc_call(struct rpc_server *s, const char *method, const char *params, int *code,
		      char *msg, size_t msglen)
{
	char text[1024];
	json_error_t jerr;
	int status;
	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params);
	json_t *req = json_loads(text, 0, &jerr);
	if (req == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	json_t *r = rpc_server_execute(s, req, "user", &status);
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

json_t *unit_rpc_call_ok(struct rpc_server *s, const char *method, const char *params)
{
	int code;
	char msg[512];
	json_t *r = unit_rpc_call(s, method, params, &code, msg, sizeof(msg));
	if (r == NULL)
		fail_msg("%s %s failed: %d %s", method, params, code, msg);
	return r;
}

void unit_rpc_call_err(struct rpc_server *s, const char *method, const char *params, int code,
		       const char *text)
{
	int got;
	char msg[512];
	json_t *r = unit_rpc_call(s, method, params, &got, msg, sizeof(msg));
	if (r != NULL || got != code || strstr(msg, text) == NULL)
		fail_msg("%s %s: expected error %d \"%s\", got %d \"%s\"", method, params, code,
			 text, got, r ? "(a result)" : msg);
}
