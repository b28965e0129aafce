/* The plain transport: Bitcoin's framing, no encryption (include/net/transport.h).
 *
 * A frame is taken from the input buffer only once the whole frame is there; the header is
 * checked first, so an announced length above WIRE_MAX_PAYLOAD is refused before any payload
 * memory is reserved. While a large payload arrives, what is already buffered is hashed every
 * V1_HASH_STEP bytes, so completing it costs the last piece's hashing, not the whole frame's. */
#include "net/transport.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

/* Hash a partial payload once this much of it is buffered and not yet hashed: a frame that
 * arrives in one read is hashed once, at the end, as before. */
#define V1_HASH_STEP (64 * 1024)
/* Buffer pieces looked at per evbuffer_peek call. */
#define V1_HASH_IOVECS 16

struct transport_v1 {
	struct transport base;
	uint8_t magic[4];
	bool hashing;           /* fh holds the head frame's payload hashed so far */
	struct frame_hasher fh; /* the frame at the head of the input buffer */
};

/* Hash the head frame's payload bytes from fh.done up to upto (all buffered). */
static void hash_buffered(struct transport_v1 *v1, struct evbuffer *in, size_t upto)
{
	if (!v1->hashing) {
		frame_hasher_start(&v1->fh);
		v1->hashing = true;
	}
	while (v1->fh.done < upto) {
		struct evbuffer_ptr pos;
		struct evbuffer_iovec vec[V1_HASH_IOVECS];
		if (evbuffer_ptr_set(in, &pos, WIRE_HEADER_SIZE + v1->fh.done, EVBUFFER_PTR_SET) !=
		    0)
			return;
		int n = evbuffer_peek(in, (ev_ssize_t)(upto - v1->fh.done), &pos, vec,
				      V1_HASH_IOVECS);
		if (n <= 0)
			return;
		if (n > V1_HASH_IOVECS)
			n = V1_HASH_IOVECS;
		for (int i = 0; i < n && v1->fh.done < upto; i++) {
			size_t take = vec[i].iov_len;
			if (take > upto - v1->fh.done)
				take = upto - v1->fh.done;
			frame_hasher_add(&v1->fh, vec[i].iov_base, take);
		}
	}
}

static enum transport_read v1_read_frame(struct transport *t, struct evbuffer *in,
					 struct net_frame *out, enum frame_status *why)
{
	struct transport_v1 *v1 = (struct transport_v1 *)t;
	memset(out, 0, sizeof(*out));
	size_t avail = evbuffer_get_length(in);
	if (avail < WIRE_HEADER_SIZE)
		return TRANSPORT_NEED_MORE;
	uint8_t raw[WIRE_HEADER_SIZE];
	if (evbuffer_copyout(in, raw, sizeof(raw)) != (ev_ssize_t)sizeof(raw))
		return TRANSPORT_NEED_MORE;
	struct frame_header h;
	enum frame_status st = frame_header_decode(&h, raw, v1->magic, WIRE_MAX_PAYLOAD);
	if (st != FRAME_OK) {
		*why = st;
		return TRANSPORT_ERROR;
	}
	if (avail < WIRE_HEADER_SIZE + (size_t)h.length) {
		out->wire_len = WIRE_HEADER_SIZE + (size_t)h.length;
		size_t buffered = avail - WIRE_HEADER_SIZE;
		if (buffered - (v1->hashing ? v1->fh.done : 0) >= V1_HASH_STEP)
			hash_buffered(v1, in, buffered);
		return TRANSPORT_NEED_MORE;
	}
	evbuffer_drain(in, WIRE_HEADER_SIZE);
	uint8_t *payload = NULL;
	if (h.length > 0) {
		payload = malloc(h.length);
		if (!payload) {
			*why = FRAME_TOO_LARGE;
			return TRANSPORT_ERROR;
		}
		evbuffer_remove(in, payload, h.length);
	}
	memcpy(out->command, h.command, sizeof(out->command));
	out->payload = payload;
	out->len = h.length;
	out->wire_len = WIRE_HEADER_SIZE + (size_t)h.length;
	if (v1->hashing) {
		frame_hasher_add(&v1->fh, payload + v1->fh.done, h.length - v1->fh.done);
		out->checksum_ok = frame_hasher_matches(&v1->fh, &h);
		v1->hashing = false;
	} else {
		out->checksum_ok = frame_checksum_ok(&h, payload, h.length);
	}
	return TRANSPORT_FRAME;
}

static int v1_write_frame(struct transport *t, struct evbuffer *out, const char *command,
			  const uint8_t *payload, size_t len)
{
	struct transport_v1 *v1 = (struct transport_v1 *)t;
	uint8_t hdr[WIRE_HEADER_SIZE];
	if (len > WIRE_MAX_PAYLOAD)
		return -1;
	frame_header_encode(hdr, v1->magic, command, payload, len);
	if (evbuffer_add(out, hdr, sizeof(hdr)) != 0)
		return -1;
	if (len > 0 && evbuffer_add(out, payload, len) != 0)
		return -1;
	return (int)(sizeof(hdr) + len);
}

static void v1_free(struct transport *t)
{
	free(t);
}

static const struct transport_ops v1_ops = {
	.name = "v1",
	.read_frame = v1_read_frame,
	.write_frame = v1_write_frame,
	.free = v1_free,
};

struct transport *transport_v1_new(const uint8_t magic[4])
{
	struct transport_v1 *v1 = calloc(1, sizeof(*v1));
	if (!v1)
		return NULL;
	v1->base.ops = &v1_ops;
	memcpy(v1->magic, magic, 4);
	return &v1->base;
}

void net_frame_clear(struct net_frame *f)
{
	free(f->payload);
	f->payload = NULL;
	f->len = 0;
}
