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
static struct dde_thread_ctx *all_ctx; /* pushed with a compare-and-swap, never removed */

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
    c->next_ctx = __atomic_load_n(&all_ctx, __ATOMIC_ACQUIRE);
    while (!__atomic_compare_exchange_n(&all_ctx, &c->next_ctx, c, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        ;
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

/* ---- the preempt count (linux-shadow/asm/preempt.h) ------------------------------ */

int *dde_preempt_count_ptr(void) { return &dde_ctx()->preempt_count; }

void dde_preempt_count_add(int val)
{
    struct dde_thread_ctx *c = dde_ctx();
    int now = __atomic_add_fetch(&c->preempt_count, val, __ATOMIC_SEQ_CST);

    WARN_ON_ONCE(now < 0);
    if (now == 0)
        __atomic_add_fetch(&c->quiescent, 1, __ATOMIC_SEQ_CST);
}

/* What Linux's local_bh_enable() calls (local_bh_disable() is inline). The
 * softirq thread runs raised work by itself; nothing to run here. */
void __local_bh_enable_ip(unsigned long ip, unsigned int cnt) { dde_preempt_count_add(-(int)cnt); }

/*
 * RCU: a read-side section is any stretch of a thread with a non-zero preempt
 * count (rcu_read_lock() is preempt_disable() with CONFIG_PREEMPT_COUNT, and
 * softirq and interrupt handlers count too). synchronize_rcu() waits until
 * every other thread that was in one when it was called has left it (its
 * count dropped to zero once: `quiescent` moved).
 */
void synchronize_rcu(void)
{
    struct dde_thread_ctx *me = dde_ctx();

    for (struct dde_thread_ctx *c = __atomic_load_n(&all_ctx, __ATOMIC_ACQUIRE); c; c = c->next_ctx) {
        unsigned long seen = __atomic_load_n(&c->quiescent, __ATOMIC_SEQ_CST);

        if (c == me)
            continue;
        while (__atomic_load_n(&c->preempt_count, __ATOMIC_SEQ_CST) != 0 &&
               __atomic_load_n(&c->quiescent, __ATOMIC_SEQ_CST) == seen)
            ddekit_thread_msleep(1);
    }
}

void synchronize_net(void) { synchronize_rcu(); }

void __might_sleep(const char *file, int line) { }
void __might_resched(const char *file, int line, unsigned int offsets) { }
void __cant_sleep(const char *file, int line, int preempt_offset) { }

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

int __cond_resched(void)
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
    dde_jiffies_init();
    dde_irq_init();
    dde_softirq_init();
    dde_workqueue_init();
    dde_once_done(&once);
}
