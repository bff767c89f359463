/*
 * <linux/bottom_half.h>: local_bh_disable()/local_bh_enable() count per thread
 * so that in_softirq() answers as on Linux. Softirq work (NAPI, tasklets,
 * timers) runs on other threads; code that shares data with it takes the
 * driver's lock, which is what excludes it here as on an SMP kernel.
 */
#ifndef _LINUX_BH_H
#define _LINUX_BH_H

void local_bh_disable(void);
void local_bh_enable(void);
#define _local_bh_enable() local_bh_enable()

#endif
