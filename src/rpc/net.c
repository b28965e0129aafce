/* RPC commands of the "network" category: getnetworkinfo. Their arguments and help text are
 * in rpc/spec.c. */
#include "node/context.h"
#include "rpc/protocol.h"
#include "rpc/server.h"
#include "util/bytes.h"
#include "util/netparams.h"
#include "util/version.h"

static json_t *rpc_getnetworkinfo(struct rpc_call *call, json_t *params, struct rpc_error *err)
{
	(void)params;
	const struct node *node = call->node;
	char pubkey[2 * sizeof(node->node_pubkey) + 1];
	hex_encode(pubkey, node->node_pubkey, sizeof(node->node_pubkey));
	/* No P2P layer yet: no connections and no service bits. */
	json_t *out =
		json_pack("{s:i, s:s, s:i, s:s, s:s, s:i, s:i, s:i, s:b, s:s, s:s}", "version",
			  CLIENT_VERSION, "subversion", CLIENT_SUBVERSION, "protocolversion",
			  PROTOCOL_VERSION, "network", node->params->name, "nodepubkey", pubkey,
			  "connections", 0, "connections_in", 0, "connections_out", 0,
			  "networkactive", 1, "localservices", "0000000000000000", "warnings", "");
	return out ? out : rpc_fail(err, RPC_INTERNAL_ERROR, "Out of memory");
}

const struct rpc_method rpc_network_methods[] = {
	{"getnetworkinfo", rpc_getnetworkinfo},
	{NULL, NULL},
};
