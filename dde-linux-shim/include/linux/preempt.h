/*
 * <linux/preempt.h>: execution context queries, answered per thread from the
 * shim's thread data (csrc/sched.c): interrupt handler threads are hardirq
 * context, the softirq thread and timer callbacks are softirq context.
 */
#ifndef _LINUX_PREEMPT_H
#define _LINUX_PREEMPT_H

#include <linux/compiler.h>

int dde_in_hardirq(void);
int dde_in_softirq(void);
int dde_in_serving_softirq(void);

#define in_irq() dde_in_hardirq()
#define in_hardirq() dde_in_hardirq()
#define in_softirq() dde_in_softirq()
#define in_serving_softirq() dde_in_serving_softirq()
#define in_interrupt() (dde_in_hardirq() || dde_in_softirq())
#define in_task() (!in_interrupt())
#define in_nmi() 0
#define in_atomic() (in_interrupt() || irqs_disabled())
#define preemptible() (!in_atomic())

#define preempt_disable() barrier()
#define preempt_enable() barrier()
#define preempt_enable_no_resched() barrier()
#define preempt_count() 0
#define migrate_disable() barrier()
#define migrate_enable() barrier()

#include <linux/irqflags.h>

#endif
