/*
 * The contract between the Linux shim's network class (C,
 * dde-linux-shim/csrc/net) and the driver task's network class (Rust,
 * dde-linux-shim/src/net): how frames and configuration cross between a Linux
 * net_device and netd's rings. A `struct net_device *` crosses as an opaque
 * handle. The Rust side reads this file through bindgen.
 */
#ifndef RESURGO_NET_H
#define RESURGO_NET_H

#include <stddef.h>
#include <stdint.h>

struct net_device;
typedef struct net_device *resurgo_netdev_t;

/* ---- implemented by the host (Rust), called by the shim ------------------- */

/* register_netdev() succeeded: the host attaches the device to netd. */
void resurgo_netdev_registered(resurgo_netdev_t dev);
void resurgo_netdev_unregistered(resurgo_netdev_t dev);
/* A received frame (netif_rx, netif_receive_skb, napi_gro_receive, ...). The
 * host copies it before returning; the shim frees the skb afterwards. Any
 * thread, any context. */
void resurgo_netdev_rx(resurgo_netdev_t dev, const void *frame, size_t len);
/* The skb of the frame dde_netdev_xmit sent with `cookie` was freed by the
 * driver (transmitted, or dropped by the driver). */
void resurgo_netdev_tx_done(resurgo_netdev_t dev, uint64_t cookie);
/* netif_start_queue / netif_wake_queue: the host may transmit again. */
void resurgo_netdev_queue_woken(resurgo_netdev_t dev);
/* netif_carrier_on / netif_carrier_off. */
void resurgo_netdev_carrier(resurgo_netdev_t dev, int up);

/* ---- implemented by the shim (C), called by the host ---------------------- */

/* The network devices the driver registered. */
int dde_netdev_count(void);
resurgo_netdev_t dde_netdev_get(int n);
const char *dde_netdev_name(resurgo_netdev_t dev);
/* The current hardware address (dev->dev_addr). */
void dde_netdev_mac(resurgo_netdev_t dev, uint8_t mac[6]);
int dde_netdev_mtu(resurgo_netdev_t dev);
/* ndo_open / ndo_stop under the rtnl lock: 0 or -errno. */
int dde_netdev_open(resurgo_netdev_t dev);
int dde_netdev_stop(resurgo_netdev_t dev);
/* Transmits one Ethernet frame: allocates an skb, copies the frame, calls
 * ndo_start_xmit under the device's transmit lock. Returns 0 when the driver
 * took it (resurgo_netdev_tx_done follows with `cookie` when it frees the skb),
 * 1 when the queue is stopped or the driver is busy (nothing taken: try again
 * after resurgo_netdev_queue_woken), or -errno when the frame was dropped. */
int dde_netdev_xmit(resurgo_netdev_t dev, const void *frame, size_t len, uint64_t cookie);
int dde_netdev_queue_stopped(resurgo_netdev_t dev);
int dde_netdev_carrier_ok(resurgo_netdev_t dev);
/* Raises the device's receive ring to `want` descriptors (at most what the
 * driver's get_ringparam says it can have), through its own ethtool_ops, as
 * `ethtool -G DEV rx N` would. Returns the ring size, 0 when the driver cannot
 * say, or a negative errno from set_ringparam. */
int dde_netdev_grow_rx_ring(resurgo_netdev_t dev, unsigned int want);
/* Configuration, through the driver's own netdev_ops/ethtool_ops (a restarted
 * driver gets it replayed): 0 or -errno. */
int dde_netdev_set_mac(resurgo_netdev_t dev, const uint8_t mac[6]);
int dde_netdev_set_mtu(resurgo_netdev_t dev, int mtu);
/* flags: IFF_PROMISC 0x100, IFF_ALLMULTI 0x200; `mc` holds `n` 6-byte
 * multicast addresses. */
int dde_netdev_set_rx_mode(resurgo_netdev_t dev, unsigned flags, const uint8_t *mc, int n);

/* What the device's receive mode is now, for the host's configuration report
 * (dde_netdev_mtu and dde_netdev_mac give the rest): the IFF_PROMISC and
 * IFF_ALLMULTI bits of dev->flags, and the length of dev's multicast list. */
unsigned dde_netdev_rx_flags(resurgo_netdev_t dev);
int dde_netdev_mc_count(resurgo_netdev_t dev);

#endif
