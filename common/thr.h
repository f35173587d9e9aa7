/* Thread helpers: named threads with all signals blocked, pthread calls that log where they failed. */
#ifndef TROSYN_THR_H
#define TROSYN_THR_H

#include <pthread.h>

/*
 * Start FN(ARG) in a new thread named NAME (at most 15 chars shown) with
 * every signal blocked, so only the thread that waits in sigwait() ever
 * sees one.  Returns 0 or TR_ESYS (logged).
 */
int thr_create(pthread_t *t, const char *name, void *(*fn)(void *), void *arg);

/* Lock and unlock; a failure is a broken invariant: logged with file:line, then abort(). */
#define thr_lock(m)	thr_lock_at((m), __FILE__, __LINE__)
#define thr_unlock(m)	thr_unlock_at((m), __FILE__, __LINE__)
#define thr_rdlock(l)	thr_rdlock_at((l), __FILE__, __LINE__)
#define thr_wrlock(l)	thr_wrlock_at((l), __FILE__, __LINE__)
#define thr_rwunlock(l)	thr_rwunlock_at((l), __FILE__, __LINE__)

void thr_lock_at(pthread_mutex_t *m, const char *file, int line);
void thr_unlock_at(pthread_mutex_t *m, const char *file, int line);
void thr_rdlock_at(pthread_rwlock_t *l, const char *file, int line);
void thr_wrlock_at(pthread_rwlock_t *l, const char *file, int line);
void thr_rwunlock_at(pthread_rwlock_t *l, const char *file, int line);

/*
 * Wait on COND (with M held) until signalled or MS milliseconds pass
 * (CLOCK_MONOTONIC: COND must come from thr_cond_init).  Returns 0 when
 * signalled, 1 on timeout.
 */
int thr_cond_timedwait_ms(pthread_cond_t *cond, pthread_mutex_t *m, long ms);

/* Initialize COND for CLOCK_MONOTONIC timed waits. */
int thr_cond_init(pthread_cond_t *cond);

/* Milliseconds of CLOCK_MONOTONIC. */
long long thr_mono_ms(void);

#endif /* TROSYN_THR_H */
