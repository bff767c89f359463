/*
 * <asm/barrier.h>: memory barriers on x86_64. Device memory is mapped uncached
 * and DMA is cache coherent, so the mandatory barriers are the x86 fences and
 * the DMA/SMP ones only need to stop the compiler.
 */
#ifndef _ASM_BARRIER_H
#define _ASM_BARRIER_H

#define mb() __asm__ __volatile__("mfence" : : : "memory")
#define rmb() __asm__ __volatile__("lfence" : : : "memory")
#define wmb() __asm__ __volatile__("sfence" : : : "memory")
#define dma_rmb() barrier()
#define dma_wmb() barrier()
#define dma_mb() mb()
#define smp_mb() __asm__ __volatile__("lock; addl $0,-4(%%rsp)" : : : "memory", "cc")
#define smp_rmb() barrier()
#define smp_wmb() barrier()
#define smp_mb__before_atomic() barrier()
#define smp_mb__after_atomic() barrier()
#define __smp_mb() smp_mb()
#define virt_mb() smp_mb()
#define smp_store_mb(var, value)                                                                   \
    do {                                                                                           \
        WRITE_ONCE(var, value);                                                                    \
        smp_mb();                                                                                  \
    } while (0)
#define smp_store_release(p, v)                                                                    \
    do {                                                                                           \
        barrier();                                                                                 \
        WRITE_ONCE(*(p), v);                                                                       \
    } while (0)
#define smp_load_acquire(p)                                                                        \
    ({                                                                                             \
        typeof(*(p)) ___p1 = READ_ONCE(*(p));                                                      \
        barrier();                                                                                 \
        ___p1;                                                                                     \
    })
#define mmiowb() barrier()

#endif
