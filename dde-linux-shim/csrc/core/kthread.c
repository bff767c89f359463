/*
 * Kernel threads (<linux/kthread.h>): each is a DDEKit thread with its own
 * `current`. As in Linux, a new one sleeps until wake_up_process() (which
 * kthread_run() does at once) and then runs its function; kthread_stop()
 * sets the flag kthread_should_stop() reads, wakes it and waits for the
 * function's return value. One stopped before it was ever woken does not run
 * its function at all, and kthread_stop() returns -EINTR, as in Linux. The
 * thread's record is the task_struct's `worker_private`, as Linux keeps it.
 */
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

struct dde_kthread {
    int (*fn)(void *data);
    void *data;
    struct task_struct *task;
    ddekit_sem_t *started; /* the thread has its `current` and sleeps */
    ddekit_sem_t *exited;  /* the function returned (or never ran) */
    bool should_stop;
    int result;
    char name[TASK_COMM_LEN];
};

static struct dde_kthread *to_kthread(struct task_struct *t)
{
    WARN_ON(!(t->flags & PF_KTHREAD));
    return t->worker_private;
}

static void kthread_main(void *arg)
{
    struct dde_kthread *k = arg;
    struct dde_thread_ctx *c = dde_ctx_adopt(k->name);

    c->task.flags |= PF_KTHREAD;
    c->task.worker_private = k;
    k->task = &c->task;
    /* Asleep before the creator learns of us: a wake-up is never lost. */
    __set_current_state(TASK_UNINTERRUPTIBLE);
    ddekit_sem_up(k->started);
    schedule();
    k->result = READ_ONCE(k->should_stop) ? -EINTR : k->fn(k->data);
    ddekit_sem_up(k->exited);
}

struct task_struct *kthread_create_on_node(int (*threadfn)(void *data), void *data, int node, const char namefmt[],
                                           ...)
{
    struct dde_kthread *k = kzalloc(sizeof(*k), GFP_KERNEL);
    va_list args;

    (void)node;
    if (!k)
        return ERR_PTR(-ENOMEM);
    k->fn = threadfn;
    k->data = data;
    va_start(args, namefmt);
    vsnprintf(k->name, sizeof(k->name), namefmt, args);
    va_end(args);
    k->started = ddekit_sem_init(0);
    k->exited = ddekit_sem_init(0);
    if (!k->started || !k->exited || !ddekit_thread_create(kthread_main, k, k->name)) {
        if (k->started)
            ddekit_sem_deinit(k->started);
        if (k->exited)
            ddekit_sem_deinit(k->exited);
        kfree(k);
        return ERR_PTR(-ENOMEM);
    }
    ddekit_sem_down(k->started);
    return k->task;
}

bool kthread_should_stop(void)
{
    struct task_struct *me = current;

    return (me->flags & PF_KTHREAD) && READ_ONCE(to_kthread(me)->should_stop);
}

int kthread_stop(struct task_struct *t)
{
    struct dde_kthread *k = to_kthread(t);
    int result;

    if (WARN_ON(!k || t == current))
        return -EINVAL;
    WRITE_ONCE(k->should_stop, true);
    wake_up_process(t);
    ddekit_sem_down(k->exited);
    result = k->result;
    ddekit_sem_deinit(k->started);
    ddekit_sem_deinit(k->exited);
    /* The thread's `current` stays (contexts are never freed); its record
     * goes, so nothing may look at the task_struct's `worker_private` now. */
    t->worker_private = NULL;
    kfree(k);
    return result;
}

/* One CPU: nothing to bind to. */
void kthread_bind(struct task_struct *k, unsigned int cpu) { }
