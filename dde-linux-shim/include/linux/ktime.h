/* <linux/ktime.h>: nanosecond time values on DDEKit's monotonic clock. */
#ifndef _LINUX_KTIME_H
#define _LINUX_KTIME_H
#include <ddekit.h>
#include <linux/jiffies.h>
#include <linux/types.h>
typedef s64 ktime_t;
#define KTIME_MAX ((s64)~((u64)1 << 63))
static inline ktime_t ktime_get(void) { return (ktime_t)ddekit_clock_ns(); }
static inline ktime_t ktime_get_real(void) { return ktime_get(); }
static inline ktime_t ktime_get_boottime(void) { return ktime_get(); }
static inline u64 ktime_get_ns(void) { return ddekit_clock_ns(); }
static inline u64 ktime_get_mono_fast_ns(void) { return ddekit_clock_ns(); }
static inline ktime_t ns_to_ktime(u64 ns) { return (ktime_t)ns; }
static inline s64 ktime_to_ns(const ktime_t kt) { return kt; }
static inline s64 ktime_to_us(const ktime_t kt) { return kt / 1000; }
static inline s64 ktime_to_ms(const ktime_t kt) { return kt / 1000000; }
static inline ktime_t ktime_sub(ktime_t a, ktime_t b) { return a - b; }
static inline ktime_t ktime_add(ktime_t a, ktime_t b) { return a + b; }
static inline ktime_t ktime_add_ns(ktime_t a, u64 ns) { return a + (ktime_t)ns; }
static inline ktime_t ktime_add_us(ktime_t a, u64 us) { return a + (ktime_t)(us * 1000); }
static inline s64 ktime_us_delta(ktime_t later, ktime_t earlier) { return ktime_to_us(later - earlier); }
static inline s64 ktime_ms_delta(ktime_t later, ktime_t earlier) { return ktime_to_ms(later - earlier); }
static inline bool ktime_after(ktime_t a, ktime_t b) { return a > b; }
static inline bool ktime_before(ktime_t a, ktime_t b) { return a < b; }
static inline int ktime_compare(ktime_t a, ktime_t b) { return a < b ? -1 : a > b ? 1 : 0; }
#endif
