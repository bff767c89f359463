/*
 * Network devices: allocation and registration (names eth0, eth1, ...),
 * opening and closing as dev_open/dev_close do, queue and carrier state with
 * their notifications to the host, the multicast list, the TX watchdog, and
 * the receive path that hands frames to the host.
 *
 * Host notifications (resurgo_netdev_*) are made from whatever context the
 * driver is in, often with its own locks held: the host must only record
 * them and never call back into the shim from inside a notification.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/random.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <resurgo/net.h>

#include "internal.h"
#include "net.h"

struct net_device *dde_netdevs[DDE_MAX_NETDEVS];
int dde_netdev_nr;
static int next_ifindex = 1;

/* ---- rtnl ------------------------------------------------------------------------------ */

static DEFINE_MUTEX(rtnl_mutex);

void rtnl_lock(void) { mutex_lock(&rtnl_mutex); }
void rtnl_unlock(void) { mutex_unlock(&rtnl_mutex); }
int rtnl_trylock(void) { return mutex_trylock(&rtnl_mutex); }
int rtnl_is_locked(void) { return mutex_is_locked(&rtnl_mutex); }

/* ---- the TX watchdog ----------------------------------------------------------------------- */

/* Runs every watchdog_timeo while the device is up: a transmit queue that
 * has been stopped for longer than that since its last transmission is
 * reported to the driver's ndo_tx_timeout, with the transmit path locked. */
static void dev_watchdog(struct timer_list *t)
{
    struct net_device *dev = from_timer(dev, t, watchdog_timer);

    netif_tx_lock(dev);
    if (netif_device_present(dev) && netif_running(dev) && netif_carrier_ok(dev)) {
        unsigned int i;
        bool timedout = false;

        for (i = 0; i < dev->num_tx_queues; i++) {
            struct netdev_queue *txq = netdev_get_tx_queue(dev, i);
            unsigned long trans_start = READ_ONCE(txq->trans_start);

            if (netif_xmit_stopped(txq) && time_after(jiffies, trans_start + (unsigned long)dev->watchdog_timeo)) {
                timedout = true;
                atomic_long_inc(&txq->trans_timeout);
                netdev_crit(dev, "NETDEV WATCHDOG: transmit queue %u timed out %u ms\n", i,
                            jiffies_to_msecs(jiffies - trans_start));
                break;
            }
        }
        if (timedout)
            dev->netdev_ops->ndo_tx_timeout(dev, i);
        mod_timer(&dev->watchdog_timer, round_jiffies(jiffies + (unsigned long)dev->watchdog_timeo));
    }
    netif_tx_unlock(dev);
}

void dde_watchdog_up(struct net_device *dev)
{
    if (!dev->netdev_ops->ndo_tx_timeout)
        return;
    if (dev->watchdog_timeo <= 0)
        dev->watchdog_timeo = 5 * HZ;
    mod_timer(&dev->watchdog_timer, round_jiffies(jiffies + (unsigned long)dev->watchdog_timeo));
}

void dde_watchdog_down(struct net_device *dev) { del_timer_sync(&dev->watchdog_timer); }

/* ---- allocation ---------------------------------------------------------------------------- */

/* What the shim keeps per net_device, right before it in the same
 * allocation (Linux's net_device keeps its layout, and the driver's private
 * data follows it, where Linux's netdev_priv() finds it). */
struct dde_netdev {
    void *alloc;                        /* the allocation, for free_netdev() */
    unsigned char addr[MAX_ADDR_LEN];   /* what dev->dev_addr points to */
};

static struct dde_netdev *dde_netdev(struct net_device *dev) { return (struct dde_netdev *)dev - 1; }

/* How Linux's eth_hw_addr_set() and dev_addr_set() write the address. */
void dev_addr_mod(struct net_device *dev, unsigned int offset, const void *addr, size_t len)
{
    memcpy(dde_netdev(dev)->addr + offset, addr, len);
}

