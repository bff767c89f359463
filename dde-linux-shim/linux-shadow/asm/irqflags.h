/*
 * Resurgo's <asm/irqflags.h> (the shadow folder; README.md). A user-level
 * task cannot execute cli/sti (nor trust pushf's IF bit): "interrupts off"
 * is the shim's virtual interrupt lock, which every interrupt handler of the
 * task takes (csrc/core/irq.c). Flags keep Linux's meaning, X86_EFLAGS_IF set
 * when interrupts were on, so Linux's irqs_disabled_flags() and the
 * save/restore pairs in its headers work unchanged.
 */
#ifndef _X86_IRQFLAGS_H_
#define _X86_IRQFLAGS_H_

#include <asm/processor-flags.h>

#ifndef __ASSEMBLY__

#define __cpuidle __section(".cpuidle.text")

/* csrc/core/irq.c: takes the virtual interrupt lock unless the thread holds it or
 * runs a handler; returns nonzero when interrupts were already off. */
unsigned long dde_local_irq_save(void);
/* Gives the lock back when `was_off` is zero. */
void dde_local_irq_restore(unsigned long was_off);
/* Whether the thread holds the lock or runs an interrupt handler. */
int dde_irqs_disabled(void);
/* Waits for an interrupt (for halt-style idle loops; drivers never do). */
void dde_safe_halt(void);

static __always_inline unsigned long arch_local_save_flags(void)
{
	return dde_irqs_disabled() ? 0 : X86_EFLAGS_IF;
}

static __always_inline void arch_local_irq_disable(void)
{
	(void)dde_local_irq_save();
}

static __always_inline void arch_local_irq_enable(void)
{
	dde_local_irq_restore(0);
}

static __always_inline unsigned long arch_local_irq_save(void)
{
	return dde_local_irq_save() ? 0 : X86_EFLAGS_IF;
}

static __always_inline int arch_irqs_disabled_flags(unsigned long flags)
{
	return !(flags & X86_EFLAGS_IF);
}

static __always_inline int arch_irqs_disabled(void)
{
	return dde_irqs_disabled();
}

static __always_inline void arch_local_irq_restore(unsigned long flags)
{
	dde_local_irq_restore(arch_irqs_disabled_flags(flags));
}

static inline __cpuidle void arch_safe_halt(void)
{
	dde_safe_halt();
}

static inline __cpuidle void halt(void)
{
	dde_safe_halt();
}

#endif /* !__ASSEMBLY__ */

#endif
