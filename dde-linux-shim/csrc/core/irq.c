/*
 * Interrupts: request_irq/free_irq on DDEKit interrupt threads, their
 * managed forms (devm_request_threaded_irq, freed with the device's other
 * managed resources), the disable_irq family, and the virtual interrupt lock
 * behind local_irq_save.
 *
 * Each line the driver requests is attached to DDEKit once; its interrupt
 * thread calls dispatch(), which runs every handler shared on the line, as
 * hardirq context, holding the virtual interrupt lock: a thread that did
 * local_irq_save()/local_irq_disable() holds that lock too, so no handler
 * runs until it enables interrupts again. Handlers are added or removed with
 * the line disabled (which waits for a running dispatch), so dispatch never
 * sees the list change under it.
 */
#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/irqflags.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"
#include <resurgo/host.h>

struct irq_action {
    irq_handler_t handler;
    void *dev_id;
    const char *name;
    unsigned long flags;
    struct irq_action *next;
};

struct irq_line {
    unsigned int irq;
    bool attached;
    int depth; /* disable_irq depth while not attached to DDEKit */
    ddekit_thread_t *thread;
    struct irq_action *actions;
    struct irq_line *next;
};

static ddekit_lock_t lines_lock; /* guards the line list and action lists */
static struct irq_line *lines;
static ddekit_lock_t virtual_irq_lock;

void dde_irq_init(void)
{
    /* Both locks are created on first use; nothing else to prepare. */
}

void dde_irq_virtual_lock(void) { ddekit_lock_lock(&virtual_irq_lock); }
void dde_irq_virtual_unlock(void) { ddekit_lock_unlock(&virtual_irq_lock); }

/* The number of interrupt lines, as Linux's (legacy PIC and IO-APIC pins). */
int nr_irqs = NR_IRQS;

/* ---- local_irq_* ----------------------------------------------------------------- */

unsigned long dde_local_irq_save(void)
{
    struct dde_thread_ctx *c = dde_ctx();

    if (c->irqs_off || dde_ctx_hardirq(c))
        return 1;
    dde_irq_virtual_lock();
    c->irqs_off = 1;
    return 0;
}

void dde_local_irq_restore(unsigned long flags)
{
    struct dde_thread_ctx *c = dde_ctx();

    if (flags || dde_ctx_hardirq(c) || !c->irqs_off)
        return;
    c->irqs_off = 0;
    dde_irq_virtual_unlock();
}

int dde_irqs_disabled(void)
{
    struct dde_thread_ctx *c = dde_ctx();
    return c->irqs_off || dde_ctx_hardirq(c);
}

/* ---- lines ------------------------------------------------------------------------ */

static struct irq_line *find_line(unsigned int irq, bool create)
{
    struct irq_line *l;

    for (l = lines; l; l = l->next)
        if (l->irq == irq)
            return l;
    if (!create)
        return NULL;
    l = kzalloc(sizeof(*l), GFP_KERNEL);
    if (!l)
        return NULL;
    l->irq = irq;
    l->next = lines;
    lines = l;
    return l;
}

static void irq_thread_init(void *priv)
{
    struct irq_line *l = priv;
    char name[16];

    snprintf(name, sizeof(name), "irq/%u", l->irq);
    dde_ctx_adopt(name);
}

static void dispatch(void *priv)
{
    struct irq_line *l = priv;
    struct dde_thread_ctx *c = dde_ctx();

    dde_irq_virtual_lock();
    c->irqs_off = 1;
    dde_preempt_count_add((int)HARDIRQ_OFFSET);
    for (struct irq_action *a = l->actions; a; a = a->next)
        a->handler((int)l->irq, resurgo_irq_inject(l->irq, a->dev_id));
    dde_preempt_count_add(-(int)HARDIRQ_OFFSET);
    c->irqs_off = 0;
    dde_irq_virtual_unlock();
}

static bool on_line_thread(const struct irq_line *l) { return l->thread && l->thread == ddekit_thread_myself(); }

