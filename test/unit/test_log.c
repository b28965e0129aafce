/* Unit tests for util/log: category names, the line format (timestamps, level prefixes,
 * "[category] "), debug categories on and off, reopening after logrotate's rename, long-line
 * truncation, write errors, console output and concurrent writers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/log.h"

/* Largest log file a test reads back. */
#define TEST_LOG_MAX (1u << 20)

struct logtest {
	char dir[256];
	char path[512]; /* dir + "/debug.log": room left for suffixes */
};

static int setup(void **state)
{
	struct logtest *t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	const char *base = getenv("TMPDIR");
	snprintf(t->dir, sizeof(t->dir), "%s/test_log.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t->dir) || fs_join(t->path, sizeof(t->path), t->dir, "debug.log") != 0) {
		free(t);
		return -1;
	}
	log_shutdown();
	if (log_open_file(t->path) != 0) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct logtest *t = *state;
	log_shutdown();
	char p[FS_MAX_PATH];
	unlink(t->path);
	snprintf(p, sizeof(p), "%s.1", t->path);
	unlink(p);
	rmdir(t->dir);
	free(t);
	return 0;
}

/* The whole content of path (caller frees). */
static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;
	int rc = fs_read_file(path, TEST_LOG_MAX, &buf, &len);
	assert_int_equal(rc, 0);
	return buf;
}

static void assert_log_is(const struct logtest *t, const char *expect)
{
	char *got = slurp(t->path);
	assert_string_equal(got, expect);
	free(got);
}

static void test_category_names(void **state)
{
	(void)state;
	const char *const *names;
	size_t n = log_category_list(&names);
	assert_int_equal(n, 8);
	static const char *const expect[] = {"net", "msg",  "addrman", "rpc",
					     "db",  "http", "crypto",  "config"};
	uint32_t all = 0;
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(names[i], expect[i]);
		uint32_t bit = log_category_from_name(names[i]);
		assert_int_equal(bit, 1u << i);
		assert_string_equal(log_category_name(bit), names[i]);
		assert_true(log_category_known(names[i]));
		all |= bit;
	}
	assert_int_equal(all, LOG_ALL);
	assert_int_equal(log_category_from_name("net"), LOG_NET);
	assert_int_equal(log_category_from_name("addrman"), LOG_ADDRMAN);
	assert_int_equal(log_category_from_name("config"), LOG_CONFIG);
	assert_int_equal(log_category_from_name("all"), LOG_ALL);
	assert_int_equal(log_category_from_name("1"), LOG_ALL);
	assert_int_equal(log_category_from_name("none"), LOG_NONE);
	assert_int_equal(log_category_from_name("0"), LOG_NONE);
	assert_true(log_category_known("all"));
	assert_true(log_category_known("1"));
	assert_true(log_category_known("none"));
	assert_true(log_category_known("0"));

	static const char *const bad[] = {"", "NET", "nett", "2", "al", "net,rpc", " net"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(log_category_from_name(bad[i]), LOG_NONE);
		assert_false(log_category_known(bad[i]));
	}
	assert_false(log_category_known(NULL));
	assert_null(log_category_name(LOG_NONE));
	assert_null(log_category_name(LOG_NET | LOG_RPC));
	assert_null(log_category_name(LOG_ALL));
	assert_null(log_category_name(1u << 8));
}

/* Check "YYYY-MM-DDTHH:MM:SS.uuuuuuZ " at the start of s. */
static void assert_timestamp(const char *s)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:dd.ddddddZ ";
	for (size_t i = 0; pattern[i]; i++) {
		if (pattern[i] == 'd')
			assert_true(isdigit((unsigned char)s[i]));
		else
			assert_int_equal(s[i], pattern[i]);
	}
}

static void test_format(void **state)
{
	struct logtest *t = *state;
	log_set_timestamps(false);
	log_info("hello %d", 42);
	log_warn("careful");
	log_error("broken\n"); /* newline not doubled */
	log_write(LOG_LEVEL_INFO, LOG_NONE, "%s", "");
	assert_log_is(t, "hello 42\nWarning: careful\nError: broken\n\n");

	/* Timestamps on: "2026-11-21T23:59:59.123456Z hello". */
	assert_int_equal(log_open_file(NULL), 0);
	assert_string_equal(log_file_path(), "");
	unlink(t->path);
	assert_int_equal(log_open_file(t->path), 0);
	assert_string_equal(log_file_path(), t->path);
	log_set_timestamps(true);
	log_warn("stamped");
	char *got = slurp(t->path);
	assert_int_equal(strlen(got), 28 + strlen("Warning: stamped\n"));
	assert_timestamp(got);
	assert_string_equal(got + 28, "Warning: stamped\n");
	assert_true(strncmp(got, "20", 2) == 0); /* this century, UTC from the real clock */
	free(got);
}

