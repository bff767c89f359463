/*
 * Execution contexts: every thread of the driver task gets a small context
 * (in DDEKit's per-thread data) that stands for Linux's `current` and its
 * preempt count: whether the thread is running interrupt handlers, softirq
 * work, has bottom halves disabled or holds the virtual interrupt lock.
 * Also the scheduler calls drivers make (schedule_timeout, cond_resched),
 * RCU's grace periods and deferred callbacks, and the one-time start-up of
 * the shim's own threads.
 */
#include <linux/capability.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/wake_q.h>
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
    c->wake = ddekit_sem_init(0);
    if (!c->wake)
        ddekit_panic("dde-linux: out of memory for a thread's wake-up semaphore");
    c->task.pid = __atomic_fetch_add(&next_pid, 1, __ATOMIC_RELAXED);
    c->task.__state = TASK_RUNNING;
    /* The thread's own reference, never dropped: a context lives as long as
     * the task (get_task_struct()/put_task_struct() only count around it). */
    refcount_set(&c->task.usage, 1);
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

/*
 * call_rcu(): callbacks wait for a grace period and then run in the order
 * they were queued, on the system workqueue, with bottom halves disabled as
 * Linux runs them in softirq context. kfree_rcu() queues an offset instead
 * of a function (Linux's Tiny RCU, the configuration's): the object is freed.
 */
static DEFINE_SPINLOCK(rcu_cb_lock);
static struct rcu_head *rcu_cb_head, **rcu_cb_tail = &rcu_cb_head;

static void rcu_cb_run(struct work_struct *work)
{
    struct rcu_head *list, *next;
    unsigned long flags;

    spin_lock_irqsave(&rcu_cb_lock, flags);
    list = rcu_cb_head;
    rcu_cb_head = NULL;
    rcu_cb_tail = &rcu_cb_head;
    spin_unlock_irqrestore(&rcu_cb_lock, flags);
    if (!list)
        return;
    synchronize_rcu();
    for (; list; list = next) {
        unsigned long offset = (unsigned long)list->func;

        next = list->next;
        if (__is_kvfree_rcu_offset(offset)) {
            kvfree((char *)list - offset);
            continue;
        }
        local_bh_disable();
        list->func(list);
        local_bh_enable();
    }
}

static DECLARE_WORK(rcu_cb_work, rcu_cb_run);

void call_rcu(struct rcu_head *head, rcu_callback_t func)
{
    unsigned long flags;

    head->func = func;
    head->next = NULL;
    spin_lock_irqsave(&rcu_cb_lock, flags);
    *rcu_cb_tail = head;
    rcu_cb_tail = &head->next;
    spin_unlock_irqrestore(&rcu_cb_lock, flags);
    schedule_work(&rcu_cb_work);
}

/* Every callback queued before the call has run when it returns (not to be
 * called from a callback, as in Linux). */
void rcu_barrier(void)
{
    do
        flush_work(&rcu_cb_work);
    while (READ_ONCE(rcu_cb_head));
}

/* Every caller of a driver's is the task itself (the host's configuration
 * of its device): there is no less privileged user to refuse. */
bool capable(int cap) { return true; }
bool ns_capable(struct user_namespace *ns, int cap) { return true; }

void __might_sleep(const char *file, int line) { }
void __might_resched(const char *file, int line, unsigned int offsets) { }
void __cant_sleep(const char *file, int line, int preempt_offset) { }

/* ---- sleeping and waking ------------------------------------------------------------ */

/*
 * A thread that set a sleeping state (set_current_state(), wait_event()'s
 * prepare_to_wait_event()) and calls schedule() or schedule_timeout() sleeps
 * on its own semaphore until wake_up_process() (or a wait queue's wake-up)
 * puts its state back to TASK_RUNNING and ups it, or the timeout passes. A
 * wake-up that comes between setting the state and sleeping is kept by the
 * semaphore, so none is lost; one that comes after the thread found its
 * condition true without sleeping makes a later sleep return early, which
 * every wait loop tolerates (Linux's wake-ups may be spurious too). No signals
 * here: interruptible sleeps end only so.
 */
