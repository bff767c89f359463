#ifndef _LINUX_EXPORT_H
#define _LINUX_EXPORT_H
/* Every symbol of a driver task is linked statically: exporting is declaring. */
#define EXPORT_SYMBOL(sym) extern typeof(sym) sym
#define EXPORT_SYMBOL_GPL(sym) extern typeof(sym) sym
#define EXPORT_SYMBOL_NS(sym, ns) extern typeof(sym) sym
#define EXPORT_SYMBOL_NS_GPL(sym, ns) extern typeof(sym) sym
#define THIS_MODULE ((struct module *)0)
struct module;
#endif
