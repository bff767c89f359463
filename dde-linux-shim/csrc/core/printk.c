/*
 * printk and formatted output: vsnprintf with the kernel's format extensions
 * (%pM MAC addresses, %pI4, %ph hex buffers, %pR resources, %pe error
 * names ...), printk's KERN_* levels mapped onto ddekit_print_level, and the
 * dev_* message prefixes ("driver 0000:00:03.0: ..."; the network class adds
 * netdev_*'s, csrc/net/printk.c).
 */
#include <linux/device.h>
#include <linux/ethtool.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/ratelimit.h>
#include <linux/pci.h>
#include <linux/printk.h>
#include <linux/refcount.h>
#include <linux/string.h>

#include "internal.h"

/* hex_asc and hex_asc_upper are Linux's own lib/hexdump.c (linux-lib.toml). */

/* ---- vsnprintf ---------------------------------------------------------------- */

struct out {
    char *buf;
    size_t size; /* capacity including the terminating NUL */
    size_t len;  /* characters produced so far (may exceed size) */
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void puts_n(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
}

#define F_LEFT 1
#define F_PLUS 2
#define F_SPACE 4
#define F_SPECIAL 8
#define F_ZERO 16
#define F_SIGNED 32
#define F_UPPER 64

struct spec {
    int flags;
    int width;     /* -1: none */
    int precision; /* -1: none */
    int base;
};

static void pad(struct out *o, int n, char c)
{
    while (n-- > 0)
        put(o, c);
}

static void emit_string(struct out *o, const char *s, const struct spec *sp)
{
    size_t n;
    int w;

    if (!s)
        s = "(null)";
    n = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
    w = sp->width - (int)n;
    if (!(sp->flags & F_LEFT))
        pad(o, w, ' ');
    puts_n(o, s, n);
    if (sp->flags & F_LEFT)
        pad(o, w, ' ');
}

static void emit_number(struct out *o, unsigned long long num, bool negative, const struct spec *sp)
{
    char tmp[24];
    const char *digits = (sp->flags & F_UPPER) ? hex_asc_upper : hex_asc;
    char sign = 0;
    const char *prefix = "";
    int n = 0, prec = sp->precision, width = sp->width, flags = sp->flags;

    if (flags & F_SIGNED) {
        if (negative)
            sign = '-';
        else if (flags & F_PLUS)
            sign = '+';
        else if (flags & F_SPACE)
            sign = ' ';
    }
    if ((flags & F_SPECIAL) && num != 0) {
        if (sp->base == 16)
            prefix = (flags & F_UPPER) ? "0X" : "0x";
        else if (sp->base == 8)
            prefix = "0";
    }
    if (num == 0 && prec != 0)
        tmp[n++] = '0';
    while (num) {
        tmp[n++] = digits[num % (unsigned)sp->base];
        num /= (unsigned)sp->base;
    }
    if (prec < n)
        prec = n;
    width -= prec + (sign ? 1 : 0) + (int)strlen(prefix);
    if (sp->precision >= 0)
        flags &= ~F_ZERO;
    if (!(flags & (F_LEFT | F_ZERO)))
        pad(o, width, ' ');
    if (sign)
        put(o, sign);
    puts_n(o, prefix, strlen(prefix));
    if (!(flags & F_LEFT) && (flags & F_ZERO))
        pad(o, width, '0');
    pad(o, prec - n, '0');
    while (n)
        put(o, tmp[--n]);
    if (flags & F_LEFT)
        pad(o, width, ' ');
}

static const char *errname(int err)
{
    switch (err) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENETDOWN: return "ENETDOWN";
    case ENOBUFS: return "ENOBUFS";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENOLINK: return "ENOLINK";
    case EMSGSIZE: return "EMSGSIZE";
    case EPROBE_DEFER: return "EPROBE_DEFER";
    case ENOTSUPP: return "ENOTSUPP";
    }
    return NULL;
}

/* The %p extensions. `fmt` points just past the 'p'; returns how many
 * extension characters were consumed. */
