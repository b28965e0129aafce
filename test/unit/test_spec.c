/* Unit tests for rpc/spec: the command table is complete and consistent, help and usage text
 * have Bitcoin Core's shape, p2p-cli's word conversion, and doc/rpc.md matches the table.
 *
 * doc/rpc.md holds a generated section between two markers; this program also regenerates it:
 *     test/unit/test_spec --write-doc <source dir>/doc/rpc.md */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/spec.h"
#include "util/fs.h"
#include "util/log.h"

#define DOC_BEGIN                                                              \
	"<!-- BEGIN GENERATED COMMANDS: do not edit by hand; regenerate with " \
	"`test/unit/test_spec --write-doc doc/rpc.md` -->\n"
#define DOC_END "<!-- END GENERATED COMMANDS -->\n"
/* doc/rpc.md is a few tens of kilobytes; anything near this is not our file. */
#define DOC_MAX_SIZE (1u << 20)

/* ---- The generated part of doc/rpc.md ---- */

static void append_n(char **buf, size_t *len, const char *text, size_t n)
{
	char *p = realloc(*buf, *len + n + 1);
	if (p == NULL)
		abort();
	memcpy(p + *len, text, n);
	p[*len + n] = '\0';
	*buf = p;
	*len += n;
}

static void append(char **buf, size_t *len, const char *text)
{
	append_n(buf, len, text, strlen(text));
}

static void append_take(char **buf, size_t *len, char *text)
{
	if (text == NULL)
		abort();
	append(buf, len, text);
	free(text);
}

/* The text between the markers, markers included. malloc'd. */
static char *generate_doc_section(void)
{
	char *out = NULL;
	size_t len = 0;
	const struct rpc_spec *const *specs;
	size_t n = rpc_spec_all(&specs);
	append(&out, &len, DOC_BEGIN);
	append(&out, &len, "\nThe list `p2p-cli help` prints:\n\n```text\n");
	append_take(&out, &len, rpc_spec_overview());
	append(&out, &len, "\n```\n");
	const char *category = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct rpc_spec *s = specs[i];
		if (category == NULL || strcmp(category, s->category) != 0) {
			category = s->category;
			char head[64];
			snprintf(head, sizeof(head), "\n### %c%s commands\n",
				 category[0] - 'a' + 'A', category + 1);
			append(&out, &len, head);
			if (strcmp(category, "hidden") == 0)
				append(&out, &len,
				       "\nHidden commands are for testing: `help` does not list "
				       "them, but `help <command>` explains them.\n");
		}
		append(&out, &len, "\n#### ");
		append(&out, &len, s->name);
		append(&out, &len, "\n\n```text\n");
		append_take(&out, &len, rpc_spec_help(s));
		append(&out, &len, "\n```\n");
	}
	append(&out, &len, "\n" DOC_END);
	return out;
}

/* Find the generated section in doc. Returns 0 with [*begin, *end) spanning both markers. */
static int find_section(const char *doc, const char **begin, const char **end)
{
	*begin = strstr(doc, DOC_BEGIN);
	const char *e = *begin ? strstr(*begin, DOC_END) : NULL;
	if (e == NULL)
		return -1;
	*end = e + strlen(DOC_END);
	return 0;
}

