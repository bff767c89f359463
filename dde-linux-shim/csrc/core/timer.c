/*
 * Kernel timers (timer_list) on DDEKit timers.
 *
 * Arming a timer queues a DDEKit timer whose argument is a small "shot"
 * record, not the timer itself: when a timer is re-armed or deleted while its
 * DDEKit timer has already fired but the callback has not started, the shot
 * is marked cancelled and the trampoline drops it without touching the
 * timer_list, which the driver may have freed by then (legal after
 * del_timer() returned 1). Callbacks run on DDEKit's timer thread in softirq
 * context; del_timer_sync() waits for a running callback (unless called from
 * that callback); timer_shutdown() makes a timer that cannot be armed again.
 * All timer state is guarded by one lock.
 *
 * Linux's struct timer_list keeps its layout: its `entry`, which only
 * Linux's timer core (not compiled here) links, holds the shim's state. The
 * shot is `entry.next`; `entry.pprev` is non-NULL exactly while the timer is
 * pending, which is what Linux's inline timer_pending() tests.
 */
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/timer.h>

#include "internal.h"

struct shot {
    struct timer_list *timer; /* NULL once cancelled */
    int id;                   /* the DDEKit timer */
};

/* A callback in progress; lives on the trampoline's stack. */
struct running {
    struct timer_list *timer;
    ddekit_thread_t *thread;
    struct running *next;
};

static ddekit_lock_t timer_lock;
static ddekit_condvar_t *timer_done; /* broadcast when a callback returns */
static struct running *running_list;
static struct dde_once timer_once;

static void timer_init_once(void)
{
    if (!dde_once_begin(&timer_once))
        return;
    timer_done = ddekit_condvar_init();
    if (!timer_done)
        ddekit_panic("dde-linux: cannot create the timer condition variable");
    dde_once_done(&timer_once);
}

#define SHOT(t) (*(struct shot **)&(t)->entry.next)

static bool pending(const struct timer_list *t) { return __atomic_load_n(&t->entry.pprev, __ATOMIC_ACQUIRE) != NULL; }

static void set_pending(struct timer_list *t, bool on)
{
    __atomic_store_n(&t->entry.pprev, on ? &t->entry.next : NULL, __ATOMIC_RELEASE);
}

static bool is_running(const struct timer_list *t, bool other_thread_only)
{
    ddekit_thread_t *me = ddekit_thread_myself();

    for (struct running *r = running_list; r; r = r->next)
        if (r->timer == t && (!other_thread_only || r->thread != me))
            return true;
    return false;
}

static void trampoline(void *arg)
{
    struct shot *shot = arg;
    struct timer_list *t;
    struct running me;
    void (*fn)(struct timer_list *);
    (void)dde_ctx();

    ddekit_lock_lock(&timer_lock);
    t = shot->timer;
    if (!t) {
        ddekit_lock_unlock(&timer_lock);
        kfree(shot);
        return;
    }
    SHOT(t) = NULL;
    set_pending(t, false);
    fn = t->function;
    me.timer = t;
    me.thread = ddekit_thread_myself();
    me.next = running_list;
    running_list = &me;
    ddekit_lock_unlock(&timer_lock);
    kfree(shot);

    dde_preempt_count_add((int)SOFTIRQ_OFFSET);
    fn(t);
    dde_preempt_count_add(-(int)SOFTIRQ_OFFSET);

    ddekit_lock_lock(&timer_lock);
    for (struct running **pp = &running_list; *pp; pp = &(*pp)->next) {
        if (*pp == &me) {
            *pp = me.next;
            break;
        }
    }
    ddekit_condvar_broadcast(timer_done);
    ddekit_lock_unlock(&timer_lock);
}

/* Cancels the armed DDEKit timer; true if the timer was pending. Timer lock held. */
static bool disarm(struct timer_list *t)
{
    struct shot *shot = SHOT(t);

    if (!pending(t))
        return false;
    if (shot) {
        if (shot->id >= 0 && ddekit_del_timer(shot->id) == 0)
            kfree(shot); /* never fired: the shot is ours to free */
        else
            shot->timer = NULL; /* fired: the trampoline will drop it */
    }
    SHOT(t) = NULL;
    set_pending(t, false);
    return true;
}

/* Timer lock held. */
static void arm(struct timer_list *t, unsigned long expires)
{
    struct shot *shot = kmalloc(sizeof(*shot), GFP_ATOMIC);

    t->expires = expires;
    if (!shot) {
        pr_err("dde-linux: out of memory arming a timer\n");
        return;
    }
    shot->timer = t;
    shot->id = ddekit_add_timer(trampoline, shot, expires);
    if (shot->id < 0) {
        kfree(shot);
        pr_err("dde-linux: DDEKit refused a timer\n");
        return;
    }
    SHOT(t) = shot;
    set_pending(t, true);
}

