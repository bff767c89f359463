/*
 * Read-copy update, reduced to what drivers rely on: synchronize_rcu()
 * returns once every read-side section that began before it has ended. Every
 * context here is a preemptible thread, so a reader is counted (not merely
 * non-preemptible, as in Linux); the shim runs each transmit call and each
 * NAPI poll as a read-side section, as Linux's network core does.
 */
#ifndef _LINUX_RCUPDATE_H
#define _LINUX_RCUPDATE_H

#include <linux/compiler.h>
#include <linux/types.h>

void rcu_read_lock(void);
void rcu_read_unlock(void);
void synchronize_rcu(void);

#define rcu_read_lock_bh rcu_read_lock
#define rcu_read_unlock_bh rcu_read_unlock
#define synchronize_net synchronize_rcu

#define rcu_dereference(p) READ_ONCE(p)
#define rcu_dereference_bh(p) READ_ONCE(p)
#define rcu_dereference_protected(p, c) (p)
#define rcu_assign_pointer(p, v) WRITE_ONCE(p, v)
#define RCU_INIT_POINTER(p, v) WRITE_ONCE(p, v)

#endif
