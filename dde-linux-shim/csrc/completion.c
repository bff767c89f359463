/*
 * Completions on DDEKit: a count of completions under a lock, and a condition
 * variable waiters sleep on. Timeouts are in jiffies, as in Linux; there are
 * no signals here, so the interruptible and killable waits never return early.
 */
#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>

/* The condition variable, created on first use; `lock` must be held. */
static ddekit_condvar_t *waitq(struct completion *x)
{
    if (!x->wait)
        x->wait = ddekit_condvar_init();
    return x->wait;
}

void init_completion(struct completion *x)
{
    x->done = 0;
    x->lock = NULL;
    x->wait = NULL;
}

void reinit_completion(struct completion *x)
{
    ddekit_lock_lock(&x->lock);
    x->done = 0;
    ddekit_lock_unlock(&x->lock);
}

void complete(struct completion *x)
{
    ddekit_lock_lock(&x->lock);
    if (x->done != COMPLETION_ALL_DONE)
        x->done++;
    ddekit_condvar_signal(waitq(x));
    ddekit_lock_unlock(&x->lock);
}

void complete_all(struct completion *x)
{
    ddekit_lock_lock(&x->lock);
    x->done = COMPLETION_ALL_DONE;
    ddekit_condvar_broadcast(waitq(x));
    ddekit_lock_unlock(&x->lock);
}

/* Consumes one completion, if there is one; `lock` must be held. */
static bool take(struct completion *x)
{
    if (!x->done)
        return false;
    if (x->done != COMPLETION_ALL_DONE)
        x->done--;
    return true;
}

void wait_for_completion(struct completion *x)
{
    ddekit_lock_lock(&x->lock);
    while (!take(x))
        ddekit_condvar_wait(waitq(x), &x->lock);
    ddekit_lock_unlock(&x->lock);
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

/* Returns the jiffies left (at least 1) when completed, 0 on timeout. */
unsigned long wait_for_completion_timeout(struct completion *x, unsigned long timeout)
{
    unsigned long deadline = jiffies + timeout;
    unsigned long left = timeout;
    bool done;

    ddekit_lock_lock(&x->lock);
    while (!(done = take(x)) && left) {
        ddekit_condvar_wait_timed(waitq(x), &x->lock, (int)min(jiffies_to_msecs(left), (unsigned int)INT_MAX));
        left = time_before(jiffies, deadline) ? deadline - jiffies : 0;
    }
    ddekit_lock_unlock(&x->lock);
    if (!done)
        return 0;
    return left ? left : 1;
}

long wait_for_completion_interruptible_timeout(struct completion *x, unsigned long timeout)
{
    return (long)wait_for_completion_timeout(x, timeout);
}

bool try_wait_for_completion(struct completion *x)
{
    bool done;

    ddekit_lock_lock(&x->lock);
    done = take(x);
    ddekit_lock_unlock(&x->lock);
    return done;
}

bool completion_done(struct completion *x)
{
    bool done;

    ddekit_lock_lock(&x->lock);
    done = x->done != 0;
    ddekit_lock_unlock(&x->lock);
    return done;
}
