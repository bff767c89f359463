/* <linux/mutex.h>: mutexes are DDEKit locks, created on first use. */
#ifndef _LINUX_MUTEX_H
#define _LINUX_MUTEX_H

#include <ddekit.h>
#include <linux/types.h>

struct ddekit_lock;

struct mutex {
    struct ddekit_lock *ddekit;
};

#define __MUTEX_INITIALIZER(name) {.ddekit = (struct ddekit_lock *)0}
#define DEFINE_MUTEX(name) struct mutex name = __MUTEX_INITIALIZER(name)

static inline void mutex_init(struct mutex *lock) { lock->ddekit = NULL; }
static inline void mutex_destroy(struct mutex *lock) { ddekit_lock_deinit(&lock->ddekit); }
static inline void mutex_lock(struct mutex *lock) { ddekit_lock_lock(&lock->ddekit); }
static inline int mutex_trylock(struct mutex *lock) { return ddekit_lock_try_lock(&lock->ddekit) == 0; }
static inline void mutex_unlock(struct mutex *lock) { ddekit_lock_unlock(&lock->ddekit); }
static inline bool mutex_is_locked(struct mutex *lock) { return ddekit_lock_owner(&lock->ddekit) != NULL; }
/* Nothing delivers signals to a driver thread: the wait is never interrupted. */
static inline int mutex_lock_interruptible(struct mutex *lock)
{
    mutex_lock(lock);
    return 0;
}
static inline int mutex_lock_killable(struct mutex *lock)
{
    mutex_lock(lock);
    return 0;
}
#define mutex_lock_nested(lock, subclass) mutex_lock(lock)

#endif
