/*
 * The device model's calls on a driver's struct device that have nothing to
 * do in a driver task. Resurgo's Linux configuration has no sysfs
 * (CONFIG_SYSFS is off in resurgo.config), so an attribute file is nothing
 * to create or remove, exactly as in a Linux built that way, where
 * device_create_file() ends in sysfs_create_file()'s stub returning 0.
 */
#include <linux/device.h>

int device_create_file(struct device *dev, const struct device_attribute *attr)
{
    (void)dev, (void)attr;
    return 0;
}

void device_remove_file(struct device *dev, const struct device_attribute *attr)
{
    (void)dev, (void)attr;
}
