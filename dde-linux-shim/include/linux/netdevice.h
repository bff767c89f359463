/*
 * <linux/netdevice.h>: network devices, their transmit queue, NAPI and the
 * receive path (csrc/netdevice.c, csrc/napi.c).
 *
 * A registered net_device is what the Resurgo host attaches to netd: frames
 * received through netif_rx/netif_receive_skb/napi_gro_* go to
 * resurgo_netdev_rx, queue wake-ups to resurgo_netdev_queue_woken, carrier
 * changes to resurgo_netdev_carrier. The host transmits with dde_netdev_xmit,
 * which calls ndo_start_xmit under the queue's transmit lock.
 */
#ifndef _LINUX_NETDEVICE_H
#define _LINUX_NETDEVICE_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/cache.h>
#include <linux/device.h>
#include <linux/delay.h>
#include <linux/ethtool.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/interrupt.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/netdev_features.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/sockios.h>
#include <linux/spinlock.h>
#include <linux/timer.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <linux/rcupdate.h>
#include <linux/workqueue.h>

struct net_device;
struct netdev_queue;
struct ifreq;
struct ifmap;
struct neigh_parms;
struct netlink_ext_ack;
struct sockaddr;

#define MAX_ADDR_LEN 32
#define NETDEV_ALIGN 32

#define NET_NAME_UNKNOWN 0
#define NET_NAME_ENUM 1
#define NET_NAME_PREDICTABLE 2
#define NET_NAME_USER 3
#define NET_NAME_RENAMED 4

#define NETDEV_BOOT_SETUP_MAX 8

enum netdev_tx {
    __NETDEV_TX_MIN = -100,
    NETDEV_TX_OK = 0x00,
    NETDEV_TX_BUSY = 0x10,
};
typedef enum netdev_tx netdev_tx_t;

#define NET_RX_SUCCESS 0
#define NET_RX_DROP 1
#define NET_XMIT_SUCCESS 0x00
#define NET_XMIT_DROP 0x01
#define NET_XMIT_CN 0x02

typedef enum gro_result {
    GRO_MERGED,
    GRO_MERGED_FREE,
    GRO_HELD,
    GRO_NORMAL,
    GRO_CONSUMED,
} gro_result_t;

/* Device-private flags (dev->priv_flags). */
enum netdev_priv_flags {
    IFF_802_1Q_VLAN = 1 << 0,
    IFF_EBRIDGE = 1 << 1,
    IFF_BONDING = 1 << 2,
    IFF_ISATAP = 1 << 3,
    IFF_WAN_HDLC = 1 << 4,
    IFF_XMIT_DST_RELEASE = 1 << 5,
    IFF_DONT_BRIDGE = 1 << 6,
    IFF_DISABLE_NETPOLL = 1 << 7,
    IFF_MACVLAN_PORT = 1 << 8,
    IFF_BRIDGE_PORT = 1 << 9,
    IFF_OVS_DATAPATH = 1 << 10,
    IFF_TX_SKB_SHARING = 1 << 11,
    IFF_UNICAST_FLT = 1 << 12,
    IFF_TEAM_PORT = 1 << 13,
    IFF_SUPP_NOFCS = 1 << 14,
    IFF_LIVE_ADDR_CHANGE = 1 << 15,
    IFF_MACVLAN = 1 << 16,
    IFF_XMIT_DST_RELEASE_PERM = 1 << 17,
    IFF_L3MDEV_MASTER = 1 << 18,
    IFF_NO_QUEUE = 1 << 19,
    IFF_OPENVSWITCH = 1 << 20,
    IFF_L3MDEV_SLAVE = 1 << 21,
    IFF_TEAM = 1 << 22,
    IFF_RXFH_CONFIGURED = 1 << 23,
    IFF_PHONY_HEADROOM = 1 << 24,
    IFF_MACSEC = 1 << 25,
    IFF_NO_RX_HANDLER = 1 << 26,
    IFF_FAILOVER = 1 << 27,
    IFF_FAILOVER_SLAVE = 1 << 28,
    IFF_L3MDEV_RX_HANDLER = 1 << 29,
    IFF_LIVE_RENAME_OK = 1 << 30,
    IFF_TX_SKB_NO_LINEAR = 1U << 31,
};

/* dev->state bits */
enum netdev_state_t {
    __LINK_STATE_START,
    __LINK_STATE_PRESENT,
    __LINK_STATE_NOCARRIER,
    __LINK_STATE_LINKWATCH_PENDING,
    __LINK_STATE_DORMANT,
    __LINK_STATE_TESTING,
};

/* txq->state bits */
enum netdev_queue_state_t {
    __QUEUE_STATE_DRV_XOFF,
    __QUEUE_STATE_STACK_XOFF,
    __QUEUE_STATE_FROZEN,
};
#define QUEUE_STATE_DRV_XOFF (1 << __QUEUE_STATE_DRV_XOFF)
#define QUEUE_STATE_STACK_XOFF (1 << __QUEUE_STATE_STACK_XOFF)
#define QUEUE_STATE_ANY_XOFF (QUEUE_STATE_DRV_XOFF | QUEUE_STATE_STACK_XOFF)

