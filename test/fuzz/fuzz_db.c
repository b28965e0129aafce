/* Database plumbing of the stored-record fuzz targets (fuzz_db.h). */
#include "fuzz_db.h"

#include <assert.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/bytes.h"

static char fuzz_dir[64];

/* Remove the database directory (LevelDB keeps only files in it). */
static void remove_dir(void)
{
	DIR *d = opendir(fuzz_dir);
	struct dirent *e;
	char path[sizeof(fuzz_dir) + 256 + 2];
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, e->d_name);
		remove(path);
	}
	closedir(d);
	remove(fuzz_dir);
}

/* Inputs run on one database before it is replaced by a fresh one: emptying it leaves deletion
 * markers that every later seek steps over until LevelDB compacts them away, which slowed runs
 * down several times; a fresh database every so often keeps them few. */
#define FUZZ_DB_RUNS 256

static void open_fresh(struct db **db)
{
	char err[256];
	/* In memory when the system has a tmpfs there: loading makes synced writes (a new
	 * address-book key, expired bans), which would otherwise wait for the disk each run. */
	DIR *shm = opendir("/dev/shm");
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/p2pd-fuzz-XXXXXX", shm ? "/dev/shm" : "/tmp");
	if (shm != NULL)
		closedir(shm);
	if (mkdtemp(fuzz_dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	if (db_open(db, fuzz_dir, 1, err, sizeof(err)) != DB_OPEN_OK) {
		fprintf(stderr, "db_open %s: %s\n", fuzz_dir, err);
		abort();
	}
}

static struct db *the_db;

static void close_db(void)
{
	db_close(the_db);
	the_db = NULL;
	remove_dir();
}

struct db *fuzz_db(void)
{
	static unsigned runs;
	if (the_db != NULL && ++runs % FUZZ_DB_RUNS == 0)
		close_db();
	if (the_db == NULL) {
		static bool registered;
		if (!registered) {
			atexit(close_db);
			registered = true;
		}
		open_fresh(&the_db);
	}
	return the_db;
}

static int delete_key(void *ctx, const uint8_t *key, size_t keylen, const uint8_t *val,
		      size_t vallen)
{
	(void)val, (void)vallen;
	db_batch_delete(ctx, key, keylen);
	return 0;
}

size_t fuzz_db_fill(struct db *db, const uint8_t *prefix, size_t plen, const uint8_t *data,
		    size_t size)
{
	struct db_batch *b = db_batch_new();
	uint8_t key[16 + FUZZ_DB_MAX_KEY];
	struct cursor c;
	size_t n = 0;
	assert(b != NULL && plen <= 16);
	assert(db_iterate_prefix(db, "", 0, delete_key, b) == 0);
	cursor_init(&c, data, size);
	while (c.left > 0) {
		size_t klen = cursor_u8(&c);
		const uint8_t *k = cursor_borrow(&c, klen);
		size_t vlen = (size_t)cursor_compactsize(&c, FUZZ_DB_MAX_VALUE);
		const uint8_t *v = cursor_borrow(&c, vlen);
		if (!cursor_ok(&c))
			break;
		if (plen > 0)
			memcpy(key, prefix, plen);
		if (klen > 0)
			memcpy(key + plen, k, klen);
		db_batch_put(b, key, plen + klen, v, vlen);
		n++;
	}
	assert(db_batch_write(db, b, false) == 0);
	db_batch_free(b);
	return n;
}
