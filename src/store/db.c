/* The node's LevelDB database: opening with schema checks, reads, writes, batches, iteration.
 *
 * All access goes through this file so the key-space stays in one place (doc/storage.md) and
 * LevelDB's error strings are turned into log lines and return codes here. */
#include "store/db.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>

#include "util/bytes.h"
#include "util/fs.h"
#include "util/log.h"

/* Key of the stored schema version (value: uint32 little-endian). */
static const char SCHEMA_KEY[] = {DB_PREFIX_META, 's', 'c', 'h', 'e', 'm', 'a'};

struct db {
	leveldb_t *ldb;
	leveldb_options_t *options;
	leveldb_cache_t *cache;
	leveldb_filterpolicy_t *filter;
	leveldb_readoptions_t *read;
	leveldb_writeoptions_t *write_async;
	leveldb_writeoptions_t *write_sync;
	uint32_t schema;
	char last_error[256];
	db_failure_fn on_failure;
	void *failure_ctx;
};

struct db_batch {
	leveldb_writebatch_t *wb;
};

/* Bits per key of the bloom filter that spares disk reads for absent keys. */
#define DB_BLOOM_BITS 10
/* Upper bound of -dbcache; LevelDB's cache is allocated lazily, this just caps silly values. */
#define DB_MAX_CACHE_MB 16384

static void remember_error(struct db *db, const char *what, char *lerr)
{
	snprintf(db->last_error, sizeof(db->last_error), "%s: %s", what, lerr ? lerr : "?");
	log_error("database %s", db->last_error);
	leveldb_free(lerr);
}

/* A failed write: remember it and tell the handler. */
static void write_failed(struct db *db, const char *what, char *lerr)
{
	remember_error(db, what, lerr);
	if (db->on_failure)
		db->on_failure(db->failure_ctx, db->last_error);
}

void db_set_failure_handler(struct db *db, db_failure_fn fn, void *ctx)
{
	db->on_failure = fn;
	db->failure_ctx = ctx;
}

/* Whether dir holds anything (a fresh database directory is empty or absent). */
static bool dir_has_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	struct dirent *e;
	bool any = false;
	while (!any && (e = readdir(d)) != NULL)
		any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return any;
}

static void free_handles(struct db *db)
{
	if (db->ldb)
		leveldb_close(db->ldb);
	if (db->options)
		leveldb_options_destroy(db->options);
	if (db->cache)
		leveldb_cache_destroy(db->cache);
	if (db->filter)
		leveldb_filterpolicy_destroy(db->filter);
	if (db->read)
		leveldb_readoptions_destroy(db->read);
	if (db->write_async)
		leveldb_writeoptions_destroy(db->write_async);
	if (db->write_sync)
		leveldb_writeoptions_destroy(db->write_sync);
	free(db);
}

/* Free a half-opened database and return st (the caller has written err). */
static enum db_open_status fail(struct db *db, enum db_open_status st)
{
	free_handles(db);
	return st;
}

/* Read the schema key of a just-opened database, or write it for a new one. */
static enum db_open_status check_schema(struct db *db, bool existed, const char *path, char *err,
					size_t errlen)
{
	uint8_t *val = NULL;
	size_t vallen = 0;
	int r = db_get(db, SCHEMA_KEY, sizeof(SCHEMA_KEY), &val, &vallen);
	if (r < 0) {
		snprintf(err, errlen, "cannot read database %s: %s", path, db->last_error);
		return DB_OPEN_ERROR;
	}
	if (r == 0) {
		if (existed) {
			snprintf(err, errlen,
				 "%s holds data but no p2pd schema version: not a p2pd database "
				 "(refusing to touch it)",
				 path);
			return DB_OPEN_FOREIGN;
		}
		struct bytebuf b;
		bytebuf_init(&b, 4);
		bytebuf_u32le(&b, DB_SCHEMA_VERSION);
		int w = db_put(db, SCHEMA_KEY, sizeof(SCHEMA_KEY), b.data, b.len, true);
		bytebuf_free(&b);
		if (w != 0) {
			snprintf(err, errlen, "cannot initialise database %s: %s", path,
				 db->last_error);
			return DB_OPEN_ERROR;
		}
		db->schema = DB_SCHEMA_VERSION;
		return DB_OPEN_OK;
	}
	uint32_t v;
	enum db_open_status st = db_schema_decode(&v, val, vallen);
	free(val);
	if (st == DB_OPEN_CORRUPT)
		snprintf(err, errlen, "database %s: malformed schema version record", path);
	else if (st == DB_OPEN_TOO_NEW)
		snprintf(err, errlen,
			 "database %s has schema version %u, newer than this p2pd supports (%u); "
			 "upgrade p2pd",
			 path, v, (unsigned)DB_SCHEMA_VERSION);
	else
		db->schema = v;
	return st;
}

