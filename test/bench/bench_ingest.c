/* Benchmark of message ingest (issue 4, "Benchmarks" item 1): how many valid signed messages per
 * second one regtest p2pd accepts from a peer flooding pre-signed messages, as a ratio to raw
 * single-core BIP340 verifications per second measured in the same run.
 *
 * The program signs N messages in memory, times secp256k1_schnorrsig_verify over all of them
 * (keys parsed beforehand; parsing each one is shown too), then for
 * each -verifythreads value starts a fresh p2pd (own data directory, free loopback ports) and
 * opens two P2P connections to it: a flooder that announces the ids in inv batches and answers
 * each getdata with the requested msg frames, and an observer that counts the ids the node
 * announces to it (on regtest -relaydelay is 0: an accepted message is announced at once). The
 * ingest time runs from the first inv to the moment the observer has seen all N ids. The CPU
 * time of the node's threads (by role) and of the peers is divided by N. It prints tables and
 * one JSON line for doc/benchmarks.md. A standalone program, never run by make check.
 *
 * Usage: bench_ingest [-n=N] [-threads=T[,T...]] [-timeout=SECS] [-refill] [-peer-nice=N]
 *                     [-hold=SECS] [-v] [-p2pd=PATH]
 * (p2pd defaults to ../../src/p2pd next to this program, as in a build directory; -refill is a
 * diagnostic mode, see refill(); -peer-nice runs the flooder and observer at that nice level,
 * see peer_thread_main(); -hold keeps a node that timed out running that long, for p2p-cli) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "msg/gossip.h"
#include "msg/verify.h"
#include "util/bytes.h"
#include "util/clock.h"
#include "util/netparams.h"
#include "util/random.h"
#include "wire/frame.h"
#include "wire/inv.h"
#include "wire/messages.h"
#include "wire/sigmsg.h"

#define BENCH_DEFAULT_N 20000
/* Upper bound on N: the corpus (about 400 bytes of frame plus 128 bytes of keys per message)
 * stays below 300 MB. */
#define BENCH_MAX_N 500000
/* Per node run: long enough for 20,000 messages at a few hundred per second. */
#define BENCH_DEFAULT_TIMEOUT_S 300
/* Body bytes per message (about 330 bytes serialized): a short post. */
#define BENCH_BODY_LEN 200
/* Distinct topics and authors: enough that no index key is hot. */
#define BENCH_TOPICS  100
#define BENCH_AUTHORS 16
/* ids per inv: Bitcoin-sized batches, far below WIRE_MAX_INV. */
#define BENCH_INV_BATCH 1000
/* ids announced and not yet fetched: the node tracks at most GOSSIP_MAX_ANNOUNCED_PER_PEER per
 * peer and ignores the rest, so never announce more than that ahead of what it fetched. */
#define BENCH_WINDOW GOSSIP_MAX_ANNOUNCED_PER_PEER
/* With no getdata and no new announcement for this long, announce again every id the node has
 * not announced to the observer (it dropped it: a full verify queue or a full tracking table
 * forgets an id until it is announced again). Above the node's one-second fetch tick. */
#define BENCH_STALL_US (3 * 1000000)
/* Frames waiting to be written to the node: the node asks at most
 * GOSSIP_MAX_INFLIGHT_PER_PEER bodies at a time, so this is far above what a run queues. */
#define BENCH_MAX_OUT (16u * 1024 * 1024)
/* How long the node may take to listen, and to exit after SIGTERM. */
#define BENCH_START_US (30 * 1000000)
#define BENCH_STOP_US  (10 * 1000000)
/* Ids a timed-out run lists that the observer never saw. */
#define BENCH_SHOW_UNSEEN 10
/* Parsed-key cache of the raw measurement: room for every author. */
#define BENCH_KEY_CACHE_SLOTS 1024
/* Most threads of the parallel raw verification (the largest -threads value). */
#define BENCH_MAX_PAR 16
/* Thread counts measured in one invocation (-threads=1,2 by default). */
#define BENCH_MAX_RUNS 8
/* poll() timeout: how often stalls, timeouts and signals are checked. */
#define BENCH_POLL_MS 100

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- the pre-signed corpus ---- */

struct corpus {
	size_t n;
	uint8_t (*ids)[32];
	uint8_t (*sigs)[64];
	uint8_t (*authors)[32];
	struct bytebuf frames; /* every message as a complete msg frame, one after another */
	size_t *frame_off;     /* n + 1 offsets into frames */
	uint32_t *table;       /* open addressing id -> index + 1 (0: empty) */
	size_t table_mask;
};

static size_t corpus_slot(const struct corpus *c, const uint8_t id[32])
{
	uint64_t h;
	memcpy(&h, id, sizeof(h)); /* ids are hashes: any 8 bytes are uniform */
	return (size_t)h & c->table_mask;
}

/* Index of id in the corpus, or -1. */
static long corpus_find(const struct corpus *c, const uint8_t id[32])
{
	for (size_t s = corpus_slot(c, id);; s = (s + 1) & c->table_mask) {
		uint32_t v = c->table[s];
		if (v == 0)
			return -1;
		if (memcmp(c->ids[v - 1], id, 32) == 0)
			return (long)v - 1;
	}
}

static void corpus_free(struct corpus *c)
{
	free(c->ids);
	free(c->sigs);
	free(c->authors);
	free(c->frame_off);
	free(c->table);
	bytebuf_free(&c->frames);
	memset(c, 0, sizeof(*c));
}

/* Sign message i with one of the keys and append it as a msg frame. Returns 0 or -1. */
static int corpus_add(struct corpus *c, size_t i, const uint8_t seckey[32], const uint8_t magic[4],
		      struct bytebuf *payload)
{
	uint8_t body[BENCH_BODY_LEN];
	struct sigmsg m;

	memset(&m, 0, sizeof(m));
	m.version = SIGMSG_FORMAT_VERSION;
	snprintf(m.topic, sizeof(m.topic), "bench/topic.%zu", i % BENCH_TOPICS);
	m.created_at = (int64_t)time(NULL);
	int k = snprintf((char *)body, sizeof(body), "ingest benchmark message %zu ", i);
	random_bytes(body + k, sizeof(body) - (size_t)k);
	m.body = body; /* borrowed: m is never cleared */
	m.body_len = sizeof(body);
	if (sigmsg_sign(&m, c->ids[i], seckey, 0, 0) != 0)
		return -1;
	memcpy(c->sigs[i], m.sig, 64);
	memcpy(c->authors[i], m.author, 32);
	bytebuf_reset(payload);
	sigmsg_encode(payload, &m);
	uint8_t hdr[WIRE_HEADER_SIZE];
	frame_header_encode(hdr, magic, CMD_MSG, payload->data, payload->len);
	bytebuf_append(&c->frames, hdr, sizeof(hdr));
	bytebuf_append(&c->frames, payload->data, payload->len);
	c->frame_off[i + 1] = c->frames.len;
	if (!bytebuf_ok(payload) || !bytebuf_ok(&c->frames))
		return -1;
	size_t s = corpus_slot(c, c->ids[i]);
	while (c->table[s] != 0)
		s = (s + 1) & c->table_mask;
	c->table[s] = (uint32_t)(i + 1);
	return 0;
}

