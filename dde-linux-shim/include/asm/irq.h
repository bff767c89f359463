/* <asm/irq.h>: interrupt lines are whatever the io server reports for the device. */
#ifndef _ASM_IRQ_H
#define _ASM_IRQ_H
#define NR_IRQS 256
static inline int irq_canonicalize(int irq) { return irq; }
#endif