enum db_open_status db_schema_decode(uint32_t *version, const uint8_t *val, size_t len)
{
	struct cursor c;
	cursor_init(&c, val, len);
	uint32_t v = cursor_u32le(&c);
	*version = 0;
	if (!cursor_ok(&c) || c.left != 0 || v == 0)
		return DB_OPEN_CORRUPT;
	*version = v;
	return v > DB_SCHEMA_VERSION ? DB_OPEN_TOO_NEW : DB_OPEN_OK;
}

enum db_open_status db_open(struct db **out, const char *path, size_t cache_mb, char *err,
			    size_t errlen)
{
	*out = NULL;
	struct db *db = calloc(1, sizeof(*db));
	if (!db) {
		snprintf(err, errlen, "out of memory");
		return DB_OPEN_ERROR;
	}
	if (fs_mkdirs(path) != 0) {
		snprintf(err, errlen, "cannot create database directory %s: %s", path,
			 strerror(errno));
		return fail(db, DB_OPEN_ERROR);
	}
	bool existed = dir_has_entries(path);
	if (cache_mb > DB_MAX_CACHE_MB)
		cache_mb = DB_MAX_CACHE_MB;
	db->options = leveldb_options_create();
	db->cache = leveldb_cache_create_lru(cache_mb * 1024 * 1024);
	db->filter = leveldb_filterpolicy_create_bloom(DB_BLOOM_BITS);
	db->read = leveldb_readoptions_create();
	db->write_async = leveldb_writeoptions_create();
	db->write_sync = leveldb_writeoptions_create();
	leveldb_options_set_create_if_missing(db->options, 1);
	leveldb_options_set_paranoid_checks(db->options, 1);
	leveldb_options_set_cache(db->options, db->cache);
	leveldb_options_set_filter_policy(db->options, db->filter);
	leveldb_options_set_compression(db->options, leveldb_snappy_compression);
	leveldb_readoptions_set_verify_checksums(db->read, 1);
	leveldb_writeoptions_set_sync(db->write_sync, 1);

	char *lerr = NULL;
	db->ldb = leveldb_open(db->options, path, &lerr);
	if (lerr) {
		bool corrupt = strstr(lerr, "Corruption") != NULL;
		char detail[512];
		snprintf(detail, sizeof(detail), "%s", lerr);
		leveldb_free(lerr);
		db->ldb = NULL;
		if (corrupt) {
			snprintf(err, errlen,
				 "database %s is corrupt (%s); it was left untouched: restore it "
				 "from a backup or move it away to start with an empty one",
				 path, detail);
			return fail(db, DB_OPEN_CORRUPT);
		}
		snprintf(err, errlen, "cannot open database %s: %s", path, detail);
		return fail(db, DB_OPEN_ERROR);
	}
	enum db_open_status st = check_schema(db, existed, path, err, errlen);
	if (st != DB_OPEN_OK)
		return fail(db, st);
	log_debug(LOG_DB, "opened database %s (schema %u, cache %zu MiB)", path, db->schema,
		  cache_mb);
	*out = db;
	return DB_OPEN_OK;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	free_handles(db);
}

int db_get(struct db *db, const void *key, size_t keylen, uint8_t **val, size_t *vallen)
{
	*val = NULL;
	*vallen = 0;
	char *lerr = NULL;
	size_t n = 0;
	char *v = leveldb_get(db->ldb, db->read, key, keylen, &n, &lerr);
	if (lerr) {
		remember_error(db, "read failed", lerr);
		return -1;
	}
	if (!v)
		return 0;
	if (n > DB_MAX_VALUE) {
		leveldb_free(v);
		snprintf(db->last_error, sizeof(db->last_error), "record of %zu bytes is too large",
			 n);
		log_error("database: %s", db->last_error);
		return -1;
	}
	/* Hand out memory from our allocator so callers use free(). */
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy) {
		leveldb_free(v);
		return -1;
	}
	memcpy(copy, v, n);
	leveldb_free(v);
	*val = copy;
	*vallen = n;
	return 1;
}