struct net_device *alloc_netdev_mqs(int sizeof_priv, const char *name, unsigned char name_assign_type,
                                    void (*setup)(struct net_device *), unsigned int txqs, unsigned int rxqs)
{
    size_t alloc_size = sizeof(struct dde_netdev) + ALIGN(sizeof(struct net_device), NETDEV_ALIGN) +
                        (size_t)sizeof_priv + NETDEV_ALIGN - 1;
    struct net_device *dev;
    void *p;

    if (txqs < 1 || rxqs < 1)
        return NULL;
    dde_runtime_init();
    p = kzalloc(alloc_size, GFP_KERNEL);
    if (!p)
        return NULL;
    dev = PTR_ALIGN((struct net_device *)((struct dde_netdev *)p + 1), NETDEV_ALIGN);
    dde_netdev(dev)->alloc = p;
    dev->_tx = kcalloc(txqs, sizeof(struct netdev_queue), GFP_KERNEL);
    if (!dev->_tx) {
        kfree(p);
        return NULL;
    }
    for (unsigned int i = 0; i < txqs; i++) {
        dev->_tx[i].dev = dev;
        spin_lock_init(&dev->_tx[i]._xmit_lock);
        dev->_tx[i].xmit_lock_owner = -1;
#ifdef CONFIG_BQL
        /* As Linux's netdev_init_one_queue(): byte queue limits that start
         * open and adapt (a zeroed dql would stop the queue after every
         * frame until its completion). */
        dql_init(&dev->_tx[i].dql, HZ);
#endif
    }
    dev->num_tx_queues = dev->real_num_tx_queues = txqs;
    dev->num_rx_queues = dev->real_num_rx_queues = rxqs;
    INIT_LIST_HEAD(&dev->dev_list);
    INIT_LIST_HEAD(&dev->napi_list);
    INIT_LIST_HEAD(&dev->uc.list);
    INIT_LIST_HEAD(&dev->mc.list);
    spin_lock_init(&dev->addr_list_lock);
    spin_lock_init(&dev->tx_global_lock);
    dev->dev_addr = dde_netdev(dev)->addr;
    dev->gso_max_size = 65536;
    dev->tso_max_size = 65536;
    dev->gso_max_segs = 65535;
    dev->tso_max_segs = 65535;
    dev->tx_queue_len = 1000;
    dev->reg_state = NETREG_UNINITIALIZED;
    dev->name_assign_type = name_assign_type;
    timer_setup(&dev->watchdog_timer, dev_watchdog, 0);
    strscpy(dev->name, name, sizeof(dev->name));
    setup(dev);
    return dev;
}

static void addr_list_flush(struct netdev_hw_addr_list *list)
{
    struct netdev_hw_addr *ha, *tmp;

    list_for_each_entry_safe(ha, tmp, &list->list, list) {
        list_del(&ha->list);
        kfree(ha);
    }
    list->count = 0;
}

void free_netdev(struct net_device *dev)
{
    struct napi_struct *p, *n;

    if (!dev)
        return;
    if (WARN(dev->reg_state == NETREG_REGISTERED, "free_netdev(%s) while registered\n", dev->name))
        return;
    list_for_each_entry_safe(p, n, &dev->napi_list, dev_list)
        netif_napi_del(p);
    del_timer_sync(&dev->watchdog_timer);
    addr_list_flush(&dev->uc);
    addr_list_flush(&dev->mc);
    for (unsigned int i = 0; i < dev->num_tx_queues; i++)
        dde_spin_lock_destroy(&dev->_tx[i]._xmit_lock);
    dde_spin_lock_destroy(&dev->addr_list_lock);
    dde_spin_lock_destroy(&dev->tx_global_lock);
    kfree(dev->_tx);
    dev->reg_state = NETREG_RELEASED;
    kfree(dde_netdev(dev)->alloc);
}

/* ---- registration --------------------------------------------------------------------------- */

