/*
 * <linux/if_vlan.h>: 802.1Q tags. Received frames whose tag the hardware
 * stripped carry it in skb->vlan_tci; the shim puts it back into the frame
 * before handing it to the host.
 */
#ifndef _LINUX_IF_VLAN_H
#define _LINUX_IF_VLAN_H

#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>

#define VLAN_HLEN 4
#define VLAN_ETH_HLEN 18
#define VLAN_ETH_ZLEN 64
#define VLAN_ETH_DATA_LEN 1500
#define VLAN_ETH_FRAME_LEN 1518
#define VLAN_PRIO_MASK 0xe000
#define VLAN_PRIO_SHIFT 13
#define VLAN_CFI_MASK 0x1000
#define VLAN_TAG_PRESENT VLAN_CFI_MASK
#define VLAN_VID_MASK 0x0fff
#define VLAN_N_VID 4096
#define VLAN_TAG_SIZE 4

struct vlan_hdr {
    __be16 h_vlan_TCI;
    __be16 h_vlan_encapsulated_proto;
};

struct vlan_ethhdr {
    unsigned char h_dest[ETH_ALEN];
    unsigned char h_source[ETH_ALEN];
    __be16 h_vlan_proto;
    __be16 h_vlan_TCI;
    __be16 h_vlan_encapsulated_proto;
};

static inline struct vlan_ethhdr *vlan_eth_hdr(const struct sk_buff *skb) { return (struct vlan_ethhdr *)skb_mac_header(skb); }

static inline bool eth_type_vlan(__be16 ethertype)
{
    return ethertype == htons(ETH_P_8021Q) || ethertype == htons(ETH_P_8021AD);
}

#define skb_vlan_tag_present(__skb) ((__skb)->vlan_present)
#define skb_vlan_tag_get(__skb) ((__skb)->vlan_tci)
#define skb_vlan_tag_get_id(__skb) ((__skb)->vlan_tci & VLAN_VID_MASK)
#define skb_vlan_tag_get_prio(__skb) (((__skb)->vlan_tci & VLAN_PRIO_MASK) >> VLAN_PRIO_SHIFT)

static inline void __vlan_hwaccel_put_tag(struct sk_buff *skb, __be16 vlan_proto, u16 vlan_tci)
{
    skb->vlan_proto = vlan_proto;
    skb->vlan_tci = vlan_tci;
    skb->vlan_present = 1;
}
static inline void __vlan_hwaccel_clear_tag(struct sk_buff *skb) { skb->vlan_present = 0; }

static inline __be16 __vlan_get_protocol(const struct sk_buff *skb, __be16 type, int *depth)
{
    unsigned int vlan_depth = skb->mac_len;

    if (eth_type_vlan(type)) {
        if (vlan_depth) {
            if (WARN_ON(vlan_depth < VLAN_HLEN))
                return 0;
            vlan_depth -= VLAN_HLEN;
        } else {
            vlan_depth = ETH_HLEN;
        }
        do {
            struct vlan_hdr vhdr;

            if (skb_copy_bits(skb, (int)vlan_depth, &vhdr, sizeof(vhdr)) < 0)
                return 0;
            type = vhdr.h_vlan_encapsulated_proto;
            vlan_depth += VLAN_HLEN;
        } while (eth_type_vlan(type));
    }
    if (depth)
        *depth = (int)vlan_depth;
    return type;
}
static inline __be16 vlan_get_protocol(const struct sk_buff *skb) { return __vlan_get_protocol(skb, skb->protocol, NULL); }

/* More than one 802.1Q tag (in the skb's metadata or in the frame). */
static inline bool skb_vlan_tagged_multi(struct sk_buff *skb)
{
    __be16 protocol = skb->protocol;

    if (!skb_vlan_tag_present(skb)) {
        struct vlan_ethhdr *veh;

        if (likely(!eth_type_vlan(protocol)))
            return false;
        if (unlikely(!pskb_may_pull(skb, VLAN_ETH_HLEN)))
            return false;
        veh = (struct vlan_ethhdr *)skb->data;
        protocol = veh->h_vlan_encapsulated_proto;
    }
    return eth_type_vlan(protocol);
}

static inline netdev_features_t vlan_features_check(struct sk_buff *skb, netdev_features_t features)
{
    if (skb_vlan_tagged_multi(skb))
        features &= NETIF_F_SG | NETIF_F_HIGHDMA | NETIF_F_HW_CSUM | NETIF_F_FRAGLIST |
                    NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_STAG_TX;
    return features;
}

static inline bool is_vlan_dev(const struct net_device *dev) { return dev->priv_flags & IFF_802_1Q_VLAN; }

#endif
