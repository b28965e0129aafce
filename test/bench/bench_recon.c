/* Benchmark of catch-up sync (src/msg/recon.c over src/msg/reconset.c), all in memory, one
 * thread:
 * - sessions between two sets of N items (random ids, created_at spread over 14 days) that
 *   differ by 0%, 1% and 10% (half of the difference on each side), and with one side empty:
 *   payload bytes each way, round trips, ids exchanged and time, against exchanging both full
 *   id lists (2 * N * 32 bytes); a session abandoned at RECON_MAX_ROUNDS ends "rounds";
 * - the index at N and at 10 * N items: fill in order (reconset_append), random inserts,
 *   position of a bound, fingerprint of the whole set and of random ranges.
 * A standalone program (not a test): it prints a table and one JSON line for
 * doc/benchmarks.md, "Reconciliation".
 *
 * Usage: bench_recon [N]   (default BENCH_DEFAULT_N) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg/recon.h"
#include "msg/reconset.h"
#include "util/bytes.h"
#include "util/random.h"

/* The size: two stores of 100,000 messages. */
#define BENCH_DEFAULT_N 100000
/* First created_at and the spread of times: 14 days, the default retention. */
#define BENCH_T0   1700000000
#define BENCH_SPAN (14 * 24 * 3600)
/* Timed index operations per case. */
#define BENCH_QUERIES 200000
/* Session runs per difference; the fastest is reported (the bytes are the same each run). */
#define BENCH_SESSION_RUNS 3

/* Results feed this so the compiler cannot drop the work. */
static volatile uint64_t sink;
static uint64_t rng = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: reproducible pseudo-random items (not for anything but benchmarks). */
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(2685821657736338717);
}

static void die(const char *what)
{
	fprintf(stderr, "bench_recon: %s\n", what);
	exit(1);
}

static void random_item(struct recon_item *it)
{
	for (size_t k = 0; k < 32; k += 8) {
		uint64_t v = rnd();
		memcpy(it->id + k, &v, 8);
	}
	it->created_at = BENCH_T0 + (int64_t)(rnd() % BENCH_SPAN);
}

static struct reconset *new_set(void)
{
	struct reconset *s = reconset_new();
	if (!s)
		die("out of memory");
	return s;
}

struct session_result {
	double pct;
	const char *what;
	size_t n_a, n_b;
	uint64_t sent, recv; /* initiator -> responder, responder -> initiator */
	uint32_t rounds;
	uint64_t have, need;
	double ms;
	enum recon_status status; /* RECON_DONE, or RECON_ERR_ROUNDS: abandoned */
};

/* One whole session of a against b; returns its figures. */
static struct session_result run_session(struct reconset *a, struct reconset *b)
{
	struct session_result r = {.n_a = reconset_count(a), .n_b = reconset_count(b)};
	struct bytebuf req, resp;
	struct recon_ids have = {0}, need = {0};
	enum recon_status st;

	bytebuf_init(&req, RECON_MAX_PAYLOAD);
	bytebuf_init(&resp, RECON_MAX_PAYLOAD);
	uint64_t t0 = now_ns();
	struct recon_session *s = recon_initiate(a, BENCH_T0, BENCH_T0 + BENCH_SPAN, &req);
	if (!s)
		die("recon_initiate failed");
	do {
		if (recon_respond(b, req.data, req.len, &resp) != RECON_CONTINUE)
			die("recon_respond failed");
		st = recon_initiator_step(s, a, resp.data, resp.len, &req, &have, &need);
	} while (st == RECON_CONTINUE);
	r.ms = (double)(now_ns() - t0) / 1e6;
	if (st != RECON_DONE && st != RECON_ERR_ROUNDS)
		die(recon_status_name(st));
	r.status = st;
	const struct recon_stats *stats = recon_session_stats(s);
	r.sent = stats->bytes_sent;
	r.recv = stats->bytes_recv;
	r.rounds = stats->rounds;
	r.have = stats->have;
	r.need = stats->need;
	recon_session_free(s);
	recon_ids_free(&have);
	recon_ids_free(&need);
	bytebuf_free(&req);
	bytebuf_free(&resp);
	return r;
}

/* Sets of n items each differing by pct percent of n, half on each side (or, with pct < 0,
 * a of n items and b empty). */
static void make_pair(struct reconset **a, struct reconset **b, size_t n, double pct)
{
	size_t half = pct < 0 ? 0 : (size_t)((double)n * pct / 100.0 / 2.0);
	*a = new_set();
	*b = new_set();
	for (size_t i = 0; i < n; i++) {
		struct recon_item it;
		random_item(&it);
		if (pct < 0) {
			reconset_insert(*a, &it);
			continue;
		}
		if (i < n - half) {
			reconset_insert(*a, &it);
			reconset_insert(*b, &it);
		} else {
			reconset_insert(*a, &it);
			random_item(&it);
			reconset_insert(*b, &it);
		}
	}
}