/* Build n signed messages. Returns 0, or -1 (c cleared) on failure. */
static int corpus_make(struct corpus *c, size_t n, const uint8_t magic[4])
{
	uint8_t keys[BENCH_AUTHORS][32];
	struct bytebuf payload;
	size_t tsize = 1;

	memset(c, 0, sizeof(*c));
	while (tsize < 2 * n)
		tsize *= 2;
	c->n = n;
	c->ids = calloc(n, 32);
	c->sigs = calloc(n, 64);
	c->authors = calloc(n, 32);
	c->frame_off = calloc(n + 1, sizeof(size_t));
	c->table = calloc(tsize, sizeof(uint32_t));
	c->table_mask = tsize - 1;
	bytebuf_init(&c->frames, n * (WIRE_HEADER_SIZE + 512));
	bytebuf_init(&payload, 512);
	int ret = c->ids && c->sigs && c->authors && c->frame_off && c->table ? 0 : -1;
	for (int a = 0; ret == 0 && a < BENCH_AUTHORS; a++)
		ret = key_generate(keys[a]);
	for (size_t i = 0; ret == 0 && i < n && !interrupted; i++)
		ret = corpus_add(c, i, keys[i % BENCH_AUTHORS], magic, &payload);
	memset(keys, 0, sizeof(keys));
	bytebuf_free(&payload);
	if (ret != 0 || interrupted)
		corpus_free(c);
	return interrupted ? -1 : ret;
}

/* Verify c->sigs[from, to) with key cache kc (NULL: parse every key); returns how many were
 * valid. With a warm cache this is secp256k1_schnorrsig_verify on parsed keys (plus a table
 * lookup of some 30 ns): the "raw secp256k1_schnorrsig_verify calls". */
static size_t verify_range(const struct corpus *c, struct key_cache *kc, size_t from, size_t to)
{
	size_t ok = 0;
	for (size_t i = from; i < to; i++)
		ok += key_verify_schnorr_cached(kc, c->sigs[i], c->ids[i], 32, c->authors[i]) == 1;
	return ok;
}

/* A cache holding every author's parsed key (the corpus cycles through BENCH_AUTHORS). */
static struct key_cache *warm_cache(const struct corpus *c)
{
	struct key_cache *kc = key_cache_new(BENCH_KEY_CACHE_SLOTS);
	if (kc)
		verify_range(c, kc, 0, c->n < BENCH_AUTHORS ? c->n : BENCH_AUTHORS);
	return kc;
}

/* Verify every signature once, on one thread; returns verifications per second, or -1 if one
 * fails. parse: parse each author's key every time (key_verify_schnorr) instead of keeping
 * the parsed keys. */
static double raw_verify_rate(const struct corpus *c, bool parse)
{
	struct key_cache *kc = parse ? NULL : warm_cache(c);
	if (!parse && !kc)
		return -1;
	int64_t t0 = clock_mono_us();
	size_t ok = verify_range(c, kc, 0, c->n);
	int64_t dt = clock_mono_us() - t0;
	key_cache_free(kc);
	if (ok != c->n)
		return -1;
	return (double)c->n * 1e6 / (double)(dt > 0 ? dt : 1);
}

/* -parallel: the same verifications split over `threads` threads at once, in aggregate per
 * second. On a machine whose cores are not independent (shared by a hypervisor, hyperthreads,
 * a lower clock with all cores busy) this is below threads x raw_verify_rate, and it bounds
 * what any node could reach with that many verification threads. */
struct par_verify {
	const struct corpus *c;
	struct key_cache *kc; /* warm, one per thread */
	size_t from, to, ok;
};

static void *par_verify_main(void *arg)
{
	struct par_verify *p = arg;
	p->ok = verify_range(p->c, p->kc, p->from, p->to);
	return NULL;
}

static double parallel_verify_rate(const struct corpus *c, int threads)
{
	struct par_verify p[BENCH_MAX_PAR];
	pthread_t t[BENCH_MAX_PAR];
	int started = 0;
	size_t ok = 0;
	if (threads < 1 || threads > BENCH_MAX_PAR)
		return -1;
	for (int i = 0; i < threads; i++)
		p[i] = (struct par_verify){.c = c,
					   .kc = warm_cache(c),
					   .from = c->n * (size_t)i / (size_t)threads,
					   .to = c->n * (size_t)(i + 1) / (size_t)threads};
	int64_t t0 = clock_mono_us();
	for (int i = 0; i < threads; i++) {
		if (!p[i].kc || pthread_create(&t[i], NULL, par_verify_main, &p[i]) != 0)
			break;
		started++;
	}
	for (int i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		ok += p[i].ok;
	}
	int64_t dt = clock_mono_us() - t0;
	for (int i = 0; i < threads; i++)
		key_cache_free(p[i].kc);
	if (started != threads || ok != c->n)
		return -1;
	return (double)c->n * 1e6 / (double)(dt > 0 ? dt : 1);
}

/* ---- the node process ---- */

struct node_proc {
	pid_t pid; /* 0: not running */
	char datadir[PATH_MAX];
	uint16_t port, rpcport;
};

/* Two distinct free loopback ports (bound to port 0, read back, closed). Returns 0 or -1. */
static int free_ports(uint16_t *a, uint16_t *b)
{
	int fds[2] = {-1, -1};
	uint16_t ports[2] = {0, 0};
	int ret = 0;
	for (int i = 0; i < 2 && ret == 0; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t len = sizeof(sa);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0)
			ret = -1;
		ports[i] = ntohs(sa.sin_port);
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	*a = ports[0];
	*b = ports[1];
	return ret;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* Print the end of the node's debug.log (to explain a failure). */
static void node_print_log(const struct node_proc *np)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/regtest/debug.log", np->datadir);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	static char tail[4096];
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, size > (long)sizeof(tail) - 1 ? size - (long)sizeof(tail) + 1 : 0, SEEK_SET);
	size_t got = fread(tail, 1, sizeof(tail) - 1, f);
	tail[got] = '\0';
	fclose(f);
	fprintf(stderr, "--- end of %s ---\n%s\n---\n", path, tail);
}

