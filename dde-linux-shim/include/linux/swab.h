#ifndef _LINUX_SWAB_H
#define _LINUX_SWAB_H
#include <linux/types.h>
#define swab16(x) ((__u16)__builtin_bswap16((__u16)(x)))
#define swab32(x) ((__u32)__builtin_bswap32((__u32)(x)))
#define swab64(x) ((__u64)__builtin_bswap64((__u64)(x)))
#define __swab16(x) swab16(x)
#define __swab32(x) swab32(x)
#define __swab64(x) swab64(x)
static inline void swab16s(__u16 *p) { *p = swab16(*p); }
static inline void swab32s(__u32 *p) { *p = swab32(*p); }
static inline void swab64s(__u64 *p) { *p = swab64(*p); }
#endif
