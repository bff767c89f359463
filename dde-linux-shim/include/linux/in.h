/* <linux/in.h>: IP protocol numbers and IPv4 addresses. */
#ifndef _LINUX_IN_H
#define _LINUX_IN_H
#include <linux/socket.h>
#include <linux/types.h>
#include <asm/byteorder.h>
enum {
    IPPROTO_IP = 0,
    IPPROTO_ICMP = 1,
    IPPROTO_IGMP = 2,
    IPPROTO_TCP = 6,
    IPPROTO_UDP = 17,
    IPPROTO_IPV6 = 41,
    IPPROTO_GRE = 47,
    IPPROTO_ESP = 50,
    IPPROTO_AH = 51,
    IPPROTO_ICMPV6 = 58,
    IPPROTO_SCTP = 132,
    IPPROTO_UDPLITE = 136,
    IPPROTO_RAW = 255,
};
#define IPPROTO_HOPOPTS 0
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_NONE 59
#define IPPROTO_DSTOPTS 60
struct in_addr {
    __be32 s_addr;
};
#define INADDR_ANY ((unsigned long int)0x00000000)
#define INADDR_BROADCAST ((unsigned long int)0xffffffff)
#endif
