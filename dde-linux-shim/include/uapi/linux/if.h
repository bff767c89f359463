/* Interface flags and struct ifreq (the user-visible network interface ABI). */
#ifndef _UAPI_LINUX_IF_H
#define _UAPI_LINUX_IF_H

#include <linux/socket.h>
#include <linux/types.h>

#define IFNAMSIZ 16
#define IFALIASZ 256
#define ALTIFNAMSIZ 128

#define IFF_UP (1 << 0)
#define IFF_BROADCAST (1 << 1)
#define IFF_DEBUG (1 << 2)
#define IFF_LOOPBACK (1 << 3)
#define IFF_POINTOPOINT (1 << 4)
#define IFF_NOTRAILERS (1 << 5)
#define IFF_RUNNING (1 << 6)
#define IFF_NOARP (1 << 7)
#define IFF_PROMISC (1 << 8)
#define IFF_ALLMULTI (1 << 9)
#define IFF_MASTER (1 << 10)
#define IFF_SLAVE (1 << 11)
#define IFF_MULTICAST (1 << 12)
#define IFF_PORTSEL (1 << 13)
#define IFF_AUTOMEDIA (1 << 14)
#define IFF_DYNAMIC (1 << 15)
#define IFF_LOWER_UP (1 << 16)
#define IFF_DORMANT (1 << 17)
#define IFF_ECHO (1 << 18)

#define IF_PORT_UNKNOWN 0
#define IF_PORT_10BASE2 1
#define IF_PORT_10BASET 2
#define IF_PORT_AUI 3
#define IF_PORT_100BASET 4
#define IF_PORT_100BASETX 5
#define IF_PORT_100BASEFX 6

struct ifmap {
    unsigned long mem_start;
    unsigned long mem_end;
    unsigned short base_addr;
    unsigned char irq;
    unsigned char dma;
    unsigned char port;
};

struct ifreq {
    union {
        char ifrn_name[IFNAMSIZ];
    } ifr_ifrn;
    union {
        struct sockaddr ifru_addr;
        struct sockaddr ifru_dstaddr;
        struct sockaddr ifru_broadaddr;
        struct sockaddr ifru_netmask;
        struct sockaddr ifru_hwaddr;
        short ifru_flags;
        int ifru_ivalue;
        int ifru_mtu;
        struct ifmap ifru_map;
        char ifru_slave[IFNAMSIZ];
        char ifru_newname[IFNAMSIZ];
        void __user *ifru_data;
    } ifr_ifru;
};
#define ifr_name ifr_ifrn.ifrn_name
#define ifr_hwaddr ifr_ifru.ifru_hwaddr
#define ifr_addr ifr_ifru.ifru_addr
#define ifr_flags ifr_ifru.ifru_flags
#define ifr_metric ifr_ifru.ifru_ivalue
#define ifr_mtu ifr_ifru.ifru_mtu
#define ifr_map ifr_ifru.ifru_map
#define ifr_data ifr_ifru.ifru_data
#define ifr_ifindex ifr_ifru.ifru_ivalue

#endif
