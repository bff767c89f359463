/*
 * High-resolution timers (struct hrtimer) on DDEKit timers.
 *
 * DDEKit's timer thread wakes in whole jiffies (1 ms), so an hrtimer fires
 * at the first tick at or after its soft expiry on the shim's nanosecond
 * clock (ktime_get(); hrtimer_resolution is Linux's for a kernel without high
 * resolution timers, one tick: 1 ms). It never fires early: a tick that comes before
 * the expiry on that clock arms the timer again. Callbacks run on the one
 * DDEKit timer thread of the task, one at a time, as on one CPU: a hard
 * timer (every timer without HRTIMER_MODE_SOFT, as in Linux without
 * PREEMPT_RT) in hardirq context holding the virtual interrupt lock, so it
 * excludes the driver's interrupt handlers and local_irq_save() sections
 * as in Linux; a soft one in softirq context.
 *
 * As for timer_list (csrc/core/timer.c), the DDEKit timer's argument is a "shot"
 * record: one that fired after the timer was cancelled or restarted finds
 * its timer gone and is dropped without touching it. Linux's struct hrtimer
 * keeps its layout: `state` is HRTIMER_STATE_ENQUEUED while armed, which
 * Linux's inline hrtimer_is_queued() reads, `base` points to one of the
 * shim's clock bases, whose `running` names the timer whose callback runs
 * (hrtimer_callback_running()), and the rb_node, which only Linux's
 * timerqueue (not compiled here) links, holds the shot.
 */
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/slab.h>

#include "internal.h"

struct hshot {
    struct hrtimer *timer; /* NULL once cancelled or restarted */
    bool hard;             /* taken from the timer when it was armed */
    int id;                /* the DDEKit timer */
};

#define SHOT(t) (*(struct hshot **)&(t)->node.node.rb_left)

static ddekit_lock_t hrtimer_lock;
static ddekit_condvar_t *hrtimer_done; /* broadcast when a callback returns */
static ddekit_thread_t *callback_thread; /* while a callback runs */
static struct dde_once hrtimer_once;

static ktime_t get_mono(void) { return ktime_get(); }
static ktime_t get_real(void) { return ktime_get_real(); }
static ktime_t get_boot(void) { return ktime_get_boottime(); }
static ktime_t get_tai(void) { return ktime_get_clocktai(); }

/* Linux's order of the clock bases: the four hard ones, then the soft ones. */
static struct hrtimer_cpu_base cpu_base = {
    .clock_base = {
        {.index = HRTIMER_BASE_MONOTONIC, .clockid = CLOCK_MONOTONIC, .get_time = get_mono},
        {.index = HRTIMER_BASE_REALTIME, .clockid = CLOCK_REALTIME, .get_time = get_real},
        {.index = HRTIMER_BASE_BOOTTIME, .clockid = CLOCK_BOOTTIME, .get_time = get_boot},
        {.index = HRTIMER_BASE_TAI, .clockid = CLOCK_TAI, .get_time = get_tai},
        {.index = HRTIMER_BASE_MONOTONIC_SOFT, .clockid = CLOCK_MONOTONIC, .get_time = get_mono},
        {.index = HRTIMER_BASE_REALTIME_SOFT, .clockid = CLOCK_REALTIME, .get_time = get_real},
        {.index = HRTIMER_BASE_BOOTTIME_SOFT, .clockid = CLOCK_BOOTTIME, .get_time = get_boot},
        {.index = HRTIMER_BASE_TAI_SOFT, .clockid = CLOCK_TAI, .get_time = get_tai},
    },
};

static void hrtimer_init_once(void)
{
    if (!dde_once_begin(&hrtimer_once))
        return;
    for (int i = 0; i < HRTIMER_MAX_CLOCK_BASES; i++)
        cpu_base.clock_base[i].cpu_base = &cpu_base;
    hrtimer_done = ddekit_condvar_init();
    if (!hrtimer_done)
        ddekit_panic("dde-linux: cannot create the hrtimer condition variable");
    dde_once_done(&hrtimer_once);
}

