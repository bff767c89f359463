/*
 * <linux/timer.h>: timer_list on DDEKit timers (csrc/timer.c). Callbacks run
 * on the task's timer thread in softirq context. del_timer_sync() waits for a
 * running callback, as on Linux.
 */
#ifndef _LINUX_TIMER_H
#define _LINUX_TIMER_H

#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/types.h>

struct timer_list {
    unsigned long expires;
    void (*function)(struct timer_list *);
    u32 flags;
    /* shim state, guarded by the timer lock (csrc/timer.c) */
    int dde_id;              /* DDEKit timer id while armed, else -1 */
    unsigned char dde_pending;
    void *dde_shot;          /* the armed DDEKit timer's record */
};

#define TIMER_DEFERRABLE 0x00080000
#define TIMER_PINNED 0x00100000
#define TIMER_IRQSAFE 0x00200000

#define __TIMER_INITIALIZER(_function, _flags)                                                     \
    {                                                                                              \
        .expires = 0, .function = (_function), .flags = (_flags), .dde_id = -1, .dde_pending = 0,  \
        .dde_shot = NULL                                                                           \
    }
#define DEFINE_TIMER(_name, _function) struct timer_list _name = __TIMER_INITIALIZER(_function, 0)

void timer_setup(struct timer_list *timer, void (*callback)(struct timer_list *), unsigned int flags);
#define timer_setup_on_stack(timer, callback, flags) timer_setup(timer, callback, flags)
#define destroy_timer_on_stack(timer) do { } while (0)
#define from_timer(var, callback_timer, timer_fieldname)                                           \
    container_of(callback_timer, typeof(*var), timer_fieldname)

void add_timer(struct timer_list *timer);
int mod_timer(struct timer_list *timer, unsigned long expires);
int mod_timer_pending(struct timer_list *timer, unsigned long expires);
int timer_reduce(struct timer_list *timer, unsigned long expires);
int del_timer(struct timer_list *timer);
int del_timer_sync(struct timer_list *timer);
int try_to_del_timer_sync(struct timer_list *timer);
#define timer_delete(t) del_timer(t)
#define timer_delete_sync(t) del_timer_sync(t)
#define timer_shutdown_sync(t) del_timer_sync(t)

static inline int timer_pending(const struct timer_list *timer)
{
    return __atomic_load_n(&timer->dde_pending, __ATOMIC_ACQUIRE);
}

#endif