static struct session_result bench_session(size_t n, double pct, bool initiator_empty)
{
	struct reconset *a, *b;
	struct session_result best = {0};

	make_pair(&a, &b, n, pct);
	for (int run = 0; run < BENCH_SESSION_RUNS; run++) {
		struct session_result r = initiator_empty ? run_session(b, a) : run_session(a, b);
		if (run == 0 || r.ms < best.ms)
			best = r;
	}
	best.pct = pct;
	best.what = pct >= 0 ? "differ" : initiator_empty ? "initiator empty" : "responder empty";
	reconset_free(a);
	reconset_free(b);
	return best;
}

/* A syncreq of RECON_MAX_RANGES FINGERPRINT ranges over set s (n items), none matching: the
 * most work one message can ask of a responder. Returns the milliseconds recon_respond takes. */
static double bench_worst_request(struct reconset *s)
{
	size_t n = reconset_count(s), k = RECON_MAX_RANGES;
	struct recon_range *r = calloc(k, sizeof(*r));
	struct recon_msg m = {.request = true,
			      .since = BENCH_T0,
			      .until = BENCH_T0 + BENCH_SPAN,
			      .ranges = r,
			      .nranges = k};
	struct bytebuf req, resp;

	if (!r || n < 2 * k)
		die("bench_worst_request: too few items");
	for (size_t i = 0; i < k; i++) {
		size_t pos = (i + 1) * n / k;
		if (i + 1 == k)
			recon_bound_end(&r[i].upper);
		else
			recon_bound_between(&r[i].upper, reconset_at(s, pos - 1),
					    reconset_at(s, pos));
		r[i].mode = RECON_FINGERPRINT;
		memset(r[i].fp, 0xa5, RECON_FP_LEN);
	}
	bytebuf_init(&req, RECON_MAX_PAYLOAD);
	bytebuf_init(&resp, RECON_MAX_PAYLOAD);
	recon_encode(&req, &m);
	if (!bytebuf_ok(&req))
		die("bench_worst_request: syncreq too large");
	uint64_t t0 = now_ns();
	if (recon_respond(s, req.data, req.len, &resp) != RECON_CONTINUE)
		die("recon_respond failed");
	double ms = (double)(now_ns() - t0) / 1e6;
	printf("responder, one syncreq of %zu differing FINGERPRINT ranges (%zu bytes): %.1f ms, "
	       "answer %zu bytes\n",
	       k, req.len, ms, resp.len);
	bytebuf_free(&req);
	bytebuf_free(&resp);
	free(r);
	return ms;
}

struct index_result {
	size_t n;
	double fill_ms;      /* reconset_append of n sorted items */
	double insert_per_s; /* reconset_insert of n items in random order */
	double position_ns;  /* reconset_position of a random bound */
	double fp_whole_ns;  /* fingerprint of the whole set */
	double fp_range_ns;  /* fingerprint of a random range (positions) */
	double bytes_per_item_fill, bytes_per_item_random;
	double worst_request_ms; /* recon_respond to RECON_MAX_RANGES differing fingerprints */
};

static int cmp_item(const void *a, const void *b)
{
	return recon_item_cmp(a, b);
}

static double per_query_ns(uint64_t t0)
{
	return (double)(now_ns() - t0) / BENCH_QUERIES;
}

static struct index_result bench_index(size_t n)
{
	struct index_result r = {.n = n};
	struct recon_item *items = malloc(n * sizeof(*items));
	struct reconset *s = new_set();
	uint8_t fp[RECON_FP_LEN];

	if (!items)
		die("out of memory");
	for (size_t i = 0; i < n; i++)
		random_item(&items[i]);
	uint64_t t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		if (reconset_insert(s, &items[i]) < 0)
			die("reconset_insert failed");
	r.insert_per_s = (double)n / ((double)(now_ns() - t0) / 1e9);
	r.bytes_per_item_random = (double)reconset_memory(s) / (double)reconset_count(s);
	reconset_free(s);

	qsort(items, n, sizeof(*items), cmp_item);
	s = new_set();
	t0 = now_ns();
	for (size_t i = 0; i < n; i++)
		if (reconset_append(s, &items[i]) != 0)
			die("reconset_append failed");
	r.fill_ms = (double)(now_ns() - t0) / 1e6;
	r.bytes_per_item_fill = (double)reconset_memory(s) / (double)reconset_count(s);

	t0 = now_ns();
	for (size_t q = 0; q < BENCH_QUERIES; q++) {
		struct recon_bound b;
		recon_bound_time(&b, BENCH_T0 + (int64_t)(rnd() % BENCH_SPAN));
		sink += reconset_position(s, &b);
	}
	r.position_ns = per_query_ns(t0);
	t0 = now_ns();
	for (size_t q = 0; q < BENCH_QUERIES; q++) {
		reconset_fingerprint(s, fp, 0, n);
		sink += fp[0];
	}
	r.fp_whole_ns = per_query_ns(t0);
	t0 = now_ns();
	for (size_t q = 0; q < BENCH_QUERIES; q++) {
		size_t x = rnd() % (n + 1), y = rnd() % (n + 1);
		reconset_fingerprint(s, fp, x < y ? x : y, x < y ? y : x);
		sink += fp[0];
	}
	r.fp_range_ns = per_query_ns(t0);
	r.worst_request_ms = bench_worst_request(s);
	reconset_free(s);
	free(items);
	return r;
}

