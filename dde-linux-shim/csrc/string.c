/*
 * The string helpers of Linux's mm/util.c (kstrdup and friends) and the
 * simple_strto*() parsers of lib/vsprintf.c, on Linux's own lib/string.c
 * and lib/kstrtox.c, which are compiled unmodified (linux-lib.toml). memcpy,
 * memset and memmove come from the Rust side of the task.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

/* Always a copy here (the shim cannot tell read-only data apart), which
 * kfree_const() frees. */
const char *kstrdup_const(const char *s, gfp_t gfp) { return kstrdup(s, gfp); }
void kfree_const(const void *x) { kfree(x); }

char *kstrdup(const char *s, gfp_t gfp)
{
    size_t len;
    char *p;

    if (!s)
        return NULL;
    len = strlen(s) + 1;
    p = kmalloc(len, gfp);
    if (p)
        memcpy(p, s, len);
    return p;
}

char *kstrndup(const char *s, size_t max, gfp_t gfp)
{
    size_t len;
    char *p;

    if (!s)
        return NULL;
    len = strnlen(s, max);
    p = kmalloc(len + 1, gfp);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void *kmemdup(const void *src, size_t len, gfp_t gfp)
{
    void *p = kmalloc(len, gfp);

    if (p)
        memcpy(p, src, len);
    return p;
}

/* Linux's lib/kstrtox.h, which its lib/vsprintf.c includes. */
#define KSTRTOX_OVERFLOW (1U << 31)
const char *_parse_integer_fixup_radix(const char *s, unsigned int *base);
unsigned int _parse_integer_limit(const char *s, unsigned int base, unsigned long long *res, size_t max_chars);

/* As lib/vsprintf.c has them. */
unsigned long long simple_strtoull(const char *cp, char **endp, unsigned int base)
{
    const char *start = _parse_integer_fixup_radix(cp, &base);
    unsigned long long result;
    unsigned int rv = _parse_integer_limit(start, base, &result, INT_MAX);

    if (endp)
        *endp = (char *)start + (rv & ~KSTRTOX_OVERFLOW);
    return result;
}

unsigned long simple_strtoul(const char *cp, char **endp, unsigned int base)
{
    return (unsigned long)simple_strtoull(cp, endp, base);
}

long simple_strtol(const char *cp, char **endp, unsigned int base)
{
    if (*cp == '-')
        return -(long)simple_strtoul(cp + 1, endp, base);
    return (long)simple_strtoul(cp, endp, base);
}

long long simple_strtoll(const char *cp, char **endp, unsigned int base)
{
    if (*cp == '-')
        return -(long long)simple_strtoull(cp + 1, endp, base);
    return (long long)simple_strtoull(cp, endp, base);
}

/* A driver task has no user space: a "user" pointer (kstrtox_from_user(),
 * an ioctl's argument) is the task's own memory. */
unsigned long _copy_from_user(void *to, const void __user *from, unsigned long n)
{
    memcpy(to, (const void __force *)from, n);
    return 0;
}

unsigned long _copy_to_user(void __user *to, const void *from, unsigned long n)
{
    memcpy((void __force *)to, from, n);
    return 0;
}