enum netdev_reg_state {
    NETREG_UNINITIALIZED = 0,
    NETREG_REGISTERED,
    NETREG_UNREGISTERING,
    NETREG_UNREGISTERED,
    NETREG_RELEASED,
    NETREG_DUMMY,
};

/* NETIF_MSG_* bits for the drivers' msg_enable */
enum {
    NETIF_MSG_DRV_BIT,
    NETIF_MSG_PROBE_BIT,
    NETIF_MSG_LINK_BIT,
    NETIF_MSG_TIMER_BIT,
    NETIF_MSG_IFDOWN_BIT,
    NETIF_MSG_IFUP_BIT,
    NETIF_MSG_RX_ERR_BIT,
    NETIF_MSG_TX_ERR_BIT,
    NETIF_MSG_TX_QUEUED_BIT,
    NETIF_MSG_INTR_BIT,
    NETIF_MSG_TX_DONE_BIT,
    NETIF_MSG_RX_STATUS_BIT,
    NETIF_MSG_PKTDATA_BIT,
    NETIF_MSG_HW_BIT,
    NETIF_MSG_WOL_BIT,
};
#define NETIF_MSG_DRV (1 << NETIF_MSG_DRV_BIT)
#define NETIF_MSG_PROBE (1 << NETIF_MSG_PROBE_BIT)
#define NETIF_MSG_LINK (1 << NETIF_MSG_LINK_BIT)
#define NETIF_MSG_TIMER (1 << NETIF_MSG_TIMER_BIT)
#define NETIF_MSG_IFDOWN (1 << NETIF_MSG_IFDOWN_BIT)
#define NETIF_MSG_IFUP (1 << NETIF_MSG_IFUP_BIT)
#define NETIF_MSG_RX_ERR (1 << NETIF_MSG_RX_ERR_BIT)
#define NETIF_MSG_TX_ERR (1 << NETIF_MSG_TX_ERR_BIT)
#define NETIF_MSG_TX_QUEUED (1 << NETIF_MSG_TX_QUEUED_BIT)
#define NETIF_MSG_INTR (1 << NETIF_MSG_INTR_BIT)
#define NETIF_MSG_TX_DONE (1 << NETIF_MSG_TX_DONE_BIT)
#define NETIF_MSG_RX_STATUS (1 << NETIF_MSG_RX_STATUS_BIT)
#define NETIF_MSG_PKTDATA (1 << NETIF_MSG_PKTDATA_BIT)
#define NETIF_MSG_HW (1 << NETIF_MSG_HW_BIT)
#define NETIF_MSG_WOL (1 << NETIF_MSG_WOL_BIT)

#define netif_msg_drv(p) ((p)->msg_enable & NETIF_MSG_DRV)
#define netif_msg_probe(p) ((p)->msg_enable & NETIF_MSG_PROBE)
#define netif_msg_link(p) ((p)->msg_enable & NETIF_MSG_LINK)
#define netif_msg_timer(p) ((p)->msg_enable & NETIF_MSG_TIMER)
#define netif_msg_ifdown(p) ((p)->msg_enable & NETIF_MSG_IFDOWN)
#define netif_msg_ifup(p) ((p)->msg_enable & NETIF_MSG_IFUP)
#define netif_msg_rx_err(p) ((p)->msg_enable & NETIF_MSG_RX_ERR)
#define netif_msg_tx_err(p) ((p)->msg_enable & NETIF_MSG_TX_ERR)
#define netif_msg_tx_queued(p) ((p)->msg_enable & NETIF_MSG_TX_QUEUED)
#define netif_msg_intr(p) ((p)->msg_enable & NETIF_MSG_INTR)
#define netif_msg_tx_done(p) ((p)->msg_enable & NETIF_MSG_TX_DONE)
#define netif_msg_rx_status(p) ((p)->msg_enable & NETIF_MSG_RX_STATUS)
#define netif_msg_pktdata(p) ((p)->msg_enable & NETIF_MSG_PKTDATA)
#define netif_msg_hw(p) ((p)->msg_enable & NETIF_MSG_HW)
#define netif_msg_wol(p) ((p)->msg_enable & NETIF_MSG_WOL)

static inline u32 netif_msg_init(int debug_value, int default_msg_enable_bits)
{
    if (debug_value < 0 || debug_value >= (int)(sizeof(u32) * 8))
        return (u32)default_msg_enable_bits;
    if (debug_value == 0)
        return 0;
    return (1U << debug_value) - 1;
}