int db_put(struct db *db, const void *key, size_t keylen, const void *val, size_t vallen, bool sync)
{
	char *lerr = NULL;
	leveldb_put(db->ldb, sync ? db->write_sync : db->write_async, key, keylen, val, vallen,
		    &lerr);
	if (lerr) {
		write_failed(db, "write failed", lerr);
		return -1;
	}
	return 0;
}

int db_delete(struct db *db, const void *key, size_t keylen, bool sync)
{
	char *lerr = NULL;
	leveldb_delete(db->ldb, sync ? db->write_sync : db->write_async, key, keylen, &lerr);
	if (lerr) {
		write_failed(db, "delete failed", lerr);
		return -1;
	}
	return 0;
}

struct db_batch *db_batch_new(void)
{
	struct db_batch *b = malloc(sizeof(*b));
	if (!b)
		return NULL;
	b->wb = leveldb_writebatch_create();
	return b;
}

void db_batch_free(struct db_batch *b)
{
	if (!b)
		return;
	leveldb_writebatch_destroy(b->wb);
	free(b);
}

void db_batch_put(struct db_batch *b, const void *key, size_t keylen, const void *val,
		  size_t vallen)
{
	leveldb_writebatch_put(b->wb, key, keylen, val, vallen);
}

void db_batch_delete(struct db_batch *b, const void *key, size_t keylen)
{
	leveldb_writebatch_delete(b->wb, key, keylen);
}

int db_batch_write(struct db *db, struct db_batch *b, bool sync)
{
	char *lerr = NULL;
	leveldb_write(db->ldb, sync ? db->write_sync : db->write_async, b->wb, &lerr);
	if (lerr) {
		write_failed(db, "batch write failed", lerr);
		return -1;
	}
	return 0;
}

int db_iterate_prefix(struct db *db, const void *prefix, size_t prefixlen, db_iter_fn fn, void *ctx)
{
	leveldb_iterator_t *it = leveldb_create_iterator(db->ldb, db->read);
	int rc = 0;
	for (leveldb_iter_seek(it, prefix, prefixlen); leveldb_iter_valid(it);
	     leveldb_iter_next(it)) {
		size_t klen, vlen;
		const char *k = leveldb_iter_key(it, &klen);
		if (klen < prefixlen || memcmp(k, prefix, prefixlen) != 0)
			break;
		const char *v = leveldb_iter_value(it, &vlen);
		rc = fn(ctx, (const uint8_t *)k, klen, (const uint8_t *)v, vlen);
		if (rc != 0)
			break;
	}
	char *lerr = NULL;
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr) {
		remember_error(db, "iteration failed", lerr);
		return -1;
	}
	return rc;
}

/* LevelDB's default comparator: bytewise, a proper prefix sorts first. */
static int key_cmp(const char *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* Position it on the last key below hi (seek lands on the first key >= hi). */
static void seek_before(leveldb_iterator_t *it, const void *hi, size_t hilen)
{
	leveldb_iter_seek(it, hi, hilen);
	if (leveldb_iter_valid(it))
		leveldb_iter_prev(it);
	else
		leveldb_iter_seek_to_last(it);
}

int db_iterate_range(struct db *db, const void *lo, size_t lolen, const void *hi, size_t hilen,
		     bool reverse, db_iter_fn fn, void *ctx)
{
	leveldb_iterator_t *it = leveldb_create_iterator(db->ldb, db->read);
	int rc = 0;
	if (reverse)
		seek_before(it, hi, hilen);
	else
		leveldb_iter_seek(it, lo, lolen);
	while (leveldb_iter_valid(it)) {
		size_t klen, vlen;
		const char *k = leveldb_iter_key(it, &klen);
		if (reverse ? key_cmp(k, klen, lo, lolen) < 0 : key_cmp(k, klen, hi, hilen) >= 0)
			break;
		const char *v = leveldb_iter_value(it, &vlen);
		rc = fn(ctx, (const uint8_t *)k, klen, (const uint8_t *)v, vlen);
		if (rc != 0)
			break;
		if (reverse)
			leveldb_iter_prev(it);
		else
			leveldb_iter_next(it);
	}
	char *lerr = NULL;
	leveldb_iter_get_error(it, &lerr);
	leveldb_iter_destroy(it);
	if (lerr) {
		remember_error(db, "iteration failed", lerr);
		return -1;
	}
	return rc;
}

uint32_t db_schema_version(const struct db *db)
{
	return db->schema;
}

const char *db_last_error(const struct db *db)
{
	return db->last_error;
}
