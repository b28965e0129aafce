/* Signature verification on worker threads (include/msg/verify.h).
 *
 * Linked lists under one mutex: jobs waiting for a worker (two lanes, priority first), and
 * results waiting for the loop. A worker that finishes a job appends the result and activates the
 * pool's event (libevent makes event_active safe from other threads once evthread_use_pthreads()
 * ran); the event's callback, on the loop thread, takes all results at once and hands them to
 * `done`. The pending count covers both lists, so the bound holds from submit to delivery. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "msg/verify.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "crypto/keys.h"
#include "util/log.h"

struct vjob {
	uint8_t sig[64], id[32], pubkey[32];
	void *job;
	bool valid;
	struct vjob *next;
};

struct vlist {
	struct vjob *head, *tail;
};

struct verify_pool {
	int nthreads;
	pthread_t threads[VERIFY_MAX_THREADS];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct vlist in_prio, in, out;
	size_t pending;
	int idle; /* workers waiting on cv */
	bool stop;
	struct event *done_ev;
	verify_done_fn done;
	void (*batch_end)(void *ctx);
	void *ctx;
	struct key_cache *inline_kc; /* threads == 0: the loop's own parsed keys */
};

static void vlist_push(struct vlist *l, struct vjob *j)
{
	j->next = NULL;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
}

static struct vjob *vlist_pop(struct vlist *l)
{
	struct vjob *j = l->head;
	if (j) {
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
	}
	return j;
}

static void *worker(void *arg)
{
	struct verify_pool *vp = arg;
	/* Shown by top -H and ps -L, and read by bench_ingest to split the node's CPU by role. */
	pthread_setname_np(pthread_self(), VERIFY_THREAD_NAME);
	/* Without it (out of memory) every key is parsed: slower, the same verdicts. */
	struct key_cache *kc = key_cache_new(VERIFY_KEY_CACHE_SLOTS);
	pthread_mutex_lock(&vp->mu);
	for (;;) {
		while (!vp->stop && !vp->in_prio.head && !vp->in.head) {
			vp->idle++;
			pthread_cond_wait(&vp->cv, &vp->mu);
			vp->idle--;
		}
		if (vp->stop)
			break;
		struct vjob *j = vp->in_prio.head ? vlist_pop(&vp->in_prio) : vlist_pop(&vp->in);
		pthread_mutex_unlock(&vp->mu);
		j->valid = key_verify_schnorr_cached(kc, j->sig, j->id, 32, j->pubkey) == 1;
		pthread_mutex_lock(&vp->mu);
		/* One wake-up per burst: the loop takes every result queued by then. The wake-up
		 * itself (libevent's lock and a write to its notification descriptor) happens
		 * outside the pool's mutex, so the loop never waits on a system call to submit or
		 * collect. A wake-up that finds the list already taken delivers nothing: harmless.
		 */
		bool wake = !vp->out.head;
		vlist_push(&vp->out, j);
		if (wake) {
			pthread_mutex_unlock(&vp->mu);
			event_active(vp->done_ev, EV_READ, 0);
			pthread_mutex_lock(&vp->mu);
		}
	}
	pthread_mutex_unlock(&vp->mu);
	key_cache_free(kc);
	return NULL;
}

static void deliver_cb(evutil_socket_t fd, short what, void *arg)
{
	struct verify_pool *vp = arg;
	(void)fd;
	(void)what;
	pthread_mutex_lock(&vp->mu);
	struct vjob *list = vp->out.head;
	vp->out.head = vp->out.tail = NULL;
	pthread_mutex_unlock(&vp->mu);
	while (list) {
		struct vjob *j = list;
		list = j->next;
		/* Counted down one by one: done may submit, and the bound must hold meanwhile. */
		pthread_mutex_lock(&vp->mu);
		vp->pending--;
		pthread_mutex_unlock(&vp->mu);
		vp->done(vp->ctx, j->job, j->valid);
		free(j);
	}
	if (vp->batch_end)
		vp->batch_end(vp->ctx);
}

void verify_pool_set_batch_end(struct verify_pool *vp, void (*fn)(void *ctx))
{
	vp->batch_end = fn;
}

