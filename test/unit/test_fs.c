/* Unit tests for util/fs: path joining and its bound, the default data directory, nested
 * mkdirs, the data-directory lock across processes, atomic writes with an exact mode, and
 * bounded reads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fs.h"

struct tmpdir {
	char path[256];
};

/* Remove a tree below root (only what these tests create: files and directories). */
static void rm_tree(const char *root)
{
	DIR *d = opendir(root);
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			char p[FS_MAX_PATH];
			snprintf(p, sizeof(p), "%s/%s", root, e->d_name);
			if (fs_is_dir(p))
				rm_tree(p);
			else
				unlink(p);
		}
		closedir(d);
	}
	rmdir(root);
}

static int setup_tmp(void **state)
{
	struct tmpdir *t = malloc(sizeof(*t));
	if (!t)
		return -1;
	const char *base = getenv("TMPDIR");
	snprintf(t->path, sizeof(t->path), "%s/test_fs.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int teardown_tmp(void **state)
{
	struct tmpdir *t = *state;
	rm_tree(t->path);
	free(t);
	return 0;
}

static void test_join(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(fs_join(out, sizeof(out), "a/b", "c"), 0);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(fs_join(out, sizeof(out), "a/b/", "c"), 0);
	assert_string_equal(out, "a/b/c");
	assert_int_equal(fs_join(out, sizeof(out), "", "c"), 0);
	assert_string_equal(out, "c");
	/* 15 characters fit in 16 bytes; 16 do not. */
	assert_int_equal(fs_join(out, sizeof(out), "0123456", "89abcde"), 0);
	assert_string_equal(out, "0123456/89abcde");
	assert_int_equal(fs_join(out, sizeof(out), "0123456", "89abcdef"), -1);
	assert_string_equal(out, ""); /* never a truncated path */
}

static void test_default_datadir(void **state)
{
	(void)state;
	char out[FS_MAX_PATH];
	char *saved = getenv("HOME") ? strdup(getenv("HOME")) : NULL;

	setenv("HOME", "/home/alice", 1);
	assert_int_equal(fs_default_datadir(out, sizeof(out)), 0);
	assert_string_equal(out, "/home/alice/.p2pd");
	char small[8];
	assert_int_equal(fs_default_datadir(small, sizeof(small)), -1);

	unsetenv("HOME");
	assert_int_equal(fs_default_datadir(out, sizeof(out)), 0);
	assert_string_equal(out, ".p2pd");

	if (saved) {
		setenv("HOME", saved, 1);
		free(saved);
	}
}

static void test_mkdirs(void **state)
{
	struct tmpdir *t = *state;
	char p[FS_MAX_PATH];
	assert_int_equal(fs_join(p, sizeof(p), t->path, "a/b/c"), 0);
	assert_false(fs_exists(p));
	assert_int_equal(fs_mkdirs(p), 0);
	assert_true(fs_is_dir(p));
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0); /* 0700, whatever the umask adds */
	assert_int_equal(fs_mkdirs(p), 0);      /* existing: fine */

	/* A component that is a file. */
	char f[FS_MAX_PATH];
	assert_int_equal(fs_join(f, sizeof(f), t->path, "file"), 0);
	assert_int_equal(fs_write_file(f, "x", 1, 0600), 0);
	assert_true(fs_exists(f));
	assert_false(fs_is_dir(f));
	assert_int_equal(fs_join(p, sizeof(p), f, "sub"), 0);
	assert_int_equal(fs_mkdirs(p), -1);
	assert_int_equal(fs_mkdirs(f), -1);
	assert_int_equal(errno, ENOTDIR);

	/* Too long. */
	char longp[FS_MAX_PATH + 10];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(fs_mkdirs(longp), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(fs_mkdirs(""), -1);
}

/* In a child process, try to lock dir: exit 0 if refused with EWOULDBLOCK, 1 if it got the
 * lock, 2 on any other error. Returns the exit status. */
static int child_lock(const char *dir)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = fs_lock_dir(dir);
		if (fd >= 0)
			_exit(1);
		_exit(errno == EWOULDBLOCK ? 0 : 2);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_lock_dir(void **state)
{
	struct tmpdir *t = *state;
	int fd = fs_lock_dir(t->path);
	assert_true(fd >= 0);
	char lock[FS_MAX_PATH];
	assert_int_equal(fs_join(lock, sizeof(lock), t->path, ".lock"), 0);
	assert_true(fs_exists(lock));
	/* Another process is refused while we hold it... */
	assert_int_equal(child_lock(t->path), 0);
	/* ...and gets it once we let go. */
	close(fd);
	assert_int_equal(child_lock(t->path), 1);

	char missing[FS_MAX_PATH];
	assert_int_equal(fs_join(missing, sizeof(missing), t->path, "nope"), 0);
	assert_int_equal(fs_lock_dir(missing), -1);
	assert_int_equal(errno, ENOENT);
}

/* Count directory entries whose name starts with prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
	int n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void test_write_file_mode(void **state)
{
	struct tmpdir *t = *state;
	char p[FS_MAX_PATH];
	assert_int_equal(fs_join(p, sizeof(p), t->path, "secret"), 0);

	mode_t old = umask(0); /* a careless umask must not widen the mode */
	assert_int_equal(fs_write_file(p, "s3cret", 6, 0600), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Overwrite, and a restrictive umask must not narrow it either. */
	umask(0777);
	assert_int_equal(fs_write_file(p, "new", 3, 0640), 0);
	umask(old);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);

	char *buf;
	size_t len;
	assert_int_equal(fs_read_file(p, 100, &buf, &len), 0);
	assert_int_equal(len, 3);
	assert_string_equal(buf, "new");
	free(buf);
	assert_int_equal(count_prefix(t->path, "secret.tmp"), 0); /* no temporary left */

	/* Missing directory: an error, nothing created. */
	assert_int_equal(fs_join(p, sizeof(p), t->path, "nodir/secret"), 0);
	assert_int_equal(fs_write_file(p, "x", 1, 0600), -1);
	assert_int_equal(errno, ENOENT);

	/* Empty content is a valid file. */
	assert_int_equal(fs_join(p, sizeof(p), t->path, "empty"), 0);
	assert_int_equal(fs_write_file(p, NULL, 0, 0600), 0);
	assert_int_equal(fs_read_file(p, 10, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void test_read_file_bound(void **state)
{
	struct tmpdir *t = *state;
	char p[FS_MAX_PATH];
	assert_int_equal(fs_join(p, sizeof(p), t->path, "ten"), 0);
	assert_int_equal(fs_write_file(p, "0123456789", 10, 0600), 0);

	char *buf = (char *)1;
	size_t len = 99;
	assert_int_equal(fs_read_file(p, 10, &buf, &len), 0); /* exactly at the bound */
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);

	assert_int_equal(fs_read_file(p, 9, &buf, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_null(buf);
	assert_int_equal(len, 0);

	assert_int_equal(fs_join(p, sizeof(p), t->path, "missing"), 0);
	assert_int_equal(fs_read_file(p, 10, &buf, &len), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fs_read_file(t->path, 10, &buf, &len), -1);
	assert_int_equal(errno, EISDIR);
}

static void test_read_file_unknown_size(void **state)
{
	(void)state;
	/* /proc files report size 0: the bound must hold while reading. */
	char *buf;
	size_t len;
	if (!fs_exists("/proc/self/status"))
		skip();
	assert_int_equal(fs_read_file("/proc/self/status", 8, &buf, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_int_equal(fs_read_file("/proc/self/status", 1 << 20, &buf, &len), 0);
	assert_true(len > 8);
	assert_int_equal(strlen(buf), len);
	assert_non_null(strstr(buf, "Name:"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_default_datadir),
		cmocka_unit_test_setup_teardown(test_mkdirs, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_lock_dir, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_write_file_mode, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_read_file_bound, setup_tmp, teardown_tmp),
		cmocka_unit_test(test_read_file_unknown_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
