/* Signature verification off the event loop: a pool of worker threads whose results come back
 * to the loop.
 *
 * The loop submits (signature, id, author, opaque job pointer) jobs; workers verify them and
 * queue the results; an event on the loop delivers each result to the done callback, on the
 * loop thread, in completion order. With threads == 0 jobs are verified inline at submit and
 * done is called before verify_pool_submit returns. */
#ifndef P2PD_MSG_VERIFY_H
#define P2PD_MSG_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct verify_pool;

/* Name of each worker thread (at most 15 characters: the kernel's limit). */
#define VERIFY_THREAD_NAME "p2pd-verify"
/* Parsed author keys each worker keeps (crypto/keys.h key_cache): about 100 bytes each, so
 * 400 KiB per worker, enough for the authors of a busy network's recent traffic. */
#define VERIFY_KEY_CACHE_SLOTS 4096
/* Most worker threads (-verifythreads). */
#define VERIFY_MAX_THREADS 16
/* Jobs waiting at most (queued + being verified): about a second of work for one core. A full
 * queue makes submit fail; the caller then drops the message (it can be fetched again). */
#define VERIFY_MAX_PENDING 8192

/* Called on the loop thread with the job pointer given to submit and the result. */
typedef void (*verify_done_fn)(void *ctx, void *job, bool valid);

struct verify_pool *verify_pool_new(struct event_base *base, int threads, verify_done_fn done,
				    void *ctx);
/* Stop the workers (each finishes the job it is on) and free. Jobs never delivered to done
 * (queued, or verified but not yet delivered) are passed to release, if given, so the caller
 * can free them. NULL is a no-op. */
void verify_pool_free(struct verify_pool *vp, void (*release)(void *job));

/* Queue a job. A priority job is verified before every waiting ordinary one (the caller gives
 * priority to peers that proved themselves, so a flood of junk from new peers cannot delay
 * their messages); within a lane jobs go first in, first out. Returns 0, or -1 when
 * VERIFY_MAX_PENDING jobs are pending (both lanes together). */
int verify_pool_submit(struct verify_pool *vp, const uint8_t sig[64], const uint8_t id[32],
		       const uint8_t pubkey[32], void *job, bool priority);
/* Withdraw the jobs still waiting for a worker for which match(ctx, job) is true (those of a
 * peer just disconnected for misbehaviour, say): each is passed to release and never reaches
 * done. Jobs being verified or verified already are delivered as usual. Returns the number
 * withdrawn. */
size_t verify_pool_cancel(struct verify_pool *vp, bool (*match)(void *ctx, void *job), void *ctx,
			  void (*release)(void *job));
size_t verify_pool_pending(const struct verify_pool *vp);
/* Call fn(ctx) after each group of results delivered together (and after each inline
 * verification), so the caller can act on a burst at once (one database batch). */
void verify_pool_set_batch_end(struct verify_pool *vp, void (*fn)(void *ctx));
int verify_pool_threads(const struct verify_pool *vp);

#endif
