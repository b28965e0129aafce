/* Files and directories: the data directory, its lock, and small files written safely. */
#ifndef P2PD_UTIL_FS_H
#define P2PD_UTIL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Longest path the node builds; longer configured paths are refused at start-up. */
#define FS_MAX_PATH 1024

/* The default data directory: $HOME/.p2pd (or ".p2pd" when HOME is unset). Writes into out
 * (FS_MAX_PATH bytes). Returns 0, or -1 if it does not fit. */
int fs_default_datadir(char *out, size_t outlen);
/* Join dir and name with one '/'. Returns 0, or -1 if it does not fit. */
int fs_join(char *out, size_t outlen, const char *dir, const char *name);
/* Create dir (and missing parents) with mode 0700. Returns 0 or -1 (errno set). */
int fs_mkdirs(const char *dir);
bool fs_is_dir(const char *path);
bool fs_exists(const char *path);

/* Take an exclusive advisory lock on dir/.lock, creating it. Returns the open fd (keep it open
 * for as long as the lock must hold), -1 if another process holds it (errno EWOULDBLOCK/EAGAIN)
 * or on error (errno set). */
int fs_lock_dir(const char *dir);

/* Write len bytes to path atomically (temporary file in the same directory, fsync, rename)
 * with the given mode; the file is created with that mode before any byte is written. Returns
 * 0 or -1 (errno set). */
int fs_write_file(const char *path, const void *data, size_t len, mode_t mode);
/* Read at most maxlen bytes of path into a malloc'd NUL-terminated buffer. Returns 0, -1 on
 * error (errno set; EFBIG when larger than maxlen). */
int fs_read_file(const char *path, size_t maxlen, char **out, size_t *outlen);

#endif
