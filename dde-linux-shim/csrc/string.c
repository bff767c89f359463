/*
 * String functions and number parsing of the kernel library (lib/string.c,
 * lib/kstrtox.c semantics). memcpy, memset, memmove and memcmp come from the
 * Rust side of the task and are not defined here.
 */
#include <linux/ctype.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

size_t strlen(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t maxlen)
{
    size_t n = 0;

    while (n < maxlen && s[n])
        n++;
    return n;
}

char *strcpy(char *dst, const char *src)
{
    char *d = dst;

    while ((*d++ = *src++))
        ;
    return dst;
}

/* Copies at most n bytes and pads with NULs up to n (no terminator if src is long). */
char *strncpy(char *dst, const char *src, size_t n)
{
    size_t i = 0;

    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = '\0';
    return dst;
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size) {
        size_t n = len >= size ? size - 1 : len;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

/* Returns the length copied, or -E2BIG when src did not fit (dst is then
 * truncated but NUL-terminated). */
ssize_t strscpy(char *dst, const char *src, size_t size)
{
    size_t i;

    if (size == 0 || size > INT_MAX)
        return -E2BIG;
    for (i = 0; i < size; i++) {
        dst[i] = src[i];
        if (!src[i])
            return (ssize_t)i;
    }
    dst[size - 1] = '\0';
    return -E2BIG;
}

size_t strlcat(char *dst, const char *src, size_t size)
{
    size_t dlen = strnlen(dst, size);
    size_t slen = strlen(src);

    if (dlen == size)
        return size + slen;
    strlcpy(dst + dlen, src, size - dlen);
    return dlen + slen;
}

char *strcat(char *dst, const char *src)
{
    strcpy(dst + strlen(dst), src);
    return dst;
}

char *strncat(char *dst, const char *src, size_t n)
{
    char *d = dst + strlen(dst);

    while (n-- && *src)
        *d++ = *src++;
    *d = '\0';
    return dst;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a < (unsigned char)*b ? -1 : (unsigned char)*a > (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        if (!*a)
            break;
    }
    return 0;
}

int strncasecmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb)
            return ca - cb;
        if (!ca)
            break;
    }
    return 0;
}

int strcasecmp(const char *a, const char *b) { return strncasecmp(a, b, SIZE_MAX); }

char *strchr(const char *s, int c)
{
    for (; *s != (char)c; s++)
        if (!*s)
            return NULL;
    return (char *)s;
}

char *strnchr(const char *s, size_t count, int c)
{
    for (; count-- && *s; s++)
        if (*s == (char)c)
            return (char *)s;
    return NULL;
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;

    do {
        if (*s == (char)c)
            last = s;
    } while (*s++);
    return (char *)last;
}

char *strstr(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);

    if (!n)
        return (char *)haystack;
    for (; *haystack; haystack++)
        if (*haystack == *needle && !strncmp(haystack, needle, n))
            return (char *)haystack;
    return NULL;
}

size_t strspn(const char *s, const char *accept)
{
    size_t n = 0;

    while (s[n] && strchr(accept, s[n]))
        n++;
    return n;
}

size_t strcspn(const char *s, const char *reject)
{
    size_t n = 0;

    while (s[n] && !strchr(reject, s[n]))
        n++;
    return n;
}

char *strsep(char **s, const char *ct)
{
    char *sbegin = *s, *end;

    if (!sbegin)
        return NULL;
    end = sbegin + strcspn(sbegin, ct);
    if (*end)
        *end++ = '\0';
    else
        end = NULL;
    *s = end;
    return sbegin;
}

char *strim(char *s)
{
    size_t size = strlen(s);
    char *end;

    if (!size)
        return s;
    end = s + size - 1;
    while (end >= s && isspace(*end))
        end--;
    *(end + 1) = '\0';
    while (isspace(*s))
        s++;
    return s;
}

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;

    for (; n; n--, p++)
        if (*p == (unsigned char)c)
            return (void *)p;
    return NULL;
}

void *memscan(void *addr, int c, size_t size)
{
    unsigned char *p = addr;

    while (size && *p != (unsigned char)c)
        p++, size--;
    return p;
}

void *memchr_inv(const void *start, int c, size_t bytes)
{
    const unsigned char *p = start;

    for (; bytes; bytes--, p++)
        if (*p != (unsigned char)c)
            return (void *)p;
    return NULL;
}

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

bool sysfs_streq(const char *s1, const char *s2)
{
    while (*s1 && *s1 == *s2)
        s1++, s2++;
    if (*s1 == *s2)
        return true;
    if (!*s1 && *s2 == '\n' && !s2[1])
        return true;
    if (*s1 == '\n' && !s1[1] && !*s2)
        return true;
    return false;
}

