/* <linux/bitmap.h>: bitmaps as arrays of unsigned long. */
#ifndef _LINUX_BITMAP_H
#define _LINUX_BITMAP_H
#include <linux/bitops.h>
#include <linux/string.h>
#include <linux/types.h>
#define __ETHTOOL_DECLARE_LINK_MODE_MASK(name) DECLARE_BITMAP(name, __ETHTOOL_LINK_MODE_MASK_NBITS)
#define BITMAP_FIRST_WORD_MASK(start) (~0UL << ((start) & (BITS_PER_LONG - 1)))
#define BITMAP_LAST_WORD_MASK(nbits) (~0UL >> (-(nbits) & (BITS_PER_LONG - 1)))
static inline void bitmap_zero(unsigned long *dst, unsigned int nbits)
{
    memset(dst, 0, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}
static inline void bitmap_fill(unsigned long *dst, unsigned int nbits)
{
    memset(dst, 0xff, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}
static inline void bitmap_copy(unsigned long *dst, const unsigned long *src, unsigned int nbits)
{
    memcpy(dst, src, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}
static inline bool bitmap_empty(const unsigned long *src, unsigned int nbits)
{
    return find_first_bit(src, nbits) >= nbits;
}
static inline bool bitmap_equal(const unsigned long *a, const unsigned long *b, unsigned int nbits)
{
    unsigned int k, lim = nbits / BITS_PER_LONG;
    for (k = 0; k < lim; k++)
        if (a[k] != b[k])
            return false;
    if (nbits % BITS_PER_LONG)
        if ((a[k] ^ b[k]) & BITMAP_LAST_WORD_MASK(nbits))
            return false;
    return true;
}
static inline void bitmap_or(unsigned long *dst, const unsigned long *a, const unsigned long *b, unsigned int nbits)
{
    for (unsigned int k = 0; k < BITS_TO_LONGS(nbits); k++)
        dst[k] = a[k] | b[k];
}
static inline bool bitmap_and(unsigned long *dst, const unsigned long *a, const unsigned long *b, unsigned int nbits)
{
    unsigned long result = 0;
    for (unsigned int k = 0; k < BITS_TO_LONGS(nbits); k++)
        result |= (dst[k] = a[k] & b[k]);
    return result != 0;
}
static inline unsigned int bitmap_weight(const unsigned long *src, unsigned int nbits)
{
    unsigned int w = 0;
    for (unsigned int k = 0; k < nbits / BITS_PER_LONG; k++)
        w += hweight_long(src[k]);
    if (nbits % BITS_PER_LONG)
        w += hweight_long(src[nbits / BITS_PER_LONG] & BITMAP_LAST_WORD_MASK(nbits));
    return w;
}
#define DECLARE_BITMAP_INIT(name, bits) DECLARE_BITMAP(name, bits)
#endif
