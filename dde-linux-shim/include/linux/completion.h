/*
 * Completions: one thread waits until another says something is done
 * (Linux's struct completion), on a DDEKit lock and condition variable.
 */
#ifndef _LINUX_COMPLETION_H
#define _LINUX_COMPLETION_H

#include <linux/types.h>
#include <ddekit.h>

struct completion {
    unsigned int done;
    ddekit_lock_t lock;          /* NULL is a valid, unlocked DDEKit lock */
    ddekit_condvar_t *wait;      /* created on first use, under `lock` */
};

/* `done` counts complete() calls not yet consumed; complete_all() makes it
 * this large, so every waiter passes until reinit_completion(). */
#define COMPLETION_ALL_DONE (~0u / 2)

#define COMPLETION_INITIALIZER(work) {0, NULL, NULL}
#define DECLARE_COMPLETION(work) struct completion work = COMPLETION_INITIALIZER(work)
#define DECLARE_COMPLETION_ONSTACK(work) DECLARE_COMPLETION(work)

void init_completion(struct completion *x);
void reinit_completion(struct completion *x);
void complete(struct completion *x);
void complete_all(struct completion *x);
void wait_for_completion(struct completion *x);
int wait_for_completion_interruptible(struct completion *x);
int wait_for_completion_killable(struct completion *x);
unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout);
long wait_for_completion_interruptible_timeout(struct completion *x, unsigned long timeout);
bool try_wait_for_completion(struct completion *x);
bool completion_done(struct completion *x);

#endif
