/*
 * <linux/kernel.h>: the grab bag every driver includes: alignment and
 * rounding, printing to buffers, number parsing, might_sleep.
 */
#ifndef _LINUX_KERNEL_H
#define _LINUX_KERNEL_H

#include <stdarg.h>
#include <linux/align.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/limits.h>
#include <linux/log2.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/printk.h>
#include <linux/stddef.h>
#include <linux/stringify.h>
#include <linux/types.h>
#include <linux/wordpart.h>
#include <linux/kstrtox.h>
#include <asm/byteorder.h>

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]) + __must_be_array(arr))
#define REPEAT_BYTE(x) ((~0ul / 0xff) * (x))
#define FIELD_SIZEOF(t, f) (sizeof(((t *)0)->f))
#define _RET_IP_ (unsigned long)__builtin_return_address(0)
#define _THIS_IP_ ({ __label__ __here; __here: (unsigned long)&&__here; })
#define STACK_MAGIC 0xdeadbeef

__printf(3, 4) int snprintf(char *buf, size_t size, const char *fmt, ...);
__printf(3, 0) int vsnprintf(char *buf, size_t size, const char *fmt, va_list args);
__printf(3, 4) int scnprintf(char *buf, size_t size, const char *fmt, ...);
__printf(3, 0) int vscnprintf(char *buf, size_t size, const char *fmt, va_list args);
__printf(2, 3) int sprintf(char *buf, const char *fmt, ...);
__printf(2, 0) int vsprintf(char *buf, const char *fmt, va_list args);
__printf(2, 3) char *kasprintf(gfp_t gfp, const char *fmt, ...);
__printf(2, 0) char *kvasprintf(gfp_t gfp, const char *fmt, va_list args);

extern const char hex_asc[];
#define hex_asc_lo(x) hex_asc[((x)&0x0f)]
#define hex_asc_hi(x) hex_asc[((x)&0xf0) >> 4]
extern const char hex_asc_upper[];
#define hex_asc_upper_lo(x) hex_asc_upper[((x)&0x0f)]
#define hex_asc_upper_hi(x) hex_asc_upper[((x)&0xf0) >> 4]

static inline char *hex_byte_pack(char *buf, u8 byte)
{
	*buf++ = hex_asc_hi(byte);
	*buf++ = hex_asc_lo(byte);
	return buf;
}

static inline char *hex_byte_pack_upper(char *buf, u8 byte)
{
	*buf++ = hex_asc_upper_hi(byte);
	*buf++ = hex_asc_upper_lo(byte);
	return buf;
}

/* hex_asc, hex_to_bin, hex2bin, bin2hex, hex_dump_to_buffer and
 * print_hex_dump are Linux's own lib/hexdump.c (linux-lib.toml). */
int hex_to_bin(unsigned char ch);
int hex2bin(u8 *dst, const char *src, size_t count);
char *bin2hex(char *dst, const void *src, size_t count);

/* Sleeping is allowed wherever a driver asks: every context is a thread. */
#define might_sleep() do { } while (0)
#define might_sleep_if(cond) do { } while (0)
#define might_fault() do { } while (0)
#define lockdep_assert_held(l) do { (void)(l); } while (0)
#define lockdep_assert_irqs_disabled() do { } while (0)
#define lockdep_set_class(l, k) do { } while (0)
#define lockdep_set_class_and_name(l, k, n) do { } while (0)
#define lockdep_assert_held_once(l) do { (void)(l); } while (0)
#define ASSERT_RTNL() do { } while (0)

enum system_states {
    SYSTEM_BOOTING,
    SYSTEM_SCHEDULING,
    SYSTEM_FREEING_INITMEM,
    SYSTEM_RUNNING,
    SYSTEM_HALT,
    SYSTEM_POWER_OFF,
    SYSTEM_RESTART,
    SYSTEM_SUSPEND,
};
/* A driver task only runs while the system runs. */
#define system_state SYSTEM_RUNNING

/* A single driver task behaves like one logical CPU for per-CPU accounting. */
#define NR_CPUS 1
#define nr_cpu_ids 1
#define num_online_cpus() 1U
#define num_possible_cpus() 1U
#define smp_processor_id() 0
#define raw_smp_processor_id() 0
#define get_cpu() 0
#define put_cpu() do { } while (0)

void dump_stack(void);

enum {
    DDE_TAINT_NONE
};
#define add_taint(flag, lockdep) do { } while (0)

#endif
