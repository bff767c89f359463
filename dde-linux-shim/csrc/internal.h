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
    int hardirq;               /* > 0 while running interrupt handlers */
    int softirq;               /* > 0 while serving softirq work (NAPI, tasklets, timers) */
    int bh_disabled;           /* local_bh_disable() depth */
    int irqs_off;              /* 1 while the thread holds the virtual interrupt lock */
};

/* The calling thread's context, created on first use. */
struct dde_thread_ctx *dde_ctx(void);
/* Gives the calling thread a context with the given name (for threads the
 * shim creates itself). */
struct dde_thread_ctx *dde_ctx_adopt(const char *name);

/* Starts the shim's threads and locks once (softirq thread, system
 * workqueue). Safe to call any number of times from any thread. */
void dde_runtime_init(void);
void dde_softirq_init(void);
void dde_workqueue_init(void);
void dde_irq_init(void);

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

/* Watchdog (csrc/netdevice.c). */
void dde_watchdog_up(struct net_device *dev);
void dde_watchdog_down(struct net_device *dev);

/* Registered devices (csrc/netdevice.c). */
#define DDE_MAX_NETDEVS 8
extern struct net_device *dde_netdevs[DDE_MAX_NETDEVS];
extern int dde_netdev_nr;

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
