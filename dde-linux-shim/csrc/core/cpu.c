/*
 * CPUs: a driver task has one, CPU 0, always online (Resurgo's
 * configuration is uniprocessor), and its masks say so. CPU hotplug states
 * (kernel/cpu.c's API) keep their callbacks and instances as Linux does; as
 * no CPU ever comes or goes, a callback runs only when its caller asks for
 * it to run now ("invoke"), for CPU 0: a startup when a state or an instance
 * is set up, a teardown when it is removed. Dynamic states
 * (CPUHP_AP_ONLINE_DYN, CPUHP_BP_PREPARE_DYN) get a free number of their
 * range, which the caller keeps, as in Linux.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/mutex.h>
#include <linux/string.h>

struct cpumask __cpu_possible_mask = {CPU_BITS_CPU0};
struct cpumask __cpu_online_mask = {CPU_BITS_CPU0};
struct cpumask __cpu_present_mask = {CPU_BITS_CPU0};
struct cpumask __cpu_active_mask = {CPU_BITS_CPU0};
struct cpumask __cpu_dying_mask;

struct step {
    const char *name; /* NULL: the state is free */
    union {
        int (*single)(unsigned int cpu);
        int (*multi)(unsigned int cpu, struct hlist_node *node);
    } startup, teardown;
    bool multi_instance;
    struct hlist_head instances;
};

static struct step steps[CPUHP_ONLINE + 1];
static DEFINE_MUTEX(steps_lock);

static int call_step(struct step *s, bool up, struct hlist_node *node)
{
    if (s->multi_instance) {
        int (*fn)(unsigned int, struct hlist_node *) = up ? s->startup.multi : s->teardown.multi;

        return fn && node ? fn(0, node) : 0;
    } else {
        int (*fn)(unsigned int) = up ? s->startup.single : s->teardown.single;

        return fn ? fn(0) : 0;
    }
}

/* The state `state` names, a free one of its range for a dynamic one: its
 * number, or -ENOSPC (-EINVAL for none at all). */
static int claim(enum cpuhp_state state)
{
    int first, last;

    if (state == CPUHP_AP_ONLINE_DYN)
        first = CPUHP_AP_ONLINE_DYN, last = CPUHP_AP_ONLINE_DYN_END;
    else if (state == CPUHP_BP_PREPARE_DYN)
        first = CPUHP_BP_PREPARE_DYN, last = CPUHP_BP_PREPARE_DYN_END;
    else if (state > CPUHP_OFFLINE && state < CPUHP_ONLINE)
        return state;
    else
        return -EINVAL;
    for (int i = first; i <= last; i++)
        if (!steps[i].name)
            return i;
    return -ENOSPC;
}

int __cpuhp_setup_state_cpuslocked(enum cpuhp_state state, const char *name, bool invoke,
                                   int (*startup)(unsigned int cpu), int (*teardown)(unsigned int cpu),
                                   bool multi_instance)
{
    bool dynamic = state == CPUHP_AP_ONLINE_DYN || state == CPUHP_BP_PREPARE_DYN;
    int nr = claim(state), rc = 0;
    struct step *s;

    if (nr < 0)
        return nr;
    s = &steps[nr];
    if (s->name && !dynamic && (s->startup.single || s->teardown.single))
        return -EBUSY;
    s->name = name ? name : "(unnamed)";
    s->startup.single = startup;
    s->teardown.single = teardown;
    s->multi_instance = multi_instance;
    INIT_HLIST_HEAD(&s->instances);
    /* A multi-instance state has no instance yet to call for. */
    if (invoke && !multi_instance)
        rc = call_step(s, true, NULL);
    if (rc) {
        memset(s, 0, sizeof(*s));
        return rc;
    }
    return dynamic ? nr : 0;
}

int __cpuhp_setup_state(enum cpuhp_state state, const char *name, bool invoke, int (*startup)(unsigned int cpu),
                        int (*teardown)(unsigned int cpu), bool multi_instance)
{
    int rc;

    mutex_lock(&steps_lock);
    rc = __cpuhp_setup_state_cpuslocked(state, name, invoke, startup, teardown, multi_instance);
    mutex_unlock(&steps_lock);
    return rc;
}

static struct step *step_of(enum cpuhp_state state)
{
    if (state <= CPUHP_OFFLINE || state >= CPUHP_ONLINE || !steps[state].name)
        return NULL;
    return &steps[state];
}

int __cpuhp_state_add_instance_cpuslocked(enum cpuhp_state state, struct hlist_node *node, bool invoke)
{
    struct step *s = step_of(state);
    int rc = 0;

    if (!s || !s->multi_instance)
        return -EINVAL;
    if (invoke)
        rc = call_step(s, true, node);
    if (!rc)
        hlist_add_head(node, &s->instances);
    return rc;
}

int __cpuhp_state_add_instance(enum cpuhp_state state, struct hlist_node *node, bool invoke)
{
    int rc;

    mutex_lock(&steps_lock);
    rc = __cpuhp_state_add_instance_cpuslocked(state, node, invoke);
    mutex_unlock(&steps_lock);
    return rc;
}

int __cpuhp_state_remove_instance(enum cpuhp_state state, struct hlist_node *node, bool invoke)
{
    struct step *s;

    mutex_lock(&steps_lock);
    s = step_of(state);
    if (!s || !s->multi_instance) {
        mutex_unlock(&steps_lock);
        return -EINVAL;
    }
    if (invoke)
        call_step(s, false, node);
    hlist_del(node);
    mutex_unlock(&steps_lock);
    return 0;
}

void __cpuhp_remove_state_cpuslocked(enum cpuhp_state state, bool invoke)
{
    struct step *s = step_of(state);

    if (!s)
        return;
    if (s->multi_instance && !hlist_empty(&s->instances)) {
        WARN(1, "Error: Removing state %d which has instances left.\n", state);
        return;
    }
    if (invoke && !s->multi_instance)
        call_step(s, false, NULL);
    memset(s, 0, sizeof(*s));
}

void __cpuhp_remove_state(enum cpuhp_state state, bool invoke)
{
    mutex_lock(&steps_lock);
    __cpuhp_remove_state_cpuslocked(state, invoke);
    mutex_unlock(&steps_lock);
}
