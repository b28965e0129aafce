/* The message store: signed messages in LevelDB with their indexes (doc/storage.md).
 *
 * Records per message (all written in one batch, so a message and its indexes appear and
 * disappear together):
 *   'M' id                              -> received_at (int64 LE) || serialized message
 *   'T' created_at(BE64) id             -> ""     by time
 *   'A' author created_at(BE64) id      -> ""     by author, then time
 *   'P' len(topic) topic created_at id  -> ""     by topic, then time
 *   'R' ref created_at(BE64) id         -> ""     replies: by referenced id, then time
 * plus running totals (count, bytes, pruned) in the metadata record 'm' "msgstats", updated in
 * the same batches, so start-up reads one record instead of scanning the store. */
#ifndef P2PD_MSG_STORE_H
#define P2PD_MSG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/sigmsg.h"

struct db;
struct msgstore;

/* Open the store over an open database (db must outlive it). Returns NULL with err set if the
 * stored totals are unreadable. */
struct msgstore *msgstore_open(struct db *db, char *err, size_t errlen);
void msgstore_free(struct msgstore *s);

/* Store a message whose id is id (already validated). sync makes it durable before returning.
 * Returns 1 stored, 0 already present (nothing written), -1 database error. */
int msgstore_put(struct msgstore *s, const struct sigmsg *m, const uint8_t id[32],
		 int64_t received_at, bool sync);
/* Flags of msgstore_put_many. */
#define MSGSTORE_SYNC 1u /* durable before returning */
/* The caller knows that none of the ids is stored (the event loop's relay checked each one
 * when its body arrived and has tracked it since): the per-id lookup is skipped. Duplicates
 * within the call are still caught. A caller that is wrong about it makes the totals count a
 * message twice; nothing else. */
#define MSGSTORE_KNOWN_NEW 2u

/* Store n messages in one database batch (a burst of verified messages: one write instead of
 * n). result[i] is 1 stored, 0 already present (or earlier in this call), -1 refused (bad
 * topic or time, encoding failure). Returns the number stored, or -1 on a database error
 * (then nothing was written and every result is -1 or 0). flags: MSGSTORE_*. */
int msgstore_put_many(struct msgstore *s, const struct sigmsg *const *msgs,
		      const uint8_t (*ids)[32], size_t n, int64_t received_at, unsigned flags,
		      int *result);
/* Whether a message with this id is stored. */
bool msgstore_has(struct msgstore *s, const uint8_t id[32]);
/* Fetch the serialized message. Returns 1 found (*raw malloc'd, caller frees), 0 not found, -1
 * error. received_at may be NULL. */
int msgstore_get(struct msgstore *s, const uint8_t id[32], uint8_t **raw, size_t *rawlen,
		 int64_t *received_at);

/* Filters for msgstore_list; unset fields (NULL, 0) do not filter. Exactly one index is walked:
 * replies_to, then author, then topic, then time. */
struct msgstore_query {
	const char *topic;
	const uint8_t *author;     /* 32 bytes */
	const uint8_t *replies_to; /* 32 bytes */
	int64_t since;             /* created_at >= since (0: no bound) */
	int64_t until;             /* created_at <= until (0: no bound) */
	size_t limit;              /* most results; 0 means MSGSTORE_LIST_MAX */
	bool reverse;              /* newest first */
};
/* Most results one list call returns. */
#define MSGSTORE_LIST_MAX 1000

/* Called per matching message in (created_at, id) order (reversed if asked); return non-zero
 * to stop. The id and raw bytes are only valid during the call. */
typedef int (*msgstore_list_fn)(void *ctx, const uint8_t id[32], const uint8_t *raw, size_t len,
				int64_t received_at);
/* Returns the number of messages passed to fn, or -1 on a database error. */
long msgstore_list(struct msgstore *s, const struct msgstore_query *q, msgstore_list_fn fn,
		   void *ctx);

/* Delete messages created before older_than, then, while the store holds more than max_bytes
 * (0: no cap), the oldest ones. Deletes at most max_delete messages per call (0: no limit) so a
 * large prune can be spread over several loop turns. Returns the number deleted, -1 on error. */
long msgstore_prune(struct msgstore *s, int64_t older_than, uint64_t max_bytes, size_t max_delete);

/* Told of every message the store gains (after the batch that adds it is written) and loses
 * (pruned), with its time-index entry (created_at, id), on the calling thread: an in-memory
 * index (the catch-up sync's) follows the store this way. Either function may be NULL. */
struct msgstore_observer {
	void (*added)(void *ctx, int64_t created_at, const uint8_t id[32]);
	void (*removed)(void *ctx, int64_t created_at, const uint8_t id[32]);
	void *ctx;
};
/* Set (or, with NULL, clear) the observer. */
void msgstore_set_observer(struct msgstore *s, const struct msgstore_observer *o);

/* Called per time-index entry; return non-zero to stop. */
typedef int (*msgstore_time_fn)(void *ctx, int64_t created_at, const uint8_t id[32]);
/* Walk the time index in (created_at, id) order, starting just after (after_created_at,
 * after_id), or at the start when after_id is NULL, for at most max entries (a large store is
 * read in slices, one per loop turn). Returns the number of entries passed to fn, or -1 on a
 * database error. */
long msgstore_walk_time(struct msgstore *s, int64_t after_created_at, const uint8_t *after_id,
			size_t max, msgstore_time_fn fn, void *ctx);

struct msgstore_stats {
	uint64_t count;  /* messages stored */
	uint64_t bytes;  /* sum of serialized message sizes */
	int64_t oldest;  /* smallest created_at, 0 when empty */
	int64_t newest;  /* largest created_at, 0 when empty */
	uint64_t pruned; /* messages deleted by pruning, over the store's life */
};
int msgstore_stats(struct msgstore *s, struct msgstore_stats *out);

#endif
