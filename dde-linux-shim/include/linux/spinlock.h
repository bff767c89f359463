/*
 * <linux/spinlock.h>: spinlocks as DDEKit locks (DDEKit creates the lock on first use).
 *
 * Every Linux execution context is a real thread here: the interrupt handler
 * thread of each line, the softirq thread (NAPI, tasklets), the timer thread,
 * the workqueue thread and the host's threads. A spinlock is a mutex that all
 * of them honour, which gives drivers exactly the mutual exclusion they rely
 * on from spin_lock_irqsave() against their own interrupt handler and from
 * spin_lock_bh() against their softirq code on an SMP kernel: the other
 * context simply blocks on the same lock. The _irqsave/_irq/_bh variants
 * therefore take just the lock; `flags` is kept for the caller's restore.
 */
#ifndef _LINUX_SPINLOCK_H
#define _LINUX_SPINLOCK_H

#include <ddekit.h>
#include <linux/compiler.h>
#include <linux/irqflags.h>
#include <linux/bottom_half.h>
#include <linux/preempt.h>
#include <linux/spinlock_types.h>
#include <linux/types.h>

/* DDEKit creates the lock behind a NULL handle on first use. */
static inline void spin_lock_init(spinlock_t *lock) { lock->ddekit = NULL; }
static inline void spin_lock(spinlock_t *lock) { ddekit_lock_lock(&lock->ddekit); }
static inline void spin_unlock(spinlock_t *lock) { ddekit_lock_unlock(&lock->ddekit); }
static inline int spin_trylock(spinlock_t *lock) { return ddekit_lock_try_lock(&lock->ddekit) == 0; }
static inline int spin_is_locked(spinlock_t *lock) { return ddekit_lock_owner(&lock->ddekit) != NULL; }
/* Not in Linux (spinlocks are never destroyed there); used by the shim for
 * the locks of objects it frees itself. */
static inline void dde_spin_lock_destroy(spinlock_t *lock) { ddekit_lock_deinit(&lock->ddekit); }

#define spin_lock_nested(lock, subclass) spin_lock(lock)
#define spin_lock_irq(lock) spin_lock(lock)
#define spin_unlock_irq(lock) spin_unlock(lock)
#define spin_lock_bh(lock) spin_lock(lock)
#define spin_unlock_bh(lock) spin_unlock(lock)
#define spin_trylock_bh(lock) spin_trylock(lock)
#define spin_trylock_irq(lock) spin_trylock(lock)
#define spin_lock_irqsave(lock, flags)                                                             \
    do {                                                                                           \
        _Static_assert(sizeof(flags) == sizeof(unsigned long), "flags must be unsigned long");    \
        (flags) = 0;                                                                               \
        spin_lock(lock);                                                                           \
    } while (0)
#define spin_lock_irqsave_nested(lock, flags, subclass) spin_lock_irqsave(lock, flags)
#define spin_unlock_irqrestore(lock, flags)                                                        \
    do {                                                                                           \
        (void)(flags);                                                                             \
        spin_unlock(lock);                                                                         \
    } while (0)
#define spin_trylock_irqsave(lock, flags) ({ (flags) = 0; spin_trylock(lock); })
#define assert_spin_locked(lock) WARN_ON(!spin_is_locked(lock))

#define raw_spin_lock_init(l) spin_lock_init(l)
#define raw_spin_lock(l) spin_lock(l)
#define raw_spin_unlock(l) spin_unlock(l)
#define raw_spin_lock_irqsave(l, f) spin_lock_irqsave(l, f)
#define raw_spin_unlock_irqrestore(l, f) spin_unlock_irqrestore(l, f)
#define raw_spin_lock_irq(l) spin_lock(l)
#define raw_spin_unlock_irq(l) spin_unlock(l)

#define rwlock_init(l) spin_lock_init(&(l)->lock)
#define read_lock(l) spin_lock(&(l)->lock)
#define read_unlock(l) spin_unlock(&(l)->lock)
#define write_lock(l) spin_lock(&(l)->lock)
#define write_unlock(l) spin_unlock(&(l)->lock)
#define read_lock_bh(l) spin_lock(&(l)->lock)
#define read_unlock_bh(l) spin_unlock(&(l)->lock)
#define write_lock_bh(l) spin_lock(&(l)->lock)
#define write_unlock_bh(l) spin_unlock(&(l)->lock)
#define read_lock_irqsave(l, f) spin_lock_irqsave(&(l)->lock, f)
#define read_unlock_irqrestore(l, f) spin_unlock_irqrestore(&(l)->lock, f)
#define write_lock_irqsave(l, f) spin_lock_irqsave(&(l)->lock, f)
#define write_unlock_irqrestore(l, f) spin_unlock_irqrestore(&(l)->lock, f)

#include <linux/bug.h>

#endif
