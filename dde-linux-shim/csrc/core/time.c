/*
 * Time: jiffies, the
 * conversions Linux has out of line for HZ 1000, busy waits on DDEKit's
 * clock (udelay, ndelay: what Linux's inline udelay() calls) and sleeps that
 * block only the calling thread (msleep, usleep_range), and the monotonic
 * clock (ktime_get).
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/sched/clock.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>

#include <ddekit.h>

_Static_assert(HZ == DDEKIT_HZ, "Resurgo's configuration must say CONFIG_HZ_1000, DDEKit's clock");

/*
 * Linux's `jiffies` is a variable drivers read. On Resurgo's kernel the host
 * tool links it to the tick counter of the kernel's information page
 * (`--defsym`, src/driver_build.rs), which the kernel keeps current, in
 * milliseconds, as DDEKit's clock is. Elsewhere (Fiasco.OC, whose clock is a
 * function) it is this variable, which a thread of the shim's sets from
 * DDEKit's clock every millisecond (dde_jiffies_init()).
 */
static unsigned long jiffies_storage;
extern volatile unsigned long jiffies __attribute__((weak, alias("jiffies_storage")));

static void jiffies_ticker(void *arg)
{
    (void)arg;
    for (;;) {
        __atomic_store_n(&jiffies_storage, ddekit_jiffies(), __ATOMIC_RELAXED);
        ddekit_thread_msleep(1);
    }
}

void dde_jiffies_init(void)
{
    if ((const void *)&jiffies != (const void *)&jiffies_storage)
        return;
    jiffies_storage = ddekit_jiffies();
    if (!ddekit_thread_create(jiffies_ticker, NULL, "jiffies"))
        ddekit_panic("dde-linux: cannot start the jiffies thread");
}

unsigned int jiffies_to_msecs(const unsigned long j) { return (unsigned int)j; }
unsigned int jiffies_to_usecs(const unsigned long j) { return (unsigned int)(j * USEC_PER_MSEC); }
u64 jiffies64_to_nsecs(u64 j) { return j * NSEC_PER_MSEC; }
u64 jiffies64_to_msecs(u64 j) { return j; }
unsigned long __msecs_to_jiffies(const unsigned int m) { return m > MAX_JIFFY_OFFSET ? MAX_JIFFY_OFFSET : m; }
unsigned long __usecs_to_jiffies(const unsigned int u) { return (u + USEC_PER_MSEC - 1) / USEC_PER_MSEC; }
unsigned long nsecs_to_jiffies(u64 n) { return (unsigned long)((n + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC); }
u64 nsecs_to_jiffies64(u64 n) { return (n + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC; }
clock_t jiffies_to_clock_t(unsigned long x) { return (clock_t)(x / (HZ / USER_HZ)); }

/* ---- busy waits ---------------------------------------------------------------------- */

/* Linux's udelay(n) of a constant n is __const_udelay(n * 0x10c7), ndelay(n)
 * __const_udelay(n * 5): `xloops` is the time in units of 2^-32 seconds. */
void __const_udelay(unsigned long xloops)
{
    unsigned long usecs = (unsigned long)(((u64)xloops * USEC_PER_SEC + 0xffffffffULL) >> 32);

    ddekit_udelay(usecs ? usecs : 1);
}

void __udelay(unsigned long usecs) { ddekit_udelay(usecs); }

void __ndelay(unsigned long nsecs) { ddekit_udelay((nsecs + NSEC_PER_USEC - 1) / NSEC_PER_USEC); }

void __delay(unsigned long loops) { ddekit_udelay(loops ? loops : 1); }

/* What Linux's inb_p()/outb_p() wait with. Linux writes to port 0x80 by
 * default, which a driver task is not given; 2 us is Linux's own
 * alternative (io_delay=udelay). */
void native_io_delay(void) { ddekit_udelay(2); }

/* ---- sleeps ------------------------------------------------------------------------ */

void msleep(unsigned int msecs) { ddekit_thread_msleep(msecs); }

unsigned long msleep_interruptible(unsigned int msecs)
{
    /* No signals here: the whole sleep. */
    ddekit_thread_msleep(msecs);
    return 0;
}

void usleep_range_state(unsigned long min, unsigned long max, unsigned int state)
{
    (void)max, (void)state;
    ddekit_thread_usleep(min);
}

/* ---- clocks -------------------------------------------------------------------------- */

ktime_t ktime_get(void) { return (ktime_t)ddekit_clock_ns(); }
ktime_t ktime_get_with_offset(enum tk_offsets offs) { return (ktime_t)ddekit_clock_ns(); }
ktime_t ktime_get_raw(void) { return (ktime_t)ddekit_clock_ns(); }
u64 ktime_get_mono_fast_ns(void) { return ddekit_clock_ns(); }
u64 ktime_get_raw_fast_ns(void) { return ddekit_clock_ns(); }

/* Whole seconds of the same clock: there is no wall clock in a driver task,
 * so the real time is the monotonic one, as above. */
time64_t ktime_get_seconds(void) { return (time64_t)(ddekit_clock_ns() / NSEC_PER_SEC); }
time64_t ktime_get_real_seconds(void) { return (time64_t)(ddekit_clock_ns() / NSEC_PER_SEC); }

/* Nanoseconds since boot, as Linux's sched_clock() (DDEKit's clock). */
u64 sched_clock(void) { return ddekit_clock_ns(); }

/* As Linux's kernel/time/time.c: a remainder that is never negative. */
struct timespec64 ns_to_timespec64(s64 nsec)
{
    struct timespec64 ts = {0, 0};
    s64 sec, rem;

    if (!nsec)
        return ts;
    sec = nsec / NSEC_PER_SEC;
    rem = nsec % NSEC_PER_SEC;
    if (rem < 0) {
        sec--;
        rem += NSEC_PER_SEC;
    }
    ts.tv_sec = sec;
    ts.tv_nsec = (long)rem;
    return ts;
}

/* Nothing sets the wall clock in a driver task (no RTC, no NTP): real time
 * counts from boot, as Linux's does until something sets it. */
void ktime_get_real_ts64(struct timespec64 *ts) { *ts = ns_to_timespec64((s64)ddekit_clock_ns()); }

void ktime_get_ts64(struct timespec64 *ts) { *ts = ns_to_timespec64((s64)ddekit_clock_ns()); }