static int emit_pointer(struct out *o, const char *fmt, const void *ptr, struct spec sp)
{
    char tmp[64];
    const u8 *b = ptr;

    switch (fmt[0]) {
    case 'M':
    case 'm': {
        /* MAC address; 'M' with colons, 'm' without; 'R' reversed. */
        bool colons = fmt[0] == 'M', rev = fmt[1] == 'R';
        int n = 0;

        if (!ptr)
            break;
        for (int i = 0; i < 6; i++) {
            u8 v = b[rev ? 5 - i : i];
            if (i && colons)
                tmp[n++] = ':';
            tmp[n++] = hex_asc[v >> 4];
            tmp[n++] = hex_asc[v & 15];
        }
        tmp[n] = 0;
        sp.precision = -1;
        emit_string(o, tmp, &sp);
        return rev ? 2 : 1;
    }
    case 'I':
    case 'i':
        if (!ptr)
            break;
        if (fmt[1] == '4') {
            snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
            sp.precision = -1;
            emit_string(o, tmp, &sp);
            return 2;
        }
        if (fmt[1] == '6') {
            int n = 0;
            for (int i = 0; i < 16; i += 2) {
                if (i && fmt[0] == 'I')
                    tmp[n++] = ':';
                n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "%02x%02x", b[i], b[i + 1]);
            }
            sp.precision = -1;
            emit_string(o, tmp, &sp);
            return fmt[2] == 'c' ? 3 : 2;
        }
        break;
    case 'h': {
        /* Hex dump of `width` bytes (max 64): ' ' separated, 'C' colons,
         * 'D' dashes, 'N' no separator. */
        char sep = ' ';
        int used = 1, len = sp.width < 0 ? 1 : sp.width;

        if (fmt[1] == 'C' || fmt[1] == 'D' || fmt[1] == 'N') {
            sep = fmt[1] == 'C' ? ':' : fmt[1] == 'D' ? '-' : 0;
            used = 2;
        }
        if (!ptr) {
            puts_n(o, "(null)", 6);
            return used;
        }
        if (len > 64)
            len = 64;
        for (int i = 0; i < len; i++) {
            if (i && sep)
                put(o, sep);
            put(o, hex_asc[b[i] >> 4]);
            put(o, hex_asc[b[i] & 15]);
        }
        return used;
    }
    case 'R':
    case 'r': {
        const struct resource *res = ptr;
        const char *kind;

        if (!ptr)
            break;
        kind = (res->flags & IORESOURCE_IO) ? "io" : (res->flags & IORESOURCE_MEM) ? "mem" : "??";
        snprintf(tmp, sizeof(tmp), "[%s %#010llx-%#010llx]", kind, (unsigned long long)res->start,
                 (unsigned long long)res->end);
        sp.precision = -1;
        emit_string(o, tmp, &sp);
        return 1;
    }
    case 'a': {
        /* %pa: phys_addr_t/resource_size_t, %pad: dma_addr_t, by reference. */
        int used = fmt[1] == 'd' || fmt[1] == 'p' ? 2 : 1;
        struct spec nsp = {.flags = F_SPECIAL | F_ZERO, .width = 18, .precision = -1, .base = 16};

        if (!ptr)
            break;
        emit_number(o, *(const u64 *)ptr, false, &nsp);
        return used;
    }
    case 'e': {
        long err = (long)ptr;
        const char *name = IS_ERR(ptr) ? errname((int)-err) : NULL;

        if (name) {
            put(o, '-');
            sp.precision = -1;
            emit_string(o, name, &sp);
        } else {
            struct spec nsp = {.flags = F_SIGNED, .width = -1, .precision = -1, .base = 10};
            emit_number(o, (unsigned long long)(err < 0 ? -err : err), err < 0, &nsp);
        }
        return 1;
    }
    case 'V': {
        const struct va_format {
            const char *fmt;
            va_list *va;
        } *vaf = ptr;
        va_list va;
        size_t room = o->len < o->size ? o->size - o->len : 0;
        int n;

        va_copy(va, *vaf->va);
        n = vsnprintf(room ? o->buf + o->len : NULL, room, vaf->fmt, va);
        va_end(va);
        o->len += (size_t)n;
        return 1;
    }
    case 'E':
        /* Escaped string: printed as it is. */
        sp.precision = -1;
        emit_string(o, ptr, &sp);
        return 1;
    case 'S':
    case 's':
    case 'F':
    case 'f':
    case 'B':
    case 'x':
    case 'K':
        /* Symbols (no symbol table in a task), raw and restricted pointers:
         * the address. */
        break;
    default: {
        /* A plain %p: the address in hex, without "0x" (Linux prints a
         * hashed value in the same form; an address is more useful here). */
        struct spec nsp = {.flags = 0, .width = -1, .precision = -1, .base = 16};

        if (!ptr) {
            sp.precision = -1;
            emit_string(o, "(null)", &sp);
        } else {
            emit_number(o, (unsigned long)ptr, false, &nsp);
        }
        return 0;
    }
    }
    /* An extension with no (or a NULL) argument to format: the address. */
    if (!ptr) {
        sp.precision = -1;
        emit_string(o, "(null)", &sp);
    } else {
        struct spec nsp = {.flags = 0, .width = -1, .precision = -1, .base = 16};
        emit_number(o, (unsigned long)ptr, false, &nsp);
    }
    return 1;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
    struct out o = {.buf = buf, .size = size, .len = 0};

    while (*fmt) {
        struct spec sp = {.flags = 0, .width = -1, .precision = -1, .base = 10};
        int qualifier = 0;
        unsigned long long num;
        bool negative = false;

        if (*fmt != '%') {
            put(&o, *fmt++);
            continue;
        }
        fmt++;
        /* flags */
        for (;; fmt++) {
            if (*fmt == '-')
                sp.flags |= F_LEFT;
            else if (*fmt == '+')
                sp.flags |= F_PLUS;
            else if (*fmt == ' ')
                sp.flags |= F_SPACE;
            else if (*fmt == '#')
                sp.flags |= F_SPECIAL;
            else if (*fmt == '0')
                sp.flags |= F_ZERO;
            else
                break;
        }
        /* width */
        if (*fmt == '*') {
            sp.width = va_arg(args, int);
            if (sp.width < 0) {
                sp.width = -sp.width;
                sp.flags |= F_LEFT;
            }
            fmt++;
        } else if (*fmt >= '0' && *fmt <= '9') {
            sp.width = 0;
            while (*fmt >= '0' && *fmt <= '9')
                sp.width = sp.width * 10 + (*fmt++ - '0');
        }
        /* precision */
        if (*fmt == '.') {
            fmt++;
            sp.precision = 0;
            if (*fmt == '*') {
                sp.precision = va_arg(args, int);
                if (sp.precision < 0)
                    sp.precision = -1;
                fmt++;
            } else {
                while (*fmt >= '0' && *fmt <= '9')
                    sp.precision = sp.precision * 10 + (*fmt++ - '0');
            }
        }
        /* length */
        if (*fmt == 'h') {
            qualifier = 'h';
            if (*++fmt == 'h') {
                qualifier = 'H';
                fmt++;
            }
        } else if (*fmt == 'l') {
            qualifier = 'l';
            if (*++fmt == 'l') {
                qualifier = 'L';
                fmt++;
            }
        } else if (*fmt == 'L' || *fmt == 'q' || *fmt == 'j') {
            qualifier = 'L';
            fmt++;
        } else if (*fmt == 'z' || *fmt == 'Z' || *fmt == 't') {
            qualifier = 'z';
            fmt++;
        }

        switch (*fmt) {
        case 'c': {
            char c = (char)va_arg(args, int);
            if (!(sp.flags & F_LEFT))
                pad(&o, sp.width - 1, ' ');
            put(&o, c);
            if (sp.flags & F_LEFT)
                pad(&o, sp.width - 1, ' ');
            fmt++;
            continue;
        }
        case 's':
            emit_string(&o, va_arg(args, const char *), &sp);
            fmt++;
            continue;
        case 'p':
            fmt++;
            fmt += emit_pointer(&o, fmt, va_arg(args, const void *), sp);
            continue;
        case '%':
            put(&o, '%');
            fmt++;
            continue;
        case 'n':
            /* Not supported (as in the kernel): consume the argument. */
            (void)va_arg(args, void *);
            fmt++;
            continue;
        case 'o':
            sp.base = 8;
            break;
        case 'X':
            sp.flags |= F_UPPER;
            fallthrough;
        case 'x':
            sp.base = 16;
            break;
        case 'd':
        case 'i':
            sp.flags |= F_SIGNED;
            break;
        case 'u':
            break;
        default:
            /* Unknown conversion: print it literally. */
            put(&o, '%');
            if (*fmt)
                put(&o, *fmt++);
            continue;
        }
        fmt++;
        if (sp.flags & F_LEFT)
            sp.flags &= ~F_ZERO;
        if (sp.flags & F_SIGNED) {
            long long v;
            switch (qualifier) {
            case 'L':
                v = va_arg(args, long long);
                break;
            case 'l':
                v = va_arg(args, long);
                break;
            case 'z':
                v = va_arg(args, ssize_t);
                break;
            case 'h':
                v = (short)va_arg(args, int);
                break;
            case 'H':
                v = (signed char)va_arg(args, int);
                break;
            default:
                v = va_arg(args, int);
            }
            negative = v < 0;
            num = negative ? 0ULL - (unsigned long long)v : (unsigned long long)v;
        } else {
            switch (qualifier) {
            case 'L':
                num = va_arg(args, unsigned long long);
                break;
            case 'l':
                num = va_arg(args, unsigned long);
                break;
            case 'z':
                num = va_arg(args, size_t);
                break;
            case 'h':
                num = (unsigned short)va_arg(args, int);
                break;
            case 'H':
                num = (unsigned char)va_arg(args, int);
                break;
            default:
                num = va_arg(args, unsigned int);
            }
        }
        emit_number(&o, num, negative, &sp);
    }
    if (size > 0)
        o.buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vsnprintf(buf, size, fmt, args);
    va_end(args);
    return n;
}

