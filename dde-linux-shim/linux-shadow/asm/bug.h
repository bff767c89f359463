/*
 * Resurgo's <asm/bug.h> (the shadow folder; README.md): Linux's generic
 * BUG() and WARN() instead of x86's. x86 makes both a `ud2` instruction with
 * an entry in a bug table that the kernel's invalid-opcode handler looks up,
 * and after a WARN() the kernel carries on. A driver task has no such
 * handler: every `ud2` would end the task, a WARN_ON() too. The generic
 * versions call functions the shim defines (csrc/core/printk.c):
 * warn_slowpath_fmt() logs the warning with its place and returns, BUG()
 * logs and calls panic(), which ends the task with the reason.
 */
#ifndef _ASM_X86_BUG_H
#define _ASM_X86_BUG_H

#include <linux/stringify.h>
#include <linux/instrumentation.h>

#include <asm-generic/bug.h>

#endif /* _ASM_X86_BUG_H */
