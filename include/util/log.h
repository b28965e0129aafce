/* Logging: one process-wide log with categories, an optional file and the console.
 *
 * The log is process infrastructure, not node state, so it is the one place that keeps a
 * module-level state (guarded by a mutex: worker threads may log). Messages at LOG_LEVEL_INFO
 * and above are always written; LOG_LEVEL_DEBUG messages only when their category is enabled
 * (-debug=CATEGORY). */
#ifndef P2PD_UTIL_LOG_H
#define P2PD_UTIL_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

enum log_category {
	LOG_NONE = 0,
	LOG_NET = 1u << 0,
	LOG_MSG = 1u << 1,
	LOG_ADDRMAN = 1u << 2,
	LOG_RPC = 1u << 3,
	LOG_DB = 1u << 4,
	LOG_HTTP = 1u << 5,
	LOG_CRYPTO = 1u << 6,
	LOG_CONFIG = 1u << 7,
	LOG_ALL = (1u << 8) - 1,
};

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARNING, LOG_LEVEL_ERROR };

/* Map a category name ("net", "rpc", "all", "1", ...) to its bit. Returns LOG_NONE for an
 * unknown name ("none" and "0" also return LOG_NONE: test with log_category_known). */
uint32_t log_category_from_name(const char *name);
/* Return 1 if name is a category name accepted by -debug (including "all", "1", "none", "0"). */
int log_category_known(const char *name);
/* Name of a single category bit, or NULL. */
const char *log_category_name(uint32_t category);
/* Iterate the single categories: fill *names with the static name table, return its length. */
size_t log_category_list(const char *const **names);

/* Open (append) the log file at path; NULL closes it. Returns 0, or -1 with errno set. */
int log_open_file(const char *path);
/* Close and reopen the current log file (SIGHUP, for logrotate). Returns 0 or -1. */
int log_reopen(void);
/* Copy every line to stdout (default off). */
void log_set_console(bool on);
/* Prefix lines with the time (default on). */
void log_set_timestamps(bool on);
/* Enable or disable debug categories (bit mask). */
void log_enable(uint32_t categories);
void log_disable(uint32_t categories);
uint32_t log_enabled_categories(void);
bool log_category_enabled(uint32_t category);
/* Path of the open log file, or "" when none. */
const char *log_file_path(void);
/* errno of the last failed write to the log file (disk full, I/O error), or 0 if the last
 * write succeeded. A failed write is also reported once on stderr; logging goes on. */
int log_last_write_error(void);

/* Write one line. category is LOG_NONE for unconditional messages. A trailing newline is added
 * when missing. Lines are prefixed with an ISO-8601 UTC timestamp (if enabled), the level for
 * warnings and errors, and "[category]" for debug messages. */
void log_write(enum log_level level, uint32_t category, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_info(...)  log_write(LOG_LEVEL_INFO, LOG_NONE, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_LEVEL_WARNING, LOG_NONE, __VA_ARGS__)
#define log_error(...) log_write(LOG_LEVEL_ERROR, LOG_NONE, __VA_ARGS__)
#define log_debug(cat, ...)                                             \
	do {                                                            \
		if (log_category_enabled(cat))                          \
			log_write(LOG_LEVEL_DEBUG, (cat), __VA_ARGS__); \
	} while (0)

/* Release the log file and reset all settings (tests). */
void log_shutdown(void);

#endif
