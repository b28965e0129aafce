/* Unit tests for store/db: open/create, schema checks, corruption refused, batches, iteration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include "util/fs.h"

static const char schema_key[] = "mschema";

static char *make_tmpdir(void)
{
	char tmpl[] = "/tmp/p2pd-test-db-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

static void rm_rf(const char *dir)
{
	char cmd[FS_MAX_PATH + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static struct db *open_ok(const char *path)
{
	struct db *db = NULL;
	char err[512];
	enum db_open_status st = db_open(&db, path, 1, err, sizeof(err));
	if (st != DB_OPEN_OK)
		fail_msg("db_open failed: %s", err);
	return db;
}

static void test_create_put_get_reopen(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char path[FS_MAX_PATH];
	fs_join(path, sizeof(path), dir, "db");
	struct db *db = open_ok(path);
	assert_int_equal(db_schema_version(db), DB_SCHEMA_VERSION);
	assert_int_equal(db_put(db, "mk", 2, "value", 5, true), 0);
	uint8_t *v;
	size_t n;
	assert_int_equal(db_get(db, "mk", 2, &v, &n), 1);
	assert_int_equal(n, 5);
	assert_memory_equal(v, "value", 5);
	free(v);
	assert_int_equal(db_get(db, "mnone", 5, &v, &n), 0);
	assert_null(v);
	db_close(db);

	db = open_ok(path);
	assert_int_equal(db_get(db, "mk", 2, &v, &n), 1);
	free(v);
	assert_int_equal(db_delete(db, "mk", 2, true), 0);
	assert_int_equal(db_get(db, "mk", 2, &v, &n), 0);
	db_close(db);
	db_close(NULL);
	rm_rf(dir);
	free(dir);
}

static void test_newer_schema_refused(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct db *db = open_ok(dir);
	uint8_t v[4] = {DB_SCHEMA_VERSION + 1, 0, 0, 0};
	assert_int_equal(db_put(db, schema_key, 7, v, 4, true), 0);
	db_close(db);
	char err[512];
	assert_int_equal(db_open(&db, dir, 1, err, sizeof(err)), DB_OPEN_TOO_NEW);
	assert_null(db);
	assert_non_null(strstr(err, "newer"));
	rm_rf(dir);
	free(dir);
}

static void test_malformed_schema_and_foreign(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct db *db = open_ok(dir);
	assert_int_equal(db_put(db, schema_key, 7, "xy", 2, true), 0);
	db_close(db);
	char err[512];
	assert_int_equal(db_open(&db, dir, 1, err, sizeof(err)), DB_OPEN_CORRUPT);
	rm_rf(dir);
	free(dir);
	/* A LevelDB database without our schema key is not ours. */
	dir = make_tmpdir();
	db = open_ok(dir);
	assert_int_equal(db_delete(db, schema_key, 7, true), 0);
	assert_int_equal(db_put(db, "zz", 2, "x", 1, true), 0);
	db_close(db);
	assert_int_equal(db_open(&db, dir, 1, err, sizeof(err)), DB_OPEN_FOREIGN);
	assert_non_null(strstr(err, "not a p2pd database"));
	rm_rf(dir);
	free(dir);
}

