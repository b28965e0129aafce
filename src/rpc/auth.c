/* RPC authentication: the credentials a node accepts, and the check of a Basic header.
 *
 * Every accepted credential is kept in the same form, a user name and a salted HMAC-SHA256 of
 * the password: -rpcauth entries arrive that way, and -rpcuser/-rpcpassword and the cookie are
 * converted with a random salt. A check therefore never holds a stored password, compares
 * fixed-size digests only (constant-time), and visits every entry whatever matched, so its
 * timing tells nothing about which user exists or how much of a password was right. */
#include "rpc/auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/hash.h"
#include "util/bytes.h"
#include "util/fs.h"
#include "util/random.h"

/* Longest user name: generous for any operator's choice, small enough to keep entries fixed. */
#define RPC_AUTH_MAX_USER 128
/* Longest -rpcauth salt: rpcauth.py writes 32 characters; leave room for other generators. */
#define RPC_AUTH_MAX_SALT 128
/* Longest decoded "user:password" in a header; longer is refused without being examined. */
#define RPC_AUTH_MAX_CREDENTIALS 1024
/* Salt length (bytes, before hex) for passwords we convert ourselves. */
#define RPC_AUTH_SALT_BYTES 16
/* Cookie secret length in bytes (64 hex characters in the file). */
#define RPC_AUTH_COOKIE_BYTES 32

struct auth_entry {
	char user[RPC_AUTH_MAX_USER + 1];
	uint8_t user_hash[32]; /* SHA-256 of user, compared in constant time */
	char salt[RPC_AUTH_MAX_SALT + 1];
	uint8_t hmac[32]; /* HMAC-SHA256(key = salt text, message = password) */
};

struct rpc_auth {
	struct auth_entry entries[RPC_AUTH_MAX_ENTRIES];
	size_t n;
	bool has_cookie; /* a cookie entry exists, at cookie_slot */
	size_t cookie_slot;
	char cookie_path[FS_MAX_PATH]; /* the cookie file; "" when none is on disk */
};

struct rpc_auth *rpc_auth_new(void)
{
	return calloc(1, sizeof(struct rpc_auth));
}

void rpc_auth_free(struct rpc_auth *a)
{
	if (a == NULL)
		return;
	secure_wipe(a, sizeof(*a));
	free(a);
}

static int check_user(const char *user, char *err, size_t errlen)
{
	if (user == NULL || user[0] == '\0') {
		snprintf(err, errlen, "empty RPC user name");
		return -1;
	}
	if (strchr(user, ':') != NULL) {
		snprintf(err, errlen, "RPC user name must not contain ':'");
		return -1;
	}
	if (strlen(user) > RPC_AUTH_MAX_USER) {
		snprintf(err, errlen, "RPC user name longer than %d characters", RPC_AUTH_MAX_USER);
		return -1;
	}
	return 0;
}

static int check_room(const struct rpc_auth *a, char *err, size_t errlen)
{
	if (a->n >= RPC_AUTH_MAX_ENTRIES) {
		snprintf(err, errlen, "too many RPC credentials (at most %d)",
			 RPC_AUTH_MAX_ENTRIES);
		return -1;
	}
	return 0;
}

/* Clear e and fill in its user name (already checked to fit). */
static void set_user(struct auth_entry *e, const char *user)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->user, sizeof(e->user), "%s", user);
	sha256(e->user_hash, user, strlen(user));
}

static void set_password(struct auth_entry *e, const char *password)
{
	uint8_t salt[RPC_AUTH_SALT_BYTES];
	random_bytes(salt, sizeof(salt));
	hex_encode(e->salt, salt, sizeof(salt));
	hmac_sha256(e->hmac, e->salt, strlen(e->salt), password, strlen(password));
}

int rpc_auth_add_password(struct rpc_auth *a, const char *user, const char *password, char *err,
			  size_t errlen)
{
	if (check_user(user, err, errlen) < 0)
		return -1;
	if (password == NULL) {
		snprintf(err, errlen, "missing RPC password");
		return -1;
	}
	if (check_room(a, err, errlen) < 0)
		return -1;
	struct auth_entry *e = &a->entries[a->n++];
	set_user(e, user);
	set_password(e, password);
	return 0;
}

int rpc_auth_add_rpcauth(struct rpc_auth *a, const char *entry, char *err, size_t errlen)
{
	char user[RPC_AUTH_MAX_USER + 1];
	const char *colon = strchr(entry, ':');
	const char *dollar = colon ? strchr(colon + 1, '$') : NULL;
	if (colon == NULL || dollar == NULL || strchr(dollar + 1, '$') != NULL ||
	    strchr(colon + 1, ':') != NULL) {
		snprintf(err, errlen, "malformed -rpcauth entry (expected user:salt$hash)");
		return -1;
	}
	size_t ulen = (size_t)(colon - entry);
	size_t slen = (size_t)(dollar - colon - 1);
	if (ulen == 0 || ulen > RPC_AUTH_MAX_USER) {
		snprintf(err, errlen,
			 "malformed -rpcauth entry: user name must have 1 to %d characters",
			 RPC_AUTH_MAX_USER);
		return -1;
	}
	if (slen == 0 || slen > RPC_AUTH_MAX_SALT) {
		snprintf(err, errlen, "malformed -rpcauth entry: salt must have 1 to %d characters",
			 RPC_AUTH_MAX_SALT);
		return -1;
	}
	uint8_t hmac[32];
	if (hex_decode(hmac, sizeof(hmac), dollar + 1) < 0) {
		snprintf(err, errlen, "malformed -rpcauth entry: hash must be 64 hex characters");
		return -1;
	}
	if (check_room(a, err, errlen) < 0)
		return -1;
	memcpy(user, entry, ulen);
	user[ulen] = '\0';
	struct auth_entry *e = &a->entries[a->n++];
	set_user(e, user);
	memcpy(e->salt, colon + 1, slen);
	e->salt[slen] = '\0';
	memcpy(e->hmac, hmac, sizeof(hmac));
	return 0;
}