/* Replace the generated section of the file at path. Returns the exit code. */
static int write_doc(const char *path)
{
	char *doc = NULL;
	size_t len = 0;
	const char *begin = NULL, *end = NULL;
	if (fs_read_file(path, DOC_MAX_SIZE, &doc, &len) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	if (find_section(doc, &begin, &end) != 0) {
		fprintf(stderr, "%s has no generated section: add the two lines\n%s%s", path,
			DOC_BEGIN, DOC_END);
		free(doc);
		return 1;
	}
	char *section = generate_doc_section();
	char *out = NULL;
	size_t outlen = 0;
	append_n(&out, &outlen, doc, (size_t)(begin - doc));
	append(&out, &outlen, section);
	append(&out, &outlen, end);
	int rc = fs_write_file(path, out, outlen, 0644) == 0 ? 0 : 1;
	if (rc != 0)
		fprintf(stderr, "cannot write %s\n", path);
	else
		printf("wrote %s\n", path);
	free(out);
	free(section);
	free(doc);
	return rc;
}

/* ---- Tests ---- */

static bool known_category(const char *c)
{
	return strcmp(c, "control") == 0 || strcmp(c, "messages") == 0 ||
	       strcmp(c, "network") == 0 || strcmp(c, "util") == 0 || strcmp(c, "hidden") == 0;
}

static void test_table_consistent(void **state)
{
	(void)state;
	const struct rpc_spec *const *specs;
	size_t n = rpc_spec_all(&specs);
	assert_true(n >= 7);
	for (size_t i = 0; i < n; i++) {
		const struct rpc_spec *s = specs[i];
		if (!known_category(s->category))
			fail_msg("%s: unknown category %s", s->name, s->category);
		assert_ptr_equal(rpc_spec_find(s->name), s);
		assert_true(strlen(s->description) > 0);
		assert_true(strlen(s->result) > 0);
		if (strncmp(s->examples, "p2p-cli ", 8) != 0)
			fail_msg("%s: examples must start with p2p-cli", s->name);
		for (const char *nl = strchr(s->examples, '\n'); nl; nl = strchr(nl + 1, '\n'))
			if (strncmp(nl + 1, "p2p-cli ", 8) != 0)
				fail_msg("%s: every example line must start with p2p-cli", s->name);
		if (i > 0) {
			int c = strcmp(specs[i - 1]->category, s->category);
			if (c > 0 || (c == 0 && strcmp(specs[i - 1]->name, s->name) >= 0))
				fail_msg("table not sorted by category then name at %s", s->name);
		}
		size_t na = rpc_spec_nargs(s);
		bool optional_seen = false;
		for (size_t j = 0; j < na; j++) {
			const struct rpc_arg_spec *a = &s->args[j];
			assert_true(strlen(a->name) > 0 && strlen(a->desc) > 0);
			if (!a->optional && optional_seen)
				fail_msg("%s: required %s after an optional argument", s->name,
					 a->name);
			if (!a->optional && a->default_text != NULL)
				fail_msg("%s: required %s has a default", s->name, a->name);
			optional_seen |= a->optional;
			for (size_t k = 0; k < j; k++)
				if (strcmp(s->args[k].name, a->name) == 0)
					fail_msg("%s: argument %s twice", s->name, a->name);
		}
	}
	static const char *const required[] = {
		"help", "stop", "uptime", "getnetworkinfo", "logging", "setmocktime", "getrpcinfo"};
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (rpc_spec_find(required[i]) == NULL)
			fail_msg("command %s missing", required[i]);
	assert_null(rpc_spec_find("nosuch"));
	assert_null(rpc_spec_find(""));
	assert_null(rpc_spec_find(NULL));
	assert_null(rpc_spec_find("HELP"));
	assert_string_equal(rpc_spec_find("setmocktime")->category, "hidden");
}

static void check_usage(const char *name, const char *expected)
{
	char *u = rpc_spec_usage(rpc_spec_find(name));
	assert_non_null(u);
	assert_string_equal(u, expected);
	free(u);
}

static void test_usage(void **state)
{
	(void)state;
	check_usage("help", "help ( \"command\" )");
	check_usage("stop", "stop");
	check_usage("setmocktime", "setmocktime timestamp");
	check_usage("logging", "logging ( include exclude )");
}

static void test_help_text(void **state)
{
	(void)state;
	const struct rpc_spec *const *specs;
	size_t n = rpc_spec_all(&specs);
	for (size_t i = 0; i < n; i++) {
		char *h = rpc_spec_help(specs[i]);
		char *u = rpc_spec_usage(specs[i]);
		assert_non_null(h);
		/* Usage line, blank line, description. */
		assert_int_equal(strncmp(h, u, strlen(u)), 0);
		assert_int_equal(strncmp(h + strlen(u), "\n\n", 2), 0);
		assert_int_equal(strncmp(h + strlen(u) + 2, specs[i]->description,
					 strlen(specs[i]->description)),
				 0);
		assert_non_null(strstr(h, "\n\nResult:\n"));
		assert_non_null(strstr(h, "\n\nExamples:\n> p2p-cli "));
		if ((rpc_spec_nargs(specs[i]) > 0) != (strstr(h, "\n\nArguments:\n1. ") != NULL))
			fail_msg("%s: Arguments section wrong:\n%s", specs[i]->name, h);
		assert_true(h[strlen(h) - 1] != '\n');
		free(h);
		free(u);
	}
	char *h = rpc_spec_help(rpc_spec_find("help"));
	assert_non_null(strstr(h, "\n1. command    (string, optional, default=all commands) The "
				  "command to get help on\n"));
	free(h);
	h = rpc_spec_help(rpc_spec_find("setmocktime"));
	assert_non_null(strstr(h, "1. timestamp    (numeric, required) UNIX seconds"));
	/* A second description line lines up under the first. */
	assert_non_null(strstr(h, "\n                Pass 0 to go back"));
	free(h);
	h = rpc_spec_help(rpc_spec_find("logging"));
	assert_non_null(strstr(h, "1. include    (json array, optional) "));
	assert_non_null(strstr(h, "2. exclude    (json array, optional) "));
	free(h);
}

static void test_logging_lists_categories(void **state)
{
	(void)state;
	const char *const *names;
	size_t n = log_category_list(&names);
	const char *desc = rpc_spec_find("logging")->description;
	const char *list = strstr(desc, "The valid logging categories are: ");
	assert_non_null(list);
	for (size_t i = 0; i < n; i++) {
		char word[64];
		snprintf(word, sizeof(word), " %s", names[i]);
		const char *p = strstr(list, word);
		if (p == NULL || (p[strlen(word)] != ',' && p[strlen(word)] != '\n'))
			fail_msg("logging help does not list category %s", names[i]);
	}
}

static void test_overview(void **state)
{
	(void)state;
	char *o = rpc_spec_overview();
	assert_non_null(o);
	assert_int_equal(strncmp(o, "== Control ==\n", 14), 0);
	assert_non_null(strstr(o, "\n\n== Network ==\n"));
	assert_null(strstr(o, "Hidden"));
	assert_null(strstr(o, "setmocktime"));
	const struct rpc_spec *const *specs;
	size_t n = rpc_spec_all(&specs);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(specs[i]->category, "hidden") == 0)
			continue;
		char *u = rpc_spec_usage(specs[i]);
		char line[256];
		snprintf(line, sizeof(line), "\n%s\n", u);
		size_t ulen = strlen(u);
		bool last = strlen(o) >= ulen && strcmp(o + strlen(o) - ulen, u) == 0;
		if (strstr(o, line) == NULL && !last)
			fail_msg("overview lacks the line \"%s\"", u);
		free(u);
	}
	free(o);
}

