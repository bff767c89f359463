/*
 * <linux/delay.h>: busy waits (udelay, ndelay, mdelay) spin on DDEKit's
 * clock; sleeps (msleep, usleep_range) block only the calling thread.
 */
#ifndef _LINUX_DELAY_H
#define _LINUX_DELAY_H

#include <ddekit.h>
#include <linux/kernel.h>

static inline void udelay(unsigned long usecs) { ddekit_udelay(usecs); }
static inline void ndelay(unsigned long nsecs) { ddekit_ndelay(nsecs); }
static inline void mdelay(unsigned long msecs) { ddekit_udelay(msecs * 1000); }
static inline void msleep(unsigned int msecs) { ddekit_thread_msleep(msecs); }
static inline unsigned long msleep_interruptible(unsigned int msecs)
{
    ddekit_thread_msleep(msecs);
    return 0;
}
static inline void ssleep(unsigned int seconds) { ddekit_thread_msleep(seconds * 1000UL); }
static inline void usleep_range(unsigned long min, unsigned long max)
{
    (void)max;
    ddekit_thread_usleep(min);
}
static inline void usleep_range_state(unsigned long min, unsigned long max, unsigned int state)
{
    (void)state;
    usleep_range(min, max);
}
static inline void fsleep(unsigned long usecs)
{
    if (usecs <= 10)
        udelay(usecs);
    else
        ddekit_thread_usleep(usecs);
}

#endif
