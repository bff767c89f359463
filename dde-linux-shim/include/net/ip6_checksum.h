/* <net/ip6_checksum.h>: the IPv6 pseudo-header checksum (RFC 8200 8.1). */
#ifndef _NET_IP6_CHECKSUM_H
#define _NET_IP6_CHECKSUM_H
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <net/checksum.h>
__sum16 csum_ipv6_magic(const struct in6_addr *saddr, const struct in6_addr *daddr, __u32 len, __u8 proto,
                        __wsum csum);
/* Prepares a TSO frame for hardware that fills the TCP checksum in. */
static inline void tcp_v6_gso_csum_prep(struct sk_buff *skb)
{
    struct ipv6hdr *ipv6h = ipv6_hdr(skb);
    struct tcphdr *th = tcp_hdr(skb);

    ipv6h->payload_len = 0;
    th->check = ~csum_ipv6_magic(&ipv6h->saddr, &ipv6h->daddr, 0, IPPROTO_TCP, 0);
}
#endif
