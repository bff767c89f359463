/*
 * Linux's lock functions on DDEKit: with CONFIG_DEBUG_SPINLOCK (Resurgo's
 * configuration, resurgo.config) Linux's spin_lock() and friends call the
 * out-of-line _raw_spin_*() functions defined here, and mutex_lock() is out
 * of line in every configuration.
 *
 * Every Linux execution context is a real thread here: the interrupt handler
 * thread of each line, the softirq thread (NAPI, tasklets), the timer thread,
 * the workqueue thread and the host's threads. A spinlock is a DDEKit lock (a
 * sleeping mutex) that all of them honour, which gives drivers exactly the
 * mutual exclusion they rely on from spin_lock_irqsave() against their own
 * interrupt handler and from spin_lock_bh() against their softirq code on an
 * SMP kernel: the other context simply blocks on the same lock. The
 * _irqsave/_irq/_bh variants therefore take just the lock.
 *
 * The DDEKit lock lives in the debug lock's `owner` field (a pointer that
 * only Linux's lib/spinlock_debug.c, not compiled here, uses): NULL is an
 * unlocked DDEKit lock that DDEKit creates on first use, race-free; a
 * statically initialised lock has SPINLOCK_OWNER_INIT there, turned into
 * NULL on first use. `raw_lock.slock` is kept as Linux's UP debug lock has it
 * (0 while held), so spin_is_locked() and assert_spin_locked() work.
 */
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/swait.h>
#include <linux/wait.h>

#include <ddekit.h>

