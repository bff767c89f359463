/*
 * Per-CPU memory. Resurgo's Linux configuration is uniprocessor (CONFIG_SMP
 * is off), so, as in a uniprocessor Linux, a per-CPU pointer is the address
 * of the one copy and per_cpu_ptr() returns it unchanged. The copy is
 * zeroed, as Linux's per-CPU allocations are; kmalloc's 16-byte alignment
 * is the most it offers.
 */
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/slab.h>

void __percpu *__alloc_percpu_gfp(size_t size, size_t align, gfp_t gfp)
{
    if (!size || align > 16) {
        WARN_ONCE(align > 16, "per-CPU allocation aligned to %zu bytes: at most 16 are offered\n", align);
        return NULL;
    }
    return (void __percpu *)kzalloc(size, gfp);
}

void __percpu *__alloc_percpu(size_t size, size_t align)
{
    return __alloc_percpu_gfp(size, align, GFP_KERNEL);
}

void free_percpu(void __percpu *ptr)
{
    kfree((void __force *)ptr);
}