struct net_device_stats {
    unsigned long rx_packets;
    unsigned long tx_packets;
    unsigned long rx_bytes;
    unsigned long tx_bytes;
    unsigned long rx_errors;
    unsigned long tx_errors;
    unsigned long rx_dropped;
    unsigned long tx_dropped;
    unsigned long multicast;
    unsigned long collisions;
    unsigned long rx_length_errors;
    unsigned long rx_over_errors;
    unsigned long rx_crc_errors;
    unsigned long rx_frame_errors;
    unsigned long rx_fifo_errors;
    unsigned long rx_missed_errors;
    unsigned long tx_aborted_errors;
    unsigned long tx_carrier_errors;
    unsigned long tx_fifo_errors;
    unsigned long tx_heartbeat_errors;
    unsigned long tx_window_errors;
    unsigned long rx_compressed;
    unsigned long tx_compressed;
};

struct rtnl_link_stats64 {
    __u64 rx_packets;
    __u64 tx_packets;
    __u64 rx_bytes;
    __u64 tx_bytes;
    __u64 rx_errors;
    __u64 tx_errors;
    __u64 rx_dropped;
    __u64 tx_dropped;
    __u64 multicast;
    __u64 collisions;
    __u64 rx_length_errors;
    __u64 rx_over_errors;
    __u64 rx_crc_errors;
    __u64 rx_frame_errors;
    __u64 rx_fifo_errors;
    __u64 rx_missed_errors;
    __u64 tx_aborted_errors;
    __u64 tx_carrier_errors;
    __u64 tx_fifo_errors;
    __u64 tx_heartbeat_errors;
    __u64 tx_window_errors;
    __u64 rx_compressed;
    __u64 tx_compressed;
    __u64 rx_nohandler;
};

/* Widens the classic counters into the 64-bit ones (the fields correspond
 * one to one, in the same order), clearing the rest. */
void netdev_stats_to_stats64(struct rtnl_link_stats64 *stats64, const struct net_device_stats *netdev_stats);

/* Hardware address lists (unicast and multicast filters). */
#define NETDEV_HW_ADDR_T_LAN 1
#define NETDEV_HW_ADDR_T_SAN 2
#define NETDEV_HW_ADDR_T_UNICAST 3
#define NETDEV_HW_ADDR_T_MULTICAST 4

struct netdev_hw_addr {
    struct list_head list;
    unsigned char addr[MAX_ADDR_LEN];
    unsigned char type;
    bool global_use;
    int sync_cnt;
    int refcount;
    int synced;
};

struct netdev_hw_addr_list {
    struct list_head list;
    int count;
};

#define netdev_hw_addr_list_count(l) ((l)->count)
#define netdev_hw_addr_list_empty(l) (netdev_hw_addr_list_count(l) == 0)
#define netdev_hw_addr_list_for_each(ha, l) list_for_each_entry(ha, &(l)->list, list)
#define netdev_uc_count(dev) netdev_hw_addr_list_count(&(dev)->uc)
#define netdev_uc_empty(dev) netdev_hw_addr_list_empty(&(dev)->uc)
#define netdev_for_each_uc_addr(ha, dev) netdev_hw_addr_list_for_each(ha, &(dev)->uc)
#define netdev_mc_count(dev) netdev_hw_addr_list_count(&(dev)->mc)
#define netdev_mc_empty(dev) netdev_hw_addr_list_empty(&(dev)->mc)
#define netdev_for_each_mc_addr(ha, dev) netdev_hw_addr_list_for_each(ha, &(dev)->mc)

/* NAPI */
enum {
    NAPI_STATE_SCHED,
    NAPI_STATE_MISSED,
    NAPI_STATE_DISABLE,
    NAPI_STATE_NPSVC,
    NAPI_STATE_LISTED,
    NAPI_STATE_NO_BUSY_POLL,
    NAPI_STATE_IN_BUSY_POLL,
    NAPI_STATE_PREFER_BUSY_POLL,
    NAPI_STATE_THREADED,
    NAPI_STATE_SCHED_THREADED,
};
#define NAPIF_STATE_SCHED BIT(NAPI_STATE_SCHED)
#define NAPIF_STATE_MISSED BIT(NAPI_STATE_MISSED)
#define NAPIF_STATE_DISABLE BIT(NAPI_STATE_DISABLE)
#define NAPIF_STATE_NPSVC BIT(NAPI_STATE_NPSVC)
#define NAPIF_STATE_LISTED BIT(NAPI_STATE_LISTED)
#define NAPIF_STATE_IN_BUSY_POLL BIT(NAPI_STATE_IN_BUSY_POLL)
#define NAPIF_STATE_PREFER_BUSY_POLL BIT(NAPI_STATE_PREFER_BUSY_POLL)

#define NAPI_POLL_WEIGHT 64

struct napi_struct {
    struct list_head poll_list; /* on the softirq thread's poll list while scheduled */
    unsigned long state;
    int weight;
    int defer_hard_irqs_count;
    unsigned long gro_bitmask;
    int (*poll)(struct napi_struct *, int);
    struct net_device *dev;
    struct sk_buff *skb; /* napi_get_frags()'s skb */
    struct list_head dev_list;
    unsigned int napi_id;
};