int request_threaded_irq(unsigned int irq, irq_handler_t handler, irq_handler_t thread_fn, unsigned long flags,
                         const char *name, void *dev_id)
{
    struct irq_line *l;
    struct irq_action *a;
    int err = 0;

    if (!handler || thread_fn) {
        /* Threaded handlers would need a second thread per line; none of
         * the supported drivers asks for one. */
        pr_err("dde-linux: request_irq(%u, %s): threaded handlers are not supported\n", irq, name);
        return -EINVAL;
    }
    if ((flags & IRQF_SHARED) && !dev_id)
        return -EINVAL;
    dde_runtime_init();
    a = kzalloc(sizeof(*a), GFP_KERNEL);
    if (!a)
        return -ENOMEM;
    a->handler = handler;
    a->dev_id = dev_id;
    a->name = name;
    a->flags = flags;

    ddekit_lock_lock(&lines_lock);
    l = find_line(irq, true);
    if (!l) {
        err = -ENOMEM;
    } else if (l->actions && (!(flags & IRQF_SHARED) || !(l->actions->flags & IRQF_SHARED))) {
        err = -EBUSY;
    } else if (l->attached) {
        /* Another handler on an attached line: added while no dispatch runs.
         * The lines lock is not held while waiting for a running handler,
         * which may itself call disable_irq_nosync(). */
        ddekit_lock_unlock(&lines_lock);
        ddekit_interrupt_disable((int)irq);
        ddekit_lock_lock(&lines_lock);
        a->next = l->actions;
        l->actions = a;
        ddekit_lock_unlock(&lines_lock);
        ddekit_interrupt_enable((int)irq);
        return 0;
    } else {
        l->actions = a;
        l->thread = ddekit_interrupt_attach((int)irq, (flags & IRQF_SHARED) != 0, irq_thread_init, dispatch, l);
        if (!l->thread) {
            l->actions = NULL;
            err = -EINVAL;
            pr_err("dde-linux: request_irq(%u, %s): the task has no such interrupt line\n", irq, name);
        } else {
            l->attached = true;
            /* Disables the driver asked for before the line existed. */
            for (int i = 0; i < l->depth; i++)
                ddekit_interrupt_disable_nosync((int)irq);
            l->depth = 0;
        }
    }
    ddekit_lock_unlock(&lines_lock);
    if (err)
        kfree(a);
    return err;
}

const void *free_irq(unsigned int irq, void *dev_id)
{
    struct irq_line *l;
    struct irq_action **pp, *a = NULL;
    const char *name;
    bool last;

    ddekit_lock_lock(&lines_lock);
    l = find_line(irq, false);
    if (!l || !l->attached) {
        ddekit_lock_unlock(&lines_lock);
        WARN(1, "Trying to free already-free IRQ %u\n", irq);
        return NULL;
    }
    ddekit_lock_unlock(&lines_lock);
    /* Waits for a running dispatch (without the lines lock, which a handler
     * may need); interrupts that come meanwhile are held. */
    ddekit_interrupt_disable((int)irq);
    ddekit_lock_lock(&lines_lock);
    for (pp = &l->actions; *pp; pp = &(*pp)->next) {
        if ((*pp)->dev_id == dev_id) {
            a = *pp;
            *pp = a->next;
            break;
        }
    }
    last = l->actions == NULL;
    if (last) {
        l->attached = false;
        l->thread = NULL;
    }
    ddekit_lock_unlock(&lines_lock);
    ddekit_interrupt_enable((int)irq);
    if (last)
        ddekit_interrupt_detach((int)irq); /* waits until a dispatch of the empty list returned */
    if (!a) {
        WARN(1, "Trying to free already-free IRQ %u\n", irq);
        return NULL;
    }
    name = a->name;
    kfree(a);
    return name;
}

/* Applies a disable to the line, or remembers it until the line is attached.
 * `sync` waits for a running handler, except on the line's own thread. */