void hrtimer_init(struct hrtimer *timer, clockid_t clock_id, enum hrtimer_mode mode)
{
    bool soft = mode & HRTIMER_MODE_SOFT;
    int index;

    hrtimer_init_once();
    /* A relative CLOCK_REALTIME timer does not follow clock changes: Linux
     * puts it on the monotonic base too. */
    if (clock_id == CLOCK_REALTIME && (mode & HRTIMER_MODE_REL))
        clock_id = CLOCK_MONOTONIC;
    switch (clock_id) {
    case CLOCK_REALTIME:
        index = HRTIMER_BASE_REALTIME;
        break;
    case CLOCK_BOOTTIME:
        index = HRTIMER_BASE_BOOTTIME;
        break;
    case CLOCK_TAI:
        index = HRTIMER_BASE_TAI;
        break;
    default:
        WARN(clock_id != CLOCK_MONOTONIC, "hrtimer_init: clock %d is not a timer clock\n", clock_id);
        index = HRTIMER_BASE_MONOTONIC;
    }
    memset(timer, 0, sizeof(*timer));
    timer->base = &cpu_base.clock_base[index + (soft ? HRTIMER_BASE_MONOTONIC_SOFT : 0)];
    timer->is_soft = soft;
    timer->is_hard = !soft;
    timer->is_rel = !!(mode & HRTIMER_MODE_REL);
}

/* Timer lock held. */
static void arm(struct hrtimer *t);

static void fire(void *arg)
{
    struct hshot *shot = arg;
    struct dde_thread_ctx *c = dde_ctx();
    struct hrtimer_clock_base *base;
    enum hrtimer_restart (*fn)(struct hrtimer *);
    enum hrtimer_restart restart;
    struct hrtimer *t;
    bool hard = shot->hard;

    /* A hard timer waits for the driver to enable interrupts before it looks
     * at the timer, so a cancel from a section with interrupts off finds the
     * shot not yet taken and drops it, instead of waiting on a callback that
     * waits on it. */
    if (hard) {
        dde_irq_virtual_lock();
        c->irqs_off = 1;
    }
    ddekit_lock_lock(&hrtimer_lock);
    t = shot->timer;
    if (t) {
        SHOT(t) = NULL;
        WRITE_ONCE(t->state, HRTIMER_STATE_INACTIVE);
        if (ktime_before(ktime_get(), hrtimer_get_softexpires(t))) {
            /* The tick came before the expiry on the nanosecond clock. */
            arm(t);
            t = NULL;
        }
    }
    if (!t) {
        ddekit_lock_unlock(&hrtimer_lock);
        goto out;
    }
    base = t->base;
    fn = t->function;
    WRITE_ONCE(base->running, t);
    callback_thread = ddekit_thread_myself();
    ddekit_lock_unlock(&hrtimer_lock);

    dde_preempt_count_add(hard ? (int)HARDIRQ_OFFSET : (int)SOFTIRQ_OFFSET);
    restart = fn(t);
    dde_preempt_count_add(hard ? -(int)HARDIRQ_OFFSET : -(int)SOFTIRQ_OFFSET);

    ddekit_lock_lock(&hrtimer_lock);
    /* As Linux: the timer is touched again only if the callback asked to
     * run again (it may have freed it otherwise), and not armed twice if
     * the callback restarted it itself. */
    if (restart != HRTIMER_NORESTART && !(READ_ONCE(t->state) & HRTIMER_STATE_ENQUEUED))
        arm(t);
    WRITE_ONCE(base->running, NULL);
    callback_thread = NULL;
    ddekit_condvar_broadcast(hrtimer_done);
    ddekit_lock_unlock(&hrtimer_lock);
out:
    if (hard) {
        c->irqs_off = 0;
        dde_irq_virtual_unlock();
    }
    kfree(shot);
}

static void arm(struct hrtimer *t)
{
    struct hshot *shot = kmalloc(sizeof(*shot), GFP_ATOMIC);
    s64 wait = ktime_to_ns(ktime_sub(hrtimer_get_softexpires(t), t->base->get_time()));
    unsigned long expires = ddekit_jiffies();

    if (!shot) {
        pr_err("dde-linux: out of memory arming an hrtimer\n");
        return;
    }
    if (wait > 0)
        expires += (unsigned long)DIV_ROUND_UP_ULL((u64)wait, NSEC_PER_MSEC);
    shot->timer = t;
    shot->hard = t->is_hard;
    shot->id = ddekit_add_timer(fire, shot, expires);
    if (shot->id < 0) {
        kfree(shot);
        pr_err("dde-linux: DDEKit refused an hrtimer\n");
        return;
    }
    SHOT(t) = shot;
    WRITE_ONCE(t->state, HRTIMER_STATE_ENQUEUED);
}