/* The schema record's value alone: 4 bytes LE, 1 to DB_SCHEMA_VERSION. */
static void test_schema_decode(void **state)
{
	(void)state;
	uint32_t v = 99;
	static const uint8_t one[4] = {1, 0, 0, 0}, zero[4] = {0, 0, 0, 0};
	static const uint8_t big[4] = {0, 0, 0, 0x80}, five[5] = {1, 0, 0, 0, 0};
	uint8_t newer[4] = {DB_SCHEMA_VERSION + 1, 0, 0, 0};

	assert_int_equal(db_schema_decode(&v, one, 4), DB_OPEN_OK);
	assert_int_equal(v, 1);
	assert_int_equal(db_schema_decode(&v, newer, 4), DB_OPEN_TOO_NEW);
	assert_int_equal(v, DB_SCHEMA_VERSION + 1);
	assert_int_equal(db_schema_decode(&v, big, 4), DB_OPEN_TOO_NEW);
	assert_int_equal(v, 0x80000000u);
	/* Version 0 was never written; other lengths are not a version. */
	assert_int_equal(db_schema_decode(&v, zero, 4), DB_OPEN_CORRUPT);
	assert_int_equal(v, 0);
	v = 99;
	assert_int_equal(db_schema_decode(&v, one, 3), DB_OPEN_CORRUPT);
	assert_int_equal(v, 0);
	assert_int_equal(db_schema_decode(&v, five, 5), DB_OPEN_CORRUPT);
	assert_int_equal(db_schema_decode(&v, NULL, 0), DB_OPEN_CORRUPT);

	/* db_open refuses a stored version 0 like any malformed record. */
	char *dir = make_tmpdir();
	struct db *db = open_ok(dir);
	assert_int_equal(db_put(db, schema_key, 7, zero, 4, true), 0);
	db_close(db);
	char err[512];
	assert_int_equal(db_open(&db, dir, 1, err, sizeof(err)), DB_OPEN_CORRUPT);
	assert_null(db);
	assert_non_null(strstr(err, "malformed schema"));
	rm_rf(dir);
	free(dir);
}

static void test_corrupt_refused_and_left_alone(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct db *db = open_ok(dir);
	db_close(db);
	/* Garble the CURRENT file, which names the manifest. */
	char cur[FS_MAX_PATH];
	fs_join(cur, sizeof(cur), dir, "CURRENT");
	FILE *f = fopen(cur, "w");
	assert_non_null(f);
	fputs("MANIFEST-999999\n", f);
	fclose(f);
	char err[512];
	enum db_open_status st = db_open(&db, dir, 1, err, sizeof(err));
	assert_true(st == DB_OPEN_CORRUPT || st == DB_OPEN_ERROR);
	assert_null(db);
	/* Left untouched. */
	char *text;
	size_t n;
	assert_int_equal(fs_read_file(cur, 100, &text, &n), 0);
	assert_string_equal(text, "MANIFEST-999999\n");
	free(text);
	rm_rf(dir);
	free(dir);
}

struct iter_ctx {
	int count;
	char seen[8];
	int stop_after;
};

static int count_keys(void *p, const uint8_t *key, size_t keylen, const uint8_t *val, size_t vallen)
{
	struct iter_ctx *ctx = p;
	assert_int_equal(keylen, 2);
	assert_int_equal(vallen, 1);
	(void)key;
	if (ctx->count < 7)
		ctx->seen[ctx->count] = (char)val[0];
	ctx->count++;
	if (ctx->stop_after && ctx->count >= ctx->stop_after)
		return 7;
	return 0;
}

static void test_batch_and_iterate(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	struct db *db = open_ok(dir);
	struct db_batch *b = db_batch_new();
	assert_non_null(b);
	db_batch_put(b, "a1", 2, "1", 1);
	db_batch_put(b, "a2", 2, "2", 1);
	db_batch_put(b, "a3", 2, "3", 1);
	db_batch_put(b, "b1", 2, "x", 1);
	db_batch_delete(b, "a3", 2);
	assert_int_equal(db_batch_write(db, b, true), 0);
	db_batch_free(b);
	db_batch_free(NULL);

	struct iter_ctx ctx = {0, {0}, 0};
	assert_int_equal(db_iterate_prefix(db, "a", 1, count_keys, &ctx), 0);
	assert_int_equal(ctx.count, 2);
	assert_string_equal(ctx.seen, "12");
	/* A callback's non-zero return stops the walk and is returned. */
	ctx.count = 0;
	ctx.stop_after = 1;
	assert_int_equal(db_iterate_prefix(db, "a", 1, count_keys, &ctx), 7);
	assert_int_equal(ctx.count, 1);
	/* The prefix bounds the walk: "b" keys are not seen, the meta key is not seen. */
	ctx = (struct iter_ctx){0, {0}, 0};
	assert_int_equal(db_iterate_prefix(db, "b", 1, count_keys, &ctx), 0);
	assert_int_equal(ctx.count, 1);
	db_close(db);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_put_get_reopen),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_malformed_schema_and_foreign),
		cmocka_unit_test(test_schema_decode),
		cmocka_unit_test(test_corrupt_refused_and_left_alone),
		cmocka_unit_test(test_batch_and_iterate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