/* Stop the node (SIGTERM, then SIGKILL after BENCH_STOP_US) and remove its data directory. */
static void node_stop(struct node_proc *np)
{
	if (np->pid > 0) {
		kill(np->pid, SIGTERM);
		int64_t deadline = clock_mono_us() + BENCH_STOP_US;
		while (waitpid(np->pid, NULL, WNOHANG) == 0) {
			if (clock_mono_us() > deadline) {
				fprintf(stderr, "node did not stop: killing it\n");
				kill(np->pid, SIGKILL);
				waitpid(np->pid, NULL, 0);
				break;
			}
			usleep(20000);
		}
		np->pid = 0;
	}
	if (np->datadir[0]) {
		nftw(np->datadir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		np->datadir[0] = '\0';
	}
}

/* Start p2pd on a fresh data directory. Returns 0, or -1 (nothing left behind). */
static int node_start(struct node_proc *np, const char *p2pd, int threads)
{
	const char *tmp = getenv("TMPDIR");
	memset(np, 0, sizeof(*np));
	snprintf(np->datadir, sizeof(np->datadir), "%s/bench_ingest.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(np->datadir)) {
		perror("mkdtemp");
		np->datadir[0] = '\0';
		return -1;
	}
	if (free_ports(&np->port, &np->rpcport) != 0) {
		perror("cannot find free ports");
		node_stop(np);
		return -1;
	}
	/* execv takes char *const[]: every argument gets its own writable copy. */
	enum { NARGS = 11 };
	static char argbuf[NARGS][PATH_MAX + 32];
	char *args[NARGS + 1];
	snprintf(argbuf[0], sizeof(argbuf[0]), "%s", p2pd);
	snprintf(argbuf[1], sizeof(argbuf[1]), "-regtest");
	snprintf(argbuf[2], sizeof(argbuf[2]), "-datadir=%s", np->datadir);
	snprintf(argbuf[3], sizeof(argbuf[3]), "-port=%u", np->port);
	snprintf(argbuf[4], sizeof(argbuf[4]), "-bind=127.0.0.1");
	snprintf(argbuf[5], sizeof(argbuf[5]), "-rpcport=%u", np->rpcport);
	snprintf(argbuf[6], sizeof(argbuf[6]), "-printtoconsole=0");
	snprintf(argbuf[7], sizeof(argbuf[7]), "-verifythreads=%d", threads);
	snprintf(argbuf[8], sizeof(argbuf[8]), "-maxmsgsize=65536");
	snprintf(argbuf[9], sizeof(argbuf[9]), "-relaydelay=0");
	/* The flooder is a trusted bulk source: the per-peer rate limits (doc/scoring.md) would
	 * otherwise cap it at what an untrusted peer may send, which is not what this measures. */
	snprintf(argbuf[10], sizeof(argbuf[10]), "-whitelist=all@127.0.0.1");
	for (int i = 0; i < NARGS; i++)
		args[i] = argbuf[i];
	args[NARGS] = NULL;
	char out[PATH_MAX + 16];
	snprintf(out, sizeof(out), "%s/stdout.txt", np->datadir);
	/* Until the child has dropped our handlers, a SIGTERM from node_stop must wait: caught by
	 * our handler in the child, it would be lost and the node would run on. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	np->pid = fork();
	if (np->pid != 0)
		sigprocmask(SIG_SETMASK, &old, NULL);
	if (np->pid < 0) {
		perror("fork");
		np->pid = 0;
		node_stop(np);
		return -1;
	}
	if (np->pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execv(p2pd, args);
		_exit(127);
	}
	return 0;
}

/* Connect to 127.0.0.1:port until it accepts or BENCH_START_US passes (or the node exits).
 * Returns a non-blocking connected socket, or -1. */
static int node_connect(struct node_proc *np)
{
	int64_t deadline = clock_mono_us() + BENCH_START_US;
	while (!interrupted && clock_mono_us() < deadline) {
		int status;
		if (np->pid > 0 && waitpid(np->pid, &status, WNOHANG) == np->pid) {
			fprintf(stderr, "p2pd exited at start-up (status %d)\n", status);
			np->pid = 0;
			return -1;
		}
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(np->port)};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			return fd;
		}
		close(fd);
		usleep(50000);
	}
	fprintf(stderr,
		interrupted ? "interrupted\n" : "p2pd did not accept connections on port %u\n",
		np->port);
	return -1;
}

/* ---- a test peer over a non-blocking socket ---- */

struct iobuf {
	uint8_t *data;
	size_t head, len, cap, max; /* bytes [head, head + len) are pending */
};

struct conn {
	const char *name;
	int fd;
	bool relay;       /* version.relay: whether the node should announce to us */
	bool established; /* verack received */
	struct iobuf in, out;
};

static int iobuf_reserve(struct iobuf *b, size_t more)
{
	if (b->head > 0 && b->head + b->len + more > b->cap) {
		memmove(b->data, b->data + b->head, b->len);
		b->head = 0;
	}
	if (b->len + more > b->max)
		return -1;
	if (b->len + more <= b->cap)
		return 0;
	size_t ncap = b->cap ? b->cap : 65536;
	while (ncap < b->len + more)
		ncap *= 2;
	if (ncap > b->max)
		ncap = b->max;
	uint8_t *nd = realloc(b->data, ncap);
	if (!nd)
		return -1;
	b->data = nd;
	b->cap = ncap;
	return 0;
}

static int iobuf_append(struct iobuf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (iobuf_reserve(b, n) != 0)
		return -1;
	memcpy(b->data + b->head + b->len, p, n);
	b->len += n;
	return 0;
}

static void iobuf_consume(struct iobuf *b, size_t n)
{
	b->head += n;
	b->len -= n;
	if (b->len == 0)
		b->head = 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->in.data);
	free(c->out.data);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static const uint8_t *bench_magic(void)
{
	return netparams_get(NET_REGTEST)->magic;
}

/* Queue one frame. Returns 0, or -1 when the output bound is reached. */
static int conn_send(struct conn *c, const char *cmd, const uint8_t *payload, size_t len)
{
	uint8_t hdr[WIRE_HEADER_SIZE];
	frame_header_encode(hdr, bench_magic(), cmd, payload, len);
	if (iobuf_append(&c->out, hdr, sizeof(hdr)) != 0 || iobuf_append(&c->out, payload, len))
		return -1;
	return 0;
}

