/*
 * <linux/bug.h>: BUG ends the driver task (ddekit_panic, so the reincarnation
 * server restarts it); WARN prints a warning with the place and goes on.
 */
#ifndef _LINUX_BUG_H
#define _LINUX_BUG_H

#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/printk.h>

void __dde_bug(const char *file, int line, const char *func) __noreturn __cold;
__printf(4, 5) void __dde_warn(const char *file, int line, const char *func, const char *fmt, ...) __cold;

#define BUG() __dde_bug(__FILE__, __LINE__, __func__)
#define BUG_ON(condition)                                                                          \
    do {                                                                                           \
        if (unlikely(condition))                                                                   \
            BUG();                                                                                 \
    } while (0)

#define WARN_ON(condition)                                                                         \
    ({                                                                                             \
        int __ret_warn_on = !!(condition);                                                         \
        if (unlikely(__ret_warn_on))                                                               \
            __dde_warn(__FILE__, __LINE__, __func__, NULL);                                        \
        unlikely(__ret_warn_on);                                                                   \
    })
#define WARN(condition, format...)                                                                 \
    ({                                                                                             \
        int __ret_warn_on = !!(condition);                                                         \
        if (unlikely(__ret_warn_on))                                                               \
            __dde_warn(__FILE__, __LINE__, __func__, format);                                      \
        unlikely(__ret_warn_on);                                                                   \
    })
#define WARN_ON_ONCE(condition)                                                                    \
    ({                                                                                             \
        static bool __warned;                                                                      \
        int __ret_warn_once = !!(condition);                                                       \
        if (unlikely(__ret_warn_once && !__warned)) {                                              \
            __warned = true;                                                                       \
            __dde_warn(__FILE__, __LINE__, __func__, NULL);                                        \
        }                                                                                          \
        unlikely(__ret_warn_once);                                                                 \
    })
#define WARN_ONCE(condition, format...)                                                            \
    ({                                                                                             \
        static bool __warned;                                                                      \
        int __ret_warn_once = !!(condition);                                                       \
        if (unlikely(__ret_warn_once && !__warned)) {                                              \
            __warned = true;                                                                       \
            __dde_warn(__FILE__, __LINE__, __func__, format);                                      \
        }                                                                                          \
        unlikely(__ret_warn_once);                                                                 \
    })

#endif