static void print_sessions(const struct session_result *r, size_t k, size_t n)
{
	double full = 2.0 * (double)n * 32.0;
	printf("sessions (payload bytes; full id lists: 2 x %zu x 32 = %.0f bytes)\n", n, full);
	printf("%-16s %6s %10s %10s %10s %8s %7s %7s %7s %9s %s\n", "case", "diff%", "init->resp",
	       "resp->init", "total", "of full", "rounds", "have", "need", "ms", "end");
	for (size_t i = 0; i < k; i++)
		printf("%-16s %6.1f %10llu %10llu %10llu %7.2f%% %7u %7llu %7llu %9.1f %s\n",
		       r[i].what, r[i].pct < 0 ? 100.0 : r[i].pct, (unsigned long long)r[i].sent,
		       (unsigned long long)r[i].recv, (unsigned long long)(r[i].sent + r[i].recv),
		       100.0 * (double)(r[i].sent + r[i].recv) / full, r[i].rounds,
		       (unsigned long long)r[i].have, (unsigned long long)r[i].need, r[i].ms,
		       recon_status_name(r[i].status));
}

static void print_index(const struct index_result *x, size_t k)
{
	printf("index\n%-10s %10s %12s %12s %12s %12s %10s %10s\n", "items", "fill ms", "inserts/s",
	       "position ns", "fp whole ns", "fp range ns", "B/item", "B/item rnd");
	for (size_t i = 0; i < k; i++)
		printf("%-10zu %10.1f %12.0f %12.0f %12.0f %12.0f %10.1f %10.1f\n", x[i].n,
		       x[i].fill_ms, x[i].insert_per_s, x[i].position_ns, x[i].fp_whole_ns,
		       x[i].fp_range_ns, x[i].bytes_per_item_fill, x[i].bytes_per_item_random);
}

static void print_json(const struct session_result *r, size_t k, const struct index_result *x,
		       size_t kx, size_t n)
{
	printf("{\"bench\":\"recon\",\"n\":%zu,\"branch\":%d,\"idlist_threshold\":%d,"
	       "\"sessions\":[",
	       n, RECON_BRANCH, RECON_IDLIST_THRESHOLD);
	for (size_t i = 0; i < k; i++)
		printf("%s{\"case\":\"%s\",\"diff_pct\":%.1f,\"sent\":%llu,\"recv\":%llu,"
		       "\"rounds\":%u,\"have\":%llu,\"need\":%llu,\"ms\":%.1f,\"end\":\"%s\"}",
		       i ? "," : "", r[i].what, r[i].pct, (unsigned long long)r[i].sent,
		       (unsigned long long)r[i].recv, r[i].rounds, (unsigned long long)r[i].have,
		       (unsigned long long)r[i].need, r[i].ms, recon_status_name(r[i].status));
	printf("],\"index\":[");
	for (size_t i = 0; i < kx; i++)
		printf("%s{\"n\":%zu,\"fill_ms\":%.1f,\"insert_per_s\":%.0f,\"position_ns\":%.0f,"
		       "\"fp_whole_ns\":%.0f,\"fp_range_ns\":%.0f,\"bytes_per_item\":%.1f,"
		       "\"bytes_per_item_random\":%.1f,\"worst_request_ms\":%.1f}",
		       i ? "," : "", x[i].n, x[i].fill_ms, x[i].insert_per_s, x[i].position_ns,
		       x[i].fp_whole_ns, x[i].fp_range_ns, x[i].bytes_per_item_fill,
		       x[i].bytes_per_item_random, x[i].worst_request_ms);
	printf("]}\n");
}

int main(int argc, char **argv)
{
	size_t n = BENCH_DEFAULT_N;
	struct session_result sessions[5];
	struct index_result index[2];

	if (argc > 1) {
		char *end;
		unsigned long long v = strtoull(argv[1], &end, 10);
		if (*end || v < 100 || v > 10000000ull) {
			fprintf(stderr, "usage: %s [N]   (100 to 10,000,000 items)\n", argv[0]);
			return 2;
		}
		n = (size_t)v;
	}
	if (random_init() != 0)
		die("random_init failed");
	sessions[0] = bench_session(n, 0.0, false);
	sessions[1] = bench_session(n, 1.0, false);
	sessions[2] = bench_session(n, 10.0, false);
	sessions[3] = bench_session(n, -1.0, false);
	sessions[4] = bench_session(n, -1.0, true);
	print_sessions(sessions, 5, n);
	index[0] = bench_index(n);
	index[1] = bench_index(10 * n);
	print_index(index, 2);
	print_json(sessions, 5, index, 2, n);
	return 0;
}
