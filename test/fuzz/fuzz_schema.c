/* Fuzz the schema record ('m' "schema", doc/storage.md "Opening"): the input is its value.
 * Properties:
 *   - db_schema_decode: CORRUPT unless the input is 4 bytes; for 4 bytes holding u (LE), CORRUPT
 *     for 0, OK for 1..DB_SCHEMA_VERSION, TOO_NEW above; *version is u, or 0 when CORRUPT;
 *   - db_open of a LevelDB database holding that record gives the same status; opened, it
 *     reports that version; refused, it sets no database and says why (the record or the
 *     version);
 *   - whatever the outcome, the record is left exactly as it was (read back with LevelDB's own
 *     API after the database is closed): p2pd never rewrites or repairs a database it refused.
 * Each input opens LevelDB three times (write the record, db_open, read it back) in a scratch
 * directory under /dev/shm (or /tmp), a fresh one every FUZZ_SCHEMA_RUNS inputs, removed at
 * exit. */
#include <assert.h>
#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>

#include "store/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SCHEMA_KEY[] = {'m', 's', 'c', 'h', 'e', 'm', 'a'};

static char dir[64];

static void remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[sizeof(dir) + 256 + 2];
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		remove(path);
	}
	closedir(d);
	remove(dir);
}

/* Inputs run in one directory before it is replaced by a fresh one (every open leaves a table
 * file behind until LevelDB compacts them). */
#define FUZZ_SCHEMA_RUNS 256

static void make_dir(void)
{
	static bool registered;
	DIR *shm = opendir("/dev/shm");
	snprintf(dir, sizeof(dir), "%s/p2pd-fuzz-schema-XXXXXX", shm ? "/dev/shm" : "/tmp");
	if (shm != NULL)
		closedir(shm);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	if (!registered) {
		atexit(remove_dir);
		registered = true;
	}
}

static leveldb_t *raw_open(leveldb_options_t *opt)
{
	char *err = NULL;
	leveldb_t *ldb = leveldb_open(opt, dir, &err);
	if (err != NULL) {
		fprintf(stderr, "leveldb_open %s: %s\n", dir, err);
		abort();
	}
	return ldb;
}

/* The status the record's value must give, and the version it must report. */
static enum db_open_status expected(const uint8_t *p, size_t len, uint32_t *version)
{
	*version = 0;
	if (len != 4)
		return DB_OPEN_CORRUPT;
	uint32_t u =
		(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	if (u == 0)
		return DB_OPEN_CORRUPT;
	*version = u;
	return u > DB_SCHEMA_VERSION ? DB_OPEN_TOO_NEW : DB_OPEN_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t want_v, v = 12345;
	enum db_open_status want = expected(data, size, &want_v);
	assert(db_schema_decode(&v, data, size) == want && v == want_v);

	static unsigned runs;
	if (dir[0] != '\0' && ++runs % FUZZ_SCHEMA_RUNS == 0) {
		remove_dir();
		dir[0] = '\0';
	}
	if (dir[0] == '\0')
		make_dir();
	leveldb_options_t *opt = leveldb_options_create();
	leveldb_options_set_create_if_missing(opt, 1);
	leveldb_writeoptions_t *wo = leveldb_writeoptions_create();
	leveldb_readoptions_t *ro = leveldb_readoptions_create();
	char *err = NULL;

	leveldb_t *ldb = raw_open(opt);
	leveldb_put(ldb, wo, SCHEMA_KEY, sizeof(SCHEMA_KEY), (const char *)data, size, &err);
	assert(err == NULL);
	leveldb_close(ldb);

	struct db *db = (struct db *)1;
	char msg[512] = "";
	enum db_open_status st = db_open(&db, dir, 1, msg, sizeof(msg));
	assert(st == want);
	if (st == DB_OPEN_OK) {
		assert(db != NULL && db_schema_version(db) == want_v);
		db_close(db);
	} else {
		assert(db == NULL);
		assert(strstr(msg, st == DB_OPEN_CORRUPT ? "malformed schema" : "newer") != NULL);
	}

	ldb = raw_open(opt);
	size_t len = 0;
	char *val = leveldb_get(ldb, ro, SCHEMA_KEY, sizeof(SCHEMA_KEY), &len, &err);
	assert(err == NULL && (val != NULL || size == 0) && len == size);
	assert(size == 0 || memcmp(val, data, size) == 0);
	leveldb_free(val);
	leveldb_close(ldb);

	leveldb_readoptions_destroy(ro);
	leveldb_writeoptions_destroy(wo);
	leveldb_options_destroy(opt);
	return 0;
}
