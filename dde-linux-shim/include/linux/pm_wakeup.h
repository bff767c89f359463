/*
 * <linux/pm_wakeup.h>: wake-up sources. Without system sleep there is
 * nothing to wake from; the settings are recorded for drivers that read
 * them back (device_may_wakeup) and have no other effect.
 */
#ifndef _LINUX_PM_WAKEUP_H
#define _LINUX_PM_WAKEUP_H

#include <linux/device.h>

static inline bool device_can_wakeup(struct device *dev) { return dev->power.can_wakeup; }
static inline void device_set_wakeup_capable(struct device *dev, bool capable) { dev->power.can_wakeup = capable; }
static inline bool device_may_wakeup(struct device *dev) { return dev->power.can_wakeup && dev->power.should_wakeup; }
static inline int device_set_wakeup_enable(struct device *dev, bool enable)
{
    dev->power.should_wakeup = enable;
    return 0;
}
static inline int device_wakeup_enable(struct device *dev) { return device_set_wakeup_enable(dev, true); }
static inline int device_wakeup_disable(struct device *dev) { return device_set_wakeup_enable(dev, false); }
static inline int device_init_wakeup(struct device *dev, bool enable)
{
    device_set_wakeup_capable(dev, enable);
    return device_set_wakeup_enable(dev, enable);
}

#endif
