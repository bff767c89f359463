/*
 * Firmware requests (request_firmware and its variants, <linux/firmware.h>).
 * The files are those the driver's manifest names (`firmware = [...]` in
 * drivers-legacy/NAME/driver.toml); the host finds them in the read-only
 * archive the reincarnation server grants the task (resurgo_firmware_find).
 * A found file's data is that mapping itself, so nothing is copied and a
 * driver cannot change it. A file that is not there fails the way Linux's
 * loader does: -ENOENT, *fw set to NULL, and (for the plain request) the same
 * warning. A driver that can do without (e100's optional microcode) goes on;
 * one that cannot fails its probe with Linux's error, and the reincarnation
 * server sees it end. request_firmware_nowait() looks the file up later, on
 * the system workqueue, and hands the result to the driver's callback there.
 */
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/firmware.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include <resurgo/host.h>

static int load(const struct firmware **fw, const char *name, struct device *dev, bool warn)
{
    struct firmware *f;
    const uint8_t *data;
    size_t size;

    if (!fw)
        return -EINVAL;
    *fw = NULL;
    if (!name || name[0] == '\0')
        return -EINVAL;
    if (resurgo_firmware_find(name, &data, &size) != 0) {
        if (warn)
            dev_warn(dev, "Direct firmware load for %s failed with error %d\n", name, -ENOENT);
        return -ENOENT;
    }
    f = kzalloc(sizeof(*f), GFP_KERNEL);
    if (!f)
        return -ENOMEM;
    f->data = data;
    f->size = size;
    *fw = f;
    return 0;
}

int request_firmware(const struct firmware **fw, const char *name, struct device *device)
{
    return load(fw, name, device, true);
}

int firmware_request_nowarn(const struct firmware **fw, const char *name, struct device *device)
{
    return load(fw, name, device, false);
}

/* There is no platform's own firmware (EFI) to fall back on. */
int firmware_request_platform(const struct firmware **fw, const char *name, struct device *device)
{
    return load(fw, name, device, true);
}

int request_firmware_direct(const struct firmware **fw, const char *name, struct device *device)
{
    return load(fw, name, device, false);
}

/* The file is copied into the caller's buffer, which fw->data then is; one
 * larger than the buffer is -EFBIG, as in Linux. */
int request_firmware_into_buf(const struct firmware **firmware_p, const char *name, struct device *device, void *buf,
                              size_t size)
{
    struct firmware *f;
    int err;

    if (!buf)
        return -EINVAL;
    err = load(firmware_p, name, device, true);
    if (err)
        return err;
    f = (struct firmware *)*firmware_p;
    if (f->size > size) {
        dev_err(device, "firmware %s is %zu bytes, more than the %zu of the buffer\n", name, f->size, size);
        kfree(f);
        *firmware_p = NULL;
        return -EFBIG;
    }
    memcpy(buf, f->data, f->size);
    f->data = buf;
    return 0;
}

struct nowait {
    struct work_struct work;
    const char *name;
    struct device *dev;
    void *context;
    void (*cont)(const struct firmware *fw, void *context);
};

static void nowait_work(struct work_struct *work)
{
    struct nowait *w = container_of(work, struct nowait, work);
    const struct firmware *fw;

    /* As Linux: the callback gets NULL for a file that is not there. */
    (void)load(&fw, w->name, w->dev, true);
    w->cont(fw, w->context);
    kfree_const(w->name);
    kfree(w);
}

/* The lookup and the callback run on the system workqueue. The device needs
 * no reference: a driver task's PCI device lives as long as the task. There
 * is no user helper to ask, so `uevent` changes nothing. */
int request_firmware_nowait(struct module *module, bool uevent, const char *name, struct device *device, gfp_t gfp,
                            void *context, void (*cont)(const struct firmware *fw, void *context))
{
    struct nowait *w;

    (void)module, (void)uevent;
    if (!cont)
        return -EINVAL;
    w = kzalloc(sizeof(*w), gfp);
    if (!w)
        return -ENOMEM;
    w->name = kstrdup_const(name, gfp);
    if (!w->name) {
        kfree(w);
        return -ENOMEM;
    }
    w->dev = device;
    w->context = context;
    w->cont = cont;
    INIT_WORK(&w->work, nowait_work);
    schedule_work(&w->work);
    return 0;
}

/* The data is the archive's or the caller's: only the descriptor is ours. */
void release_firmware(const struct firmware *fw)
{
    kfree(fw);
}