/* Cancels the armed DDEKit timer; true if the timer was armed. Timer lock held. */
static bool disarm(struct hrtimer *t)
{
    struct hshot *shot = SHOT(t);

    if (!(READ_ONCE(t->state) & HRTIMER_STATE_ENQUEUED))
        return false;
    if (shot) {
        if (ddekit_del_timer(shot->id) == 0)
            kfree(shot); /* never fired: the shot is ours to free */
        else
            shot->timer = NULL; /* fired: fire() will drop it */
    }
    SHOT(t) = NULL;
    WRITE_ONCE(t->state, HRTIMER_STATE_INACTIVE);
    return true;
}

/* A sum of times that saturates, for expiries far in the future. */
ktime_t ktime_add_safe(const ktime_t lhs, const ktime_t rhs)
{
    ktime_t sum;

    if (check_add_overflow(lhs, rhs, &sum) || sum < 0)
        return ktime_set(KTIME_SEC_MAX, 0);
    return sum;
}

void hrtimer_start_range_ns(struct hrtimer *timer, ktime_t tim, u64 delta_ns, const enum hrtimer_mode mode)
{
    /* As Linux, which warns too: a soft timer started as hard or the other way. */
    WARN_ON_ONCE(!(mode & HRTIMER_MODE_SOFT) ^ !timer->is_soft);
    if (mode & HRTIMER_MODE_REL)
        tim = ktime_add_safe(tim, timer->base->get_time());
    ddekit_lock_lock(&hrtimer_lock);
    disarm(timer);
    hrtimer_set_expires_range_ns(timer, tim, delta_ns);
    arm(timer);
    ddekit_lock_unlock(&hrtimer_lock);
}

/* Timer lock held. */
static bool callback_runs(const struct hrtimer *t) { return READ_ONCE(t->base->running) == t; }

int hrtimer_try_to_cancel(struct hrtimer *timer)
{
    int ret;

    ddekit_lock_lock(&hrtimer_lock);
    ret = callback_runs(timer) ? -1 : disarm(timer);
    ddekit_lock_unlock(&hrtimer_lock);
    return ret;
}

int hrtimer_cancel(struct hrtimer *timer)
{
    int ret;

    ddekit_lock_lock(&hrtimer_lock);
    ret = disarm(timer);
    while (callback_runs(timer)) {
        /* From its own callback it would wait forever (Linux hangs there). */
        if (WARN(callback_thread == ddekit_thread_myself(), "hrtimer_cancel() from the timer's own callback\n"))
            break;
        ddekit_condvar_wait(hrtimer_done, &hrtimer_lock);
        /* A callback that restarted its timer is cancelled once it returned. */
        ret |= disarm(timer);
    }
    ddekit_lock_unlock(&hrtimer_lock);
    return ret;
}

bool hrtimer_active(const struct hrtimer *timer)
{
    bool active;

    ddekit_lock_lock(&hrtimer_lock);
    active = (READ_ONCE(timer->state) & HRTIMER_STATE_ENQUEUED) || callback_runs(timer);
    ddekit_lock_unlock(&hrtimer_lock);
    return active;
}

ktime_t __hrtimer_get_remaining(const struct hrtimer *timer, bool adjust)
{
    (void)adjust; /* no clock is adjusted under the shim */
    return ktime_sub(hrtimer_get_expires(timer), timer->base->get_time());
}

/* Moves the expiry forward past `now` in whole intervals; returns how many
 * (0 if it had not expired yet). Only for a timer that is not armed. */
u64 hrtimer_forward(struct hrtimer *timer, ktime_t now, ktime_t interval)
{
    s64 behind = ktime_to_ns(ktime_sub(now, hrtimer_get_expires(timer)));
    s64 step = ktime_to_ns(interval);
    u64 overruns;

    if (behind < 0)
        return 0;
    if (WARN_ON(READ_ONCE(timer->state) & HRTIMER_STATE_ENQUEUED))
        return 0;
    if (step < hrtimer_resolution)
        step = hrtimer_resolution;
    /* The first expiry after now: one step more than the whole steps behind. */
    overruns = (u64)(behind / step) + 1;
    hrtimer_add_expires_ns(timer, overruns * (u64)step);
    return overruns;
}
