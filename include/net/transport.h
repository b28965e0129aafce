/* Transports: how frames become bytes on a connection and back.
 *
 * Message handling sees only frames (command + payload); a transport turns them into bytes.
 * The plain transport (transport_v1) is Bitcoin's framing. An encrypted, authenticated
 * transport (Noise_XK, as Lightning's BOLT 8) can be added as another struct transport_ops
 * without touching message handling. */
#ifndef P2PD_NET_TRANSPORT_H
#define P2PD_NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/frame.h"

struct evbuffer;
struct transport;

/* One received frame. payload is malloc'd (NULL when len is 0) and owned by the receiver. */
struct net_frame {
	char command[WIRE_COMMAND_SIZE + 1];
	uint8_t *payload;
	size_t len;
	size_t wire_len;  /* bytes the frame took on the wire, header included; on
			   * TRANSPORT_NEED_MORE, the bytes the next frame needs (0 if not yet known)
			   */
	bool checksum_ok; /* false: the payload does not match; drop the frame */
};

enum transport_read {
	TRANSPORT_FRAME,     /* *out holds a frame */
	TRANSPORT_NEED_MORE, /* not enough bytes yet */
	TRANSPORT_ERROR,     /* the stream is unusable: disconnect (reason in *why) */
};

struct transport_ops {
	const char *name;
	/* Take at most one frame from in. On TRANSPORT_ERROR, *why says why. */
	enum transport_read (*read_frame)(struct transport *t, struct evbuffer *in,
					  struct net_frame *out, enum frame_status *why);
	/* Append one frame to out. Returns the number of bytes appended, or -1 (out of memory). */
	int (*write_frame)(struct transport *t, struct evbuffer *out, const char *command,
			   const uint8_t *payload, size_t len);
	void (*free)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
};

/* The plain transport for a network's magic. Returns NULL on OOM. */
struct transport *transport_v1_new(const uint8_t magic[4]);

static inline void transport_free(struct transport *t)
{
	if (t)
		t->ops->free(t);
}

/* Release a frame's payload. */
void net_frame_clear(struct net_frame *f);

#endif
