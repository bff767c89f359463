/*
 * Shim-private declarations shared by the files in csrc/: the per-thread
 * execution context behind `current`, in_interrupt() and local_irq_save(),
 * and the start-up of the shim's own threads.
 */
#ifndef DDE_LINUX_INTERNAL_H
#define DDE_LINUX_INTERNAL_H

#include <ddekit.h>
#include <linux/netdevice.h>
#include <linux/sched.h>
#include <linux/skbuff.h>

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

/* Wakes `p` if its state is in `state` (csrc/sched.c), as Linux's
 * kernel/sched/core.c; 1 when it did. */
int try_to_wake_up(struct task_struct *p, unsigned int state, int wake_flags);

/* Starts the shim's threads and locks once (softirq thread, system
 * workqueue). Safe to call any number of times from any thread. */
void dde_runtime_init(void);
void dde_softirq_init(void);
void dde_workqueue_init(void);
void dde_irq_init(void);
void dde_jiffies_init(void);

/* The virtual interrupt lock (csrc/irq.c), taken by handler threads. */
void dde_irq_virtual_lock(void);
void dde_irq_virtual_unlock(void);

/* Softirq thread (csrc/softirq.c): wakes it to run NAPI polls and tasklets. */
void dde_softirq_raise(void);
/* Runs the pending NAPI polls once (csrc/napi.c); called by the softirq thread. */
void dde_napi_run(void);
bool dde_napi_pending(void);
/* Runs pending tasklets once; called by the softirq thread. */
void dde_tasklet_run(void);
bool dde_tasklet_pending(void);

/* Receive path (csrc/netdevice.c): hands the frame in `skb` to the host. */
void dde_deliver_rx(struct sk_buff *skb);

/* Applies dev's receive mode (csrc/netdevice.c; the address list lock held). */
void __dev_set_rx_mode(struct net_device *dev);

/* Watchdog (csrc/netdevice.c). */
void dde_watchdog_up(struct net_device *dev);
void dde_watchdog_down(struct net_device *dev);

/* Registered devices (csrc/netdevice.c). */
#define DDE_MAX_NETDEVS 8
extern struct net_device *dde_netdevs[DDE_MAX_NETDEVS];
extern int dde_netdev_nr;

/* Every sk_buff (csrc/skbuff.c): Linux's, and the host's transmit cookie,
 * reported to the host when the skb is freed (csrc/host.c). */
struct dde_skb {
    struct sk_buff skb;
    u64 cookie;
    struct net_device *tx_dev;
    bool has_cookie;
};
struct dde_skb *dde_skb(struct sk_buff *skb);

/* Pages (csrc/page.c): the shim's page `addr` is in, or NULL; the address
 * any struct page stands for (the shim's, or virt_to_page()'s arithmetic). */
struct page *dde_page_of(const void *addr);

/* Frees the DDEKit lock of a spinlock in memory the shim frees (csrc/locking.c). */
void dde_spin_lock_destroy(spinlock_t *lock);

/* Print helpers (csrc/printk.c). */
int dde_vprintk_level(int level, const char *prefix, const char *fmt, va_list args);

/* A once-only initialisation guard: returns true for exactly one caller,
 * every other caller waits until that caller has called dde_once_done(). */
struct dde_once {
    int state; /* 0 new, 1 running, 2 done */
};
bool dde_once_begin(struct dde_once *once);
void dde_once_done(struct dde_once *once);

#endif
