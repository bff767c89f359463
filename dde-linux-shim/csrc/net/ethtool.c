/*
 * ethtool helpers for drivers: the generic get_link and timestamping
 * answers, and conversions between legacy u32 link-mode masks and bitmaps.
 */
#include <linux/ethtool.h>
#include <linux/kernel.h>
#include <linux/netdevice.h>

#define SOF_TIMESTAMPING_TX_SOFTWARE (1 << 1)
#define SOF_TIMESTAMPING_RX_SOFTWARE (1 << 3)
#define SOF_TIMESTAMPING_SOFTWARE (1 << 4)

u32 ethtool_op_get_link(struct net_device *dev) { return netif_carrier_ok(dev) ? 1 : 0; }

int ethtool_op_get_ts_info(struct net_device *dev, struct ethtool_ts_info *info)
{
    (void)dev;
    info->so_timestamping = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    info->phc_index = -1;
    return 0;
}

void ethtool_convert_legacy_u32_to_link_mode(unsigned long *dst, u32 legacy_u32)
{
    bitmap_zero(dst, __ETHTOOL_LINK_MODE_MASK_NBITS);
    dst[0] = legacy_u32;
}

/* False when modes beyond the 32 legacy bits were set (they are dropped). */
bool ethtool_convert_link_mode_to_legacy_u32(u32 *legacy_u32, const unsigned long *src)
{
    bool retval = true;

    if (find_next_bit(src, __ETHTOOL_LINK_MODE_MASK_NBITS, 32) < __ETHTOOL_LINK_MODE_MASK_NBITS)
        retval = false;
    *legacy_u32 = (u32)src[0];
    return retval;
}

void ethtool_sprintf(u8 **data, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    vsnprintf((char *)*data, ETH_GSTRING_LEN, fmt, args);
    va_end(args);
    *data += ETH_GSTRING_LEN;
}
