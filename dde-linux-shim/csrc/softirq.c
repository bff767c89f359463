/*
 * The softirq thread and tasklets. One thread per driver task ("ksoftirqd")
 * runs NAPI polls and tasklets in softirq context whenever something raised
 * it; like Linux's ksoftirqd it loops while work remains, yielding between
 * rounds so that the host's threads keep moving frames.
 */
#include <linux/interrupt.h>
#include <linux/kernel.h>

#include "internal.h"

static ddekit_lock_t softirq_lock;
static ddekit_condvar_t *softirq_cv;
static bool softirq_raised;

/* Tasklets scheduled and not yet run (guarded by tasklet_lock). */
static ddekit_lock_t tasklet_lock;
static struct tasklet_struct *tasklet_head;
static struct tasklet_struct **tasklet_tail = &tasklet_head;

static void softirq_thread(void *arg)
{
    (void)arg;
    dde_ctx_adopt("ksoftirqd");
    for (;;) {
        ddekit_lock_lock(&softirq_lock);
        while (!softirq_raised)
            ddekit_condvar_wait(softirq_cv, &softirq_lock);
        softirq_raised = false;
        ddekit_lock_unlock(&softirq_lock);

        dde_preempt_count_add((int)SOFTIRQ_OFFSET);
        for (;;) {
            dde_tasklet_run();
            dde_napi_run();
            if (!dde_napi_pending() && !dde_tasklet_pending())
                break;
            /* More work (a poll used its whole budget): let others run first. */
            dde_preempt_count_add(-(int)SOFTIRQ_OFFSET);
            ddekit_yield();
            dde_preempt_count_add((int)SOFTIRQ_OFFSET);
        }
        dde_preempt_count_add(-(int)SOFTIRQ_OFFSET);
    }
}

void dde_softirq_init(void)
{
    softirq_cv = ddekit_condvar_init();
    if (!softirq_cv || !ddekit_thread_create(softirq_thread, NULL, "ksoftirqd"))
        ddekit_panic("dde-linux: cannot start the softirq thread");
}

void dde_softirq_raise(void)
{
    dde_runtime_init();
    ddekit_lock_lock(&softirq_lock);
    softirq_raised = true;
    ddekit_condvar_signal(softirq_cv);
    ddekit_lock_unlock(&softirq_lock);
}

/* ---- tasklets ---------------------------------------------------------------------- */

void tasklet_init(struct tasklet_struct *t, void (*func)(unsigned long), unsigned long data)
{
    t->next = NULL;
    t->state = 0;
    atomic_set(&t->count, 0);
    t->func = func;
    t->use_callback = false;
    t->data = data;
}

void tasklet_setup(struct tasklet_struct *t, void (*callback)(struct tasklet_struct *))
{
    t->next = NULL;
    t->state = 0;
    atomic_set(&t->count, 0);
    t->callback = callback;
    t->use_callback = true;
    t->data = 0;
}

void __tasklet_schedule(struct tasklet_struct *t)
{
    ddekit_lock_lock(&tasklet_lock);
    t->next = NULL;
    *tasklet_tail = t;
    tasklet_tail = &t->next;
    ddekit_lock_unlock(&tasklet_lock);
    dde_softirq_raise();
}

bool dde_tasklet_pending(void)
{
    bool pending = false;

    ddekit_lock_lock(&tasklet_lock);
    for (struct tasklet_struct *t = tasklet_head; t; t = t->next)
        if (!atomic_read(&t->count))
            pending = true;
    ddekit_lock_unlock(&tasklet_lock);
    return pending;
}

void dde_tasklet_run(void)
{
    struct tasklet_struct *list, *t;

    ddekit_lock_lock(&tasklet_lock);
    list = tasklet_head;
    tasklet_head = NULL;
    tasklet_tail = &tasklet_head;
    ddekit_lock_unlock(&tasklet_lock);

    while ((t = list)) {
        list = t->next;
        if (!test_and_set_bit(TASKLET_STATE_RUN, &t->state)) {
            if (!atomic_read(&t->count)) {
                if (!test_and_clear_bit(TASKLET_STATE_SCHED, &t->state))
                    WARN_ON_ONCE(1);
                if (t->use_callback)
                    t->callback(t);
                else
                    t->func(t->data);
                clear_bit(TASKLET_STATE_RUN, &t->state);
                continue;
            }
            clear_bit(TASKLET_STATE_RUN, &t->state);
        }
        /* Disabled or running elsewhere: keep it for a later round. */
        ddekit_lock_lock(&tasklet_lock);
        t->next = NULL;
        *tasklet_tail = t;
        tasklet_tail = &t->next;
        ddekit_lock_unlock(&tasklet_lock);
    }
}

/* Linux's tasklet_unlock_wait() is empty on a uniprocessor (a tasklet
 * cannot be running while another context runs); here it can. */
static void wait_not_running(struct tasklet_struct *t)
{
    while (test_bit(TASKLET_STATE_RUN, &t->state))
        ddekit_yield();
}

void tasklet_kill(struct tasklet_struct *t)
{
    while (test_and_set_bit(TASKLET_STATE_SCHED, &t->state))
        ddekit_yield();
    wait_not_running(t);
    /* It is not on the list now (SCHED was clear), and may not be queued again. */
    clear_bit(TASKLET_STATE_SCHED, &t->state);
}