struct netdev_queue {
    struct net_device *dev;
    unsigned long state;
    unsigned long trans_start;
    unsigned long trans_timeout;
    spinlock_t _xmit_lock;
    int xmit_lock_owner;
};

struct net_device_ops {
    int (*ndo_init)(struct net_device *dev);
    void (*ndo_uninit)(struct net_device *dev);
    int (*ndo_open)(struct net_device *dev);
    int (*ndo_stop)(struct net_device *dev);
    netdev_tx_t (*ndo_start_xmit)(struct sk_buff *skb, struct net_device *dev);
    netdev_features_t (*ndo_features_check)(struct sk_buff *skb, struct net_device *dev,
                                            netdev_features_t features);
    u16 (*ndo_select_queue)(struct net_device *dev, struct sk_buff *skb, struct net_device *sb_dev);
    void (*ndo_change_rx_flags)(struct net_device *dev, int flags);
    void (*ndo_set_rx_mode)(struct net_device *dev);
    int (*ndo_set_mac_address)(struct net_device *dev, void *addr);
    int (*ndo_validate_addr)(struct net_device *dev);
    int (*ndo_do_ioctl)(struct net_device *dev, struct ifreq *ifr, int cmd);
    int (*ndo_eth_ioctl)(struct net_device *dev, struct ifreq *ifr, int cmd);
    int (*ndo_siocdevprivate)(struct net_device *dev, struct ifreq *ifr, void __user *data, int cmd);
    int (*ndo_set_config)(struct net_device *dev, struct ifmap *map);
    int (*ndo_change_mtu)(struct net_device *dev, int new_mtu);
    int (*ndo_neigh_setup)(struct net_device *dev, struct neigh_parms *);
    void (*ndo_tx_timeout)(struct net_device *dev, unsigned int txqueue);
    void (*ndo_get_stats64)(struct net_device *dev, struct rtnl_link_stats64 *storage);
    struct net_device_stats *(*ndo_get_stats)(struct net_device *dev);
    int (*ndo_vlan_rx_add_vid)(struct net_device *dev, __be16 proto, u16 vid);
    int (*ndo_vlan_rx_kill_vid)(struct net_device *dev, __be16 proto, u16 vid);
    void (*ndo_poll_controller)(struct net_device *dev);
    netdev_features_t (*ndo_fix_features)(struct net_device *dev, netdev_features_t features);
    int (*ndo_set_features)(struct net_device *dev, netdev_features_t features);
    int (*ndo_change_carrier)(struct net_device *dev, bool new_carrier);
    int (*ndo_get_phys_port_id)(struct net_device *dev, void *ppid);
};

struct header_ops;

struct net_device {
    char name[IFNAMSIZ];
    unsigned long mem_end;
    unsigned long mem_start;
    unsigned long base_addr;
    unsigned long state;
    struct list_head dev_list;
    struct list_head napi_list;
    netdev_features_t features;
    netdev_features_t hw_features;
    netdev_features_t wanted_features;
    netdev_features_t vlan_features;
    netdev_features_t hw_enc_features;
    netdev_features_t mpls_features;
    netdev_features_t gso_partial_features;
    unsigned int min_mtu;
    unsigned int max_mtu;
    unsigned short type;
    unsigned char min_header_len;
    unsigned char name_assign_type;
    int irq;
    int ifindex;
    struct net_device_stats stats;
    const struct net_device_ops *netdev_ops;
    const struct ethtool_ops *ethtool_ops;
    const struct header_ops *header_ops;
    unsigned int flags;
    unsigned long long priv_flags;
    unsigned short gflags;
    unsigned short padded;
    unsigned char operstate;
    unsigned char link_mode;
    unsigned char if_port;
    unsigned char dma;
    unsigned int mtu;
    unsigned short needed_headroom;
    unsigned short needed_tailroom;
    unsigned short hard_header_len;
    unsigned char perm_addr[MAX_ADDR_LEN];
    unsigned char addr_assign_type;
    unsigned char addr_len;
    unsigned short dev_id;
    unsigned short dev_port;
    spinlock_t addr_list_lock;
    spinlock_t tx_global_lock;
    struct netdev_hw_addr_list uc;
    struct netdev_hw_addr_list mc;
    unsigned int promiscuity;
    unsigned int allmulti;
    bool uc_promisc;
    void *ml_priv;
    const unsigned char *dev_addr;
    unsigned char broadcast[MAX_ADDR_LEN];
    struct netdev_queue *_tx;
    unsigned int num_tx_queues;
    unsigned int real_num_tx_queues;
    unsigned int num_rx_queues;
    unsigned int real_num_rx_queues;
    unsigned int tx_queue_len;
    int watchdog_timeo;
    struct timer_list watchdog_timer;
    unsigned int gso_max_size;
    unsigned int tso_max_size;
    u16 gso_max_segs;
    u16 tso_max_segs;
    enum netdev_reg_state reg_state;
    bool needs_free_netdev;
    void (*priv_destructor)(struct net_device *dev);
    struct device dev;
    /* shim state */
    unsigned char dde_addr[MAX_ADDR_LEN]; /* storage behind dev_addr */
    void *dde_alloc;                       /* what free_netdev frees */
    bool dde_watchdog_armed;
};

