/* Logging: one process-wide log (the documented exception to "no globals").
 *
 * Lines are formatted outside the lock, then written under it with one write(2) to the file
 * (opened O_APPEND, so concurrent writers and logrotate's copytruncate never interleave inside
 * a line) and one fwrite to stdout. A failed file write is remembered (log_last_write_error)
 * and reported once on stderr until a write succeeds again; the process never stops for it. */
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/fs.h"

/* Longest message text of one line, before prefixes. Long enough for any message we write
 * ourselves (a full getpeerinfo-style summary); a longer one, usually a peer-supplied string,
 * is cut and ends with "..." so one line can never flood the log. */
#define LOG_MAX_MESSAGE 4096
/* "2026-11-21T23:59:59.123456Z " */
#define LOG_TIMESTAMP_LEN 28
/* Longest prefix: timestamp, "Warning: " or "Error: ", "[addrman] ". */
#define LOG_MAX_PREFIX 64
/* Whole line: prefix, message, "\n", NUL. */
#define LOG_MAX_LINE (LOG_MAX_PREFIX + LOG_MAX_MESSAGE + 2)

static const char *const category_names[] = {
	"net", "msg", "addrman", "rpc", "db", "http", "crypto", "config",
};
#define CATEGORY_COUNT (sizeof(category_names) / sizeof(category_names[0]))

_Static_assert(LOG_ALL == (1u << CATEGORY_COUNT) - 1, "category table matches enum");

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* Read without the lock by log_category_enabled(), on every log_debug() call. */
static atomic_uint log_categories;
/* Guarded by log_lock. */
static int log_fd = -1;
static char log_path[FS_MAX_PATH];
static bool log_console;
static bool log_timestamps = true;
static int log_write_errno;

uint32_t log_category_from_name(const char *name)
{
	if (!name)
		return LOG_NONE;
	if (strcmp(name, "all") == 0 || strcmp(name, "1") == 0)
		return LOG_ALL;
	for (size_t i = 0; i < CATEGORY_COUNT; i++) {
		if (strcmp(name, category_names[i]) == 0)
			return 1u << i;
	}
	return LOG_NONE;
}

int log_category_known(const char *name)
{
	if (!name)
		return 0;
	if (strcmp(name, "none") == 0 || strcmp(name, "0") == 0)
		return 1;
	return log_category_from_name(name) != LOG_NONE;
}

const char *log_category_name(uint32_t category)
{
	for (size_t i = 0; i < CATEGORY_COUNT; i++) {
		if (category == 1u << i)
			return category_names[i];
	}
	return NULL;
}

size_t log_category_list(const char *const **names)
{
	*names = category_names;
	return CATEGORY_COUNT;
}

