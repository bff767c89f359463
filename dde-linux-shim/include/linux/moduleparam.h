/*
 * <linux/moduleparam.h>: a driver task gets no module parameters, so every
 * parameter keeps the default its driver gives it. The macros still refer to
 * the variable, so it counts as used exactly as on Linux.
 */
#ifndef _LINUX_MODULEPARAM_H
#define _LINUX_MODULEPARAM_H

#include <linux/compiler.h>
#include <linux/types.h>

#define __dde_param_ref(name, value)                                                               \
    static const void *const __dde_param_##name __used = (const void *)&(value)

#define module_param_named(name, value, type, perm) __dde_param_ref(name, value)
#define module_param(name, type, perm) module_param_named(name, name, type, perm)
#define module_param_unsafe(name, type, perm) module_param(name, type, perm)
#define module_param_array_named(name, array, type, nump, perm) __dde_param_ref(name, array)
#define module_param_array(name, type, nump, perm) module_param_array_named(name, name, type, nump, perm)
#define module_param_string(name, string, len, perm) __dde_param_ref(name, string)
#define core_param(name, var, type, perm) __dde_param_ref(name, var)
#define MODULE_PARM_DESC(_parm, desc)

#endif
