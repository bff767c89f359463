/*
 * <linux/module.h>: a driver is linked into its task like a built-in kernel
 * driver: module_init is a device initcall, module information is dropped.
 */
#ifndef _LINUX_MODULE_H
#define _LINUX_MODULE_H

#include <linux/export.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/stringify.h>
#include <linux/types.h>

#define MODULE_INFO(tag, info)
#define MODULE_AUTHOR(a)
#define MODULE_DESCRIPTION(d)
#define MODULE_LICENSE(l)
#define MODULE_VERSION(v)
#define MODULE_ALIAS(a)
#define MODULE_FIRMWARE(f)
#define MODULE_SOFTDEP(s)
#define MODULE_IMPORT_NS(ns)
#define MODULE_DEVICE_TABLE(type, name)
#define __MODULE_STRING(x) __stringify(x)

#define module_init(initfn) device_initcall(initfn)
#define module_exit(exitfn) __exitcall(exitfn)

#define module_driver(__driver, __register, __unregister, ...)                                     \
    static int __init __driver##_init(void) { return __register(&(__driver), ##__VA_ARGS__); }     \
    module_init(__driver##_init);                                                                  \
    static void __exit __driver##_exit(void) { __unregister(&(__driver), ##__VA_ARGS__); }         \
    module_exit(__driver##_exit)

static inline bool try_module_get(struct module *module)
{
    (void)module;
    return true;
}
static inline void module_put(struct module *module) { (void)module; }
#define __module_get(m) do { (void)(m); } while (0)

#endif