static void test_debug_categories(void **state)
{
	struct logtest *t = *state;
	log_set_timestamps(false);
	assert_int_equal(log_enabled_categories(), LOG_NONE);
	log_debug(LOG_NET, "hidden %d", 1);
	log_write(LOG_LEVEL_DEBUG, LOG_NET, "hidden too");
	log_enable(LOG_NET | LOG_RPC);
	assert_true(log_category_enabled(LOG_NET));
	assert_false(log_category_enabled(LOG_DB));
	log_debug(LOG_NET, "peer %d connected", 7);
	log_debug(LOG_DB, "hidden db");
	log_debug(LOG_RPC, "call");
	log_disable(LOG_NET);
	assert_int_equal(log_enabled_categories(), LOG_RPC);
	log_debug(LOG_NET, "hidden again");
	log_enable(LOG_ALL);
	log_debug(LOG_ADDRMAN, "book");
	log_disable(LOG_ALL);
	log_debug(LOG_ADDRMAN, "hidden book");
	log_info("info is always written");
	assert_log_is(t, "[net] peer 7 connected\n[rpc] call\n[addrman] book\n"
			 "info is always written\n");
}

static void test_reopen_after_rename(void **state)
{
	struct logtest *t = *state;
	log_set_timestamps(false);
	log_info("before rotation");
	char rotated[FS_MAX_PATH];
	snprintf(rotated, sizeof(rotated), "%s.1", t->path);
	assert_int_equal(rename(t->path, rotated), 0);
	log_info("still to the old file");
	assert_int_equal(log_reopen(), 0);
	log_info("after rotation");

	char *old = slurp(rotated);
	assert_string_equal(old, "before rotation\nstill to the old file\n");
	free(old);
	assert_log_is(t, "after rotation\n");

	/* Reopen fails when the directory is gone; logging keeps going to the old file. */
	unlink(t->path);
	unlink(rotated);
	assert_int_equal(rmdir(t->dir), 0);
	assert_int_equal(log_reopen(), -1);
	log_info("into the unlinked file");
	assert_int_equal(log_last_write_error(), 0);
	assert_int_equal(mkdir(t->dir, 0700), 0);
}

static void test_open_failure_keeps_state(void **state)
{
	struct logtest *t = *state;
	char bad[FS_MAX_PATH];
	snprintf(bad, sizeof(bad), "%s/missing/debug.log", t->dir);
	assert_int_equal(log_open_file(bad), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(log_file_path(), t->path);
	char longp[FS_MAX_PATH + 8];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(log_open_file(longp), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	log_set_timestamps(false);
	log_info("kept");
	assert_log_is(t, "kept\n");
}

static void test_long_line_truncated(void **state)
{
	struct logtest *t = *state;
	log_set_timestamps(false);
	const size_t n = 100000;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	log_warn("%s", big);
	log_info("next");
	free(big);

	char *got = slurp(t->path);
	/* Indexes, not pointers: GCC 12 mistakes a strchr result here for a dangling pointer. */
	size_t first = strcspn(got, "\n");
	assert_int_equal(got[first], '\n');
	assert_true(first > 1000); /* kept, not dropped */
	assert_true(first < n);    /* but cut */
	assert_true(strncmp(got, "Warning: xxx", 12) == 0);
	assert_memory_equal(got + first - 3, "...", 3); /* and marked */
	assert_string_equal(got + first + 1, "next\n");
	free(got);
}

static void test_write_error_remembered(void **state)
{
	struct logtest *t = *state;
	if (!fs_exists("/dev/full"))
		skip();
	assert_int_equal(log_open_file("/dev/full"), 0);
	assert_int_equal(log_last_write_error(), 0);
	log_info("lost"); /* must not crash; reported once on stderr */
	assert_int_equal(log_last_write_error(), ENOSPC);
	log_info("lost again");
	assert_int_equal(log_last_write_error(), ENOSPC);
	/* Back to a working file: the error clears with the next good write. */
	assert_int_equal(log_open_file(t->path), 0);
	log_set_timestamps(false);
	log_info("ok");
	assert_int_equal(log_last_write_error(), 0);
	assert_log_is(t, "ok\n");
}

static void test_console(void **state)
{
	struct logtest *t = *state;
	char cpath[FS_MAX_PATH];
	snprintf(cpath, sizeof(cpath), "%s.console", t->path);
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	int fd = open(cpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);

	log_set_timestamps(false);
	log_info("file only");
	log_set_console(true);
	log_info("both");
	assert_int_equal(log_open_file(NULL), 0);
	log_error("console only");
	log_set_console(false);
	log_info("nowhere");

	fflush(stdout);
	assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
	close(saved);
	char *out = slurp(cpath);
	unlink(cpath);
	assert_string_equal(out, "both\nError: console only\n");
	free(out);
	assert_log_is(t, "file only\nboth\n");
}

/* Concurrent writers: every line arrives whole. */
#define THREADS          4
#define LINES_PER_THREAD 500

static void *writer(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < LINES_PER_THREAD; i++)
		log_info("thread %d line %04d %s", id, i, "abcdefghijklmnopqrstuvwxyz");
	return NULL;
}

static void test_threads(void **state)
{
	struct logtest *t = *state;
	log_set_timestamps(false);
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);

	char *got = slurp(t->path);
	int lines = 0;
	for (char *line = got, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		int id, n;
		char tail[32];
		*nl = '\0';
		assert_int_equal(sscanf(line, "thread %d line %d %31s", &id, &n, tail), 3);
		assert_string_equal(tail, "abcdefghijklmnopqrstuvwxyz");
		lines++;
	}
	assert_int_equal(lines, THREADS * LINES_PER_THREAD);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_category_names),
		cmocka_unit_test_setup_teardown(test_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_debug_categories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_failure_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_line_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_remembered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
