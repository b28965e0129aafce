/* Benchmark of the wire layer: frame header encode + checksum and decode + checksum check for
 * payloads of 0 B to 256 KiB, and version encode and decode. A standalone program (not a test):
 * it prints a table and one JSON line for doc/benchmarks.md.
 *
 * Usage: bench_frame [min_ms]   (time spent on each case, default BENCH_DEFAULT_MS) */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/clock.h"
#include "wire/frame.h"
#include "wire/messages.h"

/* Long enough per case for a stable rate on a busy 2-core machine, short enough that the whole
 * run takes under 10 seconds. */
#define BENCH_DEFAULT_MS 500
/* Iterations between clock reads while calibrating: reading the clock must not dominate. */
#define BENCH_FIRST_BATCH 16
/* Largest payload benchmarked: a 256 KiB signed message body, the largest message we relay. */
#define BENCH_MAX_PAYLOAD (256u * 1024u)
/* Bound for the version encode buffer: far above a version with the longest user agent. */
#define BENCH_ENCODE_MAX 1024

static const uint8_t bench_magic[4] = {0xfb, 0xc4, 0xe9, 0xa7};

/* Results feed this so the compiler cannot drop the work. */
static volatile uint64_t sink;

enum bench_op {
	OP_FRAME_ENCODE,
	OP_FRAME_DECODE,
	OP_VERSION_ENCODE,
	OP_VERSION_DECODE,
};

struct bench_ctx {
	const uint8_t *payload;
	size_t len;
	uint8_t header[WIRE_HEADER_SIZE];
	struct msg_version version;
	struct bytebuf buf;
};

struct bench_result {
	const char *name;
	size_t bytes; /* payload bytes per operation */
	uint64_t iters;
	double ns_per_op;
};

static void run_once(struct bench_ctx *c, enum bench_op op)
{
	switch (op) {
	case OP_FRAME_ENCODE:
		frame_header_encode(c->header, bench_magic, "msg", c->payload, c->len);
		sink += c->header[20];
		break;
	case OP_FRAME_DECODE: {
		struct frame_header h;
		enum frame_status st =
			frame_header_decode(&h, c->header, bench_magic, WIRE_MAX_PAYLOAD);
		sink += (uint64_t)st + frame_checksum_ok(&h, c->payload, c->len);
		break;
	}
	case OP_VERSION_ENCODE:
		bytebuf_reset(&c->buf);
		wire_encode_version(&c->buf, &c->version);
		sink += c->buf.len;
		break;
	case OP_VERSION_DECODE: {
		struct msg_version v;
		sink += (uint64_t)wire_decode_version(&v, c->buf.data, c->buf.len) + v.nonce;
		break;
	}
	}
}

/* Run op in growing batches until one batch takes at least min_us; report that batch. */
static void measure(struct bench_ctx *c, enum bench_op op, int64_t min_us, struct bench_result *r)
{
	uint64_t n = BENCH_FIRST_BATCH;
	for (;;) {
		int64_t t0 = clock_mono_us();
		for (uint64_t i = 0; i < n; i++)
			run_once(c, op);
		int64_t dt = clock_mono_us() - t0;
		if (dt >= min_us) {
			r->iters = n;
			r->ns_per_op = (double)dt * 1000.0 / (double)n;
			return;
		}
		n *= 2;
	}
}

/* Whether the header in c decodes and matches c's payload. */
static bool decodes_ok(const struct bench_ctx *c)
{
	struct frame_header h;
	return frame_header_decode(&h, c->header, bench_magic, WIRE_MAX_PAYLOAD) == FRAME_OK &&
	       frame_checksum_ok(&h, c->payload, c->len);
}

static void sample_version(struct msg_version *v)
{
	memset(v, 0, sizeof(*v));
	v->version = PROTOCOL_VERSION;
	v->services = NODE_MSGSTORE;
	v->timestamp = 1700000000;
	v->addr_recv.ip[10] = v->addr_recv.ip[11] = 0xff;
	v->addr_recv.ip[12] = 127;
	v->addr_recv.ip[15] = 1;
	v->addr_recv.port = 29733;
	v->nonce = UINT64_C(0x0102030405060708);
	snprintf(v->user_agent, sizeof(v->user_agent), "%s", CLIENT_SUBVERSION);
	v->relay = true;
}

