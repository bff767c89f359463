/*
 * The generic layer's side of the host contract (include/resurgo/host.h):
 * start-up (the driver's initcalls, which probe its device) and the orderly
 * exit. What a probe registers is each device class's business: the classes
 * tell the host themselves (the network class: include/resurgo/net.h).
 */
#include <linux/init.h>
#include <linux/kernel.h>
#include <resurgo/host.h>

#include "internal.h"

void dde_pci_remove_all(void);

/* Linux's initcalls (module_init, module_pci_driver, ...) and module_exit
 * functions, by level and in link order, where the task's linker script
 * (lib/task-link/user.ld) collects them. */
extern const initcall_entry_t __initcall_start[], __initcall_end[];
extern const exitcall_t __exitcall_start[], __exitcall_end[];

int dde_linux_init(void)
{
    int failed;

    dde_runtime_init();
    failed = ddekit_do_initcalls();
    for (const initcall_entry_t *p = __initcall_start; p < __initcall_end; p++) {
        initcall_t fn = initcall_from_entry((initcall_entry_t *)p);
        int ret = fn();

        if (ret && ret != -ENODEV) {
            pr_warn("dde-linux: initcall %ps returned %d\n", fn, ret);
            failed++;
        }
    }
    if (failed)
        pr_warn("dde-linux: %d initcall(s) failed\n", failed);
    return failed;
}

void dde_linux_exit(void)
{
    for (const exitcall_t *p = __exitcall_end; p-- > __exitcall_start;)
        (*p)();
    dde_pci_remove_all();
}