int rpc_auth_create_cookie(struct rpc_auth *a, const char *path, char *err, size_t errlen)
{
	uint8_t secret[RPC_AUTH_COOKIE_BYTES];
	char content[sizeof(COOKIE_USER) + 2 * RPC_AUTH_COOKIE_BYTES + 1];
	if (strlen(path) >= sizeof(a->cookie_path)) {
		snprintf(err, errlen, "cookie file path too long: %s", path);
		return -1;
	}
	/* A second cookie replaces the first one's entry. */
	bool replace = a->has_cookie;
	if (!replace && check_room(a, err, errlen) < 0)
		return -1;
	random_bytes(secret, sizeof(secret));
	memcpy(content, COOKIE_USER ":", sizeof(COOKIE_USER));
	hex_encode(content + sizeof(COOKIE_USER), secret, sizeof(secret));
	secure_wipe(secret, sizeof(secret));
	if (fs_write_file(path, content, strlen(content), 0600) < 0) {
		snprintf(err, errlen, "cannot write RPC cookie file %s: %s", path, strerror(errno));
		secure_wipe(content, sizeof(content));
		return -1;
	}
	if (a->cookie_path[0] != '\0' && strcmp(a->cookie_path, path) != 0)
		unlink(a->cookie_path);
	if (!replace)
		a->cookie_slot = a->n++;
	struct auth_entry *e = &a->entries[a->cookie_slot];
	set_user(e, COOKIE_USER);
	set_password(e, content + sizeof(COOKIE_USER));
	a->has_cookie = true;
	secure_wipe(content, sizeof(content));
	snprintf(a->cookie_path, sizeof(a->cookie_path), "%s", path);
	return 0;
}

void rpc_auth_remove_cookie(struct rpc_auth *a)
{
	if (a == NULL || a->cookie_path[0] == '\0')
		return;
	unlink(a->cookie_path);
	a->cookie_path[0] = '\0';
}

/* Decode "Basic <base64>" into buf (NUL-terminated, no NUL inside). Returns the decoded
 * length, or -1 for anything else. */
static long decode_basic(const char *header, char *buf, size_t buflen)
{
	static const char scheme[] = "Basic";
	if (header == NULL || strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
		return -1;
	const char *p = header + sizeof(scheme) - 1;
	if (*p != ' ' && *p != '\t')
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t b64len = strlen(p);
	while (b64len > 0 && (p[b64len - 1] == ' ' || p[b64len - 1] == '\t'))
		b64len--;
	/* Base64 grows data by 4/3: a longer text cannot decode into the buffer. */
	if (b64len == 0 || b64len > (buflen - 1) / 3 * 4 + 4)
		return -1;
	size_t binlen = 0;
	const char *end = NULL;
	if (sodium_base642bin((unsigned char *)buf, buflen - 1, p, b64len, NULL, &binlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != p + b64len)
		return -1;
	buf[binlen] = '\0';
	if (memchr(buf, '\0', binlen) != NULL)
		return -1;
	return (long)binlen;
}

bool rpc_auth_check(const struct rpc_auth *a, const char *header, char *user, size_t userlen)
{
	char creds[RPC_AUTH_MAX_CREDENTIALS + 1];
	if (user != NULL && userlen > 0)
		user[0] = '\0';
	if (a == NULL || decode_basic(header, creds, sizeof(creds)) < 0) {
		secure_wipe(creds, sizeof(creds));
		return false;
	}
	char *colon = strchr(creds, ':');
	if (colon == NULL) {
		secure_wipe(creds, sizeof(creds));
		return false;
	}
	*colon = '\0';
	const char *password = colon + 1;
	uint8_t user_hash[32];
	sha256(user_hash, creds, strlen(creds));

	/* Visit every entry and combine the outcomes without branching on secrets. */
	int matched = 0;
	size_t which = 0;
	for (size_t i = 0; i < a->n; i++) {
		const struct auth_entry *e = &a->entries[i];
		uint8_t mac[32];
		hmac_sha256(mac, e->salt, strlen(e->salt), password, strlen(password));
		int ok = ct_equal(user_hash, e->user_hash, 32) & ct_equal(mac, e->hmac, 32);
		which = ok && !matched ? i : which;
		matched |= ok;
		secure_wipe(mac, sizeof(mac));
	}
	if (matched && user != NULL && userlen > 0)
		snprintf(user, userlen, "%s", a->entries[which].user);
	secure_wipe(creds, sizeof(creds));
	return matched != 0;
}
