/* JSON-RPC error codes, in Bitcoin Core's numbering, so scripts written for bitcoin-cli keep
 * their meaning. doc/rpc.md lists them. */
#ifndef P2PD_RPC_PROTOCOL_H
#define P2PD_RPC_PROTOCOL_H

enum rpc_error_code {
	/* JSON-RPC 2.0 standard codes */
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
	RPC_INTERNAL_ERROR = -32603,
	RPC_PARSE_ERROR = -32700,
	/* application codes */
	RPC_MISC_ERROR = -1,             /* an error that fits no other code */
	RPC_TYPE_ERROR = -3,             /* a parameter has the wrong JSON type */
	RPC_INVALID_ADDRESS_OR_KEY = -5, /* no such message (getmessage) */
	RPC_INVALID_PARAMETER = -8,      /* a parameter has a bad value */
	RPC_DATABASE_ERROR = -20,        /* the database failed */
	RPC_DESERIALIZATION_ERROR = -22, /* a serialized message does not decode */
	RPC_VERIFY_REJECTED = -26,       /* a message was refused by validation */
	RPC_IN_WARMUP = -28,             /* the node is still starting */
	RPC_METHOD_DEPRECATED = -32,     /* the method was removed */
	/* P2P client errors */
	RPC_CLIENT_NOT_CONNECTED = -9,          /* the node is not connected to the network */
	RPC_CLIENT_INVALID_IP_OR_SUBNET = -30,  /* setban remove of a subnet that is not banned */
	RPC_CLIENT_NODE_ALREADY_ADDED = -23,    /* addnode add of a node already in the list */
	RPC_CLIENT_NODE_NOT_ADDED = -24,        /* the node is not in the added-node list */
	RPC_CLIENT_NODE_NOT_CONNECTED = -29,    /* disconnectnode: no such connected peer */
	RPC_CLIENT_P2P_DISABLED = -31,          /* the node runs without its P2P layer */
	RPC_CLIENT_NODE_CAPACITY_REACHED = -34, /* the added-node list is full */
};

#endif