static void line_disable(unsigned int irq, bool sync)
{
    struct irq_line *l;

    ddekit_lock_lock(&lines_lock);
    l = find_line(irq, true);
    if (l && l->attached) {
        bool own = on_line_thread(l);
        ddekit_lock_unlock(&lines_lock);
        if (sync && !own)
            ddekit_interrupt_disable((int)irq);
        else
            ddekit_interrupt_disable_nosync((int)irq);
        return;
    }
    if (l)
        l->depth++;
    ddekit_lock_unlock(&lines_lock);
}

void disable_irq(unsigned int irq) { line_disable(irq, true); }
void disable_irq_nosync(unsigned int irq) { line_disable(irq, false); }

bool disable_hardirq(unsigned int irq)
{
    line_disable(irq, true);
    return true;
}

void enable_irq(unsigned int irq)
{
    struct irq_line *l;

    ddekit_lock_lock(&lines_lock);
    l = find_line(irq, false);
    if (l && l->attached) {
        ddekit_lock_unlock(&lines_lock);
        ddekit_interrupt_enable((int)irq);
        return;
    }
    if (l && l->depth > 0)
        l->depth--;
    else
        WARN(1, "Unbalanced enable for IRQ %u\n", irq);
    ddekit_lock_unlock(&lines_lock);
}

void synchronize_irq(unsigned int irq)
{
    struct irq_line *l;
    bool wait;

    ddekit_lock_lock(&lines_lock);
    l = find_line(irq, false);
    wait = l && l->attached && !on_line_thread(l);
    ddekit_lock_unlock(&lines_lock);
    if (wait) {
        /* Disabling waits for a running handler; enabling delivers any
         * interrupt that came meanwhile. */
        ddekit_interrupt_disable((int)irq);
        ddekit_interrupt_enable((int)irq);
    }
}

bool synchronize_hardirq(unsigned int irq)
{
    synchronize_irq(irq);
    return true;
}

unsigned long probe_irq_on(void) { return 0; }
int probe_irq_off(unsigned long val)
{
    (void)val;
    return 0;
}
unsigned int probe_irq_mask(unsigned long val)
{
    (void)val;
    return 0;
}

/* ---- managed interrupts ------------------------------------------------------------------ */

/* What a managed request frees (Linux keeps the same record in kernel/irq/devres.c). */
struct irq_devres {
    unsigned int irq;
    void *dev_id;
};

static void devm_irq_release(struct device *dev, void *res)
{
    struct irq_devres *r = res;

    free_irq(r->irq, r->dev_id);
}

static int devm_irq_match(struct device *dev, void *res, void *data)
{
    struct irq_devres *r = res, *want = data;

    return r->irq == want->irq && r->dev_id == want->dev_id;
}

int devm_request_threaded_irq(struct device *dev, unsigned int irq, irq_handler_t handler, irq_handler_t thread_fn,
                              unsigned long irqflags, const char *devname, void *dev_id)
{
    struct irq_devres *r = devres_alloc(devm_irq_release, sizeof(*r), GFP_KERNEL);
    int rc;

    if (!r)
        return -ENOMEM;
    rc = request_threaded_irq(irq, handler, thread_fn, irqflags, devname ? devname : dev_name(dev), dev_id);
    if (rc) {
        devres_free(r);
        return rc;
    }
    *r = (struct irq_devres){.irq = irq, .dev_id = dev_id};
    devres_add(dev, r);
    return 0;
}

/* Every handler here runs in the line's interrupt thread as hardirq context. */
int devm_request_any_context_irq(struct device *dev, unsigned int irq, irq_handler_t handler, unsigned long irqflags,
                                 const char *devname, void *dev_id)
{
    int rc = devm_request_threaded_irq(dev, irq, handler, NULL, irqflags, devname, dev_id);

    return rc ? rc : IRQC_IS_HARDIRQ;
}

void devm_free_irq(struct device *dev, unsigned int irq, void *dev_id)
{
    struct irq_devres want = {.irq = irq, .dev_id = dev_id};

    /* As Linux: freeing a line this device did not request managed is a bug. */
    WARN_ON(devres_destroy(dev, devm_irq_release, devm_irq_match, &want));
    free_irq(irq, dev_id);
}
