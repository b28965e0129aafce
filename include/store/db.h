/* The one LevelDB database of a node, and its key-space (doc/storage.md).
 *
 * Every key starts with a one-byte prefix naming its record kind (DB_PREFIX_*). The schema
 * version is stored under DB_PREFIX_META "schema"; db_open refuses a database whose schema is
 * newer than this build's, a directory that holds LevelDB data without a schema key (not a
 * p2pd database), and a database LevelDB reports as corrupt. It never rewrites or repairs
 * such a database. */
#ifndef P2PD_STORE_DB_H
#define P2PD_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_SCHEMA_VERSION 1

/* Key prefixes. Add new kinds here and in doc/storage.md. */
enum db_prefix {
	DB_PREFIX_META = 'm',     /* m<name> -> node metadata (schema version, created time, ...) */
	DB_PREFIX_MSG = 'M',      /* M<id> -> a signed message (msg/store.h) */
	DB_PREFIX_MSG_TIME = 'T', /* T<created_at><id> -> "": messages by time */
	DB_PREFIX_MSG_AUTHOR = 'A',  /* A<author><created_at><id> -> "" */
	DB_PREFIX_MSG_TOPIC = 'P',   /* P<len><topic><created_at><id> -> "" */
	DB_PREFIX_MSG_REPLIES = 'R', /* R<ref><created_at><id> -> "" */
	DB_PREFIX_ADDRMAN = 'a',     /* a<k|h|e...> -> the address book (net/addrman.h) */
	DB_PREFIX_BANS = 'b',        /* b<address><prefix length> -> a ban (net/banman.h) */
	DB_PREFIX_REPUTATION = 'r',  /* r<16-byte IPv6/mapped address> -> bad, good, updated */
};

/* Largest value db_get returns; records are small, a larger one is treated as corrupt. */
#define DB_MAX_VALUE (16u * 1024 * 1024)

struct db;
struct db_batch;

enum db_open_status {
	DB_OPEN_OK,
	DB_OPEN_ERROR,   /* I/O or LevelDB error: message in err */
	DB_OPEN_CORRUPT, /* LevelDB reports corruption */
	DB_OPEN_TOO_NEW, /* schema newer than this build */
	DB_OPEN_FOREIGN, /* data present but no schema key: not ours */
};

/* Open (creating if missing) the database in directory path; cache_mb sizes LevelDB's block
 * cache. On success *out is the open database and the status is DB_OPEN_OK; otherwise *out is
 * NULL and err holds a message for the operator. */
enum db_open_status db_open(struct db **out, const char *path, size_t cache_mb, char *err,
			    size_t errlen);
/* Flush and close. NULL is a no-op. */
void db_close(struct db *db);

/* Read a value. Returns 1 found (*val malloc'd, caller frees), 0 not found, -1 error. */
int db_get(struct db *db, const void *key, size_t keylen, uint8_t **val, size_t *vallen);
/* Write or delete one key. sync makes it durable before returning. Return 0 or -1. */
int db_put(struct db *db, const void *key, size_t keylen, const void *val, size_t vallen,
	   bool sync);
int db_delete(struct db *db, const void *key, size_t keylen, bool sync);

/* Batches apply atomically. */
struct db_batch *db_batch_new(void);
void db_batch_free(struct db_batch *b);
void db_batch_put(struct db_batch *b, const void *key, size_t keylen, const void *val,
		  size_t vallen);
void db_batch_delete(struct db_batch *b, const void *key, size_t keylen);
int db_batch_write(struct db *db, struct db_batch *b, bool sync);

/* Iterate keys starting with prefix in key order; fn returns 0 to continue, non-zero to stop
 * (that value is returned). Returns 0 when done, -1 on a database error. */
typedef int (*db_iter_fn)(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val,
			  size_t vallen);
int db_iterate_prefix(struct db *db, const void *prefix, size_t prefixlen, db_iter_fn fn,
		      void *ctx);
/* Iterate the keys k with lo <= k < hi (LevelDB's bytewise order: memcmp, then the shorter
 * first) in key order, or with reverse from the largest such key down. fn and the return value
 * as for db_iterate_prefix. Range scans over an index ("since".."until", "newest first") use
 * this; db_iterate_prefix only walks forward from the start of a prefix. */
int db_iterate_range(struct db *db, const void *lo, size_t lolen, const void *hi, size_t hilen,
		     bool reverse, db_iter_fn fn, void *ctx);

/* Called after a write, delete or batch write failed (disk full, file size limit, I/O error),
 * on the thread of the failing call, with the error text. The database may then hold less than
 * its callers believe, so the node's handler stops the node; reads do not call it. */
typedef void (*db_failure_fn)(void *ctx, const char *error);
void db_set_failure_handler(struct db *db, db_failure_fn fn, void *ctx);

/* The schema version stored in the open database. */
uint32_t db_schema_version(const struct db *db);
/* Decode the value of the schema record ('m' "schema", val of len bytes): a uint32 LE version,
 * exactly 4 bytes. Returns DB_OPEN_OK with *version set (1 to DB_SCHEMA_VERSION),
 * DB_OPEN_TOO_NEW with *version the stored, newer version, or DB_OPEN_CORRUPT with *version 0
 * for any other value (another length, or version 0, which no p2pd writes). db_open uses it. */
enum db_open_status db_schema_decode(uint32_t *version, const uint8_t *val, size_t len);
/* Last error message from a failed call (static storage in db; "" when none). */
const char *db_last_error(const struct db *db);

#endif