int dev_alloc_name(struct net_device *dev, const char *name)
{
    const char *p = strchr(name, '%');

    if (!p) {
        for (int i = 0; i < dde_netdev_nr; i++)
            if (!strcmp(dde_netdevs[i]->name, name))
                return -EEXIST;
        if (dev->name != name)
            strscpy(dev->name, name, sizeof(dev->name));
        return 0;
    }
    if (p[1] != 'd' || strchr(p + 2, '%'))
        return -EINVAL;
    for (int n = 0; n < 32768; n++) {
        char buf[IFNAMSIZ];
        bool used = false;

        snprintf(buf, sizeof(buf), name, n);
        for (int i = 0; i < dde_netdev_nr; i++)
            if (!strcmp(dde_netdevs[i]->name, buf))
                used = true;
        if (!used) {
            strscpy(dev->name, buf, sizeof(dev->name));
            return n;
        }
    }
    return -ENFILE;
}

/* Recomputes dev->features: the driver may veto (ndo_fix_features) and
 * must accept (ndo_set_features) any change. */
static int update_features(struct net_device *dev)
{
    netdev_features_t features = (dev->features & ~dev->hw_features) | dev->wanted_features;
    int err = 0;

    if (dev->netdev_ops->ndo_fix_features)
        features = dev->netdev_ops->ndo_fix_features(dev, features);
    /* TSO needs scatter-gather, scatter-gather needs checksumming. */
    if ((features & NETIF_F_ALL_TSO) && !(features & NETIF_F_SG))
        features &= ~NETIF_F_ALL_TSO;
    if ((features & NETIF_F_SG) && !(features & NETIF_F_CSUM_MASK))
        features &= ~NETIF_F_SG;
    if (dev->features == features)
        return 0;
    if (dev->netdev_ops->ndo_set_features)
        err = dev->netdev_ops->ndo_set_features(dev, features);
    if (err < 0) {
        netdev_err(dev, "set_features() failed (%d); wanted %#llx, left %#llx\n", err,
                   (unsigned long long)features, (unsigned long long)dev->features);
        return err;
    }
    dev->features = features;
    return 1;
}

void netdev_update_features(struct net_device *dev) { update_features(dev); }
void netdev_change_features(struct net_device *dev) { update_features(dev); }
void netdev_state_change(struct net_device *dev) { (void)dev; }
void netdev_features_change(struct net_device *dev) { (void)dev; }

static int do_register(struct net_device *dev)
{
    int err;

    if (dev->reg_state != NETREG_UNINITIALIZED)
        return -EINVAL;
    if (dde_netdev_nr >= DDE_MAX_NETDEVS)
        return -ENFILE;
    err = dev_alloc_name(dev, dev->name);
    if (err < 0)
        return err;
    if (dev->netdev_ops->ndo_init) {
        err = dev->netdev_ops->ndo_init(dev);
        if (err)
            return err > 0 ? -EIO : err;
    }
    dev->hw_features |= NETIF_F_SOFT_FEATURES;
    dev->features |= NETIF_F_SOFT_FEATURES;
    dev->wanted_features = dev->features & dev->hw_features;
    update_features(dev);
    dev->ifindex = next_ifindex++;
    if (dev->addr_len)
        memcpy(dev->perm_addr, dev->dev_addr, dev->addr_len);
    set_bit(__LINK_STATE_PRESENT, &dev->state);
    dev->reg_state = NETREG_REGISTERED;
    dde_netdevs[dde_netdev_nr++] = dev;
    return 0;
}

int register_netdevice(struct net_device *dev)
{
    int err = do_register(dev);

    if (!err)
        resurgo_netdev_registered(dev);
    return err;
}

int register_netdev(struct net_device *dev)
{
    int err;

    rtnl_lock();
    err = do_register(dev);
    rtnl_unlock();
    /* Outside the rtnl lock, so that the host may configure the device. */
    if (!err)
        resurgo_netdev_registered(dev);
    return err;
}

