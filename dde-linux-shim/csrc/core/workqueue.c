/*
 * Workqueues: each workqueue is one worker thread running its work items in
 * order, in process context (they may sleep). The system workqueue
 * (schedule_work and friends) is started with the shim. A work item is
 * "pending" from queueing (or arming its delay timer) until the worker takes
 * it; it may be queued again while it runs. cancel_*_sync and flush_* wait
 * for a running instance unless called from that very instance.
 *
 * Linux's structures keep their layout. A work item's `data` holds, as in
 * Linux, the PENDING bit that Linux's inline work_pending() tests, and once
 * the item was queued, its workqueue in the bits above the flags, marked
 * WORK_STRUCT_PWQ (Linux keeps its pool workqueue there): workqueues are
 * page-aligned allocations for that. INIT_WORK() and INIT_DELAYED_WORK() are
 * Linux's inline code; the delay timer's callback is delayed_work_timer_fn().
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "internal.h"

struct workqueue_struct {
    char name[24];
    struct list_head list;           /* queued items */
    struct work_struct *current_work; /* item running now */
    ddekit_thread_t *thread;
    ddekit_condvar_t *more;          /* signalled when an item is queued */
    ddekit_condvar_t *done;          /* broadcast when an item finished */
    bool dying;
};

/* One lock for all workqueues: queueing, cancelling and flushing are rare. */
static ddekit_lock_t wq_lock;

struct workqueue_struct *system_wq;
struct workqueue_struct *system_highpri_wq;
struct workqueue_struct *system_long_wq;
struct workqueue_struct *system_unbound_wq;
struct workqueue_struct *system_freezable_wq;
struct workqueue_struct *system_power_efficient_wq;

#define PENDING(work) ((unsigned long *)&(work)->data.counter)

/* The workqueue the item was last queued on, or NULL. */
static struct workqueue_struct *wq_of(struct work_struct *work)
{
    unsigned long data = (unsigned long)atomic_long_read(&work->data);

    return (data & WORK_STRUCT_PWQ) ? (struct workqueue_struct *)(data & WORK_STRUCT_WQ_DATA_MASK) : NULL;
}

static void set_wq(struct work_struct *work, struct workqueue_struct *wq)
{
    long old = atomic_long_read(&work->data), new;

    do {
        new = (long)(((unsigned long)old & WORK_STRUCT_PENDING) | (unsigned long)wq | WORK_STRUCT_PWQ);
    } while (!atomic_long_try_cmpxchg(&work->data, &old, new));
}

static void worker(void *arg)
{
    struct workqueue_struct *wq = arg;

    dde_ctx_adopt(wq->name);
    ddekit_lock_lock(&wq_lock);
    for (;;) {
        struct work_struct *work;

        while (list_empty(&wq->list) && !wq->dying)
            ddekit_condvar_wait(wq->more, &wq_lock);
        if (list_empty(&wq->list))
            break;
        work = list_first_entry(&wq->list, struct work_struct, entry);
        list_del_init(&work->entry);
        clear_bit(WORK_STRUCT_PENDING_BIT, PENDING(work));
        wq->current_work = work;
        ddekit_lock_unlock(&wq_lock);

        work->func(work);

        ddekit_lock_lock(&wq_lock);
        wq->current_work = NULL;
        ddekit_condvar_broadcast(wq->done);
    }
    ddekit_condvar_broadcast(wq->done);
    ddekit_lock_unlock(&wq_lock);
    ddekit_thread_exit();
}

struct workqueue_struct *alloc_workqueue(const char *fmt, unsigned int flags, int max_active, ...)
{
    struct workqueue_struct *wq = ddekit_large_malloc(sizeof(*wq));
    va_list args;