#define SET_NETDEV_DEV(net, pdev) ((net)->dev.parent = (pdev))
#define SET_NETDEV_DEVTYPE(net, devtype) do { (void)(net); (void)(devtype); } while (0)
#define to_net_dev(d) container_of(d, struct net_device, dev)

static inline void *netdev_priv(const struct net_device *dev)
{
    return (char *)dev + ALIGN(sizeof(struct net_device), NETDEV_ALIGN);
}

/* ---- allocation and registration --------------------------------------------- */

struct net_device *alloc_netdev_mqs(int sizeof_priv, const char *name, unsigned char name_assign_type,
                                    void (*setup)(struct net_device *), unsigned int txqs, unsigned int rxqs);
#define alloc_netdev(sizeof_priv, name, name_assign_type, setup)                                   \
    alloc_netdev_mqs(sizeof_priv, name, name_assign_type, setup, 1, 1)
#define alloc_netdev_mq(sizeof_priv, name, name_assign_type, setup, count)                         \
    alloc_netdev_mqs(sizeof_priv, name, name_assign_type, setup, count, count)
void free_netdev(struct net_device *dev);
int register_netdev(struct net_device *dev);
void unregister_netdev(struct net_device *dev);
int register_netdevice(struct net_device *dev);
void unregister_netdevice_queue(struct net_device *dev, struct list_head *head);
static inline void unregister_netdevice(struct net_device *dev) { unregister_netdevice_queue(dev, NULL); }
int dev_alloc_name(struct net_device *dev, const char *name);
int dev_open(struct net_device *dev, struct netlink_ext_ack *extack);
void dev_close(struct net_device *dev);
int dev_set_mtu(struct net_device *dev, int new_mtu);
int dev_set_mac_address(struct net_device *dev, struct sockaddr *sa, struct netlink_ext_ack *extack);
void dev_set_rx_mode(struct net_device *dev);
void __dev_set_rx_mode(struct net_device *dev);
void netdev_update_features(struct net_device *dev);
void netdev_change_features(struct net_device *dev);
struct rtnl_link_stats64 *dev_get_stats(struct net_device *dev, struct rtnl_link_stats64 *storage);
int netif_set_real_num_tx_queues(struct net_device *dev, unsigned int txq);
int netif_set_real_num_rx_queues(struct net_device *dev, unsigned int rxq);
void netdev_state_change(struct net_device *dev);
void netdev_features_change(struct net_device *dev);

static inline void dev_addr_set(struct net_device *dev, const u8 *addr)
{
    memcpy(dev->dde_addr, addr, dev->addr_len);
}
static inline void dev_addr_mod(struct net_device *dev, unsigned int offset, const void *addr, size_t len)
{
    memcpy(&dev->dde_addr[offset], addr, len);
}

static inline const char *netdev_name(const struct net_device *dev)
{
    if (!dev->name[0] || strchr(dev->name, '%'))
        return "(unnamed net_device)";
    return dev->name;
}
static inline const char *netdev_reg_state(const struct net_device *dev)
{
    switch (dev->reg_state) {
    case NETREG_UNINITIALIZED:
        return " (uninitialized)";
    case NETREG_REGISTERED:
        return "";
    case NETREG_UNREGISTERING:
        return " (unregistering)";
    case NETREG_UNREGISTERED:
        return " (unregistered)";
    case NETREG_RELEASED:
        return " (released)";
    case NETREG_DUMMY:
        return " (dummy)";
    }
    return " (unknown)";
}

/* ---- device and carrier state -------------------------------------------------- */

static inline bool netif_running(const struct net_device *dev) { return test_bit(__LINK_STATE_START, &dev->state); }
static inline bool netif_device_present(const struct net_device *dev)
{
    return test_bit(__LINK_STATE_PRESENT, &dev->state);
}
static inline bool netif_carrier_ok(const struct net_device *dev)
{
    return !test_bit(__LINK_STATE_NOCARRIER, &dev->state);
}
static inline bool netif_oper_up(const struct net_device *dev) { return netif_running(dev) && netif_carrier_ok(dev); }
static inline bool netif_dormant(const struct net_device *dev) { return test_bit(__LINK_STATE_DORMANT, &dev->state); }
void netif_carrier_on(struct net_device *dev);
void netif_carrier_off(struct net_device *dev);
void netif_device_detach(struct net_device *dev);
void netif_device_attach(struct net_device *dev);
static inline bool netif_is_multiqueue(const struct net_device *dev) { return dev->num_tx_queues > 1; }

