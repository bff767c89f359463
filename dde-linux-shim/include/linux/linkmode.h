#ifndef _LINUX_LINKMODE_H
#define _LINUX_LINKMODE_H
#include <linux/bitmap.h>
#include <linux/ethtool.h>
static inline void linkmode_zero(unsigned long *dst) { bitmap_zero(dst, __ETHTOOL_LINK_MODE_MASK_NBITS); }
static inline void linkmode_copy(unsigned long *dst, const unsigned long *src)
{
    bitmap_copy(dst, src, __ETHTOOL_LINK_MODE_MASK_NBITS);
}
static inline void linkmode_set_bit(int nr, volatile unsigned long *addr) { __set_bit(nr, addr); }
static inline void linkmode_clear_bit(int nr, volatile unsigned long *addr) { __clear_bit(nr, addr); }
static inline int linkmode_test_bit(int nr, const volatile unsigned long *addr) { return test_bit(nr, addr); }
#endif
