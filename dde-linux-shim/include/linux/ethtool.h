/*
 * <linux/ethtool.h>: the driver side of ethtool (csrc/ethtool.c).
 */
#ifndef _LINUX_ETHTOOL_H
#define _LINUX_ETHTOOL_H

#include <linux/bitmap.h>
#include <linux/compiler.h>
#include <linux/limits.h>
#include <linux/types.h>
#include <uapi/linux/ethtool.h>

struct net_device;
struct netlink_ext_ack;

struct kernel_ethtool_ringparam {
    u32 rx_buf_len;
    u8 tcp_data_split;
    u8 tx_push;
    u32 cqe_size;
};

struct kernel_ethtool_coalesce {
    u8 use_cqe_mode_tx;
    u8 use_cqe_mode_rx;
};

struct ethtool_link_ksettings {
    struct ethtool_link_settings base;
    struct {
        __ETHTOOL_DECLARE_LINK_MODE_MASK(supported);
        __ETHTOOL_DECLARE_LINK_MODE_MASK(advertising);
        __ETHTOOL_DECLARE_LINK_MODE_MASK(lp_advertising);
    } link_modes;
    u32 lanes;
};

#define ethtool_link_ksettings_zero_link_mode(ptr, name)                                           \
    bitmap_zero((ptr)->link_modes.name, __ETHTOOL_LINK_MODE_MASK_NBITS)
#define ethtool_link_ksettings_add_link_mode(ptr, name, mode)                                      \
    __set_bit(ETHTOOL_LINK_MODE_##mode##_BIT, (ptr)->link_modes.name)
#define ethtool_link_ksettings_del_link_mode(ptr, name, mode)                                      \
    __clear_bit(ETHTOOL_LINK_MODE_##mode##_BIT, (ptr)->link_modes.name)
#define ethtool_link_ksettings_test_link_mode(ptr, name, mode)                                     \
    test_bit(ETHTOOL_LINK_MODE_##mode##_BIT, (ptr)->link_modes.name)

void ethtool_convert_legacy_u32_to_link_mode(unsigned long *dst, u32 legacy_u32);
bool ethtool_convert_link_mode_to_legacy_u32(u32 *legacy_u32, const unsigned long *src);

#define ETHTOOL_COALESCE_RX_USECS BIT(0)
#define ETHTOOL_COALESCE_RX_MAX_FRAMES BIT(1)
#define ETHTOOL_COALESCE_RX_USECS_IRQ BIT(2)
#define ETHTOOL_COALESCE_RX_MAX_FRAMES_IRQ BIT(3)
#define ETHTOOL_COALESCE_TX_USECS BIT(4)
#define ETHTOOL_COALESCE_TX_MAX_FRAMES BIT(5)
#define ETHTOOL_COALESCE_TX_USECS_IRQ BIT(6)
#define ETHTOOL_COALESCE_TX_MAX_FRAMES_IRQ BIT(7)
#define ETHTOOL_COALESCE_USE_ADAPTIVE_RX BIT(9)
#define ETHTOOL_COALESCE_USE_ADAPTIVE_TX BIT(10)
#define ETHTOOL_COALESCE_USECS (ETHTOOL_COALESCE_RX_USECS | ETHTOOL_COALESCE_TX_USECS)
#define ETHTOOL_COALESCE_MAX_FRAMES (ETHTOOL_COALESCE_RX_MAX_FRAMES | ETHTOOL_COALESCE_TX_MAX_FRAMES)

struct ethtool_ops {
    u32 cap_link_lanes_supported : 1;
    u32 supported_coalesce_params;
    u32 supported_ring_params;
    void (*get_drvinfo)(struct net_device *, struct ethtool_drvinfo *);
    int (*get_regs_len)(struct net_device *);
    void (*get_regs)(struct net_device *, struct ethtool_regs *, void *);
    void (*get_wol)(struct net_device *, struct ethtool_wolinfo *);
    int (*set_wol)(struct net_device *, struct ethtool_wolinfo *);
    u32 (*get_msglevel)(struct net_device *);
    void (*set_msglevel)(struct net_device *, u32);
    int (*nway_reset)(struct net_device *);
    u32 (*get_link)(struct net_device *);
    int (*get_link_ext_state)(struct net_device *, void *);
    int (*get_eeprom_len)(struct net_device *);
    int (*get_eeprom)(struct net_device *, struct ethtool_eeprom *, u8 *);
    int (*set_eeprom)(struct net_device *, struct ethtool_eeprom *, u8 *);
    int (*get_coalesce)(struct net_device *, struct ethtool_coalesce *, struct kernel_ethtool_coalesce *,
                        struct netlink_ext_ack *);
    int (*set_coalesce)(struct net_device *, struct ethtool_coalesce *, struct kernel_ethtool_coalesce *,
                        struct netlink_ext_ack *);
    void (*get_ringparam)(struct net_device *, struct ethtool_ringparam *, struct kernel_ethtool_ringparam *,
                          struct netlink_ext_ack *);
    int (*set_ringparam)(struct net_device *, struct ethtool_ringparam *, struct kernel_ethtool_ringparam *,
                         struct netlink_ext_ack *);
    void (*get_pauseparam)(struct net_device *, struct ethtool_pauseparam *);
    int (*set_pauseparam)(struct net_device *, struct ethtool_pauseparam *);
    void (*self_test)(struct net_device *, struct ethtool_test *, u64 *);
    void (*get_strings)(struct net_device *, u32 stringset, u8 *);
    int (*set_phys_id)(struct net_device *, enum ethtool_phys_id_state);
    void (*get_ethtool_stats)(struct net_device *, struct ethtool_stats *, u64 *);
    int (*begin)(struct net_device *);
    void (*complete)(struct net_device *);
    u32 (*get_priv_flags)(struct net_device *);
    int (*set_priv_flags)(struct net_device *, u32);
    int (*get_sset_count)(struct net_device *, int);
    int (*get_ts_info)(struct net_device *, struct ethtool_ts_info *);
    int (*get_link_ksettings)(struct net_device *, struct ethtool_link_ksettings *);
    int (*set_link_ksettings)(struct net_device *, const struct ethtool_link_ksettings *);
};

u32 ethtool_op_get_link(struct net_device *dev);
int ethtool_op_get_ts_info(struct net_device *dev, struct ethtool_ts_info *eti);

/* ethtool_sprintf(): appends one ETH_GSTRING_LEN string and advances *data. */
__printf(2, 3) void ethtool_sprintf(u8 **data, const char *fmt, ...);

#endif