    (void)flags, (void)max_active;
    if (!wq)
        return NULL;
    BUILD_BUG_ON(sizeof(*wq) > PAGE_SIZE);
    memset(wq, 0, sizeof(*wq));
    va_start(args, max_active);
    vsnprintf(wq->name, sizeof(wq->name), fmt, args);
    va_end(args);
    INIT_LIST_HEAD(&wq->list);
    wq->more = ddekit_condvar_init();
    wq->done = ddekit_condvar_init();
    if (!wq->more || !wq->done)
        goto fail;
    wq->thread = ddekit_thread_create(worker, wq, wq->name);
    if (!wq->thread)
        goto fail;
    return wq;
fail:
    if (wq->more)
        ddekit_condvar_deinit(wq->more);
    if (wq->done)
        ddekit_condvar_deinit(wq->done);
    ddekit_large_free(wq);
    return NULL;
}

void dde_workqueue_init(void)
{
    system_wq = alloc_workqueue("events", 0, 0);
    if (!system_wq)
        ddekit_panic("dde-linux: cannot start the system workqueue");
    /* One worker serves every flavour of system workqueue. */
    system_highpri_wq = system_long_wq = system_unbound_wq = system_wq;
    system_freezable_wq = system_power_efficient_wq = system_wq;
}

/* Puts a work item whose PENDING bit the caller set on the queue. wq_lock held. */
static void enqueue(struct workqueue_struct *wq, struct work_struct *work)
{
    set_wq(work, wq);
    list_add_tail(&work->entry, &wq->list);
    ddekit_condvar_signal(wq->more);
}

bool queue_work_on(int cpu, struct workqueue_struct *wq, struct work_struct *work)
{
    dde_runtime_init();
    if (test_and_set_bit(WORK_STRUCT_PENDING_BIT, PENDING(work)))
        return false;
    ddekit_lock_lock(&wq_lock);
    enqueue(wq, work);
    ddekit_lock_unlock(&wq_lock);
    return true;
}

void delayed_work_timer_fn(struct timer_list *t)
{
    struct delayed_work *dwork = from_timer(dwork, t, timer);

    ddekit_lock_lock(&wq_lock);
    /* Still pending (not cancelled between the timer firing and now)? */
    if (test_bit(WORK_STRUCT_PENDING_BIT, PENDING(&dwork->work)) && list_empty(&dwork->work.entry))
        enqueue(dwork->wq, &dwork->work);
    ddekit_lock_unlock(&wq_lock);
}

static void queue_delayed(struct workqueue_struct *wq, struct delayed_work *dwork, unsigned long delay)
{
    if (!delay) {
        ddekit_lock_lock(&wq_lock);
        enqueue(wq, &dwork->work);
        ddekit_lock_unlock(&wq_lock);
        return;
    }
    dwork->wq = wq;
    set_wq(&dwork->work, wq);
    mod_timer(&dwork->timer, jiffies + delay);
}

bool queue_delayed_work_on(int cpu, struct workqueue_struct *wq, struct delayed_work *dwork, unsigned long delay)
{
    dde_runtime_init();
    if (test_and_set_bit(WORK_STRUCT_PENDING_BIT, PENDING(&dwork->work)))
        return false;
    queue_delayed(wq, dwork, delay);
    return true;
}

/* Takes a pending item off its timer and queue; true if it was pending. */
static bool grab_pending(struct work_struct *work, struct delayed_work *dwork)
{
    bool was;

    if (dwork)
        del_timer_sync(&dwork->timer);
    ddekit_lock_lock(&wq_lock);
    if (!list_empty(&work->entry))
        list_del_init(&work->entry);
    was = test_and_clear_bit(WORK_STRUCT_PENDING_BIT, PENDING(work));
    ddekit_lock_unlock(&wq_lock);
    return was;
}

bool mod_delayed_work_on(int cpu, struct workqueue_struct *wq, struct delayed_work *dwork, unsigned long delay)
{
    bool was;

    dde_runtime_init();
    was = grab_pending(&dwork->work, dwork);
    set_bit(WORK_STRUCT_PENDING_BIT, PENDING(&dwork->work));
    queue_delayed(wq, dwork, delay);
    return was;
}

