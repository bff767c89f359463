/*
 * Completions on DDEKit. Linux's struct completion is a count and a simple
 * wait queue (swait); here every completion shares one DDEKit lock and one
 * condition variable: complete() counts under the lock and wakes every
 * waiter, and each waiter checks its own completion. A driver task has a
 * handful of threads, so waking them all costs nothing, and Linux's
 * structure keeps its layout (the shim hangs nothing on it). Timeouts are in
 * jiffies, as in Linux; there are no signals here, so the interruptible and
 * killable waits never return early.
 */
#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/swait.h>

#include <ddekit.h>

static ddekit_lock_t lock;       /* NULL: created on first use */
static ddekit_condvar_t *waiters; /* created under `lock` */

static ddekit_condvar_t *waitq(void)
{
	if (!waiters)
		waiters = ddekit_condvar_init();
	return waiters;
}

/* What Linux's init_swait_queue_head() calls (init_completion() is inline). */
void __init_swait_queue_head(struct swait_queue_head *q, const char *name, struct lock_class_key *key)
{
	raw_spin_lock_init(&q->lock);
	INIT_LIST_HEAD(&q->task_list);
}

void complete(struct completion *x)
{
	ddekit_lock_lock(&lock);
	if (x->done != UINT_MAX)
		x->done++;
	ddekit_condvar_broadcast(waitq());
	ddekit_lock_unlock(&lock);
}

void complete_all(struct completion *x)
{
	ddekit_lock_lock(&lock);
	x->done = UINT_MAX;
	ddekit_condvar_broadcast(waitq());
	ddekit_lock_unlock(&lock);
}

/* Consumes one completion, if there is one; `lock` must be held. */
static bool take(struct completion *x)
{
	if (!x->done)
		return false;
	if (x->done != UINT_MAX)
		x->done--;
	return true;
}

void wait_for_completion(struct completion *x)
{
	ddekit_lock_lock(&lock);
	while (!take(x))
		ddekit_condvar_wait(waitq(), &lock);
	ddekit_lock_unlock(&lock);
}

int wait_for_completion_interruptible(struct completion *x)
{
	wait_for_completion(x);
	return 0;
}

int wait_for_completion_killable(struct completion *x)
{
	wait_for_completion(x);
	return 0;
}

void wait_for_completion_io(struct completion *x) { wait_for_completion(x); }

/* Returns the jiffies left (at least 1) when completed, 0 on timeout. */
unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout)
{
	unsigned long deadline = jiffies + timeout;
	unsigned long left = timeout;
	bool done;

	ddekit_lock_lock(&lock);
	while (!(done = take(x)) && left) {
		ddekit_condvar_wait_timed(waitq(), &lock, (int)min(jiffies_to_msecs(left), (unsigned int)INT_MAX));
		left = time_before(jiffies, deadline) ? deadline - jiffies : 0;
	}
	ddekit_lock_unlock(&lock);
	if (!done)
		return 0;
	return left ? left : 1;
}

unsigned long wait_for_completion_io_timeout(struct completion *x, unsigned long timeout)
{
	return wait_for_completion_timeout(x, timeout);
}

long wait_for_completion_interruptible_timeout(struct completion *x, unsigned long timeout)
{
	return (long)wait_for_completion_timeout(x, timeout);
}

long wait_for_completion_killable_timeout(struct completion *x, unsigned long timeout)
{
	return (long)wait_for_completion_timeout(x, timeout);
}

bool try_wait_for_completion(struct completion *x)
{
	bool done;

	ddekit_lock_lock(&lock);
	done = take(x);
	ddekit_lock_unlock(&lock);
	return done;
}

bool completion_done(struct completion *x)
{
	bool done;

	ddekit_lock_lock(&lock);
	done = x->done != 0;
	ddekit_lock_unlock(&lock);
	return done;
}
