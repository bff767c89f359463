/* <net/pkt_sched.h>: the host queues frames itself; nothing here but the header. */
#ifndef _NET_PKT_SCHED_H
#define _NET_PKT_SCHED_H
#include <linux/netdevice.h>
#endif