static void test_types(void **state)
{
	(void)state;
	json_t *i = json_integer(5), *r = json_real(1.5), *s = json_string("x");
	json_t *t = json_true(), *o = json_object(), *a = json_array(), *z = json_null();
	assert_true(rpc_type_matches(RPC_T_INT, i));
	assert_false(rpc_type_matches(RPC_T_INT, r));
	assert_false(rpc_type_matches(RPC_T_INT, s));
	assert_true(rpc_type_matches(RPC_T_NUM, i));
	assert_true(rpc_type_matches(RPC_T_NUM, r));
	assert_false(rpc_type_matches(RPC_T_NUM, t));
	assert_true(rpc_type_matches(RPC_T_STR, s));
	assert_false(rpc_type_matches(RPC_T_STR, i));
	assert_true(rpc_type_matches(RPC_T_BOOL, t));
	assert_false(rpc_type_matches(RPC_T_BOOL, i));
	assert_true(rpc_type_matches(RPC_T_OBJ, o));
	assert_false(rpc_type_matches(RPC_T_OBJ, a));
	assert_true(rpc_type_matches(RPC_T_ARR, a));
	assert_false(rpc_type_matches(RPC_T_ARR, o));
	assert_false(rpc_type_matches(RPC_T_STR, z));
	assert_true(rpc_type_matches(RPC_T_ANY, z));
	assert_false(rpc_type_matches(RPC_T_ANY, NULL));
	assert_string_equal(rpc_type_name(RPC_T_STR), "string");
	assert_string_equal(rpc_type_name(RPC_T_INT), "numeric");
	assert_string_equal(rpc_type_name(RPC_T_ARR), "json array");
	json_decref(i);
	json_decref(r);
	json_decref(s);
	json_decref(o);
	json_decref(a);
}

/* Convert and compare the result's JSON text with expected (NULL: conversion must fail). */
static void check_conv(json_t *v, const char *expected, const char *err)
{
	if (expected == NULL) {
		assert_null(v);
		assert_true(strlen(err) > 0);
		return;
	}
	assert_non_null(v);
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	assert_string_equal(text, expected);
	free(text);
	json_decref(v);
}

