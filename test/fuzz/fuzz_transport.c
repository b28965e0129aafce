/* Fuzz the plain transport's frame reader (transport_v1 over a libevent buffer), the code that
 * cuts a peer's byte stream into frames. The input is a small script that builds the stream, so
 * that short inputs can make frames of up to FUZZ_MAX_FRAME bytes (past the size where the
 * reader starts hashing a payload while it arrives): after one byte that seeds how the stream is
 * split into reads, each step is an opcode byte then its operands:
 *   0 n bytes[n]          raw bytes
 *   1 cmd len[3] fill     a well-formed frame: command number cmd, len payload bytes (fill)
 *   2 cmd len[3] fill     the same with a wrong checksum
 *   3 len[4]              a header of a valid command announcing len bytes (maybe too many)
 *
 * Whatever the stream, nothing may crash, leak or read out of bounds, and the reader must agree
 * with a reference reading of the same bytes done with frame_header_decode and
 * frame_checksum_ok: the same frames (command, payload, checksum verdict, wire length), then the
 * same end (waiting for more bytes, with the size of the next frame once its header is in, or
 * an error for the same reason). It must agree whether the stream arrives in one read or in many
 * reads of any sizes. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "net/transport.h"
#include "wire/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Largest payload a script frame gets: a few times the reader's 64 KiB hashing step, far
 * below WIRE_MAX_PAYLOAD so an input stays fast. */
#define FUZZ_MAX_FRAME (160u * 1024)
/* Largest stream built; the script stops growing it there. */
#define FUZZ_MAX_STREAM (320u * 1024)
/* Most reads the stream is split into (bounds the time of byte-by-byte splits). */
#define FUZZ_MAX_READS 1024

static const uint8_t fuzz_magic[4] = {0xfb, 0xc4, 0xe9, 0xa7};
static const char *const commands[] = {"version", "verack",  "ping", "pong",   "msg",
				       "inv",     "getdata", "zlib", "addrv2", "x"};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

struct stream {
	uint8_t *p;
	size_t len, cap;
};

static bool reserve(struct stream *s, size_t n)
{
	if (s->len + n > FUZZ_MAX_STREAM)
		return false;
	if (s->p == NULL || s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 1024;
		while (cap < s->len + n)
			cap *= 2;
		uint8_t *np = realloc(s->p, cap);
		assert(np != NULL);
		s->p = np;
		s->cap = cap;
	}
	return true;
}

/* Build the stream from the script. */
static void build(struct stream *s, const uint8_t *in, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t op = in[i++] % 4;
		if (op == 0) {
			size_t k = i < n ? in[i++] : 0;
			k = k <= n - i ? k : n - i;
			if (!reserve(s, k))
				return;
			memcpy(s->p + s->len, in + i, k);
			s->len += k;
			i += k;
		} else if (op == 1 || op == 2) {
			if (n - i < 5)
				return;
			const char *cmd = commands[in[i] % NCOMMANDS];
			size_t len = ((size_t)in[i + 1] | (size_t)in[i + 2] << 8 |
				      (size_t)in[i + 3] << 16) %
				     (FUZZ_MAX_FRAME + 1);
			uint8_t fill = in[i + 4];
			i += 5;
			if (!reserve(s, WIRE_HEADER_SIZE + len))
				return;
			uint8_t *payload = s->p + s->len + WIRE_HEADER_SIZE;
			memset(payload, fill, len);
			memcpy(payload, &s->len, len < sizeof(s->len) ? len : sizeof(s->len));
			frame_header_encode(s->p + s->len, fuzz_magic, cmd, payload, len);
			if (op == 2)
				s->p[s->len + 20] ^= 1;
			s->len += WIRE_HEADER_SIZE + len;
		} else {
			if (n - i < 4 || !reserve(s, WIRE_HEADER_SIZE))
				return;
			uint8_t raw[WIRE_HEADER_SIZE];
			frame_header_encode(raw, fuzz_magic, "msg", NULL, 0);
			memcpy(raw + 16, in + i, 4);
			i += 4;
			memcpy(s->p + s->len, raw, sizeof(raw));
			s->len += sizeof(raw);
		}
	}
}

/* What reading a stream gives: frames in order, then how it ended. */
struct outcome {
	size_t nframes;
	uint64_t digest;  /* of every frame's command, payload, checksum verdict and length */
	size_t consumed;  /* stream bytes taken by the frames */
	bool error;       /* ended with TRANSPORT_ERROR (else waiting for more) */
	int why;          /* its reason */
	size_t next_wire; /* waiting: wire length of the next frame, 0 when unknown */
};

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t frame_digest(uint64_t h, const char *cmd, const uint8_t *payload, size_t len,
			     bool checksum_ok, size_t wire_len)
{
	uint8_t sum[4];
	/* The payload through its SHA-256d checksum: hashing it byte by byte here would cost
	 * more than the reader under test. */
	frame_checksum(sum, payload, len);
	h = mix(h, cmd, strlen(cmd) + 1);
	h = mix(h, &len, sizeof(len));
	h = mix(h, sum, sizeof(sum));
	h = mix(h, &checksum_ok, sizeof(checksum_ok));
	return mix(h, &wire_len, sizeof(wire_len));
}

