/*
 * Execution contexts: every thread of the driver task gets a small context
 * (in DDEKit's per-thread data) that stands for Linux's `current` and its
 * preempt count: whether the thread is running interrupt handlers, softirq
 * work, has bottom halves disabled or holds the virtual interrupt lock.
 * Also the scheduler calls drivers make (schedule_timeout, cond_resched) and
 * the one-time start-up of the shim's own threads.
 */
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

static int next_pid = 1;

static struct dde_thread_ctx *ctx_new(const char *name)
{
    struct dde_thread_ctx *c = ddekit_simple_malloc(sizeof(*c));

    if (!c)
        ddekit_panic("dde-linux: out of memory for a thread context");
    memset(c, 0, sizeof(*c));
    c->task.pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);
    c->task.__state = TASK_RUNNING;
    if (!name)
        name = ddekit_thread_get_name(ddekit_thread_myself());
    strscpy(c->task.comm, name ? name : "thread", sizeof(c->task.comm));
    ddekit_thread_set_my_data(c);
    return c;
}

struct dde_thread_ctx *dde_ctx(void)
{
    struct dde_thread_ctx *c = ddekit_thread_get_my_data();

    return likely(c) ? c : ctx_new(NULL);
}

struct dde_thread_ctx *dde_ctx_adopt(const char *name)
{
    struct dde_thread_ctx *c = ddekit_thread_get_my_data();

    if (c) {
        strscpy(c->task.comm, name, sizeof(c->task.comm));
        return c;
    }
    return ctx_new(name);
}

struct task_struct *dde_current(void) { return &dde_ctx()->task; }

int dde_in_hardirq(void) { return dde_ctx()->hardirq > 0; }

int dde_in_softirq(void)
{
    struct dde_thread_ctx *c = dde_ctx();
    return c->softirq > 0 || c->bh_disabled > 0;
}

int dde_in_serving_softirq(void) { return dde_ctx()->softirq > 0; }

void local_bh_disable(void) { dde_ctx()->bh_disabled++; }

void local_bh_enable(void)
{
    struct dde_thread_ctx *c = dde_ctx();

    WARN_ON_ONCE(c->bh_disabled <= 0);
    if (c->bh_disabled > 0)
        c->bh_disabled--;
}

/* ---- sleeping ------------------------------------------------------------------- */

/* Sleeps for `timeout` jiffies when the caller set a sleeping state (nothing
 * wakes a driver thread early: there are no signals and no wait queue here
 * that would), otherwise just gives up the CPU. Returns the jiffies left. */
long schedule_timeout(long timeout)
{
    struct task_struct *t = current;
    unsigned int state = __atomic_load_n(&t->__state, __ATOMIC_SEQ_CST);

    if (state == TASK_RUNNING) {
        ddekit_yield();
        return timeout;
    }
    if (timeout == MAX_SCHEDULE_TIMEOUT) {
        WARN_ONCE(1, "schedule_timeout(MAX_SCHEDULE_TIMEOUT) with nothing to wake the thread\n");
        timeout = HZ;
    }
    if (timeout > 0)
        ddekit_thread_msleep(jiffies_to_msecs((unsigned long)timeout));
    __atomic_store_n(&t->__state, TASK_RUNNING, __ATOMIC_SEQ_CST);
    return 0;
}

long schedule_timeout_interruptible(long timeout)
{
    __set_current_state(TASK_INTERRUPTIBLE);
    return schedule_timeout(timeout);
}

long schedule_timeout_uninterruptible(long timeout)
{
    __set_current_state(TASK_UNINTERRUPTIBLE);
    return schedule_timeout(timeout);
}

long schedule_timeout_killable(long timeout)
{
    __set_current_state(TASK_KILLABLE);
    return schedule_timeout(timeout);
}

long schedule_timeout_idle(long timeout)
{
    __set_current_state(TASK_IDLE);
    return schedule_timeout(timeout);
}

void schedule(void)
{
    ddekit_yield();
    __set_current_state(TASK_RUNNING);
}

void yield(void) { ddekit_yield(); }

int _cond_resched(void)
{
    ddekit_yield();
    return 1;
}

/* ---- one-time initialisation ------------------------------------------------------ */

bool dde_once_begin(struct dde_once *once)
{
    int expected = 0;

    if (__atomic_load_n(&once->state, __ATOMIC_ACQUIRE) == 2)
        return false;
    if (__atomic_compare_exchange_n(&once->state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return true;
    while (__atomic_load_n(&once->state, __ATOMIC_ACQUIRE) != 2)
        ddekit_yield();
    return false;
}

void dde_once_done(struct dde_once *once) { __atomic_store_n(&once->state, 2, __ATOMIC_RELEASE); }

void dde_runtime_init(void)
{
    static struct dde_once once;

    if (!dde_once_begin(&once))
        return;
    dde_irq_init();
    dde_softirq_init();
    dde_workqueue_init();
    dde_once_done(&once);
}
