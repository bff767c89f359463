/*
 * <linux/workqueue.h>: work items run in process context on a worker thread
 * per workqueue (the system workqueue's thread is started with the shim).
 * Delayed work arms a timer that queues the work. (csrc/workqueue.c)
 */
#ifndef _LINUX_WORKQUEUE_H
#define _LINUX_WORKQUEUE_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/list.h>
#include <linux/timer.h>
#include <linux/types.h>

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);
struct workqueue_struct;

enum {
    WORK_STRUCT_PENDING_BIT = 0,
};

struct work_struct {
    atomic_long_t data;     /* bit WORK_STRUCT_PENDING_BIT: queued or its timer armed */
    struct list_head entry; /* on the workqueue's list while queued */
    work_func_t func;
    struct workqueue_struct *dde_wq; /* the queue it was last queued on */
};

struct delayed_work {
    struct work_struct work;
    struct timer_list timer;
    struct workqueue_struct *wq;
    int cpu;
};

#define WORK_DATA_INIT() ATOMIC_LONG_INIT(0)
#define __WORK_INITIALIZER(n, f)                                                                   \
    {.data = WORK_DATA_INIT(), .entry = {&(n).entry, &(n).entry}, .func = (f), .dde_wq = NULL}
void dde_delayed_work_timer_fn(struct timer_list *t);
#define __DELAYED_WORK_INITIALIZER(n, f, tflags)                                                   \
    {.work = __WORK_INITIALIZER((n).work, (f)), .timer = __TIMER_INITIALIZER(dde_delayed_work_timer_fn, (tflags)), \
     .wq = NULL, .cpu = 0}
#define DECLARE_WORK(n, f) struct work_struct n = __WORK_INITIALIZER(n, f)
#define DECLARE_DELAYED_WORK(n, f) struct delayed_work n = __DELAYED_WORK_INITIALIZER(n, f, 0)

void dde_init_work(struct work_struct *work, work_func_t func);
void dde_init_delayed_work(struct delayed_work *dwork, work_func_t func);
#define INIT_WORK(_work, _func) dde_init_work((_work), (_func))
#define INIT_WORK_ONSTACK(_work, _func) dde_init_work((_work), (_func))
#define INIT_DELAYED_WORK(_work, _func) dde_init_delayed_work((_work), (_func))
#define INIT_DEFERRABLE_WORK(_work, _func) dde_init_delayed_work((_work), (_func))
#define destroy_work_on_stack(w) do { } while (0)

static inline struct delayed_work *to_delayed_work(struct work_struct *work)
{
    return container_of(work, struct delayed_work, work);
}
#define work_pending(work) test_bit(WORK_STRUCT_PENDING_BIT, (unsigned long *)&(work)->data.counter)
#define delayed_work_pending(w) work_pending(&(w)->work)

extern struct workqueue_struct *system_wq;
extern struct workqueue_struct *system_highpri_wq;
extern struct workqueue_struct *system_long_wq;
extern struct workqueue_struct *system_unbound_wq;
extern struct workqueue_struct *system_freezable_wq;
extern struct workqueue_struct *system_power_efficient_wq;

enum {
    WQ_UNBOUND = 1 << 1,
    WQ_FREEZABLE = 1 << 2,
    WQ_MEM_RECLAIM = 1 << 3,
    WQ_HIGHPRI = 1 << 4,
    WQ_CPU_INTENSIVE = 1 << 5,
    WQ_SYSFS = 1 << 6,
    WQ_POWER_EFFICIENT = 1 << 7,
    __WQ_ORDERED = 1 << 17,
    WQ_MAX_ACTIVE = 512,
};

__printf(1, 4) struct workqueue_struct *alloc_workqueue(const char *fmt, unsigned int flags, int max_active, ...);
#define alloc_ordered_workqueue(fmt, flags, args...) alloc_workqueue(fmt, __WQ_ORDERED | (flags), 1, ##args)
#define create_workqueue(name) alloc_workqueue("%s", WQ_MEM_RECLAIM, 1, (name))
#define create_singlethread_workqueue(name) alloc_ordered_workqueue("%s", WQ_MEM_RECLAIM, name)
void destroy_workqueue(struct workqueue_struct *wq);

bool queue_work(struct workqueue_struct *wq, struct work_struct *work);
#define queue_work_on(cpu, wq, work) queue_work(wq, work)
bool queue_delayed_work(struct workqueue_struct *wq, struct delayed_work *dwork, unsigned long delay);
#define queue_delayed_work_on(cpu, wq, dwork, delay) queue_delayed_work(wq, dwork, delay)
bool mod_delayed_work(struct workqueue_struct *wq, struct delayed_work *dwork, unsigned long delay);
bool cancel_work(struct work_struct *work);
bool cancel_work_sync(struct work_struct *work);
bool cancel_delayed_work(struct delayed_work *dwork);
bool cancel_delayed_work_sync(struct delayed_work *dwork);
bool flush_work(struct work_struct *work);
bool flush_delayed_work(struct delayed_work *dwork);
void flush_workqueue(struct workqueue_struct *wq);
void drain_workqueue(struct workqueue_struct *wq);

static inline bool schedule_work(struct work_struct *work) { return queue_work(system_wq, work); }
static inline bool schedule_delayed_work(struct delayed_work *dwork, unsigned long delay)
{
    return queue_delayed_work(system_wq, dwork, delay);
}
#define flush_scheduled_work() flush_workqueue(system_wq)
bool current_work_is(struct work_struct *work);

#endif
