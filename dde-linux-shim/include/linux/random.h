/* <linux/random.h>: randomness from DDEKit's clock, stirred (csrc/random.c).
 * Good enough for what drivers use it for (random MAC addresses, jitter). */
#ifndef _LINUX_RANDOM_H
#define _LINUX_RANDOM_H
#include <linux/types.h>
void get_random_bytes(void *buf, size_t len);
u32 get_random_u32(void);
u64 get_random_u64(void);
static inline u32 prandom_u32_max(u32 ep_ro) { return (u32)(((u64)get_random_u32() * ep_ro) >> 32); }
#define get_random_int() get_random_u32()
#define prandom_u32() get_random_u32()
#endif
