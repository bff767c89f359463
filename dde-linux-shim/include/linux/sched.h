/*
 * <linux/sched.h>: the parts of the scheduler API drivers touch. `current`
 * is the calling thread's shim context (csrc/sched.c).
 */
#ifndef _LINUX_SCHED_H
#define _LINUX_SCHED_H

#include <linux/jiffies.h>
#include <linux/preempt.h>
#include <linux/types.h>

#define TASK_RUNNING 0x0000
#define TASK_INTERRUPTIBLE 0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_KILLABLE TASK_UNINTERRUPTIBLE
#define TASK_IDLE TASK_UNINTERRUPTIBLE
#define TASK_NORMAL (TASK_INTERRUPTIBLE | TASK_UNINTERRUPTIBLE)
#define TASK_COMM_LEN 16
#define MAX_SCHEDULE_TIMEOUT LONG_MAX

struct task_struct {
    unsigned int __state;
    pid_t pid;
    char comm[TASK_COMM_LEN];
};

struct task_struct *dde_current(void);
#define current dde_current()
#define get_current() dde_current()

#define set_current_state(state_value) __atomic_store_n(&current->__state, (state_value), __ATOMIC_SEQ_CST)
#define __set_current_state(state_value) (current->__state = (state_value))
#define task_pid_nr(t) ((t)->pid)

long schedule_timeout(long timeout);
long schedule_timeout_interruptible(long timeout);
long schedule_timeout_uninterruptible(long timeout);
long schedule_timeout_killable(long timeout);
long schedule_timeout_idle(long timeout);
void schedule(void);
void yield(void);
int _cond_resched(void);
#define cond_resched() _cond_resched()
#define need_resched() 0
#include <asm/processor.h>
/* No signals are ever sent to a driver thread. */
#define signal_pending(p) 0
#define fatal_signal_pending(p) 0

#endif
