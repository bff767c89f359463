/*
 * The device model: buses, the drivers registered on them and the devices
 * added to them, as Linux's driver core (drivers/base/bus.c, dd.c, core.c)
 * binds them, without sysfs and without a kobject hierarchy. A bus a driver
 * defines itself (virtio's, which virtio_pci puts a device on for
 * virtio_net) works as in Linux: adding a device probes the first driver
 * the bus matches it with, registering a driver probes every unbound device
 * it matches, a failed probe releases the device's managed resources, and
 * removal calls the bus's or the driver's remove and then releases them.
 * Reference counts are the device's kobject's, and the last put_device()
 * calls the device's, its type's or its class's release, as Linux does.
 * The PCI device the task drives is bound by csrc/core/pci.c, not here (it
 * sits on no bus list).
 *
 * Resurgo's Linux configuration has no sysfs (CONFIG_SYSFS is off in
 * resurgo.config), so an attribute file is nothing to create or remove,
 * exactly as in a Linux built that way, where device_create_file() ends in
 * sysfs_create_file()'s stub returning 0; uevents go nowhere, but
 * add_uevent_var() fills the environment as Linux's does.
 */
#include <linux/device.h>
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

/* drivers/base/devres.c; Linux declares it in drivers/base/base.h. */
int devres_release_all(struct device *dev);

/* The driver core's private parts, which Linux keeps in drivers/base/base.h:
 * the shim's own, holding only what binding needs. */
struct subsys_private {
    struct list_head devices; /* struct device_private.bus_node */
    struct list_head drivers; /* struct driver_private.bus_node */
};

struct driver_private {
    struct device_driver *driver;
    struct list_head bus_node;
};

struct device_private {
    struct device *device;
    struct list_head bus_node;
};

/* Serialises binding and the bus lists; probes run under it, as Linux runs
 * them under the device lock (a probe may add devices of its own: the lock
 * is taken again only by another thread). */
static DEFINE_MUTEX(core_lock);
static struct task_struct *core_owner;

static bool core_enter(void)
{
    if (core_owner == current)
        return false;
    mutex_lock(&core_lock);
    core_owner = current;
    return true;
}

static void core_leave(bool entered)
{
    if (!entered)
        return;
    core_owner = NULL;
    mutex_unlock(&core_lock);
}

int device_create_file(struct device *dev, const struct device_attribute *attr)
{
    (void)dev, (void)attr;
    return 0;
}

void device_remove_file(struct device *dev, const struct device_attribute *attr)
{
    (void)dev, (void)attr;
}

int add_uevent_var(struct kobj_uevent_env *env, const char *format, ...)
{
    va_list args;
    int len;

    if (env->envp_idx >= ARRAY_SIZE(env->envp)) {
        WARN(1, KERN_ERR "add_uevent_var: too many keys\n");
        return -ENOMEM;
    }
    va_start(args, format);
    len = vsnprintf(&env->buf[env->buflen], sizeof(env->buf) - env->buflen, format, args);
    va_end(args);
    if (len >= (int)(sizeof(env->buf) - env->buflen)) {
        WARN(1, KERN_ERR "add_uevent_var: buffer size too small\n");
        return -ENOMEM;
    }
    env->envp[env->envp_idx++] = &env->buf[env->buflen];
    env->buflen += len + 1;
    return 0;
}

int bus_register(struct bus_type *bus)
{
    struct subsys_private *p = kzalloc(sizeof(*p), GFP_KERNEL);

    if (!p)
        return -ENOMEM;
    INIT_LIST_HEAD(&p->devices);
    INIT_LIST_HEAD(&p->drivers);
    bus->p = p;
    return 0;
}

void bus_unregister(struct bus_type *bus)
{
    struct subsys_private *p = bus->p;

    if (!p)
        return;
    WARN(!list_empty(&p->devices) || !list_empty(&p->drivers), "bus %s unregistered with devices or drivers on it\n",
         bus->name);
    bus->p = NULL;
    kfree(p);
}

void device_initialize(struct device *dev)
{
    /* kobject_init() without a type: the device's release is its own. */
    kref_init(&dev->kobj.kref);
    INIT_LIST_HEAD(&dev->kobj.entry);
    dev->kobj.state_initialized = 1;
    INIT_LIST_HEAD(&dev->dma_pools);
    mutex_init(&dev->mutex);
    INIT_LIST_HEAD(&dev->devres_head);
    spin_lock_init(&dev->devres_lock);
}

struct device *get_device(struct device *dev)
{
    if (dev)
        kref_get(&dev->kobj.kref);
    return dev;
}

static void device_release(struct kref *kref)
{
    struct device *dev = container_of(kref, struct device, kobj.kref);
    const char *name = dev->kobj.name;

    /* As Linux's device_release(): what is left managed goes first, then
     * the owner's release frees the memory the device is in. */
    devres_release_all(dev);
    kfree(dev->p);
    dev->p = NULL;
    dde_spin_lock_destroy(&dev->devres_lock);
    if (dev->release)
        dev->release(dev);
    else if (dev->type && dev->type->release)
        dev->type->release(dev);
    else if (dev->class && dev->class->dev_release)
        dev->class->dev_release(dev);
    else
        WARN(1, KERN_ERR "Device '%s' does not have a release() function, it is broken and must be fixed.\n",
             name ? name : "(unnamed)");
    kfree_const(name);
}

