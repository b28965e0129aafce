/* Fuzz RPC authentication: the credential table and the check of an HTTP Basic header, the one
 * parser a client reaches before it has authenticated. The input is lines: every line but the
 * last is a credential to add (one with a '$' as an -rpcauth "user:salt$hash" entry, any other
 * as -rpcuser/-rpcpassword "user:password"), the last is an Authorization header value.
 *
 * Whatever the bytes, nothing may crash or read out of bounds, and: the table takes exactly
 * RPC_AUTH_MAX_ENTRIES credentials before it refuses one for being full; every user/password
 * pair that was accepted is accepted back from the header a client would send for it, as that
 * user; and a header that is accepted names a user that was added. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rpc/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines looked at; more would only repeat the table-full case. */
#define FUZZ_MAX_LINES (2 * RPC_AUTH_MAX_ENTRIES + 8)
/* Longest "user:password" the header check reads (RPC_AUTH_MAX_CREDENTIALS in rpc/auth.c). */
#define FUZZ_MAX_CREDENTIALS 1024

struct added {
	char *user, *password; /* password NULL for an -rpcauth entry */
};

/* Build "Basic <base64(user:password)>" into a malloc'd string. */
static char *basic_header(const char *user, const char *password)
{
	size_t ulen = strlen(user), plen = strlen(password);
	char *creds = malloc(ulen + 1 + plen);
	assert(creds != NULL);
	memcpy(creds, user, ulen);
	creds[ulen] = ':';
	memcpy(creds + ulen + 1, password, plen);
	size_t b64 = sodium_base64_encoded_len(ulen + 1 + plen, sodium_base64_VARIANT_ORIGINAL);
	char *h = malloc(6 + b64);
	assert(h != NULL);
	memcpy(h, "Basic ", 6);
	sodium_bin2base64(h + 6, b64, (const unsigned char *)creds, ulen + 1 + plen,
			  sodium_base64_VARIANT_ORIGINAL);
	free(creds);
	return h;
}

/* Add one credential line; returns 1 added, 0 refused as malformed, -1 refused: table full. */
static int add_line(struct rpc_auth *a, const char *line, struct added *out)
{
	char err[256] = "";
	int rc;
	memset(out, 0, sizeof(*out));
	if (strchr(line, '$') != NULL) {
		rc = rpc_auth_add_rpcauth(a, line, err, sizeof(err));
		if (rc == 0)
			out->user = strndup(line, (size_t)(strchr(line, ':') - line));
	} else {
		const char *colon = strchr(line, ':');
		char *user = colon ? strndup(line, (size_t)(colon - line)) : strdup(line);
		const char *password = colon ? colon + 1 : "";
		assert(user != NULL);
		rc = rpc_auth_add_password(a, user, password, err, sizeof(err));
		if (rc == 0) {
			out->user = user;
			out->password = strdup(password);
		} else {
			free(user);
		}
	}
	if (rc == 0)
		return 1;
	assert(err[0] != '\0');
	return strncmp(err, "too many", 8) == 0 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		assert(sodium_init() >= 0);
		init = true;
	}
	/* A NUL-terminated copy; lines end at '\n' (or at a NUL inside, as C strings do). */
	char *text = malloc(size + 1);
	assert(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';

	char *lines[FUZZ_MAX_LINES];
	size_t nlines = 0;
	for (char *p = text; nlines < FUZZ_MAX_LINES;) {
		lines[nlines++] = p;
		char *nl = memchr(p, '\n', size - (size_t)(p - text));
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}

	struct rpc_auth *a = rpc_auth_new();
	struct added added[FUZZ_MAX_LINES];
	size_t nadded = 0;
	bool full = false;
	assert(a != NULL);
	for (size_t i = 0; i + 1 < nlines; i++) {
		int rc = add_line(a, lines[i], &added[nadded]);
		if (rc == 1)
			nadded++;
		if (rc == -1) {
			assert(nadded == RPC_AUTH_MAX_ENTRIES);
			full = true;
		}
	}
	assert(nadded <= RPC_AUTH_MAX_ENTRIES);
	(void)full;

	/* Every accepted password works, as its own user (or as an earlier entry of the same
	 * name, which the check may match first). */
	for (size_t i = 0; i < nadded; i++) {
		if (added[i].password == NULL ||
		    strlen(added[i].user) + 1 + strlen(added[i].password) > FUZZ_MAX_CREDENTIALS)
			continue;
		char *h = basic_header(added[i].user, added[i].password);
		char user[256];
		assert(rpc_auth_check(a, h, user, sizeof(user)));
		assert(strcmp(user, added[i].user) == 0);
		free(h);
	}

	char user[256];
	if (rpc_auth_check(a, lines[nlines - 1], user, sizeof(user))) {
		bool known = false;
		for (size_t i = 0; i < nadded && !known; i++)
			known = strcmp(user, added[i].user) == 0;
		assert(known);
	} else {
		assert(user[0] == '\0');
	}

	for (size_t i = 0; i < nadded; i++) {
		free(added[i].user);
		free(added[i].password);
	}
	rpc_auth_free(a);
	free(text);
	return 0;
}