static int conn_send_version(struct conn *c, uint16_t port)
{
	struct msg_version v;
	struct bytebuf b;
	memset(&v, 0, sizeof(v));
	v.version = PROTOCOL_VERSION;
	v.timestamp = (int64_t)time(NULL);
	v.addr_recv.ip[10] = v.addr_recv.ip[11] = 0xff;
	v.addr_recv.ip[12] = 127;
	v.addr_recv.ip[15] = 1;
	v.addr_recv.port = port;
	v.nonce = random_u64();
	snprintf(v.user_agent, sizeof(v.user_agent), "/bench_ingest:%s/", CLIENT_VERSION_STRING);
	v.relay = c->relay;
	bytebuf_init(&b, 1024);
	wire_encode_version(&b, &v);
	int ret = bytebuf_ok(&b) ? conn_send(c, CMD_VERSION, b.data, b.len) : -1;
	bytebuf_free(&b);
	return ret;
}

/* Write what the socket takes. Returns 0, or -1 on a socket error. */
static int conn_flush(struct conn *c)
{
	while (c->out.len > 0) {
		ssize_t w = send(c->fd, c->out.data + c->out.head, c->out.len, MSG_NOSIGNAL);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "%s: send: %s\n", c->name, strerror(errno));
			return -1;
		}
		iobuf_consume(&c->out, (size_t)w);
	}
	return 0;
}

/* Read what the socket has. Returns 0, or -1 on error or when the node closed it. */
static int conn_fill(struct conn *c)
{
	for (;;) {
		if (iobuf_reserve(&c->in, 65536) != 0) {
			fprintf(stderr, "%s: input buffer full\n", c->name);
			return -1;
		}
		size_t room = c->in.cap - c->in.head - c->in.len;
		ssize_t r = recv(c->fd, c->in.data + c->in.head + c->in.len, room, 0);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "%s: the node closed the connection%s%s\n", c->name,
				r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
			return -1;
		}
		c->in.len += (size_t)r;
	}
}

/* Take the next complete frame: 1 (h, *payload set; consume 24 + h->length after use), 0 when
 * none is complete yet, -1 on a bad frame. */
static int conn_next_frame(struct conn *c, struct frame_header *h, const uint8_t **payload)
{
	if (c->in.len < WIRE_HEADER_SIZE)
		return 0;
	const uint8_t *p = c->in.data + c->in.head;
	enum frame_status st = frame_header_decode(h, p, bench_magic(), WIRE_MAX_PAYLOAD);
	if (st != FRAME_OK) {
		fprintf(stderr, "%s: bad frame: %s\n", c->name, frame_status_name(st));
		return -1;
	}
	if (c->in.len < WIRE_HEADER_SIZE + (size_t)h->length)
		return 0;
	*payload = p + WIRE_HEADER_SIZE;
	if (!frame_checksum_ok(h, *payload, h->length)) {
		fprintf(stderr, "%s: bad checksum on %s\n", c->name, h->command);
		return -1;
	}
	return 1;
}

/* ---- one timed run against one node ---- */

struct run {
	const struct corpus *c;
	struct conn flood, obs;
	uint8_t *announced; /* per message: announced to the node (0/1) */
	uint8_t *served;    /* per message: its body was sent (0/1) */
	uint8_t *seen;      /* per message: the node announced it to the observer (0/1) */
	size_t next;        /* messages [0, next) have been announced */
	size_t nserved, nseen;
	bool refill;  /* -refill: see refill() */
	bool verbose; /* -v: progress every second on stderr */
	int64_t next_report;
	size_t refill_pos; /* where refill() looks next for an id not yet requested */
	size_t refill_due; /* bodies served since the last refill */
	uint64_t getdata_frames, getdata_entries, reannounced, unknown_ids;
	int64_t t_first_inv, t_done, last_progress;
	int64_t t_last_seen; /* the observer's latest new id */
	const char *cli;     /* p2p-cli, to ask the node about ids the observer never saw */
	const struct node_proc *np;
	uint64_t stored_unannounced; /* ids the node stored but never announced to the observer */
	double peer_cpu_s; /* CPU time of the thread that ran run_loop (flooder and observer) */
};

/* CPU seconds of a node's threads by role (see node_cpu_read). */
struct node_cpu {
	double loop, verify, other;
};

struct run_result {
	int threads;
	double raw_per_s, ingest_per_s, seconds;
	double par_per_s;       /* raw verification on `threads` threads at once */
	double raw_parse_per_s; /* raw, parsing each author's key every time */
	double raw_before_per_s, raw_after_per_s; /* raw_per_s is their mean */
	struct node_cpu cpu;                      /* the node's CPU during the run */
	double peer_cpu_s;                        /* the flooder's and observer's */
	size_t seen;
	uint64_t getdata_frames, getdata_entries, reannounced, stored_unannounced;
	bool timed_out;
};

/* Announce ids[from, from + k) in one inv. */
static int send_inv(struct run *r, const size_t *idx, size_t k)
{
	struct inv_entry *e = malloc(k * sizeof(*e));
	struct bytebuf b;
	if (!e)
		return -1;
	for (size_t i = 0; i < k; i++) {
		e[i].type = INV_SIGNED_MSG;
		memcpy(e[i].hash, r->c->ids[idx[i]], 32);
	}
	bytebuf_init(&b, WIRE_MAX_PAYLOAD);
	wire_encode_inv(&b, e, k);
	int ret = bytebuf_ok(&b) ? conn_send(&r->flood, CMD_INV, b.data, b.len) : -1;
	bytebuf_free(&b);
	free(e);
	if (ret == 0 && r->t_first_inv == 0)
		r->t_first_inv = clock_mono_us();
	return ret;
}

/* Announce the next batches while the node tracks fewer than BENCH_WINDOW of our ids. */
static int announce_more(struct run *r)
{
	size_t idx[BENCH_INV_BATCH];
	while (r->next < r->c->n && r->next - r->nserved + BENCH_INV_BATCH <= BENCH_WINDOW) {
		size_t k = 0;
		while (k < BENCH_INV_BATCH && r->next < r->c->n) {
			r->announced[r->next] = 1;
			idx[k++] = r->next++;
		}
		if (send_inv(r, idx, k) != 0)
			return -1;
	}
	return 0;
}

/* The node dropped some ids (see BENCH_STALL_US): announce again each announced id it has not
 * announced to the observer, in batches. */
