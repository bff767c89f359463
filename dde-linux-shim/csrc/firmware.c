/*
 * Firmware requests (request_firmware and its variants, <linux/firmware.h>).
 * A driver task's boot archive carries no firmware files yet, so every
 * request fails the way Linux's does for a file that is not there: -ENOENT,
 * *fw set to NULL, and (for the plain request) the same warning. A driver
 * that can do without (e100's optional microcode, say) goes on; one that
 * cannot fails its probe with Linux's error, and the reincarnation server
 * sees it end.
 */
#include <linux/device.h>
#include <linux/errno.h>
#include <linux/firmware.h>

static int missing(const struct firmware **fw, const char *name, struct device *dev, bool warn)
{
    if (!fw)
        return -EINVAL;
    *fw = NULL;
    if (!name || name[0] == '\0')
        return -EINVAL;
    if (warn)
        dev_warn(dev, "Direct firmware load for %s failed with error %d\n", name, -ENOENT);
    return -ENOENT;
}

int request_firmware(const struct firmware **fw, const char *name, struct device *device)
{
    return missing(fw, name, device, true);
}

int firmware_request_nowarn(const struct firmware **fw, const char *name, struct device *device)
{
    return missing(fw, name, device, false);
}

int request_firmware_direct(const struct firmware **fw, const char *name, struct device *device)
{
    return missing(fw, name, device, false);
}

/* Nothing above hands out a firmware image, so there is never one to free. */
void release_firmware(const struct firmware *fw)
{
    WARN_ON(fw);
}
