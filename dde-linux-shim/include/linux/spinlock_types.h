/*
 * spinlock_t: a DDEKit lock (a sleeping mutex), created on first use so that
 * statically initialised locks (DEFINE_SPINLOCK) work too.
 */
#ifndef _LINUX_SPINLOCK_TYPES_H
#define _LINUX_SPINLOCK_TYPES_H

struct ddekit_lock;

typedef struct spinlock {
    struct ddekit_lock *ddekit;
} spinlock_t;

typedef spinlock_t raw_spinlock_t;

/* rwlock_t: readers are rare in drivers, so it is one exclusive lock. */
typedef struct {
    spinlock_t lock;
} rwlock_t;

#define __SPIN_LOCK_UNLOCKED(name) {.ddekit = (struct ddekit_lock *)0}
#define __RAW_SPIN_LOCK_UNLOCKED(name) __SPIN_LOCK_UNLOCKED(name)
#define __RW_LOCK_UNLOCKED(name) {.lock = __SPIN_LOCK_UNLOCKED(name)}
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define DEFINE_RAW_SPINLOCK(x) raw_spinlock_t x = __SPIN_LOCK_UNLOCKED(x)
#define DEFINE_RWLOCK(x) rwlock_t x = __RW_LOCK_UNLOCKED(x)

#endif