int match_string(const char *const *array, size_t n, const char *string)
{
    for (size_t i = 0; i < n; i++) {
        if (!array[i])
            break;
        if (!strcmp(array[i], string))
            return (int)i;
    }
    return -EINVAL;
}

/* hex_to_bin, hex2bin and bin2hex are Linux's own lib/hexdump.c (linux-lib.toml). */

/* ---- number parsing ----------------------------------------------------------------- */

static const char *parse_base(const char *s, unsigned int *base)
{
    if (*base == 0) {
        if (s[0] == '0') {
            if (tolower(s[1]) == 'x' && isxdigit(s[2]))
                *base = 16;
            else
                *base = 8;
        } else {
            *base = 10;
        }
    }
    if (*base == 16 && s[0] == '0' && tolower(s[1]) == 'x')
        s += 2;
    return s;
}

/* Parses digits; returns the number of digits used, -ERANGE on overflow. */
static int parse_digits(const char *s, unsigned int base, unsigned long long *res)
{
    unsigned long long v = 0;
    int n = 0;

    for (;; s++, n++) {
        int d = hex_to_bin((unsigned char)*s);

        if (d < 0 || (unsigned int)d >= base)
            break;
        if (v > (ULLONG_MAX - (unsigned int)d) / base)
            return -ERANGE;
        v = v * base + (unsigned int)d;
    }
    *res = v;
    return n;
}

int kstrtoull(const char *s, unsigned int base, unsigned long long *res)
{
    unsigned long long v;
    int n;

    if (s[0] == '+')
        s++;
    s = parse_base(s, &base);
    n = parse_digits(s, base, &v);
    if (n < 0)
        return n;
    if (n == 0)
        return -EINVAL;
    s += n;
    if (*s == '\n')
        s++;
    if (*s)
        return -EINVAL;
    *res = v;
    return 0;
}

int kstrtoll(const char *s, unsigned int base, long long *res)
{
    unsigned long long v;
    int rv;

    if (s[0] == '-') {
        rv = kstrtoull(s + 1, base, &v);
        if (rv < 0)
            return rv;
        if ((long long)-v > 0)
            return -ERANGE;
        *res = -(long long)v;
    } else {
        rv = kstrtoull(s, base, &v);
        if (rv < 0)
            return rv;
        if ((long long)v < 0)
            return -ERANGE;
        *res = (long long)v;
    }
    return 0;
}

#define DEFINE_KSTRTO(name, type, via, viatype, lo, hi)                                            \
    int name(const char *s, unsigned int base, type *res)                                          \
    {                                                                                              \
        viatype v;                                                                                 \
        int rv = via(s, base, &v);                                                                 \
        if (rv < 0)                                                                                \
            return rv;                                                                             \
        if (v < (viatype)(lo) || v > (viatype)(hi))                                                \
            return -ERANGE;                                                                        \
        *res = (type)v;                                                                            \
        return 0;                                                                                  \
    }
DEFINE_KSTRTO(kstrtoul, unsigned long, kstrtoull, unsigned long long, 0, ULONG_MAX)
DEFINE_KSTRTO(kstrtol, long, kstrtoll, long long, LONG_MIN, LONG_MAX)
DEFINE_KSTRTO(kstrtouint, unsigned int, kstrtoull, unsigned long long, 0, UINT_MAX)
DEFINE_KSTRTO(kstrtoint, int, kstrtoll, long long, INT_MIN, INT_MAX)
DEFINE_KSTRTO(kstrtou16, u16, kstrtoull, unsigned long long, 0, U16_MAX)
DEFINE_KSTRTO(kstrtou8, u8, kstrtoull, unsigned long long, 0, U8_MAX)

int kstrtobool(const char *s, bool *res)
{
    if (!s)
        return -EINVAL;
    switch (s[0]) {
    case 'y':
    case 'Y':
    case 't':
    case 'T':
    case '1':
        *res = true;
        return 0;
    case 'n':
    case 'N':
    case 'f':
    case 'F':
    case '0':
        *res = false;
        return 0;
    case 'o':
    case 'O':
        if (tolower(s[1]) == 'n') {
            *res = true;
            return 0;
        }
        if (tolower(s[1]) == 'f') {
            *res = false;
            return 0;
        }
        break;
    }
    return -EINVAL;
}

unsigned long long simple_strtoull(const char *cp, char **endp, unsigned int base)
{
    unsigned long long v = 0;
    int n;

    cp = parse_base(cp, &base);
    n = parse_digits(cp, base, &v);
    if (n < 0) {
        /* Overflow: like the kernel, keep the wrapped value of the digits. */
        v = 0;
        for (n = 0; hex_to_bin((unsigned char)cp[n]) >= 0 && (unsigned int)hex_to_bin((unsigned char)cp[n]) < base;
             n++)
            v = v * base + (unsigned int)hex_to_bin((unsigned char)cp[n]);
    }
    if (endp)
        *endp = (char *)cp + n;
    return v;
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
