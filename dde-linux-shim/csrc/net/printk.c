/*
 * The network device messages (netdev_printk, netdev_err, ...: Linux's
 * net/core/dev.c), prefixed as Linux prefixes them: "driver 0000:00:03.0
 * eth0: ...", with " (unregistered)" and the like while the device is not
 * registered.
 */
#include <linux/netdevice.h>
#include <linux/printk.h>

#include "internal.h"
#include "net.h"

static void netdev_vprintk(int level, const struct net_device *dev, const char *fmt, va_list args)
{
    char prefix[128];

    if (dev && dev->dev.parent)
        snprintf(prefix, sizeof(prefix), "%s %s %s%s: ", dev_driver_string(dev->dev.parent),
                 dev_name(dev->dev.parent), netdev_name(dev), netdev_reg_state(dev));
    else if (dev)
        snprintf(prefix, sizeof(prefix), "%s%s: ", netdev_name(dev), netdev_reg_state(dev));
    else
        snprintf(prefix, sizeof(prefix), "(NULL net_device): ");
    dde_vprintk_level(level, prefix, fmt, args);
}

void netdev_printk(const char *level, const struct net_device *dev, const char *fmt, ...)
{
    va_list args;
    int kern = printk_get_level(level);

    va_start(args, fmt);
    netdev_vprintk(kern && kern != 'c' ? kern - '0' : LOGLEVEL_WARNING, dev, fmt, args);
    va_end(args);
}

#define DEFINE_NETDEV_LEVEL(func, lvl)                                                             \
    void func(const struct net_device *dev, const char *fmt, ...)                                  \
    {                                                                                              \
        va_list args;                                                                              \
        va_start(args, fmt);                                                                       \
        netdev_vprintk(lvl, dev, fmt, args);                                                       \
        va_end(args);                                                                              \
    }
DEFINE_NETDEV_LEVEL(netdev_emerg, LOGLEVEL_EMERG)
DEFINE_NETDEV_LEVEL(netdev_alert, LOGLEVEL_ALERT)
DEFINE_NETDEV_LEVEL(netdev_crit, LOGLEVEL_CRIT)
DEFINE_NETDEV_LEVEL(netdev_err, LOGLEVEL_ERR)
DEFINE_NETDEV_LEVEL(netdev_warn, LOGLEVEL_WARNING)
DEFINE_NETDEV_LEVEL(netdev_notice, LOGLEVEL_NOTICE)
DEFINE_NETDEV_LEVEL(netdev_info, LOGLEVEL_INFO)