/* What Linux's timer_setup() calls. */
void init_timer_key(struct timer_list *timer, void (*callback)(struct timer_list *), unsigned int flags,
                    const char *name, struct lock_class_key *key)
{
    timer->function = callback;
    timer->flags = flags;
    timer->expires = 0;
    timer->entry.next = NULL;
    timer->entry.pprev = NULL;
}

static int modify(struct timer_list *timer, unsigned long expires, bool pending_only)
{
    int ret;

    timer_init_once();
    ddekit_lock_lock(&timer_lock);
    /* A timer shut down (timer_shutdown()) is never armed again, silently. */
    if (!timer->function) {
        ddekit_lock_unlock(&timer_lock);
        return 0;
    }
    if (pending(timer) && timer->expires == expires) {
        ddekit_lock_unlock(&timer_lock);
        return 1;
    }
    if (pending_only && !pending(timer)) {
        ddekit_lock_unlock(&timer_lock);
        return 0;
    }
    ret = disarm(timer);
    arm(timer, expires);
    ddekit_lock_unlock(&timer_lock);
    return ret;
}

int mod_timer(struct timer_list *timer, unsigned long expires) { return modify(timer, expires, false); }

int mod_timer_pending(struct timer_list *timer, unsigned long expires) { return modify(timer, expires, true); }

int timer_reduce(struct timer_list *timer, unsigned long expires)
{
    if (timer_pending(timer) && time_before_eq(timer->expires, expires))
        return 1;
    return mod_timer(timer, expires);
}

void add_timer(struct timer_list *timer)
{
    BUG_ON(timer_pending(timer));
    mod_timer(timer, timer->expires);
}

int timer_delete(struct timer_list *timer)
{
    int ret;

    timer_init_once();
    ddekit_lock_lock(&timer_lock);
    ret = disarm(timer);
    ddekit_lock_unlock(&timer_lock);
    return ret;
}

int try_to_del_timer_sync(struct timer_list *timer)
{
    int ret;

    timer_init_once();
    ddekit_lock_lock(&timer_lock);
    if (is_running(timer, true)) {
        ddekit_lock_unlock(&timer_lock);
        return -1;
    }
    ret = disarm(timer);
    ddekit_lock_unlock(&timer_lock);
    return ret;
}

int timer_delete_sync(struct timer_list *timer)
{
    int ret;

    timer_init_once();
    ddekit_lock_lock(&timer_lock);
    ret = disarm(timer);
    /* A callback that is running re-arming itself is caught by disarming
     * again once it returned. */
    while (is_running(timer, true)) {
        ddekit_condvar_wait(timer_done, &timer_lock);
        ret |= disarm(timer);
    }
    ddekit_lock_unlock(&timer_lock);
    return ret;
}

/* ---- rounding ------------------------------------------------------------------------ */

/* Rounds to a whole second (to batch wake-ups), never into the past. */
static unsigned long round_abs(unsigned long j, bool force_up)
{
    unsigned long original = j, rem = j % HZ;

    if (rem < HZ / 4 && !force_up)
        j = j - rem;
    else
        j = j - rem + HZ;
    if (time_is_after_jiffies(j))
        return j;
    return original;
}

unsigned long round_jiffies(unsigned long j) { return round_abs(j, false); }
unsigned long round_jiffies_relative(unsigned long j) { return round_abs(j + jiffies, false) - jiffies; }
unsigned long round_jiffies_up(unsigned long j) { return round_abs(j, true); }
unsigned long round_jiffies_up_relative(unsigned long j) { return round_abs(j + jiffies, true) - jiffies; }

/* As timer_delete() and timer_delete_sync(), and the timer cannot be armed
 * again: its callback is forgotten, so a later mod_timer() (from its own
 * callback, say) does nothing, as in Linux. */
int timer_shutdown(struct timer_list *timer)
{
    int ret;

    timer_init_once();
    ddekit_lock_lock(&timer_lock);
    ret = disarm(timer);
    timer->function = NULL;
    ddekit_lock_unlock(&timer_lock);
    return ret;
}

int timer_shutdown_sync(struct timer_list *timer)
{
    int ret;

    timer_init_once();
    ddekit_lock_lock(&timer_lock);
    timer->function = NULL;
    ret = disarm(timer);
    while (is_running(timer, true))
        ddekit_condvar_wait(timer_done, &timer_lock);
    ddekit_lock_unlock(&timer_lock);
    return ret;
}