int vscnprintf(char *buf, size_t size, const char *fmt, va_list args)
{
    int n = vsnprintf(buf, size, fmt, args);

    if (likely((size_t)n < size))
        return n;
    return size ? (int)size - 1 : 0;
}

int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vscnprintf(buf, size, fmt, args);
    va_end(args);
    return n;
}

int vsprintf(char *buf, const char *fmt, va_list args) { return vsnprintf(buf, INT_MAX, fmt, args); }

int sprintf(char *buf, const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vsnprintf(buf, INT_MAX, fmt, args);
    va_end(args);
    return n;
}

char *kvasprintf(gfp_t gfp, const char *fmt, va_list args)
{
    va_list aq;
    int len;
    char *p;

    va_copy(aq, args);
    len = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    p = kmalloc((size_t)len + 1, gfp);
    if (p)
        vsnprintf(p, (size_t)len + 1, fmt, args);
    return p;
}

char *kasprintf(gfp_t gfp, const char *fmt, ...)
{
    va_list args;
    char *p;

    va_start(args, fmt);
    p = kvasprintf(gfp, fmt, args);
    va_end(args);
    return p;
}

/* ---- printk ------------------------------------------------------------------- */

/* DDEKit levels: 1 error, 2 warn, 3 info, 4 debug. */
static int ddekit_level(int kern_level)
{
    if (kern_level <= LOGLEVEL_ERR)
        return 1;
    if (kern_level == LOGLEVEL_WARNING)
        return 2;
    if (kern_level <= LOGLEVEL_INFO)
        return 3;
    return 4;
}