static int announce_again(struct run *r)
{
	size_t idx[BENCH_INV_BATCH];
	size_t k = 0;
	for (size_t i = 0; i < r->next; i++) {
		if (r->seen[i])
			continue;
		idx[k++] = i;
		r->reannounced++;
		if (k == BENCH_INV_BATCH) {
			if (send_inv(r, idx, k) != 0)
				return -1;
			k = 0;
		}
	}
	if (k > 0 && send_inv(r, idx, k) != 0)
		return -1;
	return 0;
}

/* Diagnostic mode (-refill), not the benchmark's figure: for each body served, announce again
 * one id the node tracks but has not requested yet. The node requests a tracked id when it is
 * announced (or on its one-second tick) and a request slot is free; a fresh announcement gives
 * it that chance as soon as an answer frees a slot, as a scheduler that refills its slots
 * itself would. This shows what the rest of the pipeline (decode, verify, store, relay) does. */
static int refill(struct run *r)
{
	size_t idx[BENCH_INV_BATCH];
	size_t k = 0;
	/* Round robin over the announced ids: a nudge that found every slot taken is repeated on a
	 * later pass. At most one pass per call. */
	for (size_t step = 0; step < r->next && k < r->refill_due && k < BENCH_INV_BATCH; step++) {
		size_t i = r->refill_pos;
		r->refill_pos = r->refill_pos + 1 < r->next ? r->refill_pos + 1 : 0;
		if (!r->served[i])
			idx[k++] = i;
	}
	r->refill_due = 0;
	return k > 0 ? send_inv(r, idx, k) : 0;
}

static int on_getdata(struct run *r, const uint8_t *payload, size_t len)
{
	struct inv_entry *e = NULL;
	size_t n = 0;
	if (wire_decode_inv(&e, &n, payload, len) != 0) {
		fprintf(stderr, "flooder: malformed getdata\n");
		return -1;
	}
	r->getdata_frames++;
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		long k = e[i].type == INV_SIGNED_MSG ? corpus_find(r->c, e[i].hash) : -1;
		if (k < 0) {
			r->unknown_ids++;
			continue;
		}
		r->getdata_entries++;
		size_t off = r->c->frame_off[k], end = r->c->frame_off[k + 1];
		ret = iobuf_append(&r->flood.out, r->c->frames.data + off, end - off);
		if (!r->served[k]) {
			r->served[k] = 1;
			r->nserved++;
			r->refill_due++;
		}
	}
	free(e);
	r->last_progress = clock_mono_us();
	if (ret != 0)
		fprintf(stderr, "flooder: output buffer full\n");
	return ret;
}

static int on_inv(struct run *r, const uint8_t *payload, size_t len)
{
	struct inv_entry *e = NULL;
	size_t n = 0;
	if (wire_decode_inv(&e, &n, payload, len) != 0) {
		fprintf(stderr, "observer: malformed inv\n");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		long k = e[i].type == INV_SIGNED_MSG ? corpus_find(r->c, e[i].hash) : -1;
		if (k >= 0 && !r->seen[k]) {
			r->seen[k] = 1;
			r->nseen++;
			r->last_progress = r->t_last_seen = clock_mono_us();
		}
	}
	free(e);
	if (r->nseen == r->c->n && r->t_done == 0)
		r->t_done = clock_mono_us();
	return 0;
}

/* Whether the node stores id: `p2p-cli getmessage` exits 0. 1 yes, 0 no, -1 cannot ask. */
static int node_has(const struct run *r, const uint8_t id[32])
{
	char hex[65], datadir[PATH_MAX + 16], rpcport[32];
	hex_encode(hex, id, 32);
	snprintf(datadir, sizeof(datadir), "-datadir=%s", r->np->datadir);
	snprintf(rpcport, sizeof(rpcport), "-rpcport=%u", r->np->rpcport);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) {
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execl(r->cli, r->cli, "-regtest", datadir, rpcport, "getmessage", hex,
		      (char *)NULL);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) > 1)
		return -1;
	return WEXITSTATUS(status) == 0;
}

/* Every body served and nothing moving: ask the node about the ids the observer has not seen
 * (a few at most). An id it stored was accepted; it was not announced to the observer because
 * the node's filter of what the observer knows answered "known" (a false positive, rate
 * KNOWN_FILTER_FP, about one run of N = 100,000 in ten or more). Such ids count as accepted at
 * the time of the observer's last new id. Returns how many it found. */
static size_t settle_unannounced(struct run *r)
{
	if (!r->cli || r->nserved < r->c->n || r->c->n - r->nseen > BENCH_SHOW_UNSEEN)
		return 0;
	size_t found = 0;
	for (size_t i = 0; i < r->c->n; i++) {
		if (r->seen[i] || node_has(r, r->c->ids[i]) != 1)
			continue;
		r->seen[i] = 1;
		r->nseen++;
		r->stored_unannounced++;
		found++;
	}
	if (found > 0 && r->nseen == r->c->n && r->t_done == 0)
		r->t_done = r->t_last_seen;
	return found;
}

/* Handle one frame from the node on connection c. Returns 0 or -1. */
static int handle_frame(struct run *r, struct conn *c, const struct frame_header *h,
			const uint8_t *payload)
{
	if (strcmp(h->command, CMD_VERSION) == 0) {
		if (conn_send(c, CMD_SENDADDRV2, NULL, 0) != 0 ||
		    conn_send(c, CMD_VERACK, NULL, 0) != 0)
			return -1;
	} else if (strcmp(h->command, CMD_VERACK) == 0) {
		c->established = true;
	} else if (strcmp(h->command, CMD_PING) == 0) {
		uint64_t nonce;
		struct bytebuf b;
		if (wire_decode_nonce(&nonce, payload, h->length) != 0)
			return -1;
		bytebuf_init(&b, 8);
		wire_encode_nonce(&b, nonce);
		int ret = conn_send(c, CMD_PONG, b.data, b.len);
		bytebuf_free(&b);
		return ret;
	} else if (strcmp(h->command, CMD_GETDATA) == 0 && c == &r->flood) {
		return on_getdata(r, payload, h->length);
	} else if (strcmp(h->command, CMD_INV) == 0 && c == &r->obs) {
		return on_inv(r, payload, h->length);
	}
	return 0; /* sendaddrv2, sendzlib, and what this peer does not need */
}

