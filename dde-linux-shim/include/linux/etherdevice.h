/*
 * <linux/etherdevice.h>: Ethernet devices and addresses (csrc/etherdevice.c).
 */
#ifndef _LINUX_ETHERDEVICE_H
#define _LINUX_ETHERDEVICE_H

#include <linux/if_ether.h>
#include <linux/netdevice.h>
#include <linux/random.h>
#include <asm/unaligned.h>

__be16 eth_type_trans(struct sk_buff *skb, struct net_device *dev);
int eth_mac_addr(struct net_device *dev, void *p);
int eth_validate_addr(struct net_device *dev);
int eth_prepare_mac_addr_change(struct net_device *dev, void *p);
void eth_commit_mac_addr_change(struct net_device *dev, void *p);
int eth_change_mtu(struct net_device *dev, int new_mtu);
void ether_setup(struct net_device *dev);
struct net_device *alloc_etherdev_mqs(int sizeof_priv, unsigned int txqs, unsigned int rxqs);
#define alloc_etherdev(sizeof_priv) alloc_etherdev_mq(sizeof_priv, 1)
#define alloc_etherdev_mq(sizeof_priv, count) alloc_etherdev_mqs(sizeof_priv, count, count)
int eth_header_parse(const struct sk_buff *skb, unsigned char *haddr);

static const u8 eth_reserved_addr_base[ETH_ALEN] __aligned(2) = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
#define eth_stp_addr eth_reserved_addr_base

static inline bool is_zero_ether_addr(const u8 *addr)
{
    return (addr[0] | addr[1] | addr[2] | addr[3] | addr[4] | addr[5]) == 0;
}
static inline bool is_multicast_ether_addr(const u8 *addr) { return 0x01 & addr[0]; }
static inline bool is_multicast_ether_addr_64bits(const u8 *addr) { return is_multicast_ether_addr(addr); }
static inline bool is_local_ether_addr(const u8 *addr) { return 0x02 & addr[0]; }
static inline bool is_broadcast_ether_addr(const u8 *addr)
{
    return (addr[0] & addr[1] & addr[2] & addr[3] & addr[4] & addr[5]) == 0xff;
}
static inline bool is_unicast_ether_addr(const u8 *addr) { return !is_multicast_ether_addr(addr); }
static inline bool is_valid_ether_addr(const u8 *addr)
{
    return !is_multicast_ether_addr(addr) && !is_zero_ether_addr(addr);
}
static inline bool is_link_local_ether_addr(const u8 *addr)
{
    return addr[0] == 0x01 && addr[1] == 0x80 && addr[2] == 0xc2 && addr[3] == 0 && addr[4] == 0 &&
           (addr[5] & 0xf0) == 0;
}
static inline bool eth_proto_is_802_3(__be16 proto) { return be16_to_cpu(proto) >= ETH_P_802_3_MIN; }

static inline void eth_random_addr(u8 *addr)
{
    get_random_bytes(addr, ETH_ALEN);
    addr[0] &= 0xfe; /* clear multicast bit */
    addr[0] |= 0x02; /* set local assignment bit (IEEE802) */
}
#define random_ether_addr(addr) eth_random_addr(addr)
static inline void eth_broadcast_addr(u8 *addr) { memset(addr, 0xff, ETH_ALEN); }
static inline void eth_zero_addr(u8 *addr) { memset(addr, 0x00, ETH_ALEN); }
static inline void ether_addr_copy(u8 *dst, const u8 *src)
{
    u16 *a = (u16 *)dst;
    const u16 *b = (const u16 *)src;

    a[0] = b[0];
    a[1] = b[1];
    a[2] = b[2];
}
static inline bool ether_addr_equal(const u8 *addr1, const u8 *addr2)
{
    const u16 *a = (const u16 *)addr1;
    const u16 *b = (const u16 *)addr2;

    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2])) == 0;
}
static inline bool ether_addr_equal_64bits(const u8 *addr1, const u8 *addr2) { return ether_addr_equal(addr1, addr2); }
static inline bool ether_addr_equal_unaligned(const u8 *addr1, const u8 *addr2)
{
    return memcmp(addr1, addr2, ETH_ALEN) == 0;
}
static inline bool ether_addr_equal_masked(const u8 *addr1, const u8 *addr2, const u8 *mask)
{
    for (int i = 0; i < ETH_ALEN; i++)
        if ((addr1[i] ^ addr2[i]) & mask[i])
            return false;
    return true;
}
static inline u64 ether_addr_to_u64(const u8 *addr)
{
    u64 u = 0;
    for (int i = 0; i < ETH_ALEN; i++)
        u = u << 8 | addr[i];
    return u;
}
static inline void u64_to_ether_addr(u64 u, u8 *addr)
{
    for (int i = ETH_ALEN - 1; i >= 0; i--) {
        addr[i] = u & 0xff;
        u = u >> 8;
    }
}

static inline void eth_hw_addr_set(struct net_device *dev, const u8 *addr)
{
    dev_addr_set(dev, addr);
}
static inline void eth_hw_addr_random(struct net_device *dev)
{
    u8 addr[ETH_ALEN];

    eth_random_addr(addr);
    eth_hw_addr_set(dev, addr);
    dev->addr_assign_type = 1; /* NET_ADDR_RANDOM */
}
static inline void eth_hw_addr_inherit(struct net_device *dst, struct net_device *src)
{
    dst->addr_assign_type = src->addr_assign_type;
    eth_hw_addr_set(dst, src->dev_addr);
}
static inline void eth_hw_addr_gen(struct net_device *dev, const u8 *base_addr, unsigned int id)
{
    u64 u = ether_addr_to_u64(base_addr);
    u8 addr[ETH_ALEN];

    u += id;
    u64_to_ether_addr(u, addr);
    eth_hw_addr_set(dev, addr);
}

/* Pads a frame to the Ethernet minimum; frees the skb on failure. */
static inline int eth_skb_pad(struct sk_buff *skb) { return skb_put_padto(skb, ETH_ZLEN); }

#define NET_ADDR_PERM 0
#define NET_ADDR_RANDOM 1
#define NET_ADDR_STOLEN 2
#define NET_ADDR_SET 3

#endif
