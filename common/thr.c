/* Thread helpers: named threads with signals blocked, checked locking. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "thr.h"

/* What a new thread needs before it runs its function. */
struct thr_start {
	void *(*fn)(void *);
	void *arg;
	char name[16];
};

/* Name the new thread, then run its function: nothing runs unnamed. */
static void *
thr_trampoline(void *p)
{
	struct thr_start st = *(struct thr_start *)p;

	free(p);
#ifdef HAVE_PTHREAD_SETNAME_NP
	pthread_setname_np(pthread_self(), st.name);
#endif
	return st.fn(st.arg);
}

/* Start FN(ARG) in a named thread with every signal blocked. */
int
thr_create(pthread_t *t, const char *name, void *(*fn)(void *), void *arg)
{
	struct thr_start *st = malloc(sizeof(*st));
	sigset_t all, old;
	size_t len = strlen(name);
	int rc;

	if (st == NULL) {
		log_err("cannot start thread %s: out of memory", name);
		return TR_ENOMEM;
	}
	st->fn = fn;
	st->arg = arg;
	/* Linux keeps 15 characters; keep the end, where the index is. */
	snprintf(st->name, sizeof(st->name), "%s", len > 15 ? name + len - 15 :
	    name);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, thr_trampoline, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		free(st);
		log_err("cannot start thread %s: %s", name, strerror(rc));
		return TR_ESYS;
	}
	return 0;
}

/* Abort on a failed pthread call: a broken invariant. */
static void
thr_fail(const char *what, int rc, const char *file, int line)
{
	log_err("%s failed at %s:%d: %s", what, file, line, strerror(rc));
	abort();
}

/* Lock M or abort. */
void
thr_lock_at(pthread_mutex_t *m, const char *file, int line)
{
	int rc = pthread_mutex_lock(m);

	if (rc != 0)
		thr_fail("pthread_mutex_lock", rc, file, line);
}

/* Unlock M or abort. */
void
thr_unlock_at(pthread_mutex_t *m, const char *file, int line)
{
	int rc = pthread_mutex_unlock(m);

	if (rc != 0)
		thr_fail("pthread_mutex_unlock", rc, file, line);
}

/* Read-lock L or abort. */
void
thr_rdlock_at(pthread_rwlock_t *l, const char *file, int line)
{
	int rc = pthread_rwlock_rdlock(l);

	if (rc != 0)
		thr_fail("pthread_rwlock_rdlock", rc, file, line);
}

/* Write-lock L or abort. */
void
thr_wrlock_at(pthread_rwlock_t *l, const char *file, int line)
{
	int rc = pthread_rwlock_wrlock(l);

	if (rc != 0)
		thr_fail("pthread_rwlock_wrlock", rc, file, line);
}

/* Unlock L or abort. */
void
thr_rwunlock_at(pthread_rwlock_t *l, const char *file, int line)
{
	int rc = pthread_rwlock_unlock(l);

	if (rc != 0)
		thr_fail("pthread_rwlock_unlock", rc, file, line);
}

/* Initialize COND for CLOCK_MONOTONIC timed waits. */
int
thr_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	int rc;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	rc = pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
	return rc == 0 ? 0 : TR_ESYS;
}

/* Wait on COND until signalled or MS milliseconds pass; 1 on timeout. */
int
thr_cond_timedwait_ms(pthread_cond_t *cond, pthread_mutex_t *m, long ms)
{
	struct timespec ts;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	rc = pthread_cond_timedwait(cond, m, &ts);
	if (rc == ETIMEDOUT)
		return 1;
	if (rc != 0)
		thr_fail("pthread_cond_timedwait", rc, __FILE__, __LINE__);
	return 0;
}

/* Milliseconds of CLOCK_MONOTONIC. */
long long
thr_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
