/* RPC commands of the "control" category (and the hidden setmocktime): help, stop, uptime,
 * logging, setmocktime, getrpcinfo. Their arguments and help text are in rpc/spec.c. */
#include <stdlib.h>
#include <string.h>

#include "node/context.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "rpc/spec.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/netparams.h"

/* Take a malloc'd string into a JSON string. */
static json_t *take_string(char *text, struct rpc_error *err)
{
	json_t *v = text ? json_string(text) : NULL;
	free(text);
	return v ? v : rpc_fail(err, RPC_INTERNAL_ERROR, "Out of memory");
}

static json_t *rpc_help(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)call;
	const json_t *command = json_array_get(params, 0);
	if (json_is_null(command))
		return take_string(rpc_spec_overview(), err);
	const char *name = json_string_value(command);
	const struct rpc_spec *spec = rpc_spec_find(name);
	if (spec == NULL)
		return rpc_fail(err, RPC_MISC_ERROR, "help: unknown command: %s", name);
	return take_string(rpc_spec_help(spec), err);
}

static json_t *rpc_stop(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	(void)err;
	/* The shutdown waits for this reply to reach the client. */
	rpc_server_request_shutdown(call);
	return json_string("p2pd stopping");
}

static json_t *rpc_uptime(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	(void)err;
	return json_integer((clock_mono_us() - call->node->start_us) / 1000000);
}

/* OR the categories named in list (a JSON array or null) into *mask. A list naming "none" or
 * "0" counts as empty. Returns 0, or -1 with err for a non-string or an unknown name. */
static int category_mask(const json_t *list, uint32_t *mask, struct rpc_error *err)
{
	size_t i;
	const json_t *v;
	uint32_t m = 0;
	bool none = false;
	*mask = 0;
	json_array_foreach(list, i, v)
	{
		const char *name = json_string_value(v);
		if (name == NULL) {
			rpc_fail(err, RPC_TYPE_ERROR, "logging category names must be strings");
			return -1;
		}
		if (!log_category_known(name)) {
			rpc_fail(err, RPC_INVALID_PARAMETER, "unknown logging category %s", name);
			return -1;
		}
		if (strcmp(name, "none") == 0 || strcmp(name, "0") == 0)
			none = true;
		m |= log_category_from_name(name);
	}
	*mask = none ? 0 : m;
	return 0;
}

static json_t *rpc_logging(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)call;
	uint32_t include, exclude;
	/* Check both lists before changing anything. */
	if (category_mask(json_array_get(params, 0), &include, err) < 0 ||
	    category_mask(json_array_get(params, 1), &exclude, err) < 0)
		return NULL;
	if (include != 0)
		log_enable(include);
	if (exclude != 0)
		log_disable(exclude);
	const char *const *names;
	size_t n = log_category_list(&names);
	json_t *out = json_object();
	if (out == NULL)
		return rpc_fail(err, RPC_INTERNAL_ERROR, "Out of memory");
	for (size_t i = 0; i < n; i++)
		json_object_set_new(
			out, names[i],
			json_boolean(log_category_enabled(log_category_from_name(names[i]))));
	return out;
}

static json_t *rpc_setmocktime(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	struct node *node = call->node;
	if (!node->params->mocktime_allowed)
		return rpc_fail(err, RPC_MISC_ERROR,
				"setmocktime is for regression testing (-regtest mode) only");
	json_int_t t = json_integer_value(json_array_get(params, 0));
	if (t < 0)
		return rpc_fail(err, RPC_INVALID_PARAMETER, "Mocktime cannot be negative: %lld",
				(long long)t);
	clock_set_mock(&node->clock, (int64_t)t);
	return json_null();
}

/* Most active commands getrpcinfo lists: more than the server ever tracks. */
#define GETRPCINFO_MAX 16

static json_t *rpc_getrpcinfo(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	const char *methods[GETRPCINFO_MAX];
	int64_t started[GETRPCINFO_MAX];
	size_t n = rpc_server_active(call->server, methods, started, GETRPCINFO_MAX);
	int64_t now = clock_mono_us();
	json_t *active = json_array();
	for (size_t i = 0; active != NULL && i < n; i++)
		json_array_append_new(active,
				      json_pack("{s:s, s:I}", "method", methods[i], "duration",
						(json_int_t)(now - started[i])));
	json_t *out =
		json_pack("{s:o?, s:s}", "active_commands", active, "logpath", log_file_path());
	return out ? out : rpc_fail(err, RPC_INTERNAL_ERROR, "Out of memory");
}

const struct rpc_method rpc_control_methods[] = {
	{"getrpcinfo", rpc_getrpcinfo},
	{"help", rpc_help},
	{"logging", rpc_logging},
	{"setmocktime", rpc_setmocktime},
	{"stop", rpc_stop},
	{"uptime", rpc_uptime},
	{NULL, NULL},
};