/* ---- transmit queues ----------------------------------------------------------- */

static inline struct netdev_queue *netdev_get_tx_queue(const struct net_device *dev, unsigned int index)
{
    return &dev->_tx[index];
}
static inline void netif_tx_start_queue(struct netdev_queue *dev_queue)
{
    clear_bit(__QUEUE_STATE_DRV_XOFF, &dev_queue->state);
}
static inline void netif_start_queue(struct net_device *dev) { netif_tx_start_queue(netdev_get_tx_queue(dev, 0)); }
static inline void netif_tx_start_all_queues(struct net_device *dev)
{
    for (unsigned int i = 0; i < dev->num_tx_queues; i++)
        netif_tx_start_queue(netdev_get_tx_queue(dev, i));
}
void netif_tx_wake_queue(struct netdev_queue *dev_queue);
static inline void netif_wake_queue(struct net_device *dev) { netif_tx_wake_queue(netdev_get_tx_queue(dev, 0)); }
static inline void netif_tx_wake_all_queues(struct net_device *dev)
{
    for (unsigned int i = 0; i < dev->num_tx_queues; i++)
        netif_tx_wake_queue(netdev_get_tx_queue(dev, i));
}
static inline void netif_tx_stop_queue(struct netdev_queue *dev_queue)
{
    set_bit(__QUEUE_STATE_DRV_XOFF, &dev_queue->state);
}
static inline void netif_stop_queue(struct net_device *dev) { netif_tx_stop_queue(netdev_get_tx_queue(dev, 0)); }
static inline void netif_tx_stop_all_queues(struct net_device *dev)
{
    for (unsigned int i = 0; i < dev->num_tx_queues; i++)
        netif_tx_stop_queue(netdev_get_tx_queue(dev, i));
}
static inline bool netif_tx_queue_stopped(const struct netdev_queue *dev_queue)
{
    return test_bit(__QUEUE_STATE_DRV_XOFF, &dev_queue->state);
}
static inline bool netif_queue_stopped(const struct net_device *dev)
{
    return netif_tx_queue_stopped(netdev_get_tx_queue(dev, 0));
}
static inline bool netif_xmit_stopped(const struct netdev_queue *dev_queue)
{
    return dev_queue->state & QUEUE_STATE_ANY_XOFF;
}
static inline bool netif_xmit_frozen_or_stopped(const struct netdev_queue *dev_queue)
{
    return dev_queue->state & (QUEUE_STATE_ANY_XOFF | (1 << __QUEUE_STATE_FROZEN));
}
static inline void netif_stop_subqueue(struct net_device *dev, u16 queue_index)
{
    netif_tx_stop_queue(netdev_get_tx_queue(dev, queue_index));
}
static inline void netif_wake_subqueue(struct net_device *dev, u16 queue_index)
{
    netif_tx_wake_queue(netdev_get_tx_queue(dev, queue_index));
}
static inline bool __netif_subqueue_stopped(const struct net_device *dev, u16 queue_index)
{
    return netif_tx_queue_stopped(netdev_get_tx_queue(dev, queue_index));
}

static inline void txq_trans_update(struct netdev_queue *txq) { WRITE_ONCE(txq->trans_start, jiffies); }
static inline void netif_trans_update(struct net_device *dev)
{
    struct netdev_queue *txq = netdev_get_tx_queue(dev, 0);
    if (READ_ONCE(txq->trans_start) != jiffies)
        WRITE_ONCE(txq->trans_start, jiffies);
}
unsigned long dev_trans_start(struct net_device *dev);

static inline void __netif_tx_lock(struct netdev_queue *txq, int cpu)
{
    (void)cpu;
    spin_lock(&txq->_xmit_lock);
}
static inline void __netif_tx_lock_bh(struct netdev_queue *txq) { spin_lock(&txq->_xmit_lock); }
static inline bool __netif_tx_trylock(struct netdev_queue *txq) { return spin_trylock(&txq->_xmit_lock); }
static inline void __netif_tx_unlock(struct netdev_queue *txq) { spin_unlock(&txq->_xmit_lock); }
static inline void __netif_tx_unlock_bh(struct netdev_queue *txq) { spin_unlock(&txq->_xmit_lock); }
void netif_tx_lock(struct net_device *dev);
void netif_tx_unlock(struct net_device *dev);
#define netif_tx_lock_bh(dev) netif_tx_lock(dev)
#define netif_tx_unlock_bh(dev) netif_tx_unlock(dev)
#define HARD_TX_LOCK(dev, txq, cpu) __netif_tx_lock(txq, cpu)
#define HARD_TX_UNLOCK(dev, txq) __netif_tx_unlock(txq)
void netif_tx_disable(struct net_device *dev);

