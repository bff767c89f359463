/*
 * <linux/init.h>: initcalls are DDEKit initcalls (ddekit_do_initcalls runs
 * them by level from dde_linux_init). Init code and data stay resident: a
 * driver task is small and its probe may run again after a restart.
 * module_exit functions are kept in a section of their own and run in reverse
 * order by dde_linux_exit().
 */
#ifndef _LINUX_INIT_H
#define _LINUX_INIT_H

#include <ddekit.h>
#include <linux/compiler.h>
#include <linux/types.h>

#define __init
#define __initdata
#define __initconst
#define __exit
#define __exitdata
#define __refdata
#define __ref
#define __meminit
#define __devinit
#define __devexit
#define __devinitdata
#define __init_or_module
#define __exit_p(x) x
#define __devexit_p(x) x

typedef int (*initcall_t)(void);
typedef void (*exitcall_t)(void);

/* Linux's built-in initcall levels. */
#define pure_initcall(fn) DDEKIT_INITCALL(fn, 0)
#define core_initcall(fn) DDEKIT_INITCALL(fn, 1)
#define postcore_initcall(fn) DDEKIT_INITCALL(fn, 2)
#define arch_initcall(fn) DDEKIT_INITCALL(fn, 3)
#define subsys_initcall(fn) DDEKIT_INITCALL(fn, 4)
#define fs_initcall(fn) DDEKIT_INITCALL(fn, 5)
#define device_initcall(fn) DDEKIT_INITCALL(fn, 6)
#define late_initcall(fn) DDEKIT_INITCALL(fn, 7)
#define __initcall(fn) device_initcall(fn)

#define __exitcall(fn)                                                                             \
    static const exitcall_t __dde_exitcall_##fn __attribute__((used, section("dde_linux_exitcalls"), aligned(8))) = (fn)

#endif