static struct dde_thread_ctx *ctx_of(struct task_struct *p) { return container_of(p, struct dde_thread_ctx, task); }

int try_to_wake_up(struct task_struct *p, unsigned int state, int wake_flags)
{
    unsigned int old = __atomic_load_n(&p->__state, __ATOMIC_SEQ_CST);

    do {
        if (!(old & state))
            return 0;
    } while (!__atomic_compare_exchange_n(&p->__state, &old, TASK_RUNNING, false, __ATOMIC_SEQ_CST,
                                          __ATOMIC_SEQ_CST));
    ddekit_sem_up(ctx_of(p)->wake);
    return 1;
}

int wake_up_process(struct task_struct *p) { return try_to_wake_up(p, TASK_NORMAL, 0); }
int wake_up_state(struct task_struct *p, unsigned int state) { return try_to_wake_up(p, state, 0); }

/* Wake queues (<linux/sched/wake_q.h>): tasks to wake once a lock is
 * dropped (Linux's kernel/locking/semaphore.c and rwsem.c use them). A task's `current`
 * lives as long as the task, so no reference is taken. */
void wake_q_add(struct wake_q_head *head, struct task_struct *task)
{
    struct wake_q_node *node = &task->wake_q, *none = NULL;

    /* Already on a queue: that one wakes it. */
    if (!__atomic_compare_exchange_n(&node->next, &none, WAKE_Q_TAIL, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        return;
    *head->lastp = node;
    head->lastp = &node->next;
}

/* As wake_q_add(), for a caller that took a reference on the task for the
 * queue (Linux's kernel/locking/rwsem.c): the queue needs none, so it is
 * dropped here. */
void wake_q_add_safe(struct wake_q_head *head, struct task_struct *task)
{
    wake_q_add(head, task);
    put_task_struct(task);
}

/* Only the thread's own reference could be the last, and it is never dropped. */
void __put_task_struct(struct task_struct *t)
{
    WARN(1, "dde-linux: the last reference to task %s dropped\n", t->comm);
}

void wake_up_q(struct wake_q_head *head)
{
    struct wake_q_node *node = head->first;

    while (node != WAKE_Q_TAIL) {
        struct task_struct *task = container_of(node, struct task_struct, wake_q);

        node = node->next;
        __atomic_store_n(&task->wake_q.next, NULL, __ATOMIC_SEQ_CST);
        wake_up_process(task);
    }
}

/* Sleeps for at most `timeout` jiffies (MAX_SCHEDULE_TIMEOUT: until woken)
 * when the caller set a sleeping state, otherwise just gives up the CPU.
 * Returns the jiffies left. */
long schedule_timeout(long timeout)
{
    struct dde_thread_ctx *c = dde_ctx();
    struct task_struct *t = &c->task;
    unsigned long start = jiffies;
    long left;

    if (__atomic_load_n(&t->__state, __ATOMIC_SEQ_CST) == TASK_RUNNING) {
        ddekit_yield();
        return timeout;
    }
    if (timeout == MAX_SCHEDULE_TIMEOUT) {
        ddekit_sem_down(c->wake);
        left = timeout;
    } else if (timeout <= 0) {
        left = 0;
    } else if (ddekit_sem_down_timed(c->wake, (int)min(jiffies_to_msecs((unsigned long)timeout), (unsigned int)INT_MAX)) == 0) {
        left = timeout - (long)(jiffies - start);
        if (left < 1)
            left = 1;
    } else {
        left = 0;
    }
    __atomic_store_n(&t->__state, TASK_RUNNING, __ATOMIC_SEQ_CST);
    return left;
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

void schedule(void) { (void)schedule_timeout(MAX_SCHEDULE_TIMEOUT); }

/* Called with preemption disabled once (Linux's rwsem waiters); sleeps with
 * it enabled, as Linux does. */
void schedule_preempt_disabled(void)
{
    dde_preempt_count_add(-1);
    schedule();
    dde_preempt_count_add(1);
}

long io_schedule_timeout(long timeout) { return schedule_timeout(timeout); }
void io_schedule(void) { schedule(); }

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