static inline void netif_addr_lock(struct net_device *dev) { spin_lock(&dev->addr_list_lock); }
static inline void netif_addr_lock_bh(struct net_device *dev) { spin_lock(&dev->addr_list_lock); }
static inline void netif_addr_unlock(struct net_device *dev) { spin_unlock(&dev->addr_list_lock); }
static inline void netif_addr_unlock_bh(struct net_device *dev) { spin_unlock(&dev->addr_list_lock); }

/* Byte queue limits are an optional Linux feature (CONFIG_BQL); like a kernel
 * built without it, these only keep the accounting calls compiling. */
static inline void netdev_tx_sent_queue(struct netdev_queue *dev_queue, unsigned int bytes)
{
    (void)dev_queue, (void)bytes;
}
static inline void netdev_tx_completed_queue(struct netdev_queue *dev_queue, unsigned int pkts, unsigned int bytes)
{
    (void)dev_queue, (void)pkts, (void)bytes;
}
static inline void netdev_tx_reset_queue(struct netdev_queue *q) { clear_bit(__QUEUE_STATE_STACK_XOFF, &q->state); }
static inline void netdev_sent_queue(struct net_device *dev, unsigned int bytes)
{
    netdev_tx_sent_queue(netdev_get_tx_queue(dev, 0), bytes);
}
static inline void netdev_completed_queue(struct net_device *dev, unsigned int pkts, unsigned int bytes)
{
    netdev_tx_completed_queue(netdev_get_tx_queue(dev, 0), pkts, bytes);
}
static inline void netdev_reset_queue(struct net_device *dev) { netdev_tx_reset_queue(netdev_get_tx_queue(dev, 0)); }
/* The host hands over one frame per call: there is never "more" coming in a batch. */
static inline bool netdev_xmit_more(void) { return false; }
static inline bool __netdev_tx_sent_queue(struct netdev_queue *txq, unsigned int bytes, bool xmit_more)
{
    netdev_tx_sent_queue(txq, bytes);
    return !xmit_more || netif_xmit_stopped(txq);
}

/* ---- NAPI (csrc/napi.c) --------------------------------------------------------- */

void netif_napi_add_weight(struct net_device *dev, struct napi_struct *napi,
                           int (*poll)(struct napi_struct *, int), int weight);
