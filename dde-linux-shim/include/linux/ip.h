/* <linux/ip.h>: the IPv4 header (RFC 791). */
#ifndef _LINUX_IP_H
#define _LINUX_IP_H
#include <linux/skbuff.h>
#include <linux/types.h>
#define IPTOS_TOS_MASK 0x1E
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF
struct iphdr {
#if defined(__LITTLE_ENDIAN_BITFIELD)
    __u8 ihl : 4, version : 4;
#else
    __u8 version : 4, ihl : 4;
#endif
    __u8 tos;
    __be16 tot_len;
    __be16 id;
    __be16 frag_off;
    __u8 ttl;
    __u8 protocol;
    __sum16 check;
    __be32 saddr;
    __be32 daddr;
};
static inline struct iphdr *ip_hdr(const struct sk_buff *skb) { return (struct iphdr *)skb_network_header(skb); }
static inline unsigned int ip_hdrlen(const struct sk_buff *skb) { return ip_hdr(skb)->ihl * 4; }
#endif
