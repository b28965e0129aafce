/* One JSON-RPC call over HTTP: POST / with Basic authentication, on libevent's evhttp client,
 * run to completion on a private event loop. */
#ifndef P2PD_CLI_RPC_CLIENT_H
#define P2PD_CLI_RPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Largest reply body accepted. Replies are JSON built by the node in memory; 64 MiB leaves
 * room for any listing it returns while keeping a broken or hostile server from filling ours. */
#define RPC_CLIENT_MAX_REPLY (64u * 1024 * 1024)
/* Room for a short reason ("timeout reached") in struct rpc_client_reply. */
#define RPC_CLIENT_DETAIL_LEN 128

enum rpc_client_result {
	RPC_CLIENT_OK,         /* an HTTP reply arrived (any status) */
	RPC_CLIENT_NO_CONNECT, /* no HTTP reply: refused, unreachable, closed early, timed out */
	RPC_CLIENT_FAILED,     /* local failure, or a reply larger than RPC_CLIENT_MAX_REPLY */
};

struct rpc_client_reply {
	int status;                         /* HTTP status (RPC_CLIENT_OK only) */
	char *body;                         /* malloc'd, NUL-terminated; NULL when none */
	size_t len;                         /* body length without the NUL */
	char detail[RPC_CLIENT_DETAIL_LEN]; /* why, when not RPC_CLIENT_OK; may be empty */
};

/* POST body to http://host:port/ with "Authorization: Basic base64(userpass)" and wait for the
 * reply at most timeout_secs per network operation (0: no limit). Fills *reply (release with
 * rpc_client_reply_clear) and returns what happened. */
enum rpc_client_result rpc_client_post(const char *host, uint16_t port, const char *userpass,
				       const char *body, int64_t timeout_secs,
				       struct rpc_client_reply *reply);
void rpc_client_reply_clear(struct rpc_client_reply *r);

#endif
