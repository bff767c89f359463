/*
 * What Linux's module macros leave behind in a driver linked into its task
 * (CONFIG_MODULES off): module_param() entries whose ops are Linux's
 * param_ops_* (kernel/params.c), and MODULE_VERSION()'s sysfs attribute.
 * A driver task gets no parameters (nothing parses a command line), so every
 * parameter keeps its driver's default; the ops below are real all the same,
 * Linux's semantics for each type, should anything set or read one.
 */
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

enum system_states system_state = SYSTEM_RUNNING;

#define DDE_PARAM(name, type, format, strtolfn)                                                    \
    int param_set_##name(const char *val, const struct kernel_param *kp)                        \
    {                                                                                              \
        return strtolfn(val, 0, (type *)kp->arg);                                                  \
    }                                                                                              \
    int param_get_##name(char *buffer, const struct kernel_param *kp)                           \
    {                                                                                              \
        return scnprintf(buffer, PAGE_SIZE, format "\n", *((type *)kp->arg));                     \
    }                                                                                              \
    const struct kernel_param_ops param_ops_##name = {                                            \
        .set = param_set_##name,                                                                   \
        .get = param_get_##name,                                                                   \
    };

DDE_PARAM(byte, unsigned char, "%hhu", kstrtou8)
DDE_PARAM(short, short, "%hi", kstrtos16)
DDE_PARAM(ushort, unsigned short, "%hu", kstrtou16)
DDE_PARAM(int, int, "%i", kstrtoint)
DDE_PARAM(uint, unsigned int, "%u", kstrtouint)
DDE_PARAM(long, long, "%li", kstrtol)
DDE_PARAM(ulong, unsigned long, "%lu", kstrtoul)
DDE_PARAM(ullong, unsigned long long, "%llu", kstrtoull)

int param_set_bool(const char *val, const struct kernel_param *kp)
{
    /* No value means "set" (as `foo` alone on Linux's command line). */
    if (!val)
        val = "1";
    return kstrtobool(val, kp->arg);
}

int param_get_bool(char *buffer, const struct kernel_param *kp)
{
    return sprintf(buffer, "%c\n", *(bool *)kp->arg ? 'Y' : 'N');
}

const struct kernel_param_ops param_ops_bool = {
    .flags = KERNEL_PARAM_OPS_FL_NOARG,
    .set = param_set_bool,
    .get = param_get_bool,
};

int param_set_charp(const char *val, const struct kernel_param *kp)
{
    char *copy = kstrdup(val, GFP_KERNEL);

    if (!copy)
        return -ENOMEM;
    *(char **)kp->arg = copy;
    return 0;
}

int param_get_charp(char *buffer, const struct kernel_param *kp)
{
    return scnprintf(buffer, PAGE_SIZE, "%s\n", *((char **)kp->arg) ? *((char **)kp->arg) : "(null)");
}

const struct kernel_param_ops param_ops_charp = {
    .set = param_set_charp,
    .get = param_get_charp,
};

/* An array: comma-separated values, each set with the element's ops. */
static int param_array_set(const char *val, const struct kernel_param *kp)
{
    const struct kparam_array *arr = kp->arr;
    unsigned int n = 0;
    char buf[64];

    while (*val) {
        size_t len = strcspn(val, ",");
        struct kernel_param elem = *kp;
        int err;

        if (n >= arr->max || len >= sizeof(buf))
            return -EINVAL;
        memcpy(buf, val, len);
        buf[len] = '\0';
        elem.arg = (char *)arr->elem + (size_t)arr->elemsize * n;
        err = arr->ops->set(buf, &elem);
        if (err)
            return err;
        n++;
        val += len;
        if (*val == ',')
            val++;
    }
    if (arr->num)
        *arr->num = n;
    return 0;
}

static int param_array_get(char *buffer, const struct kernel_param *kp)
{
    const struct kparam_array *arr = kp->arr;
    unsigned int n = arr->num ? *arr->num : arr->max;
    int off = 0;

    for (unsigned int i = 0; i < n; i++) {
        struct kernel_param elem = *kp;
        int ret;

        elem.arg = (char *)arr->elem + (size_t)arr->elemsize * i;
        if (i)
            buffer[off - 1] = ',';
        ret = arr->ops->get(buffer + off, &elem);
        if (ret < 0)
            return ret;
        off += ret;
    }
    return off;
}

const struct kernel_param_ops param_array_ops = {
    .set = param_array_set,
    .get = param_array_get,
};

/* MODULE_VERSION()'s attribute, shown in /sys/module/NAME/version on Linux. */
ssize_t __modver_version_show(struct module_attribute *mattr, struct module_kobject *mk, char *buf)
{
    struct module_version_attribute *vattr = container_of(mattr, struct module_version_attribute, mattr);

    return scnprintf(buf, PAGE_SIZE, "%s\n", vattr->version);
}
