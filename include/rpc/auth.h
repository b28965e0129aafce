/* RPC authentication: the cookie file, -rpcuser/-rpcpassword and -rpcauth entries.
 *
 * Credentials arrive in an HTTP Basic "Authorization" header. Every comparison of secret
 * material is constant-time. -rpcauth entries are "user:salt$hash" where hash is the hex
 * HMAC-SHA256 keyed with the salt (as text) over the password (contrib/rpcauth/rpcauth.py
 * makes them). */
#ifndef P2PD_RPC_AUTH_H
#define P2PD_RPC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

/* Most credentials one node accepts (cookie + user/password + -rpcauth lines). */
#define RPC_AUTH_MAX_ENTRIES 64
#define COOKIE_USER          "__cookie__"

struct rpc_auth;

struct rpc_auth *rpc_auth_new(void);
/* Wipes all secrets. NULL is a no-op. */
void rpc_auth_free(struct rpc_auth *a);

/* Accept user:password. Returns 0, or -1 with err (empty user, ':' in user, table full). */
int rpc_auth_add_password(struct rpc_auth *a, const char *user, const char *password, char *err,
			  size_t errlen);
/* Accept an -rpcauth entry "user:salt$hexhmac". Returns 0, or -1 with err if malformed. */
int rpc_auth_add_rpcauth(struct rpc_auth *a, const char *entry, char *err, size_t errlen);
/* Make a random cookie secret, write "__cookie__:<64 hex>" to path (mode 0600, created before
 * the secret is written) and accept it. Returns 0, or -1 with err. */
int rpc_auth_create_cookie(struct rpc_auth *a, const char *path, char *err, size_t errlen);
/* Remove the cookie file written by rpc_auth_create_cookie, if any. */
void rpc_auth_remove_cookie(struct rpc_auth *a);

/* Check an Authorization header value ("Basic <base64>"). Returns true and copies the user
 * name into user (userlen bytes, may be NULL) when the credentials are accepted. */
bool rpc_auth_check(const struct rpc_auth *a, const char *header, char *user, size_t userlen);

#endif
