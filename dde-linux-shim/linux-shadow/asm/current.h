/*
 * Resurgo's <asm/current.h> (the shadow folder; README.md): `current` is the
 * calling thread's task, which the shim keeps per thread (csrc/core/sched.c),
 * instead of Linux's per-CPU `current_task`: a driver task runs several
 * threads on one CPU and no scheduler of Linux's switches that variable.
 */
#ifndef _ASM_X86_CURRENT_H
#define _ASM_X86_CURRENT_H

#include <linux/compiler.h>

#ifndef __ASSEMBLY__
struct task_struct;

/* The calling thread's task_struct (created on first use). */
struct task_struct *dde_current(void);

static __always_inline struct task_struct *get_current(void)
{
	return dde_current();
}

#define current get_current()

#endif /* __ASSEMBLY__ */

#endif /* _ASM_X86_CURRENT_H */
