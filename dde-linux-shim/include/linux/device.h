/*
 * <linux/device.h>: the generic device (embedded in pci_dev, referenced by
 * net_device) and the dev_* printing helpers (csrc/printk.c).
 */
#ifndef _LINUX_DEVICE_H
#define _LINUX_DEVICE_H

#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/pm.h>
#include <linux/types.h>

struct module;
struct device;

struct device_driver {
    const char *name;
    struct module *owner;
    const struct dev_pm_ops *pm;
};

struct bus_type {
    const char *name;
};

struct device {
    struct device *parent;
    const char *init_name;
    char dde_name[32];
    const struct bus_type *bus;
    struct device_driver *driver;
    void *driver_data;
    void *platform_data;
    u64 *dma_mask;
    u64 coherent_dma_mask;
    struct dev_pm_info power;
};

static inline const char *dev_name(const struct device *dev)
{
    if (dev->init_name)
        return dev->init_name;
    return dev->dde_name;
}
__printf(2, 3) int dev_set_name(struct device *dev, const char *fmt, ...);
const char *dev_driver_string(const struct device *dev);
static inline void *dev_get_drvdata(const struct device *dev) { return dev->driver_data; }
static inline void dev_set_drvdata(struct device *dev, void *data) { dev->driver_data = data; }
/* Devices are never freed behind a driver's back: references are not counted. */
static inline struct device *get_device(struct device *dev) { return dev; }
static inline void put_device(struct device *dev) { (void)dev; }

__printf(3, 4) void dev_printk(const char *level, const struct device *dev, const char *fmt, ...);
__printf(2, 3) void _dev_emerg(const struct device *dev, const char *fmt, ...);
__printf(2, 3) void _dev_alert(const struct device *dev, const char *fmt, ...);
__printf(2, 3) void _dev_crit(const struct device *dev, const char *fmt, ...);
__printf(2, 3) void _dev_err(const struct device *dev, const char *fmt, ...);
__printf(2, 3) void _dev_warn(const struct device *dev, const char *fmt, ...);
__printf(2, 3) void _dev_notice(const struct device *dev, const char *fmt, ...);
__printf(2, 3) void _dev_info(const struct device *dev, const char *fmt, ...);

#ifndef dev_fmt
#define dev_fmt(fmt) fmt
#endif
#define dev_emerg(dev, fmt, ...) _dev_emerg(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_alert(dev, fmt, ...) _dev_alert(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_crit(dev, fmt, ...) _dev_crit(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_err(dev, fmt, ...) _dev_err(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) _dev_warn(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_notice(dev, fmt, ...) _dev_notice(dev, dev_fmt(fmt), ##__VA_ARGS__)
#define dev_info(dev, fmt, ...) _dev_info(dev, dev_fmt(fmt), ##__VA_ARGS__)
#ifdef DEBUG
#define dev_dbg(dev, fmt, ...) dev_printk(KERN_DEBUG, dev, dev_fmt(fmt), ##__VA_ARGS__)
#else
#define dev_dbg(dev, fmt, ...)                                                                     \
    ({                                                                                             \
        if (0)                                                                                     \
            dev_printk(KERN_DEBUG, dev, dev_fmt(fmt), ##__VA_ARGS__);                              \
    })
#endif
#define dev_vdbg(dev, fmt, ...)                                                                    \
    ({                                                                                             \
        if (0)                                                                                     \
            dev_printk(KERN_DEBUG, dev, dev_fmt(fmt), ##__VA_ARGS__);                              \
    })
#define dev_level_once(dev_level, dev, fmt, ...)                                                   \
    do {                                                                                           \
        static bool __print_once;                                                                  \
        if (!__print_once) {                                                                       \
            __print_once = true;                                                                   \
            dev_level(dev, fmt, ##__VA_ARGS__);                                                    \
        }                                                                                          \
    } while (0)
#define dev_err_once(dev, fmt, ...) dev_level_once(dev_err, dev, fmt, ##__VA_ARGS__)
#define dev_warn_once(dev, fmt, ...) dev_level_once(dev_warn, dev, fmt, ##__VA_ARGS__)
#define dev_info_once(dev, fmt, ...) dev_level_once(dev_info, dev, fmt, ##__VA_ARGS__)
#define dev_notice_once(dev, fmt, ...) dev_level_once(dev_notice, dev, fmt, ##__VA_ARGS__)
#define dev_level_ratelimited(dev_level, dev, fmt, ...)                                            \
    do {                                                                                           \
        if (__printk_ratelimit(__func__))                                                          \
            dev_level(dev, fmt, ##__VA_ARGS__);                                                    \
    } while (0)
#define dev_err_ratelimited(dev, fmt, ...) dev_level_ratelimited(dev_err, dev, fmt, ##__VA_ARGS__)
#define dev_warn_ratelimited(dev, fmt, ...) dev_level_ratelimited(dev_warn, dev, fmt, ##__VA_ARGS__)
#define dev_info_ratelimited(dev, fmt, ...) dev_level_ratelimited(dev_info, dev, fmt, ##__VA_ARGS__)
__printf(3, 4) int dev_err_probe(const struct device *dev, int err, const char *fmt, ...);

#define dev_WARN(dev, format, arg...) WARN(1, "%s %s: " format, dev_driver_string(dev), dev_name(dev), ##arg)
#define dev_WARN_ONCE(dev, condition, format, arg...)                                              \
    WARN_ONCE(condition, "%s %s: " format, dev_driver_string(dev), dev_name(dev), ##arg)

#endif
