/*
 * The softirq thread and tasklets. One thread per driver task ("ksoftirqd")
 * runs the softirq vectors that the classes opened (the network class's
 * NET_RX_SOFTIRQ runs NAPI polls) and tasklets (TASKLET_SOFTIRQ), in softirq
 * context, whenever something raised it; like Linux's ksoftirqd it loops
 * while work remains, yielding between rounds so that the host's threads keep
 * moving frames.
 */
#include <linux/interrupt.h>
#include <linux/kernel.h>

#include "internal.h"

static ddekit_lock_t softirq_lock;
static ddekit_condvar_t *softirq_cv;
static bool softirq_raised;

/* Each vector's work, by Linux's softirq numbers; set once, never cleared. */
static bool (*vectors[NR_SOFTIRQS])(void);

/* Tasklets scheduled and not yet run (guarded by tasklet_lock). */
static ddekit_lock_t tasklet_lock;
static struct tasklet_struct *tasklet_head;
static struct tasklet_struct **tasklet_tail = &tasklet_head;

static bool tasklet_run(void);

/* One round of every opened vector, in Linux's order; true if work is left. */
static bool run_vectors(void)
{
    bool more = false;

    for (unsigned int nr = 0; nr < NR_SOFTIRQS; nr++) {
        bool (*run)(void) = __atomic_load_n(&vectors[nr], __ATOMIC_ACQUIRE);

        if (run && run())
            more = true;
    }
    return more;
}

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
        while (run_vectors()) {
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
    vectors[TASKLET_SOFTIRQ] = tasklet_run;
    softirq_cv = ddekit_condvar_init();
    if (!softirq_cv || !ddekit_thread_create(softirq_thread, NULL, "ksoftirqd"))
        ddekit_panic("dde-linux: cannot start the softirq thread");
}

/* A class's vector (Linux's open_softirq()); opening it again with the same
 * work changes nothing. */
void dde_softirq_open(unsigned int nr, bool (*run)(void))
{
    bool (*none)(void) = NULL;

    if (WARN_ON(nr >= NR_SOFTIRQS))
        return;
    if (!__atomic_compare_exchange_n(&vectors[nr], &none, run, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        WARN(none != run, "dde-linux: softirq %u opened twice\n", nr);
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

static bool tasklet_pending(void)
{
    bool pending = false;

    ddekit_lock_lock(&tasklet_lock);
    for (struct tasklet_struct *t = tasklet_head; t; t = t->next)
        if (!atomic_read(&t->count))
            pending = true;
    ddekit_lock_unlock(&tasklet_lock);
    return pending;
}

/* TASKLET_SOFTIRQ: the tasklets scheduled now, once; true if some that can
 * run are left (scheduled again, or running elsewhere). */
static bool tasklet_run(void)
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
    return tasklet_pending();
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
