/*
 * Ethernet devices: ether_setup defaults, alloc_etherdev, eth_type_trans on
 * receive, and the MAC-address ndo helpers.
 */
#include <linux/etherdevice.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>

#include "internal.h"
#include "net.h"

#define ARPHRD_ETHER 1

void ether_setup(struct net_device *dev)
{
    dev->header_ops = NULL;
    dev->type = ARPHRD_ETHER;
    dev->hard_header_len = ETH_HLEN;
    dev->min_header_len = ETH_HLEN;
    dev->mtu = ETH_DATA_LEN;
    dev->min_mtu = ETH_MIN_MTU;
    dev->max_mtu = ETH_DATA_LEN;
    dev->addr_len = ETH_ALEN;
    dev->tx_queue_len = 1000;
    dev->flags = IFF_BROADCAST | IFF_MULTICAST;
    dev->priv_flags |= IFF_TX_SKB_SHARING;
    eth_broadcast_addr(dev->broadcast);
}

struct net_device *alloc_etherdev_mqs(int sizeof_priv, unsigned int txqs, unsigned int rxqs)
{
    return alloc_netdev_mqs(sizeof_priv, "eth%d", NET_NAME_ENUM, ether_setup, txqs, rxqs);
}

/* Sets the packet type and the MAC header, pulls the Ethernet header and
 * returns the protocol (or the 802.3/802.2 pseudo protocols). */
__be16 eth_type_trans(struct sk_buff *skb, struct net_device *dev)
{
    const struct ethhdr *eth;

    skb->dev = dev;
    skb_reset_mac_header(skb);
    eth = (const struct ethhdr *)skb->data;
    skb_pull(skb, ETH_HLEN);
    if (unlikely(!ether_addr_equal_64bits(eth->h_dest, dev->dev_addr))) {
        if (unlikely(is_multicast_ether_addr_64bits(eth->h_dest))) {
            if (ether_addr_equal_64bits(eth->h_dest, dev->broadcast))
                skb->pkt_type = PACKET_BROADCAST;
            else
                skb->pkt_type = PACKET_MULTICAST;
        } else {
            skb->pkt_type = PACKET_OTHERHOST;
        }
    }
    if (likely(eth_proto_is_802_3(eth->h_proto)))
        return eth->h_proto;
    /* Raw 802.3 frames carrying IPX start with 0xFFFF; others are 802.2 LLC. */
    if (skb->len >= 2 && *(const u16 *)skb->data == 0xFFFF)
        return htons(ETH_P_802_3);
    return htons(ETH_P_802_2);
}

int eth_header_parse(const struct sk_buff *skb, unsigned char *haddr)
{
    const struct ethhdr *eth = eth_hdr(skb);

    memcpy(haddr, eth->h_source, ETH_ALEN);
    return ETH_ALEN;
}

int eth_prepare_mac_addr_change(struct net_device *dev, void *p)
{
    struct sockaddr *addr = p;

    if (!(dev->priv_flags & IFF_LIVE_ADDR_CHANGE) && netif_running(dev))
        return -EBUSY;
    if (!is_valid_ether_addr((const u8 *)addr->sa_data))
        return -EADDRNOTAVAIL;
    return 0;
}

void eth_commit_mac_addr_change(struct net_device *dev, void *p)
{
    struct sockaddr *addr = p;

    eth_hw_addr_set(dev, (const u8 *)addr->sa_data);
}

int eth_mac_addr(struct net_device *dev, void *p)
{
    int ret = eth_prepare_mac_addr_change(dev, p);

    if (ret < 0)
        return ret;
    eth_commit_mac_addr_change(dev, p);
    return 0;
}

int eth_validate_addr(struct net_device *dev)
{
    if (!is_valid_ether_addr(dev->dev_addr))
        return -EADDRNOTAVAIL;
    return 0;
}

int eth_change_mtu(struct net_device *dev, int new_mtu)
{
    dev->mtu = (unsigned int)new_mtu;
    return 0;
}