#define DDE_LOG_LINE 512

/* Formats `prefix` + message and writes it with the kernel level `level`
 * (-1: a KERN_CONT continuation of the thread's current line). */
int dde_vprintk_level(int level, const char *prefix, const char *fmt, va_list args)
{
    char line[DDE_LOG_LINE];
    size_t n = 0;
    int len;

    if (prefix) {
        n = strlen(prefix);
        if (n >= sizeof(line))
            n = sizeof(line) - 1;
        memcpy(line, prefix, n);
    }
    len = vsnprintf(line + n, sizeof(line) - n, fmt, args);
    if (level < 0)
        ddekit_print(line);
    else
        ddekit_print_level(ddekit_level(level), line);
    return len;
}

int vprintk(const char *fmt, va_list args)
{
    /* Linux's default message level is KERN_WARNING. */
    int level = LOGLEVEL_WARNING;
    int kern = printk_get_level(fmt);

    if (kern) {
        fmt += 2;
        if (kern == 'c')
            level = -1;
        else
            level = kern - '0';
        /* A message may carry KERN_CONT after a level, or the other way round. */
        while (printk_get_level(fmt))
            fmt += 2;
    }
    return dde_vprintk_level(level, NULL, fmt, args);
}

/* What Linux's printk() calls. */
int _printk(const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vprintk(fmt, args);
    va_end(args);
    return n;
}

/* Linux defers these to an irq_work because its console locks may be held
 * where they are called (the scheduler, ___ratelimit()'s report of what it
 * suppressed); the task's log takes no lock of the caller's, so they go out
 * at once. */
int _printk_deferred(const char *fmt, ...)
{
    va_list args;
    int n;

    va_start(args, fmt);
    n = vprintk(fmt, args);
    va_end(args);
    return n;
}

/* Linux's two shared limits (kernel/printk/printk.c, net/core/utils.c): at
 * most 10 messages per 5 s each, on Linux's own ___ratelimit()
 * (lib/ratelimit.c, linux-lib.toml). */
static DEFINE_RATELIMIT_STATE(printk_limit, 5 * HZ, 10);
static DEFINE_RATELIMIT_STATE(net_limit, 5 * HZ, 10);

