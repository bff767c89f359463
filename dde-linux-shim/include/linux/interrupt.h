/*
 * <linux/interrupt.h>: interrupt handlers on DDEKit interrupt threads, and
 * tasklets on the task's softirq thread (csrc/irq.c, csrc/softirq.c).
 *
 * request_irq() attaches the line once and dispatches to every handler shared
 * on it; disable_irq()/enable_irq() nest and hold (not lose) interrupts, and
 * disable_irq()/synchronize_irq() wait for a running handler.
 */
#ifndef _LINUX_INTERRUPT_H
#define _LINUX_INTERRUPT_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bottom_half.h>
#include <linux/hardirq.h>
#include <linux/irqflags.h>
#include <linux/irqreturn.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/preempt.h>
#include <linux/types.h>

#define IRQF_TRIGGER_NONE 0x00000000
#define IRQF_TRIGGER_RISING 0x00000001
#define IRQF_TRIGGER_FALLING 0x00000002
#define IRQF_TRIGGER_HIGH 0x00000004
#define IRQF_TRIGGER_LOW 0x00000008
#define IRQF_SHARED 0x00000080
#define IRQF_PROBE_SHARED 0x00000100
#define IRQF_TIMER 0x00000200
#define IRQF_PERCPU 0x00000400
#define IRQF_NOBALANCING 0x00000800
#define IRQF_IRQPOLL 0x00001000
#define IRQF_ONESHOT 0x00002000
#define IRQF_NO_SUSPEND 0x00004000
#define IRQF_FORCE_RESUME 0x00008000
#define IRQF_NO_THREAD 0x00010000
#define IRQF_EARLY_RESUME 0x00020000
#define IRQF_COND_SUSPEND 0x00040000
#define IRQF_NO_AUTOEN 0x00080000

typedef irqreturn_t (*irq_handler_t)(int, void *);

int request_threaded_irq(unsigned int irq, irq_handler_t handler, irq_handler_t thread_fn, unsigned long flags,
                         const char *name, void *dev_id);
static inline int request_irq(unsigned int irq, irq_handler_t handler, unsigned long flags, const char *name,
                              void *dev_id)
{
    return request_threaded_irq(irq, handler, NULL, flags, name, dev_id);
}
const void *free_irq(unsigned int irq, void *dev_id);

void disable_irq(unsigned int irq);
void disable_irq_nosync(unsigned int irq);
bool disable_hardirq(unsigned int irq);
void enable_irq(unsigned int irq);
void synchronize_irq(unsigned int irq);
bool synchronize_hardirq(unsigned int irq);

static inline void disable_irq_nosync_lockdep(unsigned int irq) { disable_irq_nosync(irq); }
static inline void disable_irq_nosync_lockdep_irqsave(unsigned int irq, unsigned long *flags)
{
    disable_irq_nosync(irq);
    local_irq_save(*flags);
}
static inline void disable_irq_lockdep(unsigned int irq) { disable_irq(irq); }
static inline void enable_irq_lockdep(unsigned int irq) { enable_irq(irq); }
static inline void enable_irq_lockdep_irqrestore(unsigned int irq, unsigned long *flags)
{
    local_irq_restore(*flags);
    enable_irq(irq);
}

/* ISA interrupt autoprobing. A driver task owns only its device's line, so
 * there is nothing to probe: no line is found, as on a machine where no
 * interrupt fired during the probe window. */
unsigned long probe_irq_on(void);
int probe_irq_off(unsigned long val);
unsigned int probe_irq_mask(unsigned long val);

/* ---- tasklets --------------------------------------------------------------- */

struct tasklet_struct {
    struct tasklet_struct *next;
    unsigned long state;
    atomic_t count;
    bool use_callback;
    union {
        void (*func)(unsigned long data);
        void (*callback)(struct tasklet_struct *t);
    };
    unsigned long data;
};

enum {
    TASKLET_STATE_SCHED,
    TASKLET_STATE_RUN
};

#define DECLARE_TASKLET(name, _callback)                                                           \
    struct tasklet_struct name = {.count = ATOMIC_INIT(0), .callback = _callback, .use_callback = true}
#define DECLARE_TASKLET_DISABLED(name, _callback)                                                  \
    struct tasklet_struct name = {.count = ATOMIC_INIT(1), .callback = _callback, .use_callback = true}
#define from_tasklet(var, callback_tasklet, tasklet_fieldname)                                     \
    container_of(callback_tasklet, typeof(*var), tasklet_fieldname)

void tasklet_init(struct tasklet_struct *t, void (*func)(unsigned long), unsigned long data);
void tasklet_setup(struct tasklet_struct *t, void (*callback)(struct tasklet_struct *));
void __tasklet_schedule(struct tasklet_struct *t);
static inline void tasklet_schedule(struct tasklet_struct *t)
{
    if (!test_and_set_bit(TASKLET_STATE_SCHED, &t->state))
        __tasklet_schedule(t);
}
#define tasklet_hi_schedule(t) tasklet_schedule(t)
void tasklet_kill(struct tasklet_struct *t);
void tasklet_unlock_wait(struct tasklet_struct *t);
static inline void tasklet_disable_nosync(struct tasklet_struct *t)
{
    atomic_inc(&t->count);
    smp_mb__after_atomic();
}
static inline void tasklet_disable(struct tasklet_struct *t)
{
    tasklet_disable_nosync(t);
    tasklet_unlock_wait(t);
    smp_mb();
}
void tasklet_enable(struct tasklet_struct *t);

/* Softirq numbers, for raise_softirq() users. */
enum {
    HI_SOFTIRQ = 0,
    TIMER_SOFTIRQ,
    NET_TX_SOFTIRQ,
    NET_RX_SOFTIRQ,
    BLOCK_SOFTIRQ,
    IRQ_POLL_SOFTIRQ,
    TASKLET_SOFTIRQ,
    SCHED_SOFTIRQ,
    HRTIMER_SOFTIRQ,
    RCU_SOFTIRQ,
    NR_SOFTIRQS
};

#endif
