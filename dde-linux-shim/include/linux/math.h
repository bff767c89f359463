#ifndef _LINUX_MATH_H
#define _LINUX_MATH_H
#include <linux/types.h>
#define DIV_ROUND_UP(n, d) (((n) + (d)-1) / (d))
#define DIV_ROUND_UP_ULL(ll, d) ((unsigned long long)(((ll) + (d)-1) / (d)))
#define DIV_ROUND_DOWN_ULL(ll, d) ((unsigned long long)(ll) / (d))
#define DIV_ROUND_CLOSEST(x, divisor)                                                              \
    ({                                                                                             \
        typeof(x) __x = x;                                                                         \
        typeof(divisor) __d = divisor;                                                             \
        (((typeof(x))-1) > 0 || ((typeof(divisor))-1) > 0 || (((__x) > 0) == ((__d) > 0)))       \
            ? (((__x) + ((__d) / 2)) / (__d))                                                      \
            : (((__x) - ((__d) / 2)) / (__d));                                                     \
    })
#define roundup(x, y)                                                                              \
    ({                                                                                             \
        typeof(y) __y = y;                                                                         \
        (((x) + (__y - 1)) / __y) * __y;                                                           \
    })
#define rounddown(x, y)                                                                            \
    ({                                                                                             \
        typeof(x) __x = (x);                                                                       \
        __x - (__x % (y));                                                                         \
    })
#define round_up(x, y) ((((x)-1) | ((typeof(x))((y)-1))) + 1)
#define round_down(x, y) ((x) & ~((typeof(x))((y)-1)))
#define abs(x)                                                                                     \
    ({                                                                                             \
        typeof(x) __x = (x);                                                                       \
        __x < 0 ? -__x : __x;                                                                      \
    })
#define do_div(n, base)                                                                            \
    ({                                                                                             \
        u32 __base = (base);                                                                       \
        u32 __rem = (u32)((u64)(n) % __base);                                                      \
        (n) = (u64)(n) / __base;                                                                   \
        __rem;                                                                                     \
    })
static inline u64 div_u64(u64 dividend, u32 divisor) { return dividend / divisor; }
static inline s64 div_s64(s64 dividend, s32 divisor) { return dividend / divisor; }
static inline u64 div64_u64(u64 dividend, u64 divisor) { return dividend / divisor; }
static inline u64 div_u64_rem(u64 dividend, u32 divisor, u32 *rem)
{
    *rem = (u32)(dividend % divisor);
    return dividend / divisor;
}
#endif
