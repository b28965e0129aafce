/* Benchmark of the address book's persistence (src/net/addrman.c over LevelDB): fill the book
 * to its bounds (new and tried tables as full as random addresses get them), then time
 * addrman_save without and with sync, addrman_load, and report the database's size on disk.
 * A standalone program (not a test): it prints a table and one JSON line for
 * doc/benchmarks.md.
 *
 * Usage: bench_addrman [rounds]   (each timed case runs rounds times; the best is reported)
 * The database lives in a fresh directory under $TMPDIR (or /tmp) and is removed at the end. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "net/addrman.h"
#include "store/db.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/random.h"

/* Addresses offered while filling: far more than the 81,920 slots, so the tables end up as full
 * as hash collisions let random addresses make them. */
#define BENCH_ADDS 600000
/* good() calls made to fill the tried table (many collide and wait, as in a real node). */
#define BENCH_GOODS    200000
#define BENCH_ROUNDS   5
#define BENCH_CACHE_MB 16
#define BENCH_T0       1700000000

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random public IPv4 address (first octet 11..99: no private or reserved range). */
static struct peer_addr random_v4(void)
{
	struct peer_addr a;
	memset(&a, 0, sizeof(a));
	uint64_t r = next_rand();
	a.net = PEER_NET_IPV4;
	a.addrlen = 4;
	a.addr[0] = (uint8_t)(11 + r % 89);
	a.addr[1] = (uint8_t)(r >> 8);
	a.addr[2] = (uint8_t)(r >> 16);
	a.addr[3] = (uint8_t)(1 + (r >> 24) % 254);
	a.port = 8333;
	a.time = BENCH_T0 - (uint32_t)((r >> 32) % 86400);
	a.services = 1;
	return a;
}

static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	uint64_t total = 0;
	struct dirent *de;
	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[FS_MAX_PATH + 256 + 2];
		struct stat st;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n > 0 && (size_t)n < sizeof(path) && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

static double ms_since(int64_t t0)
{
	return (double)(clock_mono_us() - t0) / 1000.0;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : BENCH_ROUNDS;
	if (rounds < 1 || random_init() != 0)
		return 1;
	random_seed_insecure(1);
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char dir[FS_MAX_PATH], err[256];
	snprintf(dir, sizeof(dir), "%s/p2pd-bench-addrman-XXXXXX", tmp);
	if (!mkdtemp(dir))
		return 1;
	struct db *db;
	if (db_open(&db, dir, BENCH_CACHE_MB, err, sizeof(err)) != DB_OPEN_OK) {
		fprintf(stderr, "db_open: %s\n", err);
		return 1;
	}
	struct clock clk = {.mock_time = BENCH_T0};
	struct addrman *am;
	if (addrman_load(&am, db, &clk, false) != 0)
		return 1;

	int64_t t0 = clock_mono_us();
	for (int i = 0; i < BENCH_ADDS; i++) {
		struct peer_addr a = random_v4(), src = random_v4();
		addrman_add(am, &a, 1, &src, 0);
	}
	for (int i = 0; i < BENCH_GOODS; i++) {
		struct peer_addr a;
		if (addrman_select(am, true, ADDRMAN_NETS_ALL, &a, NULL))
			addrman_good(am, &a);
	}
	double fill_ms = ms_since(t0);
	size_t n_new, n_tried, size = addrman_size(am);
	addrman_counts(am, 0, &n_new, &n_tried);

	double save_ms = 1e9, save_sync_ms = 1e9, load_ms = 1e9;
	for (int r = 0; r < rounds; r++) {
		t0 = clock_mono_us();
		if (addrman_save(am, db, false) != 0)
			return 1;
		double ms = ms_since(t0);
		save_ms = ms < save_ms ? ms : save_ms;
		t0 = clock_mono_us();
		if (addrman_save(am, db, true) != 0)
			return 1;
		ms = ms_since(t0);
		save_sync_ms = ms < save_sync_ms ? ms : save_sync_ms;
	}
	/* Load from a freshly opened database, as at start-up. */
	db_close(db);
	for (int r = 0; r < rounds; r++) {
		if (db_open(&db, dir, BENCH_CACHE_MB, err, sizeof(err)) != DB_OPEN_OK)
			return 1;
		struct addrman *re;
		t0 = clock_mono_us();
		if (addrman_load(&re, db, &clk, false) != 0 || addrman_size(re) != size)
			return 1;
		double ms = ms_since(t0);
		load_ms = ms < load_ms ? ms : load_ms;
		addrman_free(re);
		db_close(db);
	}
	uint64_t disk = dir_bytes(dir);
	addrman_free(am);

	printf("addresses %zu (new %zu, tried %zu), filled in %.0f ms\n", size, n_new, n_tried,
	       fill_ms);
	printf("%-22s %10s\n", "case", "ms");
	printf("%-22s %10.1f\n", "save (no sync)", save_ms);
	printf("%-22s %10.1f\n", "save (sync)", save_sync_ms);
	printf("%-22s %10.1f\n", "load (fresh open)", load_ms);
	printf("%-22s %10.2f MiB\n", "database on disk", (double)disk / (1024.0 * 1024.0));
	printf("{\"addresses\":%zu,\"new\":%zu,\"tried\":%zu,\"save_ms\":%.1f,\"save_sync_ms\":%."
	       "1f,"
	       "\"load_ms\":%.1f,\"disk_bytes\":%llu}\n",
	       size, n_new, n_tried, save_ms, save_sync_ms, load_ms, (unsigned long long)disk);

	char cmd[FS_MAX_PATH + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : 1;
}
