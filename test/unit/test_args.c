/* Unit tests for util/args: command line, config file, sections, precedence, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util/args.h"

static const struct arg_def defs[] = {
	{"datadir", ARG_STRING, ARG_CMDLINE_ONLY, 0, 0, "<dir>", "Data directory.", "General"},
	{"regtest", ARG_BOOL, 0, 0, 0, NULL, "Use regtest.", "Chain"},
	{"port", ARG_INT, 0, 1, 65535, "<port>", "Listen port.", "Network"},
	{"rpcuser", ARG_STRING, 0, 0, 0, "<user>", "RPC user.", "RPC"},
	{"debug", ARG_LIST, 0, 0, 0, "<cat>", "Debug category.", "Debugging"},
	{"server", ARG_BOOL, 0, 0, 0, NULL, "Accept RPC.", "RPC"},
	{"secret", ARG_STRING, ARG_HIDDEN, 0, 0, "<x>", "Hidden option.", "RPC"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static struct args *mk(void)
{
	struct args *a = args_new(defs, NDEFS);
	assert_non_null(a);
	return a;
}

static void test_cmdline_forms(void **state)
{
	(void)state;
	struct args *a = mk();
	char err[256];
	const char *argv[] = {"prog",           "-regtest",   "--port=1234",
			      "-rpcuser=alice", "-debug=net", "-debug=rpc",
			      "-noserver",      "getinfo",    "-x"};
	int first;
	assert_int_equal(args_parse_cmdline(a, 9, (char *const *)argv, &first, err, sizeof(err)),
			 0);
	assert_int_equal(first, 7);
	assert_true(args_get_bool(a, "regtest", false));
	assert_int_equal(args_get_int(a, "port", 1), 1234);
	assert_string_equal(args_get_str(a, "rpcuser", ""), "alice");
	assert_false(args_get_bool(a, "server", true));
	assert_true(args_is_negated(a, "server"));
	const char *const *v;
	assert_int_equal(args_get_list(a, "debug", &v), 2);
	assert_string_equal(v[0], "net");
	assert_string_equal(v[1], "rpc");
	assert_false(args_is_set(a, "datadir"));
	assert_string_equal(args_get_str(a, "datadir", "def"), "def");
	args_free(a);
}

static void test_cmdline_errors(void **state)
{
	(void)state;
	char err[256];
	struct {
		const char *arg;
		const char *msg;
	} cases[] = {
		{"-bogus", "unknown option -bogus"}, {"-port=abc", "expected an integer"},
		{"-port=70000", "out of range"},     {"-port", "requires a value"},
		{"-regtest=yes", "expected 0 or 1"}, {"-rpcuser", "requires a value"},
		{"-=1", "invalid option"},           {"-noport=0", "not meaningful"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct args *a = mk();
		const char *argv[] = {"prog", cases[i].arg};
		err[0] = '\0';
		assert_int_equal(
			args_parse_cmdline(a, 2, (char *const *)argv, NULL, err, sizeof(err)), -1);
		if (!strstr(err, cases[i].msg))
			fail_msg("'%s': got '%s', expected '%s'", cases[i].arg, err, cases[i].msg);
		args_free(a);
	}
}

static void test_double_dash_stops(void **state)
{
	(void)state;
	struct args *a = mk();
	char err[256];
	const char *argv[] = {"prog", "-regtest", "--", "-notanoption"};
	int first;
	assert_int_equal(args_parse_cmdline(a, 4, (char *const *)argv, &first, err, sizeof(err)),
			 0);
	assert_int_equal(first, 3);
	args_free(a);
}

static const char conf[] = "# a comment\n"
			   "rpcuser=top\n"
			   "port = 1000\n"
			   "debug=db\n"
			   "\n"
			   "[regtest]\n"
			   "port=2000\n"
			   "debug=net\n"
			   "[main]\n"
			   "rpcuser=mainuser\n"
			   "testnet.port=3000\r\n";

static void test_config_sections_and_precedence(void **state)
{
	(void)state;
	char err[256];
	struct args *a = mk();
	assert_int_equal(args_read_config_string(a, conf, strlen(conf), "t.conf", err, sizeof(err)),
			 0);
	/* main by default */
	assert_int_equal(args_get_int(a, "port", 0), 1000);
	assert_string_equal(args_get_str(a, "rpcuser", ""), "mainuser");
	args_select_network(a, "regtest");
	assert_int_equal(args_get_int(a, "port", 0), 2000);
	assert_string_equal(args_get_str(a, "rpcuser", ""), "top");
	const char *const *v;
	assert_int_equal(args_get_list(a, "debug", &v), 2);
	assert_string_equal(v[0], "net");
	assert_string_equal(v[1], "db");
	args_select_network(a, "testnet");
	assert_int_equal(args_get_int(a, "port", 0), 3000);
	/* command line beats everything */
	const char *argv[] = {"prog", "-port=4000", "-nodebug"};
	assert_int_equal(args_parse_cmdline(a, 3, (char *const *)argv, NULL, err, sizeof(err)), 0);
	assert_int_equal(args_get_int(a, "port", 0), 4000);
	assert_int_equal(args_get_list(a, "debug", &v), 0);
	args_free(a);
}

