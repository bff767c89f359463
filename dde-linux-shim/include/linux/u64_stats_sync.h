/*
 * 64-bit statistics counters read consistently by other threads. On a 64-bit
 * machine a u64 is read and written in one access, so (as in Linux on x86-64)
 * the sequence is empty and a reader never needs to retry.
 */
#ifndef _LINUX_U64_STATS_SYNC_H
#define _LINUX_U64_STATS_SYNC_H

#include <linux/types.h>

struct u64_stats_sync {
};

typedef struct {
    u64 v;
} u64_stats_t;

static inline void u64_stats_init(struct u64_stats_sync *syncp) { (void)syncp; }
static inline void u64_stats_update_begin(struct u64_stats_sync *syncp) { (void)syncp; }
static inline void u64_stats_update_end(struct u64_stats_sync *syncp) { (void)syncp; }
static inline unsigned long u64_stats_update_begin_irqsave(struct u64_stats_sync *syncp)
{
    (void)syncp;
    return 0;
}
static inline void u64_stats_update_end_irqrestore(struct u64_stats_sync *syncp, unsigned long flags)
{
    (void)syncp, (void)flags;
}
static inline unsigned int u64_stats_fetch_begin(const struct u64_stats_sync *syncp)
{
    (void)syncp;
    return 0;
}
static inline bool u64_stats_fetch_retry(const struct u64_stats_sync *syncp, unsigned int start)
{
    (void)syncp, (void)start;
    return false;
}
#define u64_stats_fetch_begin_irq u64_stats_fetch_begin
#define u64_stats_fetch_retry_irq u64_stats_fetch_retry

static inline u64 u64_stats_read(const u64_stats_t *p) { return READ_ONCE(p->v); }
static inline void u64_stats_set(u64_stats_t *p, u64 val) { WRITE_ONCE(p->v, val); }
static inline void u64_stats_add(u64_stats_t *p, unsigned long val) { WRITE_ONCE(p->v, p->v + val); }
static inline void u64_stats_inc(u64_stats_t *p) { WRITE_ONCE(p->v, p->v + 1); }

#endif