static int conn_process(struct run *r, struct conn *c)
{
	if (conn_fill(c) != 0)
		return -1;
	for (;;) {
		struct frame_header h;
		const uint8_t *payload = NULL;
		int got = conn_next_frame(c, &h, &payload);
		if (got <= 0)
			return got;
		if (handle_frame(r, c, &h, payload) != 0)
			return -1;
		iobuf_consume(&c->in, WIRE_HEADER_SIZE + (size_t)h.length);
	}
}

static int conn_open(struct conn *c, const char *name, bool relay, struct node_proc *np)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->relay = relay;
	c->in.max = WIRE_HEADER_SIZE + WIRE_MAX_PAYLOAD + 65536;
	c->out.max = BENCH_MAX_OUT;
	c->fd = node_connect(np);
	if (c->fd < 0)
		return -1;
	return conn_send_version(c, np->port);
}

/* Drive both connections until the observer has seen every id, an error, or the deadline. */
static double thread_cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int run_loop_timed(struct run *r, int64_t deadline);

static int run_loop(struct run *r, int64_t deadline)
{
	double t0 = thread_cpu_s();
	int ret = run_loop_timed(r, deadline);
	r->peer_cpu_s = thread_cpu_s() - t0;
	return ret;
}

static int run_loop_timed(struct run *r, int64_t deadline)
{
	while (r->t_done == 0) {
		int64_t now = clock_mono_us();
		if (interrupted) {
			fprintf(stderr, "interrupted\n");
			return -1;
		}
		if (now > deadline)
			return 1;
		if (r->flood.established && r->obs.established) {
			if (r->t_first_inv == 0)
				r->last_progress = now;
			if (announce_more(r) != 0 || (r->refill && refill(r) != 0))
				return -1;
			if (now - r->last_progress > BENCH_STALL_US) {
				if (settle_unannounced(r) > 0 && r->t_done != 0)
					break;
				if (announce_again(r) != 0)
					return -1;
				r->last_progress = now;
			}
		}
		if (r->verbose && now >= r->next_report) {
			r->next_report = now + 1000000;
			fprintf(stderr, "  t=%.1fs announced=%zu served=%zu accepted=%zu\n",
				r->t_first_inv ? (double)(now - r->t_first_inv) / 1e6 : 0.0,
				r->next, r->nserved, r->nseen);
		}
		struct conn *cs[2] = {&r->flood, &r->obs};
		struct pollfd pfd[2];
		for (int i = 0; i < 2; i++) {
			if (conn_flush(cs[i]) != 0)
				return -1;
			pfd[i].fd = cs[i]->fd;
			pfd[i].events = POLLIN | (cs[i]->out.len > 0 ? POLLOUT : 0);
			pfd[i].revents = 0;
		}
		if (poll(pfd, 2, BENCH_POLL_MS) < 0 && errno != EINTR) {
			perror("poll");
			return -1;
		}
		for (int i = 0; i < 2; i++)
			if ((pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) &&
			    conn_process(r, cs[i]) != 0)
				return -1;
	}
	return 0;
}

/* -peer-nice: the flooder and observer run on a thread of their own at this nice level. On a
 * 2-core machine the flooding peer otherwise takes the node's cores at the same priority as
 * the node's own threads, though a real peer brings its own machine. Nice is per thread on
 * Linux, so the main thread (which starts each node) stays at its level and every node starts
 * with the benchmark's own priority. */
struct peer_thread {
	struct run *r;
	int64_t deadline_us;
	int nice;
	int ret;
};

static void *peer_thread_main(void *arg)
{
	struct peer_thread *pt = arg;
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), pt->nice) != 0)
		fprintf(stderr, "warning: cannot set the peers' nice level to %d: %s\n", pt->nice,
			strerror(errno));
	pt->ret = run_loop(pt->r, pt->deadline_us);
	return NULL;
}

static int run_loop_at(struct run *r, int64_t deadline_us, int nice)
{
	if (nice == 0)
		return run_loop(r, deadline_us);
	struct peer_thread pt = {.r = r, .deadline_us = deadline_us, .nice = nice, .ret = -1};
	pthread_t t;
	if (pthread_create(&t, NULL, peer_thread_main, &pt) != 0) {
		fprintf(stderr, "cannot start the peers' thread\n");
		return -1;
	}
	pthread_join(t, NULL);
	return pt.ret;
}

/* The CPU time (user + system) of each of the node's threads, summed by role: the event loop
 * (the thread whose id is the process id), the verification workers (named
 * VERIFY_THREAD_NAME) and the rest (LevelDB's compaction thread). From
 * /proc/<pid>/task/<tid>/stat, fields 14 and 15, in clock ticks. Returns 0 or -1. */
static int node_cpu_read(pid_t pid, struct node_cpu *out)
{
	char path[PATH_MAX];
	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char stat[512];
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue; /* the thread ended meanwhile */
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = '\0';
		/* "tid (comm) state f4 ... f13 utime stime ...": comm may hold spaces and ')'. */
		char *open = strchr(stat, '(');
		char *close = strrchr(stat, ')');
		unsigned long long ut, st;
		if (!open || !close || close < open ||
		    sscanf(close + 1, " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %llu", &ut,
			   &st) != 2)
			continue;
		double secs = (double)(ut + st) / (double)hz;
		*close = '\0';
		if (atoi(e->d_name) == (int)pid)
			out->loop += secs;
		else if (strcmp(open + 1, VERIFY_THREAD_NAME) == 0)
			out->verify += secs;
		else
			out->other += secs;
	}
	closedir(d);
	return 0;
}

/* Start a node with threads verification threads, flood it, stop it. Returns 0 (res filled;
 * res->timed_out when the deadline passed) or -1 on an error. */