static int open_log(const char *path)
{
	/* 0600: the log holds peer addresses and RPC activity. */
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

int log_open_file(const char *path)
{
	int fd = -1;
	if (path) {
		if (strlen(path) >= sizeof(log_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open_log(path);
		if (fd < 0)
			return -1;
	}
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = fd;
	if (path)
		memmove(log_path, path, strlen(path) + 1); /* path may be log_file_path() */
	else
		log_path[0] = '\0';
	log_write_errno = 0;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

int log_reopen(void)
{
	int rc = 0;
	pthread_mutex_lock(&log_lock);
	if (log_path[0] != '\0') {
		/* Open the new file before closing the old: if it fails, keep logging to the old.
		 */
		int fd = open_log(log_path);
		if (fd < 0) {
			rc = -1;
		} else {
			close(log_fd);
			log_fd = fd;
			log_write_errno = 0;
		}
	}
	int saved = errno;
	pthread_mutex_unlock(&log_lock);
	errno = saved;
	return rc;
}

void log_set_console(bool on)
{
	pthread_mutex_lock(&log_lock);
	log_console = on;
	pthread_mutex_unlock(&log_lock);
}

void log_set_timestamps(bool on)
{
	pthread_mutex_lock(&log_lock);
	log_timestamps = on;
	pthread_mutex_unlock(&log_lock);
}

void log_enable(uint32_t categories)
{
	atomic_fetch_or(&log_categories, categories & LOG_ALL);
}

void log_disable(uint32_t categories)
{
	atomic_fetch_and(&log_categories, ~categories);
}

uint32_t log_enabled_categories(void)
{
	return atomic_load(&log_categories);
}

bool log_category_enabled(uint32_t category)
{
	return (atomic_load_explicit(&log_categories, memory_order_relaxed) & category) != 0;
}

const char *log_file_path(void)
{
	return log_path;
}

int log_last_write_error(void)
{
	pthread_mutex_lock(&log_lock);
	int e = log_write_errno;
	pthread_mutex_unlock(&log_lock);
	return e;
}

/* Append "YYYY-MM-DDTHH:MM:SS.uuuuuuZ " to out (at least LOG_TIMESTAMP_LEN + 1 bytes). */
static size_t format_timestamp(char *out, size_t outlen)
{
	int64_t us = clock_real_us();
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	if (!gmtime_r(&secs, &tm))
		return 0;
	size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return 0;
	int m = snprintf(out + n, outlen - n, ".%06dZ ", (int)(us % 1000000));
	if (m < 0 || (size_t)m >= outlen - n)
		return 0;
	return n + (size_t)m;
}

static const char *level_prefix(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG:
	case LOG_LEVEL_INFO:
		return "";
	case LOG_LEVEL_WARNING:
		return "Warning: ";
	case LOG_LEVEL_ERROR:
		return "Error: ";
	}
	return "";
}

/* Write the whole line to the log file; on failure remember errno and say so once on stderr.
 * Called with log_lock held. */
static void write_file_locked(const char *line, size_t len)
{
	const char *p = line;
	size_t left = len;
	while (left > 0) {
		ssize_t n = write(log_fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			if (log_write_errno == 0)
				fprintf(stderr, "Error: cannot write log file %s: %s\n", log_path,
					strerror(e));
			log_write_errno = e;
			return;
		}
		p += n;
		left -= (size_t)n;
	}
	log_write_errno = 0;
}

void log_write(enum log_level level, uint32_t category, const char *fmt, ...)
{
	if (level == LOG_LEVEL_DEBUG && !log_category_enabled(category))
		return;

	char line[LOG_MAX_LINE];
	size_t len = 0;
	pthread_mutex_lock(&log_lock);
	bool stamps = log_timestamps;
	bool any_output = log_fd >= 0 || log_console;
	pthread_mutex_unlock(&log_lock);
	if (!any_output)
		return;

	if (stamps)
		len += format_timestamp(line, LOG_TIMESTAMP_LEN + 1);
	const char *cat = level == LOG_LEVEL_DEBUG ? log_category_name(category) : NULL;
	int n = snprintf(line + len, LOG_MAX_PREFIX - len, "%s%s%s%s", level_prefix(level),
			 cat ? "[" : "", cat ? cat : "", cat ? "] " : "");
	if (n > 0 && (size_t)n < LOG_MAX_PREFIX - len)
		len += (size_t)n;

	va_list ap;
	va_start(ap, fmt);
	n = vsnprintf(line + len, LOG_MAX_MESSAGE + 1, fmt, ap);
	va_end(ap);
	if (n < 0) {
		n = snprintf(line + len, LOG_MAX_MESSAGE + 1, "(bad log format)");
	} else if ((size_t)n > LOG_MAX_MESSAGE) {
		memcpy(line + len + LOG_MAX_MESSAGE - 3, "...", 3);
		n = LOG_MAX_MESSAGE;
	}
	len += (size_t)n;
	if (len == 0 || line[len - 1] != '\n')
		line[len++] = '\n';
	line[len] = '\0';

	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		write_file_locked(line, len);
	if (log_console) {
		fwrite(line, 1, len, stdout);
		fflush(stdout);
	}
	pthread_mutex_unlock(&log_lock);
}

void log_shutdown(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_fd >= 0)
		close(log_fd);
	log_fd = -1;
	log_path[0] = '\0';
	log_console = false;
	log_timestamps = true;
	log_write_errno = 0;
	atomic_store(&log_categories, 0);
	pthread_mutex_unlock(&log_lock);
}