void put_device(struct device *dev)
{
    if (dev)
        kref_put(&dev->kobj.kref, device_release);
}

static bool match(struct device *dev, struct device_driver *drv)
{
    return !drv->bus->match || drv->bus->match(dev, drv) > 0;
}

/* Linux's really_probe(), without deferral: 1 bound, 0 not. */
static int probe(struct device *dev, struct device_driver *drv)
{
    int rc;

    dev->driver = drv;
    if (dev->bus->probe)
        rc = dev->bus->probe(dev);
    else
        rc = drv->probe ? drv->probe(dev) : 0;
    if (!rc)
        return 1;
    devres_release_all(dev);
    dev->driver = NULL;
    dev_set_drvdata(dev, NULL);
    if (rc == -ENODEV || rc == -ENXIO)
        pr_info("%s: probe of %s rejects match %d\n", drv->name, dev_name(dev), rc);
    else
        pr_warn("%s: probe of %s failed with error %d\n", drv->name, dev_name(dev), rc);
    return 0;
}

static void release_driver(struct device *dev)
{
    struct device_driver *drv = dev->driver;

    if (!drv)
        return;
    if (dev->bus && dev->bus->remove)
        dev->bus->remove(dev);
    else if (drv->remove)
        drv->remove(dev);
    devres_release_all(dev);
    dev->driver = NULL;
    dev_set_drvdata(dev, NULL);
}

int device_add(struct device *dev)
{
    struct device_private *p;
    struct driver_private *d;
    bool entered;

    if (!dev)
        return -EINVAL;
    if (dev->init_name) {
        int rc = dev_set_name(dev, "%s", dev->init_name);

        if (rc)
            return rc;
    }
    if (!dev_name(dev) && dev->bus && dev->bus->dev_name)
        dev_set_name(dev, "%s%u", dev->bus->dev_name, dev->id);
    if (!dev_name(dev))
        return -EINVAL;
    if (!dev->bus)
        goto done;
    if (!dev->bus->p) {
        pr_err("device_add %s: bus %s is not registered\n", dev_name(dev), dev->bus->name);
        return -EINVAL;
    }
    p = kzalloc(sizeof(*p), GFP_KERNEL);
    if (!p)
        return -ENOMEM;
    p->device = dev;
    dev->p = p;
    entered = core_enter();
    list_add_tail(&p->bus_node, &dev->bus->p->devices);
    list_for_each_entry(d, &dev->bus->p->drivers, bus_node) {
        if (match(dev, d->driver) && probe(dev, d->driver))
            break;
    }
    core_leave(entered);
done:
    get_device(dev->parent);
    return 0;
}

int device_register(struct device *dev)
{
    device_initialize(dev);
    return device_add(dev);
}

void device_del(struct device *dev)
{
    struct device_private *p = dev->p;
    bool entered = core_enter();

    release_driver(dev);
    if (p)
        list_del_init(&p->bus_node);
    core_leave(entered);
    put_device(dev->parent);
}

void device_unregister(struct device *dev)
{
    device_del(dev);
    put_device(dev);
}

int driver_register(struct device_driver *drv)
{
    struct driver_private *p, *other;
    struct device_private *dp;
    bool entered;

    if (!drv->bus || !drv->bus->p) {
        pr_err("Driver '%s' was unable to register with bus_type '%s' because the bus was not initialized.\n",
               drv->name, drv->bus ? drv->bus->name : "(none)");
        return -EINVAL;
    }
    p = kzalloc(sizeof(*p), GFP_KERNEL);
    if (!p)
        return -ENOMEM;
    p->driver = drv;
    entered = core_enter();
    list_for_each_entry(other, &drv->bus->p->drivers, bus_node) {
        if (!strcmp(other->driver->name, drv->name)) {
            core_leave(entered);
            kfree(p);
            pr_err("Error: Driver '%s' is already registered, aborting...\n", drv->name);
            return -EBUSY;
        }
    }
    drv->p = p;
    list_add_tail(&p->bus_node, &drv->bus->p->drivers);
    list_for_each_entry(dp, &drv->bus->p->devices, bus_node) {
        if (!dp->device->driver && match(dp->device, drv))
            probe(dp->device, drv);
    }
    core_leave(entered);
    return 0;
}

void driver_unregister(struct device_driver *drv)
{
    struct driver_private *p = drv->p;
    struct device_private *dp;
    bool entered;

    if (!p)
        return;
    entered = core_enter();
    list_for_each_entry(dp, &drv->bus->p->devices, bus_node) {
        if (dp->device->driver == drv)
            release_driver(dp->device);
    }
    list_del(&p->bus_node);
    drv->p = NULL;
    core_leave(entered);
    kfree(p);
}