static int run_node(const struct corpus *c, const char *p2pd, int threads, int64_t timeout_s,
		    bool refill, bool verbose, int peer_nice, int hold_s, struct run_result *res)
{
	struct node_proc np;
	struct run r;
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.np = &np;
	/* p2p-cli next to p2pd (both in src/ of a build directory). */
	char cli[PATH_MAX];
	const char *slash = strrchr(p2pd, '/');
	snprintf(cli, sizeof(cli), "%.*sp2p-cli", slash ? (int)(slash - p2pd + 1) : 0, p2pd);
	r.cli = access(cli, X_OK) == 0 ? cli : NULL;
	r.refill = refill;
	r.verbose = verbose;
	r.flood.fd = r.obs.fd = -1;
	r.announced = calloc(c->n, 1);
	r.served = calloc(c->n, 1);
	r.seen = calloc(c->n, 1);
	int ret = r.announced && r.served && r.seen ? 0 : -1;
	if (ret == 0)
		ret = node_start(&np, p2pd, threads);
	else
		memset(&np, 0, sizeof(np));
	if (ret == 0)
		ret = conn_open(&r.flood, "flooder", false, &np);
	if (ret == 0)
		ret = conn_open(&r.obs, "observer", true, &np);
	struct node_cpu cpu0 = {0}, cpu1 = {0};
	if (ret == 0)
		node_cpu_read(np.pid, &cpu0);
	if (ret == 0)
		ret = run_loop_at(&r, clock_mono_us() + timeout_s * 1000000, peer_nice);
	if (ret == 0)
		node_cpu_read(np.pid, &cpu1);
	res->cpu.loop = cpu1.loop - cpu0.loop;
	res->cpu.verify = cpu1.verify - cpu0.verify;
	res->cpu.other = cpu1.other - cpu0.other;
	res->peer_cpu_s = r.peer_cpu_s;
	res->threads = threads;
	res->timed_out = ret == 1;
	res->seen = r.nseen;
	res->getdata_frames = r.getdata_frames;
	res->getdata_entries = r.getdata_entries;
	res->reannounced = r.reannounced;
	res->stored_unannounced = r.stored_unannounced;
	int64_t end = r.t_done ? r.t_done : clock_mono_us();
	res->seconds = r.t_first_inv ? (double)(end - r.t_first_inv) / 1e6 : 0;
	res->ingest_per_s = res->seconds > 0 ? (double)r.nseen / res->seconds : 0;
	if (ret != 0)
		node_print_log(&np);
	if (ret == 1) {
		/* Which ids the observer never saw, and what the node can still be asked. */
		size_t shown = 0;
		for (size_t i = 0; i < c->n && shown < BENCH_SHOW_UNSEEN; i++) {
			if (r.seen[i])
				continue;
			char hex[65];
			hex_encode(hex, c->ids[i], 32);
			fprintf(stderr, "not announced to the observer: %s (served %d)\n", hex,
				r.served[i]);
			shown++;
		}
		if (hold_s > 0 && np.pid > 0) {
			fprintf(stderr,
				"holding the node for %d s: p2p-cli -regtest -datadir=%s "
				"-rpcport=%u ...\n",
				hold_s, np.datadir, np.rpcport);
			sleep((unsigned)hold_s);
		}
	}
	conn_close(&r.flood);
	conn_close(&r.obs);
	node_stop(&np);
	free(r.announced);
	free(r.served);
	free(r.seen);
	return ret < 0 ? -1 : 0;
}

/* ---- main ---- */

struct options {
	size_t n;
	int threads[BENCH_MAX_RUNS];
	int nruns;
	int64_t timeout_s;
	bool refill, verbose;
	int peer_nice;
	int hold_s;
	char p2pd[PATH_MAX];
};

static int parse_threads(struct options *o, const char *s)
{
	o->nruns = 0;
	while (*s && o->nruns < BENCH_MAX_RUNS) {
		char *end;
		long t = strtol(s, &end, 10);
		if (end == s || t < 0 || t > 16 || (*end && *end != ','))
			return -1;
		o->threads[o->nruns++] = (int)t;
		s = *end ? end + 1 : end;
	}
	return o->nruns > 0 && !*s ? 0 : -1;
}

static int parse_options(struct options *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->n = BENCH_DEFAULT_N;
	o->threads[0] = 1;
	o->threads[1] = 2;
	o->nruns = 2;
	o->timeout_s = BENCH_DEFAULT_TIMEOUT_S;
	const char *slash = strrchr(argv[0], '/');
	int dirlen = slash ? (int)(slash - argv[0]) : 1;
	snprintf(o->p2pd, sizeof(o->p2pd), "%.*s/../../src/p2pd", dirlen, slash ? argv[0] : ".");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "-n=", 3) == 0) {
			long long n = strtoll(a + 3, NULL, 10);
			if (n <= 0 || n > BENCH_MAX_N)
				return -1;
			o->n = (size_t)n;
		} else if (strncmp(a, "-threads=", 9) == 0) {
			if (parse_threads(o, a + 9) != 0)
				return -1;
		} else if (strncmp(a, "-timeout=", 9) == 0) {
			o->timeout_s = strtoll(a + 9, NULL, 10);
			if (o->timeout_s <= 0)
				return -1;
		} else if (strcmp(a, "-v") == 0) {
			o->verbose = true;
		} else if (strcmp(a, "-refill") == 0) {
			o->refill = true;
		} else if (strncmp(a, "-peer-nice=", 11) == 0) {
			long v = strtol(a + 11, NULL, 10);
			if (v < 0 || v > 19)
				return -1;
			o->peer_nice = (int)v;
		} else if (strncmp(a, "-hold=", 6) == 0) {
			long v = strtol(a + 6, NULL, 10);
			if (v < 0 || v > 3600)
				return -1;
			o->hold_s = (int)v;
		} else if (strncmp(a, "-p2pd=", 6) == 0) {
			snprintf(o->p2pd, sizeof(o->p2pd), "%s", a + 6);
		} else {
			return -1;
		}
	}
	return 0;
}

/* CPU microseconds per accepted message. */
static double per_msg_us(double cpu_s, const struct run_result *r)
{
	return r->seen > 0 ? cpu_s * 1e6 / (double)r->seen : 0;
}

/* The ratio two cores could reach if they did nothing but this run's CPU work per message (the
 * node's threads and the peer): 2 s of CPU per second over the CPU per message, against raw
 * verification. What the machine allows, whatever the scheduling. */
static double two_core_bound(const struct run_result *r)
{
	double total = r->cpu.loop + r->cpu.verify + r->cpu.other + r->peer_cpu_s;
	if (total <= 0 || r->raw_per_s <= 0 || r->seen == 0)
		return 0;
	return 2.0 * (double)r->seen / total / r->raw_per_s;
}