static bool running_elsewhere(struct work_struct *work)
{
    struct workqueue_struct *wq = wq_of(work);

    return wq && wq->current_work == work && wq->thread != ddekit_thread_myself();
}

/* Waits until the item is neither queued nor running (wq_lock held). An
 * item whose delay timer is still armed is not waited for, as on Linux. */
static void wait_idle(struct work_struct *work)
{
    struct workqueue_struct *wq;

    while ((wq = wq_of(work)) &&
           ((!list_empty(&work->entry) && wq->thread != ddekit_thread_myself()) || running_elsewhere(work)))
        ddekit_condvar_wait(wq->done, &wq_lock);
}

static bool cancel_sync(struct work_struct *work, struct delayed_work *dwork)
{
    bool was = grab_pending(work, dwork);

    ddekit_lock_lock(&wq_lock);
    while (running_elsewhere(work)) {
        ddekit_condvar_wait(wq_of(work)->done, &wq_lock);
        /* It may have queued itself again while running. */
        if (!list_empty(&work->entry)) {
            list_del_init(&work->entry);
            clear_bit(WORK_STRUCT_PENDING_BIT, PENDING(work));
        }
    }
    ddekit_lock_unlock(&wq_lock);
    if (dwork)
        del_timer_sync(&dwork->timer); /* a re-arm by the last run */
    if (dwork && test_and_clear_bit(WORK_STRUCT_PENDING_BIT, PENDING(work)))
        was = true;
    return was;
}

bool cancel_work(struct work_struct *work) { return grab_pending(work, NULL); }
bool cancel_work_sync(struct work_struct *work) { return cancel_sync(work, NULL); }
bool cancel_delayed_work(struct delayed_work *dwork)
{
    bool was;

    del_timer(&dwork->timer);
    ddekit_lock_lock(&wq_lock);
    if (!list_empty(&dwork->work.entry))
        list_del_init(&dwork->work.entry);
    was = test_and_clear_bit(WORK_STRUCT_PENDING_BIT, PENDING(&dwork->work));
    ddekit_lock_unlock(&wq_lock);
    return was;
}
bool cancel_delayed_work_sync(struct delayed_work *dwork) { return cancel_sync(&dwork->work, dwork); }

bool flush_work(struct work_struct *work)
{
    bool busy;

    ddekit_lock_lock(&wq_lock);
    busy = !list_empty(&work->entry) || running_elsewhere(work);
    wait_idle(work);
    ddekit_lock_unlock(&wq_lock);
    return busy;
}

bool flush_delayed_work(struct delayed_work *dwork)
{
    /* Run a pending delayed item now, then wait for it. */
    if (del_timer_sync(&dwork->timer)) {
        ddekit_lock_lock(&wq_lock);
        if (test_bit(WORK_STRUCT_PENDING_BIT, PENDING(&dwork->work)) && list_empty(&dwork->work.entry))
            enqueue(dwork->wq, &dwork->work);
        ddekit_lock_unlock(&wq_lock);
    }
    return flush_work(&dwork->work);
}

void __flush_workqueue(struct workqueue_struct *wq)
{
    if (!wq)
        return;
    ddekit_lock_lock(&wq_lock);
    if (wq->thread != ddekit_thread_myself())
        while (!list_empty(&wq->list) || wq->current_work)
            ddekit_condvar_wait(wq->done, &wq_lock);
    ddekit_lock_unlock(&wq_lock);
}

void drain_workqueue(struct workqueue_struct *wq) { __flush_workqueue(wq); }

void destroy_workqueue(struct workqueue_struct *wq)
{
    if (!wq || wq == system_wq)
        return;
    __flush_workqueue(wq);
    ddekit_lock_lock(&wq_lock);
    wq->dying = true;
    ddekit_condvar_signal(wq->more);
    ddekit_lock_unlock(&wq_lock);
    /* The worker leaves on its own; its few bytes of state stay allocated
     * because it may still be on its way out. */
}