static void test_config_errors_name_line(void **state)
{
	(void)state;
	struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{"port=1\nbogus=1\n", "t.conf:2: unknown option -bogus"},
		{"\n\nnoequals\n", "t.conf:3: expected name=value"},
		{"[regtest\n", "t.conf:1: malformed section header"},
		{"[nosuchnet]\n", "t.conf:1: unknown section [nosuchnet]"},
		{"server=yes\n", "t.conf:1: invalid value 'yes' for -server"},
		{"datadir=/tmp\n", "t.conf:1: -datadir can only be given on the command line"},
		{"bogusnet.port=1\n", "t.conf:1: unknown network 'bogusnet'"},
		{"=1\n", "t.conf:1: malformed option name"},
		{"port=1\0\n", "t.conf:1: line contains a NUL byte"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct args *a = mk();
		char err[512] = "";
		size_t len = strlen(cases[i].text);
		if (strstr(cases[i].msg, "NUL"))
			len = 9;
		assert_int_equal(
			args_read_config_string(a, cases[i].text, len, "t.conf", err, sizeof(err)),
			-1);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: got '%s', expected '%s'", i, err, cases[i].msg);
		args_free(a);
	}
}

static void test_config_long_line(void **state)
{
	(void)state;
	size_t n = ARGS_MAX_LINE + 10;
	char *text = malloc(n + 1);
	memset(text, 'a', n);
	memcpy(text, "rpcuser=", 8);
	text[n] = '\0';
	struct args *a = mk();
	char err[256];
	assert_int_equal(args_read_config_string(a, text, n, "t.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	args_free(a);
	free(text);
}

static void test_config_list_bound(void **state)
{
	(void)state;
	struct args *a = mk();
	char err[256];
	size_t count = ARGS_MAX_LIST + 1;
	char *text = malloc(count * 10 + 1);
	size_t len = 0;
	for (size_t i = 0; i < count; i++)
		len += (size_t)sprintf(text + len, "debug=net\n");
	assert_int_equal(args_read_config_string(a, text, len, "t.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many values"));
	args_free(a);
	free(text);
}

static void test_ignore_unknown_config(void **state)
{
	(void)state;
	struct args *a = mk();
	char err[256];
	args_set_ignore_unknown_config(a, true);
	const char *text = "somep2pdoption=1\nrpcuser=bob\n";
	assert_int_equal(args_read_config_string(a, text, strlen(text), "t.conf", err, sizeof(err)),
			 0);
	assert_string_equal(args_get_str(a, "rpcuser", ""), "bob");
	/* Known keys are still checked. */
	const char *bad = "port=x\n";
	assert_int_equal(args_read_config_string(a, bad, strlen(bad), "t.conf", err, sizeof(err)),
			 -1);
	/* The command line stays strict. */
	const char *argv[] = {"prog", "-somep2pdoption=1"};
	assert_int_equal(args_parse_cmdline(a, 2, (char *const *)argv, NULL, err, sizeof(err)), -1);
	args_free(a);
}

static void test_negation_in_config(void **state)
{
	(void)state;
	struct args *a = mk();
	char err[256];
	const char *text = "noserver=1\nvalue_with_hash_is_fine=1\n";
	args_set_ignore_unknown_config(a, true);
	assert_int_equal(args_read_config_string(a, text, strlen(text), "t.conf", err, sizeof(err)),
			 0);
	assert_false(args_get_bool(a, "server", true));
	const char *pw = "rpcuser=a#b\n";
	assert_int_equal(args_read_config_string(a, pw, strlen(pw), "t.conf", err, sizeof(err)), 0);
	assert_string_equal(args_get_str(a, "rpcuser", ""), "a#b");
	args_free(a);
}

static void test_force_set_and_parse_helpers(void **state)
{
	(void)state;
	struct args *a = mk();
	char err[256];
	assert_int_equal(args_force_set(a, "port", "99", err, sizeof(err)), 0);
	assert_int_equal(args_get_int(a, "port", 0), 99);
	assert_int_equal(args_force_set(a, "port", "0", err, sizeof(err)), -1);
	args_free(a);
	int64_t v;
	assert_int_equal(parse_int64("-42", &v), 0);
	assert_int_equal(v, -42);
	assert_int_equal(parse_int64("", &v), -1);
	assert_int_equal(parse_int64(" 1", &v), -1);
	assert_int_equal(parse_int64("1 ", &v), -1);
	assert_int_equal(parse_int64("99999999999999999999", &v), -1);
	bool b;
	assert_int_equal(parse_bool("true", &b), -1);
	assert_int_equal(parse_bool("1", &b), 0);
	assert_true(b);
}

static void test_help_text(void **state)
{
	(void)state;
	char *h = args_help_text(defs, NDEFS);
	assert_non_null(h);
	assert_non_null(strstr(h, "Options:"));
	assert_non_null(strstr(h, "  -datadir=<dir>\n       Data directory."));
	assert_non_null(strstr(h, "Debugging:"));
	assert_null(strstr(h, "-secret"));
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_forms),
		cmocka_unit_test(test_cmdline_errors),
		cmocka_unit_test(test_double_dash_stops),
		cmocka_unit_test(test_config_sections_and_precedence),
		cmocka_unit_test(test_config_errors_name_line),
		cmocka_unit_test(test_config_long_line),
		cmocka_unit_test(test_config_list_bound),
		cmocka_unit_test(test_ignore_unknown_config),
		cmocka_unit_test(test_negation_in_config),
		cmocka_unit_test(test_force_set_and_parse_helpers),
		cmocka_unit_test(test_help_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
