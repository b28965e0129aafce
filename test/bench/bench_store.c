/* Benchmark of the message store (src/msg/store.c over LevelDB): insert rate without and with
 * sync, msgstore_get latency for stored and absent ids, msgstore_list of 100 by topic, prune
 * rate, and start-up time (db_open + msgstore_open) on the filled store. A standalone program
 * (not a test): it prints a table and one JSON line for doc/benchmarks.md.
 *
 * Usage: bench_store [messages] [sync_messages]
 *   messages       stored before the read and start-up cases (default BENCH_DEFAULT_MSGS)
 *   sync_messages  inserted with sync=true, each one fsync'd (default BENCH_DEFAULT_SYNC)
 * The database lives in a fresh directory under $TMPDIR (or /tmp) and is removed at the end. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msg/store.h"
#include "store/db.h"
#include "util/fs.h"
#include "wire/sigmsg.h"

/* A store of 100,000 messages (about 30 MB) fills in seconds; 1,000,000 is the figure
 * and is asked for on the command line. */
#define BENCH_DEFAULT_MSGS 100000
/* Each synced put waits for an fsync (milliseconds on some disks): keep the count small. */
#define BENCH_DEFAULT_SYNC 1000
/* Messages built and stored per timed batch: building (ids are SHA-256) stays outside the
 * clock, and a batch of structs stays small (about 0.5 MB). */
#define BENCH_BATCH 1000
/* Body bytes: with the other fields the serialized message is about 200 bytes, a chat line. */
#define BENCH_BODY 80
/* Distinct topics and authors: a list of 100 by topic then walks a topic of N/16 messages. */
#define BENCH_TOPICS  16
#define BENCH_AUTHORS 64
/* One message in BENCH_REF_EVERY replies to an earlier one (adds an 'R' index entry). */
#define BENCH_REF_EVERY 4
/* Timed lookups for the latency percentiles. */
#define BENCH_GETS  100000
#define BENCH_LISTS 2000
/* Results per list call, as listmessages with "limit": 100. */
#define BENCH_LIST_LIMIT 100
/* Start-ups timed after the first (which also replays LevelDB's log). */
#define BENCH_REOPENS 5
/* Messages deleted per timed prune call. */
#define BENCH_PRUNE_BATCH 1000
/* Block cache for the benchmark's database: -dbcache's default. */
#define BENCH_CACHE_MB 16
/* First created_at: any fixed time keeps runs comparable. */
#define BENCH_T0 1700000000

struct bench {
	char dir[FS_MAX_PATH];
	struct db *db;
	struct msgstore *s;
	uint8_t (*ids)[32]; /* every stored id, in insertion (= time) order */
	size_t n;
	uint64_t rng;
};

/* Results feed this so the compiler cannot drop the work. */
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: reproducible pseudo-random choices (not for anything but benchmarks). */
static uint64_t rnd(struct bench *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * UINT64_C(2685821657736338717);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_store: %s\n", what);
	exit(1);
}

static void open_store(struct bench *b)
{
	char err[512];
	if (db_open(&b->db, b->dir, BENCH_CACHE_MB, err, sizeof(err)) != DB_OPEN_OK)
		die(err);
	b->s = msgstore_open(b->db, err, sizeof(err));
	if (!b->s)
		die(err);
}

static void close_store(struct bench *b)
{
	msgstore_free(b->s);
	db_close(b->db);
	b->s = NULL;
	b->db = NULL;
}