static inline void netif_napi_add(struct net_device *dev, struct napi_struct *napi,
                                  int (*poll)(struct napi_struct *, int))
{
    netif_napi_add_weight(dev, napi, poll, NAPI_POLL_WEIGHT);
}
static inline void netif_napi_add_tx_weight(struct net_device *dev, struct napi_struct *napi,
                                            int (*poll)(struct napi_struct *, int), int weight)
{
    netif_napi_add_weight(dev, napi, poll, weight);
}
#define netif_napi_add_tx(dev, napi, poll) netif_napi_add_tx_weight(dev, napi, poll, NAPI_POLL_WEIGHT)
void netif_napi_del(struct napi_struct *napi);
#define __netif_napi_del(napi) netif_napi_del(napi)
bool napi_schedule_prep(struct napi_struct *n);
void __napi_schedule(struct napi_struct *n);
#define __napi_schedule_irqoff(n) __napi_schedule(n)
static inline bool napi_schedule(struct napi_struct *n)
{
    if (napi_schedule_prep(n)) {
        __napi_schedule(n);
        return true;
    }
    return false;
}
static inline void napi_schedule_irqoff(struct napi_struct *n)
{
    if (napi_schedule_prep(n))
        __napi_schedule(n);
}
static inline bool napi_disable_pending(struct napi_struct *n) { return test_bit(NAPI_STATE_DISABLE, &n->state); }
bool napi_complete_done(struct napi_struct *n, int work_done);
static inline bool napi_complete(struct napi_struct *n) { return napi_complete_done(n, 0); }
void napi_disable(struct napi_struct *n);
void napi_enable(struct napi_struct *n);
void napi_synchronize(const struct napi_struct *n);
static inline bool napi_if_scheduled_mark_missed(struct napi_struct *n)
{
    unsigned long val, new;

    val = READ_ONCE(n->state);
    do {
        if (val & NAPIF_STATE_DISABLE)
            return true;
        if (!(val & NAPIF_STATE_SCHED))
            return false;
        new = val | NAPIF_STATE_MISSED;
    } while (!__atomic_compare_exchange_n(&n->state, &val, new, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return true;
}
gro_result_t napi_gro_receive(struct napi_struct *napi, struct sk_buff *skb);
struct sk_buff *napi_get_frags(struct napi_struct *napi);
gro_result_t napi_gro_frags(struct napi_struct *napi);
void napi_free_frags(struct napi_struct *napi);
void napi_gro_flush(struct napi_struct *napi, bool flush_old);

/* ---- receive (csrc/netdevice.c) ------------------------------------------------- */

int netif_rx(struct sk_buff *skb);
#define netif_rx_ni(skb) netif_rx(skb)
#define __netif_rx(skb) netif_rx(skb)
int netif_receive_skb(struct sk_buff *skb);
#define netif_receive_skb_core(skb) netif_receive_skb(skb)

/* ---- freeing transmitted and received skbs --------------------------------------- */

enum skb_free_reason {
    SKB_REASON_CONSUMED,
    SKB_REASON_DROPPED,
};
void __dev_kfree_skb_irq(struct sk_buff *skb, enum skb_free_reason reason);
void __dev_kfree_skb_any(struct sk_buff *skb, enum skb_free_reason reason);
static inline void dev_kfree_skb_irq(struct sk_buff *skb) { __dev_kfree_skb_irq(skb, SKB_REASON_DROPPED); }
static inline void dev_consume_skb_irq(struct sk_buff *skb) { __dev_kfree_skb_irq(skb, SKB_REASON_CONSUMED); }
static inline void dev_kfree_skb_any(struct sk_buff *skb) { __dev_kfree_skb_any(skb, SKB_REASON_DROPPED); }
static inline void dev_consume_skb_any(struct sk_buff *skb) { __dev_kfree_skb_any(skb, SKB_REASON_CONSUMED); }
#define dev_kfree_skb(a) consume_skb(a)

/* ---- logging (csrc/printk.c) ------------------------------------------------------ */

__printf(3, 4) void netdev_printk(const char *level, const struct net_device *dev, const char *format, ...);
__printf(2, 3) void netdev_emerg(const struct net_device *dev, const char *format, ...);
__printf(2, 3) void netdev_alert(const struct net_device *dev, const char *format, ...);
__printf(2, 3) void netdev_crit(const struct net_device *dev, const char *format, ...);
__printf(2, 3) void netdev_err(const struct net_device *dev, const char *format, ...);
__printf(2, 3) void netdev_warn(const struct net_device *dev, const char *format, ...);
__printf(2, 3) void netdev_notice(const struct net_device *dev, const char *format, ...);
__printf(2, 3) void netdev_info(const struct net_device *dev, const char *format, ...);
#ifdef DEBUG
#define netdev_dbg(__dev, format, args...) netdev_printk(KERN_DEBUG, __dev, format, ##args)
#else
#define netdev_dbg(__dev, format, args...)                                                         \
    ({                                                                                             \
        if (0)                                                                                     \
            netdev_printk(KERN_DEBUG, __dev, format, ##args);                                      \
    })
#endif
#define netdev_WARN(dev, format, args...)                                                          \
    WARN(1, "netdevice: %s%s: " format, netdev_name(dev), netdev_reg_state(dev), ##args)
#define netdev_WARN_ONCE(dev, format, args...)                                                     \
    WARN_ONCE(1, "netdevice: %s%s: " format, netdev_name(dev), netdev_reg_state(dev), ##args)
#define netdev_err_once(dev, fmt, ...)                                                             \
    do {                                                                                           \
        static bool __print_once;                                                                  \
        if (!__print_once) {                                                                       \
            __print_once = true;                                                                   \
            netdev_err(dev, fmt, ##__VA_ARGS__);                                                   \
        }                                                                                          \
    } while (0)

#define netif_printk(priv, type, level, dev, fmt, args...)                                         \
    do {                                                                                           \
        if (netif_msg_##type(priv))                                                                \
            netdev_printk(level, (dev), fmt, ##args);                                              \
    } while (0)
#define netif_level(level, priv, type, dev, fmt, args...)                                          \
    do {                                                                                           \
        if (netif_msg_##type(priv))                                                                \
            netdev_##level(dev, fmt, ##args);                                                      \
    } while (0)
#define netif_emerg(priv, type, dev, fmt, args...) netif_level(emerg, priv, type, dev, fmt, ##args)
#define netif_alert(priv, type, dev, fmt, args...) netif_level(alert, priv, type, dev, fmt, ##args)
#define netif_crit(priv, type, dev, fmt, args...) netif_level(crit, priv, type, dev, fmt, ##args)
#define netif_err(priv, type, dev, fmt, args...) netif_level(err, priv, type, dev, fmt, ##args)
#define netif_warn(priv, type, dev, fmt, args...) netif_level(warn, priv, type, dev, fmt, ##args)
#define netif_notice(priv, type, dev, fmt, args...) netif_level(notice, priv, type, dev, fmt, ##args)
#define netif_info(priv, type, dev, fmt, args...) netif_level(info, priv, type, dev, fmt, ##args)
#define netif_dbg(priv, type, netdev, format, args...)                                             \
    do {                                                                                           \
        if (netif_msg_##type(priv))                                                                \
            netdev_dbg(netdev, format, ##args);                                                    \
    } while (0)

/* net_ratelimit(): at most 10 messages per 5 seconds, shared by the task. */
int net_ratelimit(void);


#endif
