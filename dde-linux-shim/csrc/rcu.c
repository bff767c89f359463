/*
 * RCU's guarantee for drivers: synchronize_rcu() waits until every read-side
 * section in progress when it was called has ended. Readers are counted under
 * a DDEKit lock; a synchronizer waits for the count to drop to zero. New
 * readers may start meanwhile; read-side sections here are short (one
 * transmit, one NAPI poll), so the wait ends.
 */
#include <linux/rcupdate.h>
#include <ddekit.h>

static ddekit_lock_t lock;           /* NULL: created on first use */
static ddekit_condvar_t *quiet;      /* signalled when readers reach zero */
static unsigned long readers;

static ddekit_condvar_t *quiet_cv(void)
{
    if (!quiet)
        quiet = ddekit_condvar_init();
    return quiet;
}

void rcu_read_lock(void)
{
    ddekit_lock_lock(&lock);
    readers++;
    ddekit_lock_unlock(&lock);
}

void rcu_read_unlock(void)
{
    ddekit_lock_lock(&lock);
    if (readers && --readers == 0)
        ddekit_condvar_broadcast(quiet_cv());
    ddekit_lock_unlock(&lock);
}

void synchronize_rcu(void)
{
    ddekit_lock_lock(&lock);
    while (readers)
        ddekit_condvar_wait(quiet_cv(), &lock);
    ddekit_lock_unlock(&lock);
}