/* Message number i: topic, author and reference follow from i; time increases with i. */
static void build_msg(struct bench *b, struct sigmsg *m, uint8_t id[32], size_t i)
{
	memset(m, 0, sizeof(*m));
	m->version = SIGMSG_FORMAT_VERSION;
	snprintf(m->topic, sizeof(m->topic), "topic%02zu", i % BENCH_TOPICS);
	m->created_at = BENCH_T0 + (int64_t)i;
	memset(m->author, (int)(i % BENCH_AUTHORS) + 1, sizeof(m->author));
	if (i > 0 && i % BENCH_REF_EVERY == 0) {
		memcpy(m->refs[0], b->ids[rnd(b) % i], 32);
		m->nrefs = 1;
	}
	m->body = malloc(BENCH_BODY);
	if (!m->body)
		die("out of memory");
	for (size_t k = 0; k < BENCH_BODY; k++)
		m->body[k] = (uint8_t)rnd(b);
	m->body_len = BENCH_BODY;
	m->nonce = i;
	memset(m->sig, 0x5a, sizeof(m->sig));
	if (sigmsg_id(id, m) != 0)
		die("sigmsg_id failed");
}

/* Insert count messages in timed batches; returns the seconds spent inside msgstore_put. */
static double insert(struct bench *b, size_t count, bool sync)
{
	static struct sigmsg batch[BENCH_BATCH];
	uint64_t spent = 0;
	for (size_t done = 0; done < count;) {
		size_t k = count - done < BENCH_BATCH ? count - done : BENCH_BATCH;
		for (size_t j = 0; j < k; j++)
			build_msg(b, &batch[j], b->ids[b->n + j], b->n + j);
		uint64_t t0 = now_ns();
		for (size_t j = 0; j < k; j++) {
			if (msgstore_put(b->s, &batch[j], b->ids[b->n + j], BENCH_T0, sync) != 1)
				die("msgstore_put failed");
		}
		spent += now_ns() - t0;
		for (size_t j = 0; j < k; j++)
			sigmsg_clear(&batch[j]);
		b->n += k;
		done += k;
	}
	return (double)spent / 1e9;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct lat {
	double p50_us, p99_us, mean_us;
};

static struct lat percentiles(uint64_t *ns, size_t n)
{
	qsort(ns, n, sizeof(*ns), cmp_u64);
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)ns[i];
	return (struct lat){.p50_us = (double)ns[n / 2] / 1e3,
			    .p99_us = (double)ns[n * 99 / 100] / 1e3,
			    .mean_us = sum / (double)n / 1e3};
}

static struct lat bench_get(struct bench *b, uint64_t *ns, bool absent)
{
	for (size_t i = 0; i < BENCH_GETS; i++) {
		uint8_t id[32];
		memcpy(id, b->ids[rnd(b) % b->n], 32);
		if (absent)
			id[31] ^= 0xff;
		uint8_t *raw;
		size_t len;
		uint64_t t0 = now_ns();
		int r = msgstore_get(b->s, id, &raw, &len, NULL);
		ns[i] = now_ns() - t0;
		if (r != (absent ? 0 : 1))
			die("msgstore_get gave an unexpected result");
		sink += len;
		free(raw);
	}
	return percentiles(ns, BENCH_GETS);
}

static int count_cb(void *ctx, const uint8_t id[32], const uint8_t *raw, size_t len,
		    int64_t received_at)
{
	(void)id, (void)raw, (void)received_at;
	sink += len;
	(*(long *)ctx)++;
	return 0;
}

/* msgstore_list of BENCH_LIST_LIMIT by a random topic, newest first (what listmessages with a
 * topic returns by default) or oldest first. */
static struct lat bench_list(struct bench *b, uint64_t *ns, bool reverse)
{
	for (size_t i = 0; i < BENCH_LISTS; i++) {
		char topic[16];
		snprintf(topic, sizeof(topic), "topic%02u", (unsigned)(rnd(b) % BENCH_TOPICS));
		struct msgstore_query q = {
			.topic = topic, .limit = BENCH_LIST_LIMIT, .reverse = reverse};
		long n = 0;
		uint64_t t0 = now_ns();
		long r = msgstore_list(b->s, &q, count_cb, &n);
		ns[i] = now_ns() - t0;
		if (r != n ||
		    (size_t)r != (b->n / BENCH_TOPICS < BENCH_LIST_LIMIT ? b->n / BENCH_TOPICS
									 : BENCH_LIST_LIMIT))
			die("msgstore_list gave an unexpected count");
	}
	return percentiles(ns, BENCH_LISTS);
}