static void print_results(const struct options *o, const struct run_result *rs, int nr)
{
	printf("\n%-8s %8s %9s %12s %12s %7s %9s %11s %s\n", "threads", "accepted", "seconds",
	       "ingest/s", "raw verify/s", "ratio", "target", "getdata", "reannounced");
	for (int i = 0; i < nr; i++) {
		const struct run_result *r = &rs[i];
		double ratio = r->raw_per_s > 0 ? r->ingest_per_s / r->raw_per_s : 0;
		printf("%-8d %8zu %9.2f %12.0f %12.0f %7.3f %9s %5llu/%-5llu %llu%s\n", r->threads,
		       r->seen, r->seconds, r->ingest_per_s, r->raw_per_s, ratio,
		       r->threads <= 1 ? ">= 0.8" : "> 1.5", (unsigned long long)r->getdata_frames,
		       (unsigned long long)r->getdata_entries, (unsigned long long)r->reannounced,
		       r->timed_out ? "  TIMED OUT" : "");
		if (r->stored_unannounced > 0)
			printf("         %llu stored but never announced to the observer: "
			       "counted as accepted (doc/benchmarks.md, Ingest)\n",
			       (unsigned long long)r->stored_unannounced);
	}
	printf("\nCPU per accepted message (us; user + system):\n%-8s %8s %8s %8s %8s %8s %8s "
	       "%12s\n",
	       "threads", "loop", "verify", "other", "peer", "total", "raw", "2-core bound");
	for (int i = 0; i < nr; i++) {
		const struct run_result *r = &rs[i];
		double total = r->cpu.loop + r->cpu.verify + r->cpu.other + r->peer_cpu_s;
		printf("%-8d %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %12.3f\n", r->threads,
		       per_msg_us(r->cpu.loop, r), per_msg_us(r->cpu.verify, r),
		       per_msg_us(r->cpu.other, r), per_msg_us(r->peer_cpu_s, r),
		       per_msg_us(total, r), r->raw_per_s > 0 ? 1e6 / r->raw_per_s : 0,
		       two_core_bound(r));
	}
	printf("{\"bench\":\"ingest\",\"messages\":%zu,\"timeout_s\":%lld,\"refill\":%s,"
	       "\"peer_nice\":%d,\"runs\":[",
	       o->n, (long long)o->timeout_s, o->refill ? "true" : "false", o->peer_nice);
	for (int i = 0; i < nr; i++) {
		const struct run_result *r = &rs[i];
		printf("%s{\"verifythreads\":%d,\"accepted\":%zu,\"seconds\":%.3f,"
		       "\"ingest_per_s\":%.0f,\"raw_verify_per_s\":%.0f,\"ratio\":%.4f,"
		       "\"getdata_frames\":%llu,\"getdata_entries\":%llu,\"reannounced\":%llu,"
		       "\"cpu_us_per_msg\":{\"loop\":%.1f,\"verify\":%.1f,\"other\":%.1f,"
		       "\"peer\":%.1f},\"two_core_bound\":%.3f,\"raw_parallel_per_s\":%.0f,"
		       "\"raw_parse_verify_per_s\":%.0f,\"raw_before_per_s\":%.0f,"
		       "\"raw_after_per_s\":%.0f,\"stored_unannounced\":%llu,\"timed_out\":%s}",
		       i ? "," : "", r->threads, r->seen, r->seconds, r->ingest_per_s, r->raw_per_s,
		       r->raw_per_s > 0 ? r->ingest_per_s / r->raw_per_s : 0,
		       (unsigned long long)r->getdata_frames,
		       (unsigned long long)r->getdata_entries, (unsigned long long)r->reannounced,
		       per_msg_us(r->cpu.loop, r), per_msg_us(r->cpu.verify, r),
		       per_msg_us(r->cpu.other, r), per_msg_us(r->peer_cpu_s, r), two_core_bound(r),
		       r->par_per_s, r->raw_parse_per_s, r->raw_before_per_s, r->raw_after_per_s,
		       (unsigned long long)r->stored_unannounced, r->timed_out ? "true" : "false");
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	struct options o;
	struct corpus c;
	struct run_result rs[BENCH_MAX_RUNS];

	if (parse_options(&o, argc, argv) != 0) {
		fprintf(stderr,
			"usage: %s [-n=N] [-threads=T[,T...]] [-timeout=SECS] [-refill] "
			"[-peer-nice=0..19] [-hold=SECS] [-v] [-p2pd=PATH]\n",
			argv[0]);
		return 2;
	}
	if (access(o.p2pd, X_OK) != 0) {
		fprintf(stderr, "no p2pd at %s (build it, or pass -p2pd=PATH)\n", o.p2pd);
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (random_init() != 0 || keys_init() != 0) {
		fprintf(stderr, "cannot initialise randomness or secp256k1\n");
		return 1;
	}
	int64_t t0 = clock_mono_us();
	if (corpus_make(&c, o.n, bench_magic()) != 0) {
		fprintf(stderr, "cannot sign %zu messages\n", o.n);
		return 1;
	}
	printf("signed %zu messages (%zu bytes of msg frames) in %.2f s\n", c.n, c.frames.len,
	       (double)(clock_mono_us() - t0) / 1e6);
	int status = 0, nr = 0;
	for (int i = 0; i < o.nruns && status != 1 && !interrupted; i++) {
		double raw = raw_verify_rate(&c, false);
		double raw_parse = raw_verify_rate(&c, true);
		if (raw < 0 || raw_parse < 0) {
			fprintf(stderr, "a pre-signed message does not verify\n");
			status = 1;
			break;
		}
		if (o.threads[i] > 1) {
			double par = parallel_verify_rate(&c, o.threads[i]);
			printf("raw verify on %d threads at once: %.0f/s (%.2f x one thread)\n",
			       o.threads[i], par, raw > 0 ? par / raw : 0);
			rs[nr].par_per_s = par;
		} else {
			rs[nr].par_per_s = raw;
		}
		printf("raw verify: %.0f/s (%.0f/s parsing each key); p2pd -verifythreads=%d ...\n",
		       raw, raw_parse, o.threads[i]);
		rs[nr].raw_parse_per_s = raw_parse;
		fflush(stdout);
		if (run_node(&c, o.p2pd, o.threads[i], o.timeout_s, o.refill, o.verbose,
			     o.peer_nice, o.hold_s, &rs[nr]) != 0) {
			status = 1;
			break;
		}
		/* This machine's speed drifts within minutes: measured again after the run, the
		 * ratio uses the mean of both. */
		double raw_after = raw_verify_rate(&c, false);
		rs[nr].raw_before_per_s = raw;
		rs[nr].raw_after_per_s = raw_after;
		rs[nr].raw_per_s = raw_after > 0 ? (raw + raw_after) / 2 : raw;
		printf("raw verify after the run: %.0f/s\n", raw_after);
		if (rs[nr].timed_out) {
			fprintf(stderr, "timed out after %lld s: %zu of %zu accepted\n",
				(long long)o.timeout_s, rs[nr].seen, c.n);
			status = 3;
		}
		nr++;
	}
	if (nr > 0)
		print_results(&o, rs, nr);
	corpus_free(&c);
	keys_shutdown();
	return status;
}