static ddekit_lock_t *dde_lock_of(void **owner)
{
	void *init = SPINLOCK_OWNER_INIT;

	if (__atomic_load_n(owner, __ATOMIC_ACQUIRE) == init)
		__atomic_compare_exchange_n(owner, &init, NULL, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return (ddekit_lock_t *)owner;
}

static void dde_lock(raw_spinlock_t *lock)
{
	ddekit_lock_lock(dde_lock_of(&lock->owner));
	lock->raw_lock.slock = 0;
}

static int dde_trylock(raw_spinlock_t *lock)
{
	if (ddekit_lock_try_lock(dde_lock_of(&lock->owner)) != 0)
		return 0;
	lock->raw_lock.slock = 0;
	return 1;
}

static void dde_unlock(raw_spinlock_t *lock)
{
	lock->raw_lock.slock = 1;
	ddekit_lock_unlock(dde_lock_of(&lock->owner));
}

void __raw_spin_lock_init(raw_spinlock_t *lock, const char *name, struct lock_class_key *key, short inner)
{
	lock->raw_lock.slock = 1;
	lock->magic = SPINLOCK_MAGIC;
	lock->owner_cpu = -1;
	lock->owner = NULL;
}

void _raw_spin_lock(raw_spinlock_t *lock) { dde_lock(lock); }
void _raw_spin_lock_nested(raw_spinlock_t *lock, int subclass) { dde_lock(lock); }
void _raw_spin_lock_nest_lock(raw_spinlock_t *lock, struct lockdep_map *map) { dde_lock(lock); }
void _raw_spin_lock_bh(raw_spinlock_t *lock) { dde_lock(lock); }
void _raw_spin_lock_irq(raw_spinlock_t *lock) { dde_lock(lock); }
unsigned long _raw_spin_lock_irqsave(raw_spinlock_t *lock)
{
	dde_lock(lock);
	return 0;
}
unsigned long _raw_spin_lock_irqsave_nested(raw_spinlock_t *lock, int subclass)
{
	dde_lock(lock);
	return 0;
}
int _raw_spin_trylock(raw_spinlock_t *lock) { return dde_trylock(lock); }
int _raw_spin_trylock_bh(raw_spinlock_t *lock) { return dde_trylock(lock); }
void _raw_spin_unlock(raw_spinlock_t *lock) { dde_unlock(lock); }
void _raw_spin_unlock_bh(raw_spinlock_t *lock) { dde_unlock(lock); }
void _raw_spin_unlock_irq(raw_spinlock_t *lock) { dde_unlock(lock); }
void _raw_spin_unlock_irqrestore(raw_spinlock_t *lock, unsigned long flags) { dde_unlock(lock); }

/* Not in Linux (spinlocks are never destroyed there): frees the DDEKit lock of
 * a lock in memory the shim frees itself. */
void dde_spin_lock_destroy(spinlock_t *lock)
{
	ddekit_lock_deinit(dde_lock_of(&lock->rlock.owner));
}

/* ---- rwlocks: exclusive locks (readers exclude each other too) ---------------- */

static void rw_lock(rwlock_t *lock) { ddekit_lock_lock(dde_lock_of(&lock->owner)); }
static void rw_unlock(rwlock_t *lock) { ddekit_lock_unlock(dde_lock_of(&lock->owner)); }
static int rw_trylock(rwlock_t *lock) { return ddekit_lock_try_lock(dde_lock_of(&lock->owner)) == 0; }

void __rwlock_init(rwlock_t *lock, const char *name, struct lock_class_key *key)
{
	lock->magic = RWLOCK_MAGIC;
	lock->owner_cpu = -1;
	lock->owner = NULL;
}

void _raw_read_lock(rwlock_t *lock) { rw_lock(lock); }
void _raw_write_lock(rwlock_t *lock) { rw_lock(lock); }
void _raw_write_lock_nested(rwlock_t *lock, int subclass) { rw_lock(lock); }
void _raw_read_lock_bh(rwlock_t *lock) { rw_lock(lock); }
void _raw_write_lock_bh(rwlock_t *lock) { rw_lock(lock); }
void _raw_read_lock_irq(rwlock_t *lock) { rw_lock(lock); }
void _raw_write_lock_irq(rwlock_t *lock) { rw_lock(lock); }
unsigned long _raw_read_lock_irqsave(rwlock_t *lock)
{
	rw_lock(lock);
	return 0;
}
unsigned long _raw_write_lock_irqsave(rwlock_t *lock)
{
	rw_lock(lock);
	return 0;
}
int _raw_read_trylock(rwlock_t *lock) { return rw_trylock(lock); }
int _raw_write_trylock(rwlock_t *lock) { return rw_trylock(lock); }
void _raw_read_unlock(rwlock_t *lock) { rw_unlock(lock); }
void _raw_write_unlock(rwlock_t *lock) { rw_unlock(lock); }
void _raw_read_unlock_bh(rwlock_t *lock) { rw_unlock(lock); }
void _raw_write_unlock_bh(rwlock_t *lock) { rw_unlock(lock); }
void _raw_read_unlock_irq(rwlock_t *lock) { rw_unlock(lock); }
void _raw_write_unlock_irq(rwlock_t *lock) { rw_unlock(lock); }
void _raw_read_unlock_irqrestore(rwlock_t *lock, unsigned long flags) { rw_unlock(lock); }
void _raw_write_unlock_irqrestore(rwlock_t *lock, unsigned long flags) { rw_unlock(lock); }

/* ---- mutexes: the DDEKit lock of their wait_lock, the holder in `owner` ------- */

void __mutex_init(struct mutex *lock, const char *name, struct lock_class_key *key)
{
	atomic_long_set(&lock->owner, 0);
	__raw_spin_lock_init(&lock->wait_lock, name, key, 0);
	INIT_LIST_HEAD(&lock->wait_list);
}

void mutex_lock(struct mutex *lock)
{
	dde_lock(&lock->wait_lock);
	atomic_long_set(&lock->owner, (long)current);
}

int mutex_lock_interruptible(struct mutex *lock)
{
	mutex_lock(lock);
	return 0;
}

int mutex_lock_killable(struct mutex *lock)
{
	mutex_lock(lock);
	return 0;
}

int mutex_trylock(struct mutex *lock)
{
	if (!dde_trylock(&lock->wait_lock))
		return 0;
	atomic_long_set(&lock->owner, (long)current);
	return 1;
}

void mutex_unlock(struct mutex *lock)
{
	atomic_long_set(&lock->owner, 0);
	dde_unlock(&lock->wait_lock);
}

bool mutex_is_locked(struct mutex *lock) { return atomic_long_read(&lock->owner) != 0; }
