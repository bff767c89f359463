/*
 * Resurgo's <asm/preempt.h> (the shadow folder; README.md): the preempt
 * count is the calling thread's, kept by the shim (csrc/core/sched.c), instead of
 * Linux's per-CPU `__preempt_count`. A driver task runs several threads on
 * one CPU (interrupt handler threads, the softirq thread, the workqueue and
 * timer threads, the host's), so what in_interrupt(), in_softirq(),
 * local_bh_disable() and preempt_disable() count is per thread. Nothing here
 * reschedules: the threads are DDEKit's and preempt each other.
 */
#ifndef __ASM_PREEMPT_H
#define __ASM_PREEMPT_H

#include <linux/compiler.h>
#include <linux/types.h>

#define PREEMPT_NEED_RESCHED 0x80000000
#define PREEMPT_ENABLED (0 + PREEMPT_NEED_RESCHED)

/* The calling thread's preempt count (csrc/core/sched.c). */
int *dde_preempt_count_ptr(void);
/* Adds `val` to it; the shim counts the threads whose count is non-zero (RCU
 * read-side sections, softirq and interrupt handlers) for synchronize_rcu(). */
void dde_preempt_count_add(int val);

static __always_inline int preempt_count(void)
{
	return *dde_preempt_count_ptr() & ~PREEMPT_NEED_RESCHED;
}

static __always_inline void preempt_count_set(int pc)
{
	int *p = dde_preempt_count_ptr();

	dde_preempt_count_add((pc & ~PREEMPT_NEED_RESCHED) - (*p & ~PREEMPT_NEED_RESCHED));
}

#define init_task_preempt_count(p) do { } while (0)
#define init_idle_preempt_count(p, cpu) do { } while (0)

static __always_inline void set_preempt_need_resched(void) { }
static __always_inline void clear_preempt_need_resched(void) { }
static __always_inline bool test_preempt_need_resched(void) { return false; }

static __always_inline void __preempt_count_add(int val) { dde_preempt_count_add(val); }
static __always_inline void __preempt_count_sub(int val) { dde_preempt_count_add(-val); }

static __always_inline bool __preempt_count_dec_and_test(void)
{
	dde_preempt_count_add(-1);
	return false;
}

static __always_inline bool should_resched(int preempt_offset)
{
	return false;
}

#endif /* __ASM_PREEMPT_H */
