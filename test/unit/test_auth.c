/* Unit tests for rpc/auth: credentials accepted, malformed entries refused, the cookie file,
 * and Authorization headers good, wrong, missing and garbled. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "rpc/auth.h"
#include "util/fs.h"
#include "util/random.h"

/* HMAC-SHA256(key "cb77f0957de88ff388cf817ddbc72731", "secret pass"), computed with Python's
 * hmac module, so the test checks our algorithm against an independent one (rpcauth.py). */
#define VEC_ENTRY                                 \
	"alice:cb77f0957de88ff388cf817ddbc72731$" \
	"3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc5"

/* "Basic " + base64(creds), in a static buffer. */
static const char *basic(const char *creds)
{
	static char buf[4096];
	strcpy(buf, "Basic ");
	sodium_bin2base64(buf + 6, sizeof(buf) - 6, (const unsigned char *)creds, strlen(creds),
			  sodium_base64_VARIANT_ORIGINAL);
	return buf;
}

static int setup(void **state)
{
	assert_int_equal(random_init(), 0);
	*state = rpc_auth_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	rpc_auth_free(*state);
	return 0;
}

static void test_password(void **state)
{
	struct rpc_auth *a = *state;
	char err[256], user[64];
	assert_int_equal(rpc_auth_add_password(a, "bob", "pw:with:colons", err, sizeof(err)), 0);
	assert_true(rpc_auth_check(a, basic("bob:pw:with:colons"), user, sizeof(user)));
	assert_string_equal(user, "bob");
	assert_false(rpc_auth_check(a, basic("bob:pw:with:colon"), user, sizeof(user)));
	assert_string_equal(user, "");
	assert_false(rpc_auth_check(a, basic("bob:pw:with:colonsX"), NULL, 0));
	assert_false(rpc_auth_check(a, basic("Bob:pw:with:colons"), NULL, 0));
	assert_false(rpc_auth_check(a, basic("bob:"), NULL, 0));
	assert_false(rpc_auth_check(a, basic(":pw:with:colons"), NULL, 0));
	/* An empty password is a password like any other. */
	assert_int_equal(rpc_auth_add_password(a, "carol", "", err, sizeof(err)), 0);
	assert_true(rpc_auth_check(a, basic("carol:"), NULL, 0));
	assert_false(rpc_auth_check(a, basic("carol"), NULL, 0));
}