static void do_unregister(struct net_device *dev)
{
    int i;

    dev_close(dev);
    dev->reg_state = NETREG_UNREGISTERING;
    for (i = 0; i < dde_netdev_nr; i++)
        if (dde_netdevs[i] == dev)
            break;
    if (i < dde_netdev_nr) {
        memmove(&dde_netdevs[i], &dde_netdevs[i + 1], (size_t)(dde_netdev_nr - i - 1) * sizeof(dde_netdevs[0]));
        dde_netdevs[--dde_netdev_nr] = NULL;
    }
    if (dev->netdev_ops->ndo_uninit)
        dev->netdev_ops->ndo_uninit(dev);
    dev->reg_state = NETREG_UNREGISTERED;
}

void unregister_netdevice_queue(struct net_device *dev, struct list_head *head)
{
    (void)head;
    if (dev->reg_state != NETREG_REGISTERED)
        return;
    do_unregister(dev);
    resurgo_netdev_unregistered(dev);
    if (dev->needs_free_netdev) {
        if (dev->priv_destructor)
            dev->priv_destructor(dev);
        free_netdev(dev);
    }
}

void unregister_netdev(struct net_device *dev)
{
    if (dev->reg_state != NETREG_REGISTERED)
        return;
    rtnl_lock();
    do_unregister(dev);
    rtnl_unlock();
    resurgo_netdev_unregistered(dev);
    if (dev->needs_free_netdev) {
        if (dev->priv_destructor)
            dev->priv_destructor(dev);
        free_netdev(dev);
    }
}

int netif_set_real_num_tx_queues(struct net_device *dev, unsigned int txq)
{
    if (txq < 1 || txq > dev->num_tx_queues)
        return -EINVAL;
    dev->real_num_tx_queues = txq;
    return 0;
}

int netif_set_real_num_rx_queues(struct net_device *dev, unsigned int rxq)
{
    if (rxq < 1 || rxq > dev->num_rx_queues)
        return -EINVAL;
    dev->real_num_rx_queues = rxq;
    return 0;
}

/* ---- opening and closing (rtnl held) ----------------------------------------------------- */

int dev_open(struct net_device *dev, struct netlink_ext_ack *extack)
{
    const struct net_device_ops *ops = dev->netdev_ops;
    int err = 0;

    (void)extack;
    if (dev->flags & IFF_UP)
        return 0;
    if (!netif_device_present(dev))
        return -ENODEV;
    set_bit(__LINK_STATE_START, &dev->state);
    if (ops->ndo_validate_addr)
        err = ops->ndo_validate_addr(dev);
    if (!err && ops->ndo_open)
        err = ops->ndo_open(dev);
    if (err) {
        clear_bit(__LINK_STATE_START, &dev->state);
        return err;
    }
    dev->flags |= IFF_UP;
    dev_set_rx_mode(dev);
    /* dev_activate: the watchdog starts from "just transmitted". */
    for (unsigned int i = 0; i < dev->num_tx_queues; i++)
        txq_trans_update(netdev_get_tx_queue(dev, i));
    if (netif_carrier_ok(dev))
        dde_watchdog_up(dev);
    return 0;
}

void dev_close(struct net_device *dev)
{
    if (!(dev->flags & IFF_UP))
        return;
    clear_bit(__LINK_STATE_START, &dev->state);
    smp_mb__after_atomic();
    /* dev_deactivate: no watchdog, and no transmission still in the driver. */
    dde_watchdog_down(dev);
    for (unsigned int i = 0; i < dev->num_tx_queues; i++) {
        __netif_tx_lock(netdev_get_tx_queue(dev, i), 0);
        __netif_tx_unlock(netdev_get_tx_queue(dev, i));
    }
    if (dev->netdev_ops->ndo_stop)
        dev->netdev_ops->ndo_stop(dev);
    dev->flags &= ~IFF_UP;
}

int dev_set_mtu(struct net_device *dev, int new_mtu)
{
    int err = 0;

    if (new_mtu == (int)dev->mtu)
        return 0;
    if (new_mtu < 0 || (dev->min_mtu && new_mtu < (int)dev->min_mtu) ||
        (dev->max_mtu && new_mtu > (int)dev->max_mtu))
        return -EINVAL;
    if (!netif_device_present(dev))
        return -ENODEV;
    if (dev->netdev_ops->ndo_change_mtu)
        err = dev->netdev_ops->ndo_change_mtu(dev, new_mtu);
    else
        dev->mtu = (unsigned int)new_mtu;
    return err;
}