struct verify_pool *verify_pool_new(struct event_base *base, int threads, verify_done_fn done,
				    void *ctx)
{
	if (threads < 0 || threads > VERIFY_MAX_THREADS || !done)
		return NULL;
	struct verify_pool *vp = calloc(1, sizeof(*vp));
	if (!vp)
		return NULL;
	vp->done = done;
	vp->ctx = ctx;
	pthread_mutex_init(&vp->mu, NULL);
	pthread_cond_init(&vp->cv, NULL);
	vp->done_ev = event_new(base, -1, 0, deliver_cb, vp);
	if (!vp->done_ev) {
		verify_pool_free(vp, NULL);
		return NULL;
	}
	if (threads == 0)
		vp->inline_kc = key_cache_new(VERIFY_KEY_CACHE_SLOTS); /* NULL: uncached */
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&vp->threads[i], NULL, worker, vp) != 0) {
			log_error("cannot start verification thread %d", i);
			verify_pool_free(vp, NULL);
			return NULL;
		}
		vp->nthreads++;
	}
	return vp;
}

static void release_list(struct vjob *j, void (*release)(void *job))
{
	while (j) {
		struct vjob *next = j->next;
		if (release)
			release(j->job);
		free(j);
		j = next;
	}
}

void verify_pool_free(struct verify_pool *vp, void (*release)(void *job))
{
	if (!vp)
		return;
	pthread_mutex_lock(&vp->mu);
	vp->stop = true;
	pthread_cond_broadcast(&vp->cv);
	pthread_mutex_unlock(&vp->mu);
	for (int i = 0; i < vp->nthreads; i++)
		pthread_join(vp->threads[i], NULL);
	release_list(vp->in_prio.head, release);
	release_list(vp->in.head, release);
	release_list(vp->out.head, release);
	if (vp->done_ev)
		event_free(vp->done_ev);
	key_cache_free(vp->inline_kc);
	pthread_cond_destroy(&vp->cv);
	pthread_mutex_destroy(&vp->mu);
	free(vp);
}

int verify_pool_submit(struct verify_pool *vp, const uint8_t sig[64], const uint8_t id[32],
		       const uint8_t pubkey[32], void *job, bool priority)
{
	if (vp->nthreads == 0) {
		bool valid = key_verify_schnorr_cached(vp->inline_kc, sig, id, 32, pubkey) == 1;
		vp->done(vp->ctx, job, valid);
		if (vp->batch_end)
			vp->batch_end(vp->ctx);
		return 0;
	}
	struct vjob *j = malloc(sizeof(*j));
	if (!j)
		return -1;
	memcpy(j->sig, sig, 64);
	memcpy(j->id, id, 32);
	memcpy(j->pubkey, pubkey, 32);
	j->job = job;
	pthread_mutex_lock(&vp->mu);
	if (vp->pending >= VERIFY_MAX_PENDING) {
		pthread_mutex_unlock(&vp->mu);
		free(j);
		return -1;
	}
	vp->pending++;
	vlist_push(priority ? &vp->in_prio : &vp->in, j);
	if (vp->idle > 0) /* a busy worker takes the job when it is done: no wake-up needed */
		pthread_cond_signal(&vp->cv);
	pthread_mutex_unlock(&vp->mu);
	return 0;
}

/* Move l's jobs that match into *gone (in order); keep the rest in l. */
static size_t vlist_take_matching(struct vlist *l, bool (*match)(void *ctx, void *job), void *ctx,
				  struct vlist *gone)
{
	struct vlist keep = {NULL, NULL};
	size_t n = 0;
	struct vjob *j;
	while ((j = vlist_pop(l)) != NULL) {
		if (match(ctx, j->job)) {
			vlist_push(gone, j);
			n++;
		} else {
			vlist_push(&keep, j);
		}
	}
	*l = keep;
	return n;
}

size_t verify_pool_cancel(struct verify_pool *vp, bool (*match)(void *ctx, void *job), void *ctx,
			  void (*release)(void *job))
{
	struct vlist gone = {NULL, NULL};
	pthread_mutex_lock(&vp->mu);
	size_t n = vlist_take_matching(&vp->in_prio, match, ctx, &gone) +
		   vlist_take_matching(&vp->in, match, ctx, &gone);
	vp->pending -= n;
	pthread_mutex_unlock(&vp->mu);
	release_list(gone.head, release);
	return n;
}

size_t verify_pool_pending(const struct verify_pool *vp)
{
	pthread_mutex_lock((pthread_mutex_t *)&vp->mu);
	size_t n = vp->pending;
	pthread_mutex_unlock((pthread_mutex_t *)&vp->mu);
	return n;
}

int verify_pool_threads(const struct verify_pool *vp)
{
	return vp->nthreads;
}