static void test_password_bad(void **state)
{
	struct rpc_auth *a = *state;
	char err[256];
	err[0] = '\0';
	assert_int_equal(rpc_auth_add_password(a, "", "pw", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty"));
	err[0] = '\0';
	assert_int_equal(rpc_auth_add_password(a, "a:b", "pw", err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":"));
	char longuser[300];
	memset(longuser, 'u', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = '\0';
	assert_int_equal(rpc_auth_add_password(a, longuser, "pw", err, sizeof(err)), -1);
	/* Nothing was added by the failures. */
	assert_false(rpc_auth_check(a, basic(":pw"), NULL, 0));
	assert_false(rpc_auth_check(a, basic("a:b:pw"), NULL, 0));
}

static void test_table_full(void **state)
{
	struct rpc_auth *a = *state;
	char err[256], name[32], user[32];
	for (int i = 0; i < RPC_AUTH_MAX_ENTRIES; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		assert_int_equal(rpc_auth_add_password(a, name, name, err, sizeof(err)), 0);
	}
	assert_int_equal(rpc_auth_add_password(a, "extra", "pw", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many"));
	assert_int_equal(rpc_auth_add_rpcauth(a, VEC_ENTRY, err, sizeof(err)), -1);
	/* First, last and middle entries all match: every entry is visited. */
	assert_true(rpc_auth_check(a, basic("user0:user0"), user, sizeof(user)));
	assert_string_equal(user, "user0");
	assert_true(rpc_auth_check(a, basic("user63:user63"), user, sizeof(user)));
	assert_string_equal(user, "user63");
	assert_true(rpc_auth_check(a, basic("user31:user31"), user, sizeof(user)));
	assert_string_equal(user, "user31");
	assert_false(rpc_auth_check(a, basic("user31:user30"), NULL, 0));
	assert_false(rpc_auth_check(a, basic("extra:pw"), NULL, 0));
}

static void test_rpcauth(void **state)
{
	struct rpc_auth *a = *state;
	char err[256], user[64];
	assert_int_equal(rpc_auth_add_rpcauth(a, VEC_ENTRY, err, sizeof(err)), 0);
	assert_true(rpc_auth_check(a, basic("alice:secret pass"), user, sizeof(user)));
	assert_string_equal(user, "alice");
	assert_false(rpc_auth_check(a, basic("alice:secret pas"), NULL, 0));
	assert_false(rpc_auth_check(a, basic("alice:Secret pass"), NULL, 0));
	/* Upper-case hex is the same hash. */
	assert_int_equal(rpc_auth_add_rpcauth(a,
					      "dave:0123456789abcdef0123456789abcdef$"
					      "3920D54EC70F500EE54E1DA041D2364A8E57DD252F7A81ED8ACD"
					      "58AD6CF3B6D0",
					      err, sizeof(err)),
			 0);
	assert_true(rpc_auth_check(a, basic("dave:hunter2"), user, sizeof(user)));
	assert_string_equal(user, "dave");
	/* A user name longer than the buffer is truncated, not overflowed. */
	char small[3];
	assert_true(rpc_auth_check(a, basic("dave:hunter2"), small, sizeof(small)));
	assert_string_equal(small, "da");
}

/* Each -rpcauth entry takes one slot: the table holds RPC_AUTH_MAX_ENTRIES of them and a check
 * visits exactly those (an entry used to count twice, so the table refused the 33rd, and with a
 * password entry before them a check read one slot past the table; found by fuzz_rpc_auth). */
static void test_rpcauth_table_full(void **state)
{
	struct rpc_auth *a = *state;
	char err[256], user[64];
	assert_int_equal(rpc_auth_add_password(a, "bob", "pw", err, sizeof(err)), 0);
	for (int i = 1; i < RPC_AUTH_MAX_ENTRIES; i++)
		assert_int_equal(rpc_auth_add_rpcauth(a, VEC_ENTRY, err, sizeof(err)), 0);
	assert_int_equal(rpc_auth_add_rpcauth(a, VEC_ENTRY, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many"));
	assert_true(rpc_auth_check(a, basic("alice:secret pass"), user, sizeof(user)));
	assert_string_equal(user, "alice");
	assert_true(rpc_auth_check(a, basic("bob:pw"), user, sizeof(user)));
	assert_string_equal(user, "bob");
}

static void test_rpcauth_malformed(void **state)
{
	struct rpc_auth *a = *state;
	static const char *const bad[] = {
		"",
		"alice",
		"alice:salt",
		"alice$3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc5",
		":salt$3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc5",
		"alice:$3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc5",
		"alice:salt$",
		"alice:salt$3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc",
		"alice:salt$3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc5a",
		"alice:salt$3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bcg",
		"alice:salt$3f67$44f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc5",
		"alice:sa:lt$3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc5",
		"alice:salt$ 3f6744f327e3e949998d8cd67a669528332730e24da69cd5cdbd820843793bc",
	};
	char err[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (rpc_auth_add_rpcauth(a, bad[i], err, sizeof(err)) != -1)
			fail_msg("accepted malformed -rpcauth entry \"%s\"", bad[i]);
		assert_non_null(strstr(err, "malformed"));
	}
	assert_false(rpc_auth_check(a, basic("alice:secret pass"), NULL, 0));
}

static void test_headers(void **state)
{
	struct rpc_auth *a = *state;
	char err[256], user[64];
	assert_int_equal(rpc_auth_add_password(a, "bob", "pw", err, sizeof(err)), 0);
	const char *good = basic("bob:pw");
	char b64[64];
	strcpy(b64, good + 6);
	char hdr[256];

	assert_false(rpc_auth_check(a, NULL, user, sizeof(user)));
	assert_false(rpc_auth_check(a, "", NULL, 0));
	assert_false(rpc_auth_check(a, "Basic", NULL, 0));
	assert_false(rpc_auth_check(a, "Basic ", NULL, 0));
	snprintf(hdr, sizeof(hdr), "Bearer %s", b64);
	assert_false(rpc_auth_check(a, hdr, NULL, 0));
	snprintf(hdr, sizeof(hdr), "Basic%s", b64);
	assert_false(rpc_auth_check(a, hdr, NULL, 0));
	snprintf(hdr, sizeof(hdr), "Basicx %s", b64);
	assert_false(rpc_auth_check(a, hdr, NULL, 0));
	snprintf(hdr, sizeof(hdr), "Basic %s!", b64);
	assert_false(rpc_auth_check(a, hdr, NULL, 0));
	snprintf(hdr, sizeof(hdr), "Basic %sAAAA", b64);
	assert_false(rpc_auth_check(a, hdr, NULL, 0));
	snprintf(hdr, sizeof(hdr), "Basic %.*s", (int)strlen(b64) - 1, b64); /* padding cut */
	assert_false(rpc_auth_check(a, hdr, NULL, 0));
	assert_false(rpc_auth_check(a, "Basic !!!!", NULL, 0));
	assert_false(rpc_auth_check(a, basic("bobpw"), NULL, 0)); /* no colon */
	/* A NUL inside the credentials never matches a C string. */
	static const unsigned char withnul[] = {'b', 'o', 'b', ':', 'p', 'w', 0, 'x'};
	strcpy(hdr, "Basic ");
	sodium_bin2base64(hdr + 6, sizeof(hdr) - 6, withnul, sizeof(withnul),
			  sodium_base64_VARIANT_ORIGINAL);
	assert_false(rpc_auth_check(a, hdr, NULL, 0));
	/* URL-safe base64 is not what Basic uses. */
	assert_false(rpc_auth_check(a, "Basic Ym9iOnB3-_==", NULL, 0));
	/* Far too long: refused without decoding. */
	static char huge[8192];
	memcpy(huge, "Basic ", 6);
	memset(huge + 6, 'A', sizeof(huge) - 7);
	assert_false(rpc_auth_check(a, huge, NULL, 0));

	/* Accepted variations: scheme case, extra blanks. */
	snprintf(hdr, sizeof(hdr), "basic %s", b64);
	assert_true(rpc_auth_check(a, hdr, NULL, 0));
	snprintf(hdr, sizeof(hdr), "BASIC   %s  ", b64);
	assert_true(rpc_auth_check(a, hdr, user, sizeof(user)));
	assert_string_equal(user, "bob");
	/* A NULL table accepts nothing. */
	assert_false(rpc_auth_check(NULL, good, NULL, 0));
}

static void test_empty_table(void **state)
{
	struct rpc_auth *a = *state;
	assert_false(rpc_auth_check(a, basic(":"), NULL, 0));
	assert_false(rpc_auth_check(a, basic("__cookie__:"), NULL, 0));
}

static void make_tmpdir(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/p2pd-test-auth-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void test_cookie(void **state)
{
	struct rpc_auth *a = *state;
	char dir[64], path[128], err[256], user[64];
	make_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/.cookie", dir);
	assert_int_equal(rpc_auth_create_cookie(a, path, err, sizeof(err)), 0);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *content = NULL;
	size_t len = 0;
	assert_int_equal(fs_read_file(path, 4096, &content, &len), 0);
	assert_int_equal(len, strlen(COOKIE_USER) + 1 + 64);
	assert_memory_equal(content, COOKIE_USER ":", strlen(COOKIE_USER) + 1);
	const char *hex = content + strlen(COOKIE_USER) + 1;
	assert_int_equal(strspn(hex, "0123456789abcdef"), 64);

	/* The file's content is the credential. */
	assert_true(rpc_auth_check(a, basic(content), user, sizeof(user)));
	assert_string_equal(user, COOKIE_USER);
	char wrong[256];
	snprintf(wrong, sizeof(wrong), "%s", content);
	wrong[len - 1] = wrong[len - 1] == '0' ? '1' : '0';
	assert_false(rpc_auth_check(a, basic(wrong), NULL, 0));

	/* A second cookie replaces the first. */
	assert_int_equal(rpc_auth_create_cookie(a, path, err, sizeof(err)), 0);
	char *content2 = NULL;
	assert_int_equal(fs_read_file(path, 4096, &content2, &len), 0);
	assert_string_not_equal(content, content2);
	assert_false(rpc_auth_check(a, basic(content), NULL, 0));
	assert_true(rpc_auth_check(a, basic(content2), NULL, 0));

	rpc_auth_remove_cookie(a);
	assert_false(fs_exists(path));
	rpc_auth_remove_cookie(a); /* twice is harmless */
	free(content);
	free(content2);
	assert_int_equal(rmdir(dir), 0);
}

static void test_cookie_unwritable(void **state)
{
	struct rpc_auth *a = *state;
	char err[256];
	err[0] = '\0';
	assert_int_equal(
		rpc_auth_create_cookie(a, "/nonexistent-p2pd-dir/sub/.cookie", err, sizeof(err)),
		-1);
	assert_non_null(strstr(err, "/nonexistent-p2pd-dir/sub/.cookie"));
	assert_false(rpc_auth_check(a, basic("__cookie__:"), NULL, 0));
	rpc_auth_remove_cookie(a); /* nothing written: no-op */
	rpc_auth_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_password, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpcauth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpcauth_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rpcauth_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_unwritable, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