int dev_set_mac_address(struct net_device *dev, struct sockaddr *sa, struct netlink_ext_ack *extack)
{
    int err;

    (void)extack;
    if (!dev->netdev_ops->ndo_set_mac_address)
        return -EOPNOTSUPP;
    if (sa->sa_family != dev->type)
        return -EINVAL;
    if (!netif_device_present(dev))
        return -ENODEV;
    err = dev->netdev_ops->ndo_set_mac_address(dev, sa);
    if (!err)
        dev->addr_assign_type = NET_ADDR_SET;
    return err;
}

/* With the address list lock held, as Linux calls ndo_set_rx_mode. */
void __dev_set_rx_mode(struct net_device *dev)
{
    if (!(dev->flags & IFF_UP) || !netif_device_present(dev))
        return;
    if (dev->netdev_ops->ndo_set_rx_mode)
        dev->netdev_ops->ndo_set_rx_mode(dev);
}

void dev_set_rx_mode(struct net_device *dev)
{
    netif_addr_lock_bh(dev);
    __dev_set_rx_mode(dev);
    netif_addr_unlock_bh(dev);
}

struct rtnl_link_stats64 *dev_get_stats(struct net_device *dev, struct rtnl_link_stats64 *storage)
{
    const struct net_device_ops *ops = dev->netdev_ops;

    memset(storage, 0, sizeof(*storage));
    if (ops->ndo_get_stats64) {
        ops->ndo_get_stats64(dev, storage);
    } else {
        const struct net_device_stats *s = ops->ndo_get_stats ? ops->ndo_get_stats(dev) : &dev->stats;
        const unsigned long *src = (const unsigned long *)s;
        u64 *dst = (u64 *)storage;

        for (size_t i = 0; i < sizeof(*s) / sizeof(unsigned long); i++)
            dst[i] = src[i];
    }
    return storage;
}

/* Replaces the multicast list (dde_netdev_set_rx_mode). Address lock held. */
int dde_mc_list_set(struct net_device *dev, const u8 *mc, int n)
{
    addr_list_flush(&dev->mc);
    for (int i = 0; i < n; i++) {
        const u8 *addr = mc + (size_t)i * ETH_ALEN;
        struct netdev_hw_addr *ha;
        bool dup = false;

        netdev_for_each_mc_addr(ha, dev)
            if (ether_addr_equal(ha->addr, addr))
                dup = true;
        if (dup)
            continue;
        ha = kzalloc(sizeof(*ha), GFP_ATOMIC);
        if (!ha)
            return -ENOMEM;
        memcpy(ha->addr, addr, ETH_ALEN);
        ha->type = NETDEV_HW_ADDR_T_MULTICAST;
        ha->refcount = 1;
        list_add_tail(&ha->list, &dev->mc.list);
        dev->mc.count++;
    }
    return 0;
}

/* ---- queue, carrier and presence -------------------------------------------------------- */

void netif_tx_wake_queue(struct netdev_queue *dev_queue)
{
    if (test_and_clear_bit(__QUEUE_STATE_DRV_XOFF, &dev_queue->state) &&
        dev_queue->dev->reg_state == NETREG_REGISTERED)
        resurgo_netdev_queue_woken(dev_queue->dev);
}

/* Byte queue limits made room again (Linux's netdev_tx_completed_queue()
 * cleared __QUEUE_STATE_STACK_XOFF): the host may transmit unless the driver
 * stopped the queue itself. */
void netif_schedule_queue(struct netdev_queue *txq)
{
    if (!netif_xmit_stopped(txq) && txq->dev->reg_state == NETREG_REGISTERED)
        resurgo_netdev_queue_woken(txq->dev);
}

