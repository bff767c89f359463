/*
 * <linux/jiffies.h>: jiffies is DDEKit's tick counter (HZ = 1000, read from
 * the kernel's info page without a system call), and the usual conversions.
 */
#ifndef _LINUX_JIFFIES_H
#define _LINUX_JIFFIES_H

#include <ddekit.h>
#include <linux/math.h>
#include <linux/types.h>

#define HZ DDEKIT_HZ
#define USER_HZ 100
#define MSEC_PER_SEC 1000L
#define USEC_PER_MSEC 1000L
#define NSEC_PER_USEC 1000L
#define NSEC_PER_MSEC 1000000L
#define USEC_PER_SEC 1000000L
#define NSEC_PER_SEC 1000000000L

_Static_assert(DDEKIT_HZ == 1000, "the jiffies conversions below assume HZ == 1000");

#define jiffies ((unsigned long)ddekit_jiffies())
static inline u64 get_jiffies_64(void) { return (u64)ddekit_jiffies(); }
#define jiffies_64 get_jiffies_64()
#define INITIAL_JIFFIES 0UL
#define MAX_JIFFY_OFFSET ((LONG_MAX >> 1) - 1)

#define typecheck(type, x)                                                                         \
    ({                                                                                             \
        type __dummy;                                                                              \
        typeof(x) __dummy2;                                                                        \
        (void)(&__dummy == &__dummy2);                                                             \
        1;                                                                                         \
    })

#define time_after(a, b) (typecheck(unsigned long, a) && typecheck(unsigned long, b) && ((long)((b) - (a)) < 0))
#define time_before(a, b) time_after(b, a)
#define time_after_eq(a, b) (typecheck(unsigned long, a) && typecheck(unsigned long, b) && ((long)((a) - (b)) >= 0))
#define time_before_eq(a, b) time_after_eq(b, a)
#define time_in_range(a, b, c) (time_after_eq(a, b) && time_before_eq(a, c))
#define time_is_before_jiffies(a) time_after(jiffies, a)
#define time_is_after_jiffies(a) time_before(jiffies, a)
#define time_is_before_eq_jiffies(a) time_after_eq(jiffies, a)
#define time_is_after_eq_jiffies(a) time_before_eq(jiffies, a)
#define time_after64(a, b) ((s64)((b) - (a)) < 0)
#define time_before64(a, b) time_after64(b, a)

static inline unsigned int jiffies_to_msecs(const unsigned long j) { return (unsigned int)j; }
static inline unsigned int jiffies_to_usecs(const unsigned long j) { return (unsigned int)(j * 1000); }
static inline u64 jiffies_to_nsecs(const unsigned long j) { return (u64)j * NSEC_PER_MSEC; }
static inline unsigned long msecs_to_jiffies(const unsigned int m) { return m; }
static inline unsigned long usecs_to_jiffies(const unsigned int u) { return (u + 999) / 1000; }
static inline unsigned long nsecs_to_jiffies(u64 n) { return (unsigned long)((n + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC); }
#define secs_to_jiffies(s) ((unsigned long)(s) * HZ)

/* Rounding to whole seconds, as round_jiffies() does to batch timer wakeups. */
unsigned long round_jiffies(unsigned long j);
unsigned long round_jiffies_relative(unsigned long j);
unsigned long round_jiffies_up(unsigned long j);
unsigned long round_jiffies_up_relative(unsigned long j);

#endif
