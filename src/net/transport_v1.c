/* The plain transport: Bitcoin's framing, no encryption (include/net/transport.h).
 *
 * A frame is taken from the input buffer only once the whole frame is there; the header is
 * checked first, so an announced length above WIRE_MAX_PAYLOAD is refused before any payload
 * memory is reserved. */
#include "net/transport.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

struct transport_v1 {
	struct transport base;
	uint8_t magic[4];
};

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
	out->checksum_ok = frame_checksum_ok(&h, payload, h.length);
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
