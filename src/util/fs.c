/* Files and directories: the data directory, its lock, and small files written safely.
 *
 * Every descriptor is opened with O_CLOEXEC so that nothing leaks into a child process (the
 * -daemon fork, a shell hook). Paths are built in fixed buffers of FS_MAX_PATH bytes; a path
 * that does not fit is an error, never truncated. */
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/random.h"

/* Room after the target's name for ".tmp-<16 hex digits>" and the NUL. */
#define FS_TMP_SUFFIX_MAX 24
/* Attempts at a fresh temporary name before giving up: a clash needs a stale file with the
 * same 64-bit random suffix, so a second attempt already means something odd is going on. */
#define FS_TMP_ATTEMPTS 4

int fs_default_datadir(char *out, size_t outlen)
{
	const char *home = getenv("HOME");
	int n;
	if (home && home[0] != '\0')
		n = snprintf(out, outlen, "%s/.p2pd", home);
	else
		n = snprintf(out, outlen, ".p2pd");
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int fs_join(char *out, size_t outlen, const char *dir, const char *name)
{
	size_t dlen = strlen(dir);
	const char *sep = (dlen == 0 || dir[dlen - 1] == '/') ? "" : "/";
	int n = snprintf(out, outlen, "%s%s%s", dir, sep, name);
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return -1;
	}
	return 0;
}

int fs_mkdirs(const char *dir)
{
	char path[FS_MAX_PATH];
	size_t len = strlen(dir);
	if (len == 0) {
		errno = ENOENT;
		return -1;
	}
	if (len >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, len + 1);
	/* Create each prefix ending before a '/', then the whole path. */
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char saved = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return -1;
		path[i] = saved;
	}
	if (!fs_is_dir(dir)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

bool fs_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool fs_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Close fd keeping errno as it was (the first error is the one worth reporting). */
static void close_keep_errno(int fd)
{
	int saved = errno;
	close(fd);
	errno = saved;
}

int fs_lock_dir(const char *dir)
{
	char path[FS_MAX_PATH];
	if (fs_join(path, sizeof(path), dir, ".lock") != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	/* fcntl locks belong to the process and vanish when it exits, even on a crash: no stale
	 * lock file to clean up. Closing any descriptor of this file drops the lock, so the
	 * caller keeps this one and opens the file nowhere else. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		if (errno == EACCES || errno == EAGAIN)
			errno = EWOULDBLOCK; /* POSIX allows either; callers test one */
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory that holds path, so a rename into it survives a crash. */
static int fsync_parent(const char *path)
{
	char dir[FS_MAX_PATH];
	const char *slash = strrchr(path, '/');
	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	if (rc != 0)
		close_keep_errno(fd);
	else
		rc = close(fd);
	return rc;
}

/* Create a fresh temporary file next to path with the given mode. Returns the fd and its name
 * in tmp, or -1. */
static int open_tmp(const char *path, mode_t mode, char *tmp, size_t tmplen)
{
	for (int i = 0; i < FS_TMP_ATTEMPTS; i++) {
		int n = snprintf(tmp, tmplen, "%s.tmp-%016" PRIx64, path, random_u64());
		if (n < 0 || (size_t)n >= tmplen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		int fd = open(tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -1;
	}
	return -1; /* errno EEXIST */
}

int fs_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[FS_MAX_PATH + FS_TMP_SUFFIX_MAX];
	if (strlen(path) >= FS_MAX_PATH) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open_tmp(path, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return -1;
	/* The umask may have removed bits from mode (or, with umask 0, nothing): set the mode
	 * exactly, before the first byte of a possible secret lands in the file. */
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		close_keep_errno(fd);
		goto fail;
	}
	if (close(fd) != 0)
		goto fail;
	if (rename(tmp, path) != 0)
		goto fail;
	return fsync_parent(path);
fail : {
	int saved = errno;
	unlink(tmp);
	errno = saved;
	return -1;
}
}

/* First buffer for fs_read_file when the file's size is unknown (a pipe, /proc): small files
 * (cookie, config, key) fit at once. */
#define FS_READ_INITIAL 4096

int fs_read_file(const char *path, size_t maxlen, char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close_keep_errno(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return -1;
	}
	if (st.st_size > 0 && (uint64_t)st.st_size > maxlen) {
		close(fd);
		errno = EFBIG;
		return -1;
	}
	/* The file may change while we read: trust only what read() returns, up to maxlen. */
	size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : FS_READ_INITIAL;
	if (cap > maxlen + 1 && maxlen < SIZE_MAX)
		cap = maxlen + 1;
	/* cap never exceeds maxlen + 1: reading one byte past maxlen detects an oversize file.
	 * The allocation has one more byte for the terminating NUL. */
	char *buf = malloc(cap + 1);
	size_t len = 0;
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	for (;;) {
		if (len == cap) {
			if (len > maxlen) {
				free(buf);
				close(fd);
				errno = EFBIG;
				return -1;
			}
			size_t ncap = cap > SIZE_MAX / 2 - 1 ? SIZE_MAX - 1 : cap * 2;
			if (ncap > maxlen + 1 && maxlen < SIZE_MAX)
				ncap = maxlen + 1;
			char *nbuf = realloc(buf, ncap + 1);
			if (!nbuf) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return -1;
			}
			buf = nbuf;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			close_keep_errno(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > maxlen) {
		free(buf);
		errno = EFBIG;
		return -1;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}
