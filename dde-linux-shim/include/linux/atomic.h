/*
 * <linux/atomic.h>: atomic_t, atomic64_t and atomic_long_t on the compiler's
 * __atomic builtins (sequentially consistent, as the kernel's value-returning
 * atomics are fully ordered).
 */
#ifndef _LINUX_ATOMIC_H
#define _LINUX_ATOMIC_H

#include <linux/compiler.h>
#include <linux/types.h>

#define ATOMIC_INIT(i) {(i)}
#define ATOMIC64_INIT(i) {(i)}
#define ATOMIC_LONG_INIT(i) ATOMIC64_INIT(i)

#define __DDE_ATOMIC_OPS(pfx, atype, ctype)                                                        \
    static inline ctype pfx##_read(const atype *v) { return __atomic_load_n(&v->counter, __ATOMIC_RELAXED); } \
    static inline void pfx##_set(atype *v, ctype i) { __atomic_store_n(&v->counter, i, __ATOMIC_RELAXED); }   \
    static inline void pfx##_add(ctype i, atype *v) { __atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline void pfx##_sub(ctype i, atype *v) { __atomic_fetch_sub(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline void pfx##_inc(atype *v) { pfx##_add(1, v); }                                    \
    static inline void pfx##_dec(atype *v) { pfx##_sub(1, v); }                                    \
    static inline ctype pfx##_add_return(ctype i, atype *v) { return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline ctype pfx##_sub_return(ctype i, atype *v) { return __atomic_sub_fetch(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline ctype pfx##_fetch_add(ctype i, atype *v) { return __atomic_fetch_add(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline ctype pfx##_fetch_sub(ctype i, atype *v) { return __atomic_fetch_sub(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline ctype pfx##_inc_return(atype *v) { return pfx##_add_return(1, v); }              \
    static inline ctype pfx##_dec_return(atype *v) { return pfx##_sub_return(1, v); }              \
    static inline bool pfx##_dec_and_test(atype *v) { return pfx##_sub_return(1, v) == 0; }        \
    static inline bool pfx##_inc_and_test(atype *v) { return pfx##_add_return(1, v) == 0; }        \
    static inline bool pfx##_sub_and_test(ctype i, atype *v) { return pfx##_sub_return(i, v) == 0; } \
    static inline ctype pfx##_xchg(atype *v, ctype n) { return __atomic_exchange_n(&v->counter, n, __ATOMIC_SEQ_CST); } \
    static inline ctype pfx##_cmpxchg(atype *v, ctype o, ctype n)                                  \
    {                                                                                              \
        __atomic_compare_exchange_n(&v->counter, &o, n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
        return o;                                                                                  \
    }                                                                                              \
    static inline bool pfx##_try_cmpxchg(atype *v, ctype *o, ctype n)                              \
    {                                                                                              \
        return __atomic_compare_exchange_n(&v->counter, o, n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
    }                                                                                              \
    static inline void pfx##_or(ctype i, atype *v) { __atomic_fetch_or(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline void pfx##_and(ctype i, atype *v) { __atomic_fetch_and(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline ctype pfx##_fetch_or(ctype i, atype *v) { return __atomic_fetch_or(&v->counter, i, __ATOMIC_SEQ_CST); } \
    static inline ctype pfx##_fetch_andnot(ctype i, atype *v) { return __atomic_fetch_and(&v->counter, ~i, __ATOMIC_SEQ_CST); } \
    static inline bool pfx##_add_unless(atype *v, ctype a, ctype u)                                \
    {                                                                                              \
        ctype c = pfx##_read(v);                                                                   \
        do {                                                                                       \
            if (c == u)                                                                            \
                return false;                                                                      \
        } while (!pfx##_try_cmpxchg(v, &c, c + a));                                                \
        return true;                                                                               \
    }                                                                                              \
    static inline bool pfx##_inc_not_zero(atype *v) { return pfx##_add_unless(v, 1, 0); }

__DDE_ATOMIC_OPS(atomic, atomic_t, int)
__DDE_ATOMIC_OPS(atomic64, atomic64_t, s64)

static inline long atomic_long_read(const atomic_long_t *v) { return (long)atomic64_read(v); }
static inline void atomic_long_set(atomic_long_t *v, long i) { atomic64_set(v, i); }
static inline void atomic_long_inc(atomic_long_t *v) { atomic64_inc(v); }
static inline void atomic_long_dec(atomic_long_t *v) { atomic64_dec(v); }
static inline void atomic_long_add(long i, atomic_long_t *v) { atomic64_add(i, v); }
static inline void atomic_long_sub(long i, atomic_long_t *v) { atomic64_sub(i, v); }
static inline long atomic_long_add_return(long i, atomic_long_t *v) { return (long)atomic64_add_return(i, v); }
static inline long atomic_long_cmpxchg(atomic_long_t *v, long o, long n) { return (long)atomic64_cmpxchg(v, o, n); }
static inline long atomic_long_xchg(atomic_long_t *v, long n) { return (long)atomic64_xchg(v, n); }

#define atomic_read_acquire(v) __atomic_load_n(&(v)->counter, __ATOMIC_ACQUIRE)
#define atomic_set_release(v, i) __atomic_store_n(&(v)->counter, (i), __ATOMIC_RELEASE)

/* Generic cmpxchg/xchg on scalars. */
#define cmpxchg(ptr, o, n)                                                                         \
    ({                                                                                             \
        typeof(*(ptr)) __o = (o);                                                                  \
        __atomic_compare_exchange_n((ptr), &__o, (n), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);  \
        __o;                                                                                       \
    })
#define try_cmpxchg(ptr, po, n)                                                                    \
    __atomic_compare_exchange_n((ptr), (po), (n), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define xchg(ptr, v) __atomic_exchange_n((ptr), (v), __ATOMIC_SEQ_CST)

#endif
