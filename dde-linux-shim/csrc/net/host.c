/*
 * The network class's side of the host contract (include/resurgo/net.h):
 * device queries, configuration under the rtnl lock, and transmission of the
 * host's frames through the driver's ndo_start_xmit.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <resurgo/net.h>

#include "internal.h"
#include "net.h"

int dde_mc_list_set(struct net_device *dev, const u8 *mc, int n);

int dde_netdev_count(void) { return dde_netdev_nr; }

resurgo_netdev_t dde_netdev_get(int n) { return n >= 0 && n < dde_netdev_nr ? dde_netdevs[n] : NULL; }

const char *dde_netdev_name(resurgo_netdev_t dev) { return dev->name; }

void dde_netdev_mac(resurgo_netdev_t dev, uint8_t mac[6]) { memcpy(mac, dev->dev_addr, ETH_ALEN); }

int dde_netdev_mtu(resurgo_netdev_t dev) { return (int)dev->mtu; }

unsigned dde_netdev_rx_flags(resurgo_netdev_t dev) { return dev->flags & (IFF_PROMISC | IFF_ALLMULTI); }

int dde_netdev_mc_count(resurgo_netdev_t dev) { return netdev_mc_count(dev); }

int dde_netdev_open(resurgo_netdev_t dev)
{
    int err;

    rtnl_lock();
    err = dev_open(dev, NULL);
    rtnl_unlock();
    return err;
}

int dde_netdev_stop(resurgo_netdev_t dev)
{
    rtnl_lock();
    dev_close(dev);
    rtnl_unlock();
    return 0;
}

int dde_netdev_queue_stopped(resurgo_netdev_t dev)
{
    return netif_xmit_frozen_or_stopped(netdev_get_tx_queue(dev, 0)) || !netif_device_present(dev);
}

int dde_netdev_carrier_ok(resurgo_netdev_t dev) { return netif_carrier_ok(dev); }

int dde_netdev_grow_rx_ring(resurgo_netdev_t dev, unsigned int want)
{
    const struct ethtool_ops *ops = dev->ethtool_ops;
    struct ethtool_ringparam ring = { .cmd = ETHTOOL_GRINGPARAM };
    struct kernel_ethtool_ringparam kring = {};
    int err;

    if (!ops || !ops->get_ringparam || !ops->set_ringparam)
        return 0;
    ops->get_ringparam(dev, &ring, &kring, NULL);
    if (want > ring.rx_max_pending)
        want = ring.rx_max_pending;
    if (ring.rx_pending >= want)
        return (int)ring.rx_pending;
    ring.cmd = ETHTOOL_SRINGPARAM;
    ring.rx_pending = want;
    rtnl_lock();
    err = ops->set_ringparam(dev, &ring, &kring, NULL);
    rtnl_unlock();
    return err ? err : (int)want;
}

int dde_netdev_xmit(resurgo_netdev_t dev, const void *frame, size_t len, uint64_t cookie)
{
    struct netdev_queue *txq = netdev_get_tx_queue(dev, 0);
    unsigned int headroom = NET_SKB_PAD + ALIGN(dev->needed_headroom, 16);
    const struct ethhdr *eth = frame;
    struct sk_buff *skb;
    netdev_tx_t rc;

    if (dev->reg_state != NETREG_REGISTERED)
        return -ENODEV;
    if (!netif_running(dev))
        return -ENETDOWN;
    if (len < ETH_HLEN)
        return -EINVAL;
    if (len > (size_t)dev->mtu + VLAN_ETH_HLEN)
        return -EMSGSIZE;
    if (dde_netdev_queue_stopped(dev))
        return 1;
    /* Like Linux without a carrier (its qdisc is deactivated), drop. */
    if (!netif_carrier_ok(dev))
        return -ENOLINK;

    skb = alloc_skb(headroom + max_t(unsigned int, (unsigned int)len, ETH_ZLEN) + dev->needed_tailroom, GFP_ATOMIC);
    if (!skb)
        return -ENOMEM;
    skb_reserve(skb, (int)headroom);
    skb_put_data(skb, frame, (unsigned int)len);
    skb->dev = dev;
    skb_reset_mac_header(skb);
    skb->protocol = eth_proto_is_802_3(eth->h_proto) ? eth->h_proto : htons(ETH_P_802_3);
    skb_set_network_header(skb, eth_type_vlan(eth->h_proto) ? VLAN_ETH_HLEN : ETH_HLEN);
    skb->mac_len = ETH_HLEN;
    skb->ip_summed = CHECKSUM_NONE;

    __netif_tx_lock(txq, 0);
    if (unlikely(netif_xmit_frozen_or_stopped(txq) || !netif_running(dev))) {
        __netif_tx_unlock(txq);
        kfree_skb(skb);
        return 1;
    }
    dde_skb(skb)->cookie = cookie;
    dde_skb(skb)->tx_dev = dev;
    dde_skb(skb)->has_cookie = true;
    /* A read-side section, as in Linux's transmit path: synchronize_rcu()
     * after netif_stop_queue() waits for a transmit in progress. */
    rcu_read_lock();
    rc = dev->netdev_ops->ndo_start_xmit(skb, dev);
    rcu_read_unlock();
    if (rc == NETDEV_TX_OK)
        txq_trans_update(txq);
    __netif_tx_unlock(txq);

    if (rc == NETDEV_TX_BUSY) {
        /* The driver did not take the frame: it is still ours, untold. */
        dde_skb(skb)->has_cookie = false;
        kfree_skb(skb);
        return 1;
    }
    /* NETDEV_TX_OK, or a drop the driver already freed (and so reported). */
    return 0;
}

int dde_netdev_set_mac(resurgo_netdev_t dev, const uint8_t mac[6])
{
    struct sockaddr sa;
    int err;

    sa.sa_family = dev->type;
    memset(sa.sa_data, 0, sizeof(sa.sa_data_min));
    memcpy(sa.sa_data, mac, ETH_ALEN);
    rtnl_lock();
    err = dev_set_mac_address(dev, &sa, NULL);
    rtnl_unlock();
    return err;
}

int dde_netdev_set_mtu(resurgo_netdev_t dev, int mtu)
{
    int err;

    rtnl_lock();
    err = dev_set_mtu(dev, mtu);
    rtnl_unlock();
    return err;
}

int dde_netdev_set_rx_mode(resurgo_netdev_t dev, unsigned flags, const uint8_t *mc, int n)
{
    const unsigned int mask = IFF_PROMISC | IFF_ALLMULTI;
    unsigned int changes;
    int err;

    if (n < 0 || (n > 0 && !mc))
        return -EINVAL;
    rtnl_lock();
    changes = (dev->flags ^ flags) & mask;
    dev->flags = (dev->flags & ~mask) | (flags & mask);
    dev->promiscuity = (flags & IFF_PROMISC) ? 1 : 0;
    dev->allmulti = (flags & IFF_ALLMULTI) ? 1 : 0;
    if (changes && (dev->flags & IFF_UP) && dev->netdev_ops->ndo_change_rx_flags)
        dev->netdev_ops->ndo_change_rx_flags(dev, (int)changes);
    netif_addr_lock_bh(dev);
    err = dde_mc_list_set(dev, mc, n);
    __dev_set_rx_mode(dev);
    netif_addr_unlock_bh(dev);
    rtnl_unlock();
    return err;
}