/* The RSS hash key drivers program into their devices: random, the same for
 * every device of the task, as Linux's netdev_rss_key (net/core/ethtool.c). */
void netdev_rss_key_fill(void *buffer, size_t len)
{
    static u8 key[NETDEV_RSS_KEY_LEN];
    static struct dde_once once;

    BUG_ON(len > sizeof(key));
    if (dde_once_begin(&once)) {
        get_random_bytes(key, sizeof(key));
        dde_once_done(&once);
    }
    memcpy(buffer, key, len);
}

/* NL_SET_ERR_MSG() emits Linux's netlink_extack tracepoint: no tracer is
 * attached in a driver task (the message itself goes to the caller's
 * extack, which the macro sets). */
void do_trace_netlink_extack(const char *msg) { }

/* netdev_xmit_more() reads it: the host hands frames one at a time, so
 * `xmit.more` stays 0 and drivers ring their doorbell for each. */
DEFINE_PER_CPU_ALIGNED(struct softnet_data, softnet_data);

unsigned long dev_trans_start(struct net_device *dev)
{
    unsigned long res = READ_ONCE(netdev_get_tx_queue(dev, 0)->trans_start);

    for (unsigned int i = 1; i < dev->num_tx_queues; i++) {
        unsigned long val = READ_ONCE(netdev_get_tx_queue(dev, i)->trans_start);
        if (val && time_after(val, res))
            res = val;
    }
    return res;
}

/* Freezes the transmit queues: dde_netdev_xmit sees them busy meanwhile. */
void netif_tx_lock(struct net_device *dev)
{
    spin_lock(&dev->tx_global_lock);
    for (unsigned int i = 0; i < dev->num_tx_queues; i++) {
        struct netdev_queue *txq = netdev_get_tx_queue(dev, i);

        __netif_tx_lock(txq, 0);
        set_bit(__QUEUE_STATE_FROZEN, &txq->state);
        __netif_tx_unlock(txq);
    }
}

void netif_tx_unlock(struct net_device *dev)
{
    bool wake = false;

    for (unsigned int i = 0; i < dev->num_tx_queues; i++) {
        struct netdev_queue *txq = netdev_get_tx_queue(dev, i);

        clear_bit(__QUEUE_STATE_FROZEN, &txq->state);
        if (!netif_xmit_stopped(txq))
            wake = true;
    }
    spin_unlock(&dev->tx_global_lock);
    /* The host may have been told "busy" while the queues were frozen. */
    if (wake && dev->reg_state == NETREG_REGISTERED)
        resurgo_netdev_queue_woken(dev);
}

void netif_tx_stop_all_queues(struct net_device *dev)
{
    for (unsigned int i = 0; i < dev->num_tx_queues; i++)
        netif_tx_stop_queue(netdev_get_tx_queue(dev, i));
}

void netif_carrier_on(struct net_device *dev)
{
    if (test_and_clear_bit(__LINK_STATE_NOCARRIER, &dev->state)) {
        if (dev->reg_state == NETREG_UNINITIALIZED)
            return;
        resurgo_netdev_carrier(dev, 1);
        if (netif_running(dev))
            dde_watchdog_up(dev);
    }
}

void netif_carrier_off(struct net_device *dev)
{
    if (!test_and_set_bit(__LINK_STATE_NOCARRIER, &dev->state)) {
        if (dev->reg_state == NETREG_UNINITIALIZED)
            return;
        resurgo_netdev_carrier(dev, 0);
    }
}

void netif_device_detach(struct net_device *dev)
{
    if (test_and_clear_bit(__LINK_STATE_PRESENT, &dev->state) && netif_running(dev))
        netif_tx_stop_all_queues(dev);
}

void netif_device_attach(struct net_device *dev)
{
    if (!test_and_set_bit(__LINK_STATE_PRESENT, &dev->state) && netif_running(dev)) {
        netif_tx_wake_all_queues(dev);
        dde_watchdog_up(dev);
    }
}

/* ---- receive ----------------------------------------------------------------------------------- */