/* The reference: the stream read with the wire-layer functions alone. */
static void reference(const struct stream *s, struct outcome *o)
{
	size_t at = 0;
	memset(o, 0, sizeof(*o));
	o->digest = 0xcbf29ce484222325ull;
	for (;;) {
		struct frame_header h;
		if (s->len - at < WIRE_HEADER_SIZE)
			break;
		enum frame_status st =
			frame_header_decode(&h, s->p + at, fuzz_magic, WIRE_MAX_PAYLOAD);
		if (st != FRAME_OK) {
			o->error = true;
			o->why = (int)st;
			break;
		}
		size_t wire = WIRE_HEADER_SIZE + (size_t)h.length;
		if (s->len - at < wire) {
			o->next_wire = wire;
			break;
		}
		const uint8_t *payload = s->p + at + WIRE_HEADER_SIZE;
		o->digest = frame_digest(o->digest, h.command, payload, h.length,
					 frame_checksum_ok(&h, payload, h.length), wire);
		o->nframes++;
		at += wire;
	}
	o->consumed = at;
}

/* Take every frame the buffer holds; returns false once the transport reported an error. */
static bool drain(struct transport *t, struct evbuffer *buf, struct outcome *o)
{
	for (;;) {
		struct net_frame f;
		enum frame_status why = FRAME_OK;
		enum transport_read r = t->ops->read_frame(t, buf, &f, &why);
		if (r == TRANSPORT_ERROR) {
			o->error = true;
			o->why = (int)why;
			assert(why != FRAME_OK);
			return false;
		}
		if (r == TRANSPORT_NEED_MORE) {
			o->next_wire = f.wire_len;
			assert(f.payload == NULL);
			return true;
		}
		assert(frame_command_valid(f.command));
		assert(f.wire_len == WIRE_HEADER_SIZE + f.len &&
		       (f.len == 0) == (f.payload == NULL));
		o->digest = frame_digest(o->digest, f.command, f.payload, f.len, f.checksum_ok,
					 f.wire_len);
		o->nframes++;
		o->consumed += f.wire_len;
		o->next_wire = 0;
		net_frame_clear(&f);
	}
}

/* Feed the stream in reads of sizes drawn from seed (all at once when seed is 0). */
static void run(const struct stream *s, uint8_t seed, struct outcome *o)
{
	struct transport *t = transport_v1_new(fuzz_magic);
	struct evbuffer *buf = evbuffer_new();
	assert(t != NULL && buf != NULL);
	memset(o, 0, sizeof(*o));
	o->digest = 0xcbf29ce484222325ull;
	/* Reads of 1 to max_read bytes; max_read from 1 byte to the whole stream. */
	size_t max_read = seed == 0 ? s->len : (size_t)1 << (seed % 19);
	if (max_read < s->len / FUZZ_MAX_READS + 1)
		max_read = s->len / FUZZ_MAX_READS + 1;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t at = 0;
	bool ok = true;
	while (ok && at < s->len) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		size_t n = seed == 0 ? s->len : 1 + (size_t)(x % max_read);
		if (n > s->len - at)
			n = s->len - at;
		assert(evbuffer_add(buf, s->p + at, n) == 0);
		at += n;
		ok = drain(t, buf, o);
	}
	if (ok && s->len == 0)
		drain(t, buf, o);
	if (!o->error)
		assert(evbuffer_get_length(buf) == s->len - o->consumed);
	evbuffer_free(buf);
	transport_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream s = {0};
	struct outcome ref, once, split;
	if (size == 0)
		return 0;
	build(&s, data + 1, size - 1);
	reference(&s, &ref);
	run(&s, 0, &once);
	run(&s, data[0], &split);
	assert(once.nframes == ref.nframes && once.digest == ref.digest &&
	       once.consumed == ref.consumed && once.error == ref.error && once.why == ref.why);
	assert(once.error || once.next_wire == ref.next_wire);
	assert(split.nframes == ref.nframes && split.digest == ref.digest &&
	       split.consumed == ref.consumed && split.error == ref.error && split.why == ref.why);
	assert(split.error || split.next_wire == ref.next_wire);
	free(s.p);
	return 0;
}
