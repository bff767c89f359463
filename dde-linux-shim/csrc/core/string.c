/*
 * The string and memory helpers of Linux's mm/util.c (kstrdup, kmemdup_nul,
 * memdup_user and friends), fs/libfs.c's memory_read_from_buffer() and the
 * simple_strto*() parsers of lib/vsprintf.c, on Linux's own lib/string.c
 * and lib/kstrtox.c, which are compiled unmodified (linux-lib.toml). memcpy,
 * memset and memmove come from the Rust side of the task.
 */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/fs.h>
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

char *kmemdup_nul(const char *s, size_t len, gfp_t gfp)
{
    char *p;

    if (!s)
        return NULL;
    p = kmalloc(len + 1, gfp);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

/* A copy of `len` bytes from a "user" pointer, with room for a NUL after
 * them if `nul`: an ERR_PTR on failure, as Linux's. */
static void *dup_user(const void __user *src, size_t len, bool nul)
{
    char *p = kmalloc(len + nul, GFP_USER | __GFP_NOWARN);

    if (!p)
        return ERR_PTR(-ENOMEM);
    if (copy_from_user(p, src, len)) {
        kfree(p);
        return ERR_PTR(-EFAULT);
    }
    if (nul)
        p[len] = '\0';
    return p;
}

void *memdup_user(const void __user *src, size_t len) { return dup_user(src, len, false); }
void *memdup_user_nul(const void __user *src, size_t len) { return dup_user(src, len, true); }

/* Reads from `from` (`available` bytes) at *ppos, at most `count`; moves
 * *ppos on and returns what was read (0 at the end, -EINVAL before the start). */
ssize_t memory_read_from_buffer(void *to, size_t count, loff_t *ppos, const void *from, size_t available)
{
    loff_t pos = *ppos;

    if (pos < 0)
        return -EINVAL;
    if (pos >= (loff_t)available || !count)
        return 0;
    if (count > available - (size_t)pos)
        count = available - (size_t)pos;
    memcpy(to, (const char *)from + pos, count);
    *ppos = pos + (loff_t)count;
    return (ssize_t)count;
}
