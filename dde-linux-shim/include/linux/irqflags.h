/*
 * <linux/irqflags.h>: local_irq_save() and friends. "Interrupts off" is a
 * global virtual interrupt lock (csrc/irq.c) that every interrupt handler
 * thread holds while it runs handlers: a thread that disables interrupts
 * keeps every handler of the task from running until it enables them again.
 * Nesting is counted per thread; in a handler interrupts are already off.
 */
#ifndef _LINUX_IRQFLAGS_H
#define _LINUX_IRQFLAGS_H

#include <linux/types.h>

unsigned long dde_local_irq_save(void);
void dde_local_irq_restore(unsigned long flags);
void local_irq_disable(void);
void local_irq_enable(void);
int irqs_disabled(void);

#define local_irq_save(flags)                                                                      \
    do {                                                                                           \
        _Static_assert(sizeof(flags) == sizeof(unsigned long), "flags must be unsigned long");    \
        (flags) = dde_local_irq_save();                                                            \
    } while (0)
#define local_irq_restore(flags) dde_local_irq_restore(flags)
#define local_save_flags(flags) ((flags) = (unsigned long)irqs_disabled())
#define irqs_disabled_flags(flags) ((flags) != 0)
#define raw_local_irq_save(flags) local_irq_save(flags)
#define raw_local_irq_restore(flags) local_irq_restore(flags)
#define local_irq_disable_exit_to_user() local_irq_disable()

#endif