static double timed_open(struct bench *b)
{
	uint64_t t0 = now_ns();
	open_store(b);
	return (double)(now_ns() - t0) / 1e6;
}

/* Bytes in the (flat) LevelDB directory. */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	uint64_t total = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char p[FS_MAX_PATH];
		struct stat st;
		if (fs_join(p, sizeof(p), dir, e->d_name) == 0 && stat(p, &st) == 0 &&
		    S_ISREG(st.st_mode))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char p[FS_MAX_PATH];
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    fs_join(p, sizeof(p), dir, e->d_name) == 0)
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static size_t parse_count(const char *s, const char *prog)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end || v == 0 || v > 100000000ull) {
		fprintf(stderr, "usage: %s [messages] [sync_messages]\n", prog);
		exit(2);
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	size_t nmsgs = argc > 1 ? parse_count(argv[1], argv[0]) : BENCH_DEFAULT_MSGS;
	size_t nsync = argc > 2 ? parse_count(argv[2], argv[0]) : BENCH_DEFAULT_SYNC;
	struct bench b = {.rng = UINT64_C(0x9e3779b97f4a7c15)};
	const char *tmp = getenv("TMPDIR");
	snprintf(b.dir, sizeof(b.dir), "%s/p2pd-bench-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(b.dir))
		die("cannot create a temporary directory");
	b.ids = malloc((nmsgs + nsync) * sizeof(*b.ids));
	size_t gl = BENCH_GETS > BENCH_LISTS ? BENCH_GETS : BENCH_LISTS;
	uint64_t *ns = malloc(gl * sizeof(*ns));
	if (!b.ids || !ns)
		die("out of memory");

	open_store(&b);
	double t_async = insert(&b, nmsgs, false);
	double t_sync = insert(&b, nsync, true);
	struct msgstore_stats st;
	if (msgstore_stats(b.s, &st) != 0)
		die("msgstore_stats failed");
	double avg = (double)st.bytes / (double)st.count;
	printf("store: %llu messages, %.0f bytes each on average, directory %s\n",
	       (unsigned long long)st.count, avg, b.dir);
	printf("%-28s %14s %12s\n", "insert", "messages", "msgs/s");
	printf("%-28s %14zu %12.0f\n", "put sync=false", nmsgs, (double)nmsgs / t_async);
	printf("%-28s %14zu %12.0f\n", "put sync=true", nsync, (double)nsync / t_sync);

	/* Reads on a store just written: memtable and page cache warm, as on a running node. */
	struct lat get_hit = bench_get(&b, ns, false);
	struct lat get_miss = bench_get(&b, ns, true);
	struct lat list_new = bench_list(&b, ns, true);
	struct lat list_old = bench_list(&b, ns, false);
	printf("%-28s %10s %10s %10s\n", "latency (us)", "p50", "p99", "mean");
	printf("%-28s %10.1f %10.1f %10.1f\n", "get (stored id)", get_hit.p50_us, get_hit.p99_us,
	       get_hit.mean_us);
	printf("%-28s %10.1f %10.1f %10.1f\n", "get (absent id)", get_miss.p50_us, get_miss.p99_us,
	       get_miss.mean_us);
	printf("%-28s %10.1f %10.1f %10.1f\n", "list 100 by topic, newest", list_new.p50_us,
	       list_new.p99_us, list_new.mean_us);
	printf("%-28s %10.1f %10.1f %10.1f\n", "list 100 by topic, oldest", list_old.p50_us,
	       list_old.p99_us, list_old.mean_us);

	/* Start-up: the first open after writing replays LevelDB's log; later ones do not. */
	close_store(&b);
	uint64_t disk = dir_bytes(b.dir);
	double first_ms = timed_open(&b);
	close_store(&b);
	double reopen_ms[BENCH_REOPENS];
	for (size_t i = 0; i < BENCH_REOPENS; i++) {
		reopen_ms[i] = timed_open(&b);
		if (i + 1 < BENCH_REOPENS)
			close_store(&b);
	}
	qsort(reopen_ms, BENCH_REOPENS, sizeof(double), cmp_double);
	double reopen_med = reopen_ms[BENCH_REOPENS / 2];
	struct msgstore_stats st2;
	if (msgstore_stats(b.s, &st2) != 0 || st2.count != st.count || st2.bytes != st.bytes)
		die("totals differ after reopening");
	printf("%-28s %10s\n", "start-up", "ms");
	printf("%-28s %10.1f\n", "db_open+msgstore_open first", first_ms);
	printf("%-28s %10.1f\n", "db_open+msgstore_open again", reopen_med);
	printf("on disk: %.1f MB\n", (double)disk / 1e6);

	/* Reads again on the reopened store: an empty block cache, compactions settled. */
	struct lat get_reopen = bench_get(&b, ns, false);
	struct lat list_reopen = bench_list(&b, ns, true);
	printf("%-28s %10.1f %10.1f %10.1f\n", "get after reopen", get_reopen.p50_us,
	       get_reopen.p99_us, get_reopen.mean_us);
	printf("%-28s %10.1f %10.1f %10.1f\n", "list newest after reopen", list_reopen.p50_us,
	       list_reopen.p99_us, list_reopen.mean_us);

	/* Prune: the BENCH_PRUNE_BATCH oldest messages have expired. */
	uint64_t t0 = now_ns();
	long pruned = msgstore_prune(b.s, BENCH_T0 + BENCH_PRUNE_BATCH, 0, BENCH_PRUNE_BATCH);
	double prune_ms = (double)(now_ns() - t0) / 1e6;
	if (pruned != (long)(nmsgs < BENCH_PRUNE_BATCH ? nmsgs : BENCH_PRUNE_BATCH))
		die("msgstore_prune deleted an unexpected count");
	printf("prune %ld expired: %.1f ms (%.0f msgs/s)\n", pruned, prune_ms,
	       (double)pruned / (prune_ms / 1e3));

	printf("{\"bench\":\"store\",\"messages\":%llu,\"avg_bytes\":%.0f,\"disk_bytes\":%llu,"
	       "\"put_async_per_s\":%.0f,\"sync_messages\":%zu,\"put_sync_per_s\":%.0f,"
	       "\"get_p50_us\":%.1f,\"get_p99_us\":%.1f,\"get_absent_p50_us\":%.1f,"
	       "\"get_absent_p99_us\":%.1f,\"list100_newest_p50_us\":%.1f,"
	       "\"list100_newest_p99_us\":%.1f,\"list100_oldest_p50_us\":%.1f,"
	       "\"list100_oldest_p99_us\":%.1f,\"reopen_get_p50_us\":%.1f,\"reopen_get_p99_us\":%."
	       "1f,"
	       "\"reopen_list100_p50_us\":%.1f,\"reopen_list100_p99_us\":%.1f,"
	       "\"open_first_ms\":%.1f,\"open_ms\":%.1f,"
	       "\"prune_per_s\":%.0f}\n",
	       (unsigned long long)st.count, avg, (unsigned long long)disk, (double)nmsgs / t_async,
	       nsync, (double)nsync / t_sync, get_hit.p50_us, get_hit.p99_us, get_miss.p50_us,
	       get_miss.p99_us, list_new.p50_us, list_new.p99_us, list_old.p50_us, list_old.p99_us,
	       get_reopen.p50_us, get_reopen.p99_us, list_reopen.p50_us, list_reopen.p99_us,
	       first_ms, reopen_med, (double)pruned / (prune_ms / 1e3));

	close_store(&b);
	remove_dir(b.dir);
	free(b.ids);
	free(ns);
	return 0;
}