int __printk_ratelimit(const char *func) { return ___ratelimit(&printk_limit, func); }

int net_ratelimit(void) { return __ratelimit(&net_limit); }

/* hex_dump_to_buffer and print_hex_dump are Linux's own lib/hexdump.c (linux-lib.toml). */

/* ---- device messages ------------------------------------------------------------- */

const char *dev_driver_string(const struct device *dev)
{
    if (dev->driver && dev->driver->name)
        return dev->driver->name;
    if (dev->bus && dev->bus->name)
        return dev->bus->name;
    return "";
}

/* The name is the device's kobject's, which Linux's dev_name() reads. */
int dev_set_name(struct device *dev, const char *fmt, ...)
{
    va_list args;
    char *name;

    va_start(args, fmt);
    name = kvasprintf(GFP_KERNEL, fmt, args);
    va_end(args);
    if (!name)
        return -ENOMEM;
    kfree_const(dev->kobj.name);
    dev->kobj.name = name;
    dev->init_name = NULL;
    return 0;
}

static void dev_vprintk(int level, const struct device *dev, const char *fmt, va_list args)
{
    char prefix[96];

    if (dev)
        snprintf(prefix, sizeof(prefix), "%s %s: ", dev_driver_string(dev), dev_name(dev));
    else
        snprintf(prefix, sizeof(prefix), "(NULL device *): ");
    dde_vprintk_level(level, prefix, fmt, args);
}

/* What Linux's dev_printk() calls. */
void _dev_printk(const char *level, const struct device *dev, const char *fmt, ...)
{
    va_list args;
    int kern = printk_get_level(level);

    va_start(args, fmt);
    dev_vprintk(kern && kern != 'c' ? kern - '0' : LOGLEVEL_WARNING, dev, fmt, args);
    va_end(args);
}

#define DEFINE_DEV_LEVEL(func, lvl)                                                                \
    void func(const struct device *dev, const char *fmt, ...)                                      \
    {                                                                                              \
        va_list args;                                                                              \
        va_start(args, fmt);                                                                       \
        dev_vprintk(lvl, dev, fmt, args);                                                          \
        va_end(args);                                                                              \
    }
DEFINE_DEV_LEVEL(_dev_emerg, LOGLEVEL_EMERG)
DEFINE_DEV_LEVEL(_dev_alert, LOGLEVEL_ALERT)
DEFINE_DEV_LEVEL(_dev_crit, LOGLEVEL_CRIT)
DEFINE_DEV_LEVEL(_dev_err, LOGLEVEL_ERR)
DEFINE_DEV_LEVEL(_dev_warn, LOGLEVEL_WARNING)
DEFINE_DEV_LEVEL(_dev_notice, LOGLEVEL_NOTICE)
DEFINE_DEV_LEVEL(_dev_info, LOGLEVEL_INFO)

int dev_err_probe(const struct device *dev, int err, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    if (err != -EPROBE_DEFER)
        dev_vprintk(LOGLEVEL_ERR, dev, fmt, args);
    va_end(args);
    return err;
}

/* ---- BUG and WARN ------------------------------------------------------------------- */

/* Linux's generic WARN() (linux-shadow/asm/bug.h): the message, the place, and on. */
void warn_slowpath_fmt(const char *file, const int line, unsigned taint, const char *fmt, ...)
{
    if (fmt) {
        va_list args;

        va_start(args, fmt);
        dde_vprintk_level(LOGLEVEL_WARNING, NULL, fmt, args);
        va_end(args);
    }
    printk(KERN_WARNING "WARNING: at %s:%d\n", file, line);
}

/* What WARN_ONCE() and friends print with (CONFIG_BUG's __WARN_printf). */
void __warn_printk(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    dde_vprintk_level(LOGLEVEL_WARNING, NULL, fmt, args);
    va_end(args);
}

/* Linux's refcount_t found an overflow, underflow or use after free. */
void refcount_warn_saturate(refcount_t *r, enum refcount_saturation_type t)
{
    refcount_set(r, REFCOUNT_SATURATED);
    WARN_ONCE(1, "refcount_t: misuse (%d)\n", (int)t);
}

/* BUG() and panic(): the task ends with the reason. */
void panic(const char *fmt, ...)
{
    char msg[192];
    va_list args;

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);
    ddekit_print_level(1, msg);
    ddekit_panic(msg);
}

void dump_stack(void) { printk(KERN_WARNING "(no stack trace in a driver task)\n"); }
