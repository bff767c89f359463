/*
 * The generic Linux layer's private declarations, shared by its files
 * (csrc/core) and the device classes on it (csrc/net): the per-thread
 * execution context behind `current`, in_interrupt() and local_irq_save(),
 * the start-up of the shim's own threads, softirq vectors, pages and page
 * fragments. A class keeps its own declarations in its folder (csrc/net/net.h).
 */
#ifndef DDE_LINUX_INTERNAL_H
#define DDE_LINUX_INTERNAL_H

#include <ddekit.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

/* What Linux keeps in preempt_count and task_struct, per thread. */
struct dde_thread_ctx {
    struct task_struct task;   /* `current` */
    /* Linux's preempt count, per thread (linux-shadow/asm/preempt.h):
     * HARDIRQ_OFFSET while running interrupt handlers, SOFTIRQ_OFFSET while
     * serving softirq work (NAPI, tasklets, timers), SOFTIRQ_DISABLE_OFFSET
     * per local_bh_disable(), 1 per preempt_disable()/rcu_read_lock(). */
    int preempt_count;
    unsigned long quiescent;   /* times preempt_count dropped to 0 (synchronize_rcu) */
    int irqs_off;              /* 1 while the thread holds the virtual interrupt lock */
    ddekit_sem_t *wake;        /* what schedule() sleeps on and wake_up_process() ups */
    struct dde_thread_ctx *next_ctx; /* every context, for synchronize_rcu */
};

/* Whether the thread runs interrupt handlers. */
#define dde_ctx_hardirq(c) (((c)->preempt_count & HARDIRQ_MASK) != 0)

/* The calling thread's context, created on first use. */
struct dde_thread_ctx *dde_ctx(void);
/* Gives the calling thread a context with the given name (for threads the
 * shim creates itself). */
struct dde_thread_ctx *dde_ctx_adopt(const char *name);

/* Wakes `p` if its state is in `state` (csrc/core/sched.c), as Linux's
 * kernel/sched/core.c; 1 when it did. */
int try_to_wake_up(struct task_struct *p, unsigned int state, int wake_flags);

/* Starts the shim's threads and locks once (softirq thread, system
 * workqueue). Safe to call any number of times from any thread. */
void dde_runtime_init(void);
void dde_softirq_init(void);
void dde_workqueue_init(void);
void dde_irq_init(void);
void dde_jiffies_init(void);

/* The virtual interrupt lock (csrc/core/irq.c), taken by handler threads. */
void dde_irq_virtual_lock(void);
void dde_irq_virtual_unlock(void);

/* Softirqs (csrc/core/softirq.c): a class opens a vector (Linux's
 * NET_RX_SOFTIRQ, ...) with the function that runs its pending work once and
 * says whether more is left; raising wakes the softirq thread, which runs
 * every opened vector in Linux's order (tasklets: TASKLET_SOFTIRQ). */
void dde_softirq_open(unsigned int nr, bool (*run)(void));
void dde_softirq_raise(void);

/* A page-fragment cache (csrc/core/page.c): fragments, cache-line aligned,
 * carved from 32 KiB compound pages, each holding a reference on its page
 * (page_frag_free() drops it). Zero-initialised is empty. */
struct dde_frag_cache {
    ddekit_lock_t lock;
    struct page *page; /* the page being carved, the cache holds one reference */
    unsigned int offset;
    unsigned int size;
};
void *dde_frag_alloc(struct dde_frag_cache *fc, unsigned int fragsz);

/* Pages (csrc/core/page.c): the shim's page `addr` is in, or NULL; the address
 * any struct page stands for (the shim's, or virt_to_page()'s arithmetic). */
struct page *dde_page_of(const void *addr);

/* Frees the DDEKit lock of a spinlock in memory the shim frees (csrc/core/locking.c). */
void dde_spin_lock_destroy(spinlock_t *lock);

/* Print helpers (csrc/core/printk.c). */
int dde_vprintk_level(int level, const char *prefix, const char *fmt, va_list args);

/* A once-only initialisation guard: returns true for exactly one caller,
 * every other caller waits until that caller has called dde_once_done(). */
struct dde_once {
    int state; /* 0 new, 1 running, 2 done */
};
bool dde_once_begin(struct dde_once *once);
void dde_once_done(struct dde_once *once);

#endif