/* Hands the frame in `skb` (from its MAC header on, fragments and a
 * hardware-stripped VLAN tag included) to the host, then frees the skb. */
void dde_deliver_rx(struct sk_buff *skb)
{
    struct net_device *dev = skb->dev;
    const u8 *start;
    size_t hdr, total;

    if (unlikely(!dev || dev->reg_state != NETREG_REGISTERED || !netif_running(dev))) {
        kfree_skb(skb);
        return;
    }
    start = skb_mac_header_was_set(skb) ? skb_mac_header(skb) : skb->data;
    if (unlikely(start > skb->data)) {
        kfree_skb(skb);
        return;
    }
    hdr = (size_t)(skb->data - start);
    total = hdr + skb->len;
    /* A checksum the device left to software (virtio's NEEDS_CSUM) holds
     * only the pseudo-header's sum: the host's stack checks real ones. */
    if (unlikely(skb->ip_summed == CHECKSUM_PARTIAL) && skb_checksum_help(skb)) {
        dev->stats.rx_errors++;
        kfree_skb(skb);
        return;
    }

    if (likely(!skb->data_len && !skb_vlan_tag_present(skb))) {
        resurgo_netdev_rx(dev, start, total);
    } else {
        size_t extra = skb_vlan_tag_present(skb) ? VLAN_HLEN : 0;
        u8 *buf = kmalloc(total + extra, GFP_ATOMIC);
        size_t linear = hdr + skb_headlen(skb);

        if (!buf) {
            dev->stats.rx_dropped++;
            kfree_skb(skb);
            return;
        }
        memcpy(buf, start, linear);
        if (skb->data_len && skb_copy_bits(skb, (int)skb_headlen(skb), buf + linear, (int)skb->data_len)) {
            kfree(buf);
            kfree_skb(skb);
            return;
        }
        if (extra && total >= 2 * ETH_ALEN) {
            /* Put the 802.1Q tag back after the two addresses. */
            __be16 tag[2] = {skb->vlan_proto, htons(skb->vlan_tci)};

            memmove(buf + 2 * ETH_ALEN + VLAN_HLEN, buf + 2 * ETH_ALEN, total - 2 * ETH_ALEN);
            memcpy(buf + 2 * ETH_ALEN, tag, VLAN_HLEN);
            total += VLAN_HLEN;
        }
        resurgo_netdev_rx(dev, buf, total);
        kfree(buf);
    }
    consume_skb(skb);
}

int netif_rx(struct sk_buff *skb)
{
    dde_deliver_rx(skb);
    return NET_RX_SUCCESS;
}

int netif_receive_skb(struct sk_buff *skb)
{
    dde_deliver_rx(skb);
    return NET_RX_SUCCESS;
}

/* Linux frees these later in softirq context; freeing now has the same
 * effect for the driver, and tells the host at once. */
void __dev_kfree_skb_irq(struct sk_buff *skb, enum skb_free_reason reason)
{
    (void)reason;
    kfree_skb(skb);
}

void __dev_kfree_skb_any(struct sk_buff *skb, enum skb_free_reason reason)
{
    (void)reason;
    kfree_skb(skb);
}

void netdev_stats_to_stats64(struct rtnl_link_stats64 *stats64, const struct net_device_stats *netdev_stats)
{
    const unsigned long *src = (const unsigned long *)netdev_stats;
    u64 *dst = (u64 *)stats64;
    size_t n = sizeof(*netdev_stats) / sizeof(unsigned long);

    BUILD_BUG_ON(sizeof(*netdev_stats) / sizeof(unsigned long) > sizeof(*stats64) / sizeof(u64));
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
    memset(dst + n, 0, sizeof(*stats64) - n * sizeof(u64));
}

/* Linux's (net/core/dev.c): the ndo_features_check of drivers whose hardware
 * takes every frame the stack offers as it is. */
netdev_features_t passthru_features_check(struct sk_buff *skb, struct net_device *dev, netdev_features_t features)
{
    (void)skb;
    (void)dev;
    return features;
}