static void print_row(const struct bench_result *r)
{
	double ops = 1e9 / r->ns_per_op;
	double mibs = (double)r->bytes * ops / (1024.0 * 1024.0);
	printf("%-24s %8zu %12.0f %14.1f %10.1f\n", r->name, r->bytes, ops, r->ns_per_op, mibs);
}

static void print_json(const struct bench_result *rs, size_t n, int64_t min_ms)
{
	printf("{\"bench\":\"frame\",\"min_ms\":%lld,\"results\":[", (long long)min_ms);
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"name\":\"%s\",\"bytes\":%zu,\"iters\":%llu,\"ns_per_op\":%.1f,"
		       "\"ops_per_s\":%.0f}",
		       i ? "," : "", rs[i].name, rs[i].bytes, (unsigned long long)rs[i].iters,
		       rs[i].ns_per_op, 1e9 / rs[i].ns_per_op);
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {0, 256, 1024, 16 * 1024, BENCH_MAX_PAYLOAD};
	static const char *const encode_names[] = {"frame_encode_0", "frame_encode_256",
						   "frame_encode_1k", "frame_encode_16k",
						   "frame_encode_256k"};
	static const char *const decode_names[] = {"frame_decode_0", "frame_decode_256",
						   "frame_decode_1k", "frame_decode_16k",
						   "frame_decode_256k"};
	enum { NSIZES = sizeof(sizes) / sizeof(sizes[0]) };
	struct bench_result rs[2 * NSIZES + 2];
	size_t nr = 0;
	int64_t min_ms = BENCH_DEFAULT_MS;

	if (argc > 1) {
		min_ms = strtoll(argv[1], NULL, 10);
		if (min_ms <= 0) {
			fprintf(stderr, "usage: %s [min_ms]\n", argv[0]);
			return 2;
		}
	}
	uint8_t *payload = malloc(BENCH_MAX_PAYLOAD);
	if (!payload) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < BENCH_MAX_PAYLOAD; i++)
		payload[i] = (uint8_t)(i * 131 + 17);

	struct bench_ctx c = {.payload = payload};
	bytebuf_init(&c.buf, BENCH_ENCODE_MAX);
	sample_version(&c.version);

	printf("%-24s %8s %12s %14s %10s\n", "case", "bytes", "ops/s", "ns/op", "MiB/s");
	for (size_t i = 0; i < NSIZES; i++) {
		c.len = sizes[i];
		rs[nr] = (struct bench_result){.name = encode_names[i], .bytes = sizes[i]};
		measure(&c, OP_FRAME_ENCODE, min_ms * 1000, &rs[nr]);
		print_row(&rs[nr++]);
		/* The header being decoded is the one just encoded for this payload; make sure the
		 * path measured is the accepting one. */
		if (!decodes_ok(&c)) {
			fprintf(stderr, "frame for %zu bytes does not decode\n", sizes[i]);
			return 1;
		}
		rs[nr] = (struct bench_result){.name = decode_names[i], .bytes = sizes[i]};
		measure(&c, OP_FRAME_DECODE, min_ms * 1000, &rs[nr]);
		print_row(&rs[nr++]);
	}
	rs[nr] = (struct bench_result){.name = "version_encode"};
	measure(&c, OP_VERSION_ENCODE, min_ms * 1000, &rs[nr]);
	rs[nr].bytes = c.buf.len;
	print_row(&rs[nr++]);
	struct msg_version check;
	if (wire_decode_version(&check, c.buf.data, c.buf.len) != 0) {
		fprintf(stderr, "version does not decode\n");
		return 1;
	}
	rs[nr] = (struct bench_result){.name = "version_decode", .bytes = c.buf.len};
	measure(&c, OP_VERSION_DECODE, min_ms * 1000, &rs[nr]);
	print_row(&rs[nr++]);

	print_json(rs, nr, min_ms);
	bytebuf_free(&c.buf);
	free(payload);
	return 0;
}