static void test_convert_arg(void **state)
{
	(void)state;
	char err[256];
#define CONV(m, i, w, exp)                                                             \
	do {                                                                           \
		err[0] = '\0';                                                         \
		check_conv(rpc_spec_convert_arg(m, i, w, err, sizeof(err)), exp, err); \
	} while (0)
	CONV("help", 0, "uptime", "\"uptime\"");
	CONV("help", 0, "123", "\"123\""); /* string argument: taken as it is */
	CONV("help", 0, "\"x\"", "\"\\\"x\\\"\"");
	CONV("setmocktime", 0, "1700000000", "1700000000");
	CONV("setmocktime", 0, "0", "0");
	CONV("setmocktime", 0, "abc", NULL); /* numeric argument that is not JSON */
	assert_non_null(strstr(err, "abc"));
	CONV("setmocktime", 0, "", NULL);
	CONV("logging", 0, "[\"net\",\"rpc\"]", "[\"net\",\"rpc\"]");
	CONV("logging", 1, "[]", "[]");
	CONV("logging", 0, "[\"net\"", NULL);
	CONV("logging", 0, "null", "null");
	/* Beyond the table or unknown command: JSON when it parses, else a string. */
	CONV("help", 1, "true", "true");
	CONV("help", 1, "hello", "\"hello\"");
	CONV("nosuch", 0, "{\"a\":1}", "{\"a\":1}");
	CONV("nosuch", 0, "not json", "\"not json\"");
	CONV("nosuch", 3, "-5", "-5");
	/* Not UTF-8: no JSON string can hold it. */
	CONV("help", 0, "\xff\xfe", NULL);
#undef CONV
}

static void test_convert_named(void **state)
{
	(void)state;
	char err[256];
#define CONV(m, n, w, exp)                                                               \
	do {                                                                             \
		err[0] = '\0';                                                           \
		check_conv(rpc_spec_convert_named(m, n, w, err, sizeof(err)), exp, err); \
	} while (0)
	CONV("setmocktime", "timestamp", "42", "42");
	CONV("setmocktime", "timestamp", "soon", NULL);
	CONV("help", "command", "42", "\"42\"");
	CONV("logging", "exclude", "[\"all\"]", "[\"all\"]");
	CONV("logging", "exclude", "all", NULL);
	CONV("logging", "nosuch", "all", "\"all\"");
	CONV("nosuch", "x", "7", "7");
#undef CONV
}

static void test_doc_in_sync(void **state)
{
	(void)state;
	const char *top = getenv("top_srcdir");
	if (top == NULL || top[0] == '\0')
		fail_msg("top_srcdir is not set: run through `make check`, or set "
			 "top_srcdir=<source directory>");
	char path[FS_MAX_PATH];
	assert_int_equal(fs_join(path, sizeof(path), top, "doc/rpc.md"), 0);
	char *doc = NULL;
	size_t len = 0;
	if (fs_read_file(path, DOC_MAX_SIZE, &doc, &len) != 0)
		fail_msg("cannot read %s", path);
	const char *begin = NULL, *end = NULL;
	if (find_section(doc, &begin, &end) != 0)
		fail_msg("%s has no generated command section", path);
	char *want = generate_doc_section();
	size_t have_len = (size_t)(end - begin);
	size_t i = 0, line = 1;
	while (i < have_len && want[i] == begin[i]) {
		if (want[i] == '\n')
			line++;
		i++;
	}
	bool same = have_len == strlen(want) && i == have_len;
	free(want);
	free(doc);
	if (!same)
		fail_msg("doc/rpc.md is out of step with the command table (src/rpc/spec.c), from "
			 "line %zu of its generated section. Regenerate it from the build "
			 "directory with: test/unit/test_spec --write-doc %s",
			 line, path);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-doc") == 0)
		return write_doc(argv[2]);
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--write-doc <path to doc/rpc.md>]\n", argv[0]);
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_consistent),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_help_text),
		cmocka_unit_test(test_logging_lists_categories),
		cmocka_unit_test(test_overview),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_convert_arg),
		cmocka_unit_test(test_convert_named),
		cmocka_unit_test(test_doc_in_sync),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
