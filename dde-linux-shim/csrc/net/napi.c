/*
 * NAPI: scheduled napi_structs wait on a poll list that the softirq thread
 * works through, calling each poll() with the instance's weight (64 unless
 * the driver chose another) as budget. The state bits follow Linux's
 * protocol (SCHED owned by whoever will poll, MISSED for a schedule that
 * came while polling, DISABLE/NPSVC for napi_disable), so the drivers'
 * "if (work < budget && napi_complete_done()) re-enable interrupts" logic
 * is race free as on Linux. GRO is not done: napi_gro_receive hands each
 * frame to the host at once.
 */
#include <linux/netdevice.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>

#include "internal.h"
#include "net.h"


/* As net/core/gro.c has it: room for the headers of a napi_get_frags() skb. */
#define GRO_MAX_HEAD (MAX_HEADER + 128)

static ddekit_lock_t napi_lock;
static LIST_HEAD(poll_list);

static inline bool napi_cmpxchg(struct napi_struct *n, unsigned long *old, unsigned long new)
{
    return __atomic_compare_exchange_n(&n->state, old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static bool napi_run(void);

void netif_napi_add_weight(struct net_device *dev, struct napi_struct *napi,
                           int (*poll)(struct napi_struct *, int), int weight)
{
    if (WARN_ON(test_and_set_bit(NAPI_STATE_LISTED, &napi->state)))
        return;
    INIT_LIST_HEAD(&napi->poll_list);
    napi->gro_bitmask = 0;
    napi->skb = NULL;
    napi->poll = poll;
    if (weight > NAPI_POLL_WEIGHT)
        netdev_err(dev, "%s() called with weight %d\n", __func__, weight);
    napi->weight = weight;
    napi->dev = dev;
    list_add_tail(&napi->dev_list, &dev->napi_list);
    /* Before any instance can be scheduled: NAPI's softirq vector. */
    dde_softirq_open(NET_RX_SOFTIRQ, napi_run);
    /* A new instance is disabled until napi_enable(). */
    set_bit(NAPI_STATE_SCHED, &napi->state);
    set_bit(NAPI_STATE_NPSVC, &napi->state);
}

/* What Linux's netif_napi_del() calls (then synchronize_net()). */
void __netif_napi_del(struct napi_struct *napi)
{
    if (!test_and_clear_bit(NAPI_STATE_LISTED, &napi->state))
        return;
    list_del_init(&napi->dev_list);
    napi_free_frags(napi);
}

/* Interrupts are a thread's here: the same as __napi_schedule(). */
void __napi_schedule_irqoff(struct napi_struct *n) { __napi_schedule(n); }

bool napi_schedule_prep(struct napi_struct *n)
{
    unsigned long val = READ_ONCE(n->state), new;

    do {
        if (unlikely(val & NAPIF_STATE_DISABLE))
            return false;
        new = val | NAPIF_STATE_SCHED;
        /* Already scheduled: make the poller go round once more. */
        if (val & NAPIF_STATE_SCHED)
            new |= NAPIF_STATE_MISSED;
    } while (!napi_cmpxchg(n, &val, new));
    return !(val & NAPIF_STATE_SCHED);
}

void __napi_schedule(struct napi_struct *n)
{
    ddekit_lock_lock(&napi_lock);
    if (list_empty(&n->poll_list))
        list_add_tail(&n->poll_list, &poll_list);
    ddekit_lock_unlock(&napi_lock);
    dde_softirq_raise();
}

bool napi_complete_done(struct napi_struct *n, int work_done)
{
    unsigned long val, new;

    (void)work_done;
    if (unlikely(n->state & (NAPIF_STATE_NPSVC | NAPIF_STATE_IN_BUSY_POLL)))
        return false;
    if (unlikely(!list_empty(&n->poll_list))) {
        /* Completed outside its poll while still listed. */
        ddekit_lock_lock(&napi_lock);
        list_del_init(&n->poll_list);
        ddekit_lock_unlock(&napi_lock);
    }
    val = READ_ONCE(n->state);
    do {
        WARN_ON_ONCE(!(val & NAPIF_STATE_SCHED));
        new = val & ~(NAPIF_STATE_MISSED | NAPIF_STATE_SCHED | NAPIF_STATE_PREFER_BUSY_POLL);
        /* A schedule came while polling: stay scheduled for one more poll. */
        if (val & NAPIF_STATE_MISSED)
            new |= NAPIF_STATE_SCHED;
    } while (!napi_cmpxchg(n, &val, new));
    if (unlikely(val & NAPIF_STATE_MISSED)) {
        __napi_schedule(n);
        return false;
    }
    return true;
}

void napi_disable(struct napi_struct *n)
{
    unsigned long val, new;

    set_bit(NAPI_STATE_DISABLE, &n->state);
    val = READ_ONCE(n->state);
    do {
        while (val & (NAPIF_STATE_SCHED | NAPIF_STATE_NPSVC)) {
            usleep_range(20, 200);
            val = READ_ONCE(n->state);
        }
        new = val | NAPIF_STATE_SCHED | NAPIF_STATE_NPSVC;
        new &= ~NAPIF_STATE_PREFER_BUSY_POLL;
    } while (!napi_cmpxchg(n, &val, new));
    clear_bit(NAPI_STATE_DISABLE, &n->state);
}

void napi_enable(struct napi_struct *n)
{
    unsigned long val = READ_ONCE(n->state), new;

    do {
        BUG_ON(!(val & NAPIF_STATE_SCHED));
        new = val & ~(NAPIF_STATE_SCHED | NAPIF_STATE_NPSVC);
    } while (!napi_cmpxchg(n, &val, new));
}

static bool napi_pending(void)
{
    bool pending;

    ddekit_lock_lock(&napi_lock);
    pending = !list_empty(&poll_list);
    ddekit_lock_unlock(&napi_lock);
    return pending;
}

/* NET_RX_SOFTIRQ: one round over the instances scheduled now (softirq
 * thread only); true if some are scheduled again. */
static bool napi_run(void)
{
    LIST_HEAD(round);

    ddekit_lock_lock(&napi_lock);
    list_splice_tail_init(&poll_list, &round);
    ddekit_lock_unlock(&napi_lock);

    while (!list_empty(&round)) {
        struct napi_struct *n = list_first_entry(&round, struct napi_struct, poll_list);
        int weight = n->weight, work = 0;

        list_del_init(&n->poll_list);
        if (test_bit(NAPI_STATE_SCHED, &n->state)) {
            rcu_read_lock();
            work = n->poll(n, weight);
            rcu_read_unlock();
            WARN_ONCE(work > weight, "%pS exceeded its budget (%d > %d)\n", n->poll, work, weight);
        }
        if (likely(work < weight))
            continue;
        /* The whole budget was used: the instance stays scheduled. */
        if (unlikely(napi_disable_pending(n))) {
            napi_complete(n);
            continue;
        }
        ddekit_lock_lock(&napi_lock);
        if (list_empty(&n->poll_list))
            list_add_tail(&n->poll_list, &poll_list);
        ddekit_lock_unlock(&napi_lock);
    }
    return napi_pending();
}

/* ---- receive ------------------------------------------------------------------------ */

gro_result_t napi_gro_receive(struct napi_struct *napi, struct sk_buff *skb)
{
    (void)napi;
    dde_deliver_rx(skb);
    return GRO_NORMAL;
}

void napi_gro_flush(struct napi_struct *napi, bool flush_old) { (void)napi, (void)flush_old; }

struct sk_buff *napi_get_frags(struct napi_struct *napi)
{
    struct sk_buff *skb = napi->skb;

    if (!skb) {
        skb = napi_alloc_skb(napi, GRO_MAX_HEAD);
        napi->skb = skb;
    }
    return skb;
}

gro_result_t napi_gro_frags(struct napi_struct *napi)
{
    struct sk_buff *skb = napi->skb;

    if (!skb)
        return GRO_CONSUMED;
    napi->skb = NULL;
    /* The frame (Ethernet header included) starts at data, in the fragments. */
    skb_reset_mac_header(skb);
    if (skb->len < ETH_HLEN) {
        kfree_skb(skb);
        return GRO_CONSUMED;
    }
    dde_deliver_rx(skb);
    return GRO_NORMAL;
}
