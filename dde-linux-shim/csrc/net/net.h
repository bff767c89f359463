/*
 * The network class's private declarations, shared by its files (csrc/net):
 * NAPI's softirq work, the receive path to the host, receive modes, the
 * transmit watchdog, the registered devices and the shim's sk_buff.
 */
#ifndef DDE_LINUX_NET_H
#define DDE_LINUX_NET_H

#include <linux/netdevice.h>
#include <linux/skbuff.h>

/* Receive path (csrc/net/netdevice.c): hands the frame in `skb` to the host. */
void dde_deliver_rx(struct sk_buff *skb);

/* Applies dev's receive mode (csrc/net/netdevice.c; the address list lock held). */
void __dev_set_rx_mode(struct net_device *dev);

/* Watchdog (csrc/net/netdevice.c). */
void dde_watchdog_up(struct net_device *dev);
void dde_watchdog_down(struct net_device *dev);

/* Registered devices (csrc/net/netdevice.c). */
#define DDE_MAX_NETDEVS 8
extern struct net_device *dde_netdevs[DDE_MAX_NETDEVS];
extern int dde_netdev_nr;

/* Every sk_buff (csrc/net/skbuff.c): Linux's, and the host's transmit cookie,
 * reported to the host when the skb is freed (csrc/net/host.c). */
struct dde_skb {
    struct sk_buff skb;
    u64 cookie;
    struct net_device *tx_dev;
    bool has_cookie;
};
struct dde_skb *dde_skb(struct sk_buff *skb);

#endif
