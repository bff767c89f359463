/*
 * Compiler attributes and helpers the Linux driver sources use (GCC only).
 */
#ifndef _LINUX_COMPILER_H
#define _LINUX_COMPILER_H

/* Sparse annotations: empty for the compiler. */
#define __iomem
#define __user
#define __kernel
#define __force
#define __bitwise
#define __rcu
#define __percpu
#define __must_hold(x)
#define __acquires(x)
#define __releases(x)
#define __acquire(x) (void)0
#define __release(x) (void)0
#define __cond_lock(x, c) (c)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define __always_inline inline __attribute__((__always_inline__))
#define noinline __attribute__((__noinline__))
#define __noreturn __attribute__((__noreturn__))
#define __packed __attribute__((__packed__))
#define __aligned(x) __attribute__((__aligned__(x)))
#define __maybe_unused __attribute__((__unused__))
#define __always_unused __attribute__((__unused__))
#define __used __attribute__((__used__))
#define __must_check __attribute__((__warn_unused_result__))
#define __cold __attribute__((__cold__))
#define __weak __attribute__((__weak__))
#define __section(s) __attribute__((__section__(s)))
#define __printf(a, b) __attribute__((__format__(printf, a, b)))
#define __scanf(a, b) __attribute__((__format__(scanf, a, b)))
#define __pure __attribute__((__pure__))
#define __malloc __attribute__((__malloc__))
#define __deprecated
#define __visible __attribute__((__externally_visible__))
#define notrace
#define __randomize_layout
#define __no_randomize_layout
#define __counted_by(m)
#define noinline_for_stack noinline
#define fallthrough __attribute__((__fallthrough__))

#define barrier() __asm__ __volatile__("" : : : "memory")
#define barrier_data(ptr) __asm__ __volatile__("" : : "r"(ptr) : "memory")

#define __same_type(a, b) __builtin_types_compatible_p(typeof(a), typeof(b))
#define __is_constexpr(x) (sizeof(int) == sizeof(*(8 ? ((void *)((long)(x) * 0l)) : (int *)8)))

#define ___PASTE(a, b) a##b
#define __PASTE(a, b) ___PASTE(a, b)
#define __UNIQUE_ID(prefix) __PASTE(__PASTE(__UNIQUE_ID_, prefix), __COUNTER__)

/* READ_ONCE/WRITE_ONCE: one access of exactly the object's size. */
#define __READ_ONCE(x) (*(const volatile typeof(x) *)&(x))
#define READ_ONCE(x) __READ_ONCE(x)
#define WRITE_ONCE(x, val)                                                                         \
    do {                                                                                           \
        *(volatile typeof(x) *)&(x) = (val);                                                       \
    } while (0)

#define OPTIMIZER_HIDE_VAR(var) __asm__("" : "=r"(var) : "0"(var))

#include <asm/barrier.h>

#endif
