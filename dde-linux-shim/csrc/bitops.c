/*
 * Bitmap searching (find_next_bit and friends), for for_each_set_bit() and
 * the VLAN and link-mode bitmaps.
 */
#include <linux/bitops.h>

static unsigned long find_next(const unsigned long *addr, unsigned long size, unsigned long offset,
                               unsigned long invert)
{
    unsigned long word;

    if (offset >= size)
        return size;
    word = (addr[BIT_WORD(offset)] ^ invert) & (~0UL << (offset % BITS_PER_LONG));
    offset -= offset % BITS_PER_LONG;
    while (!word) {
        offset += BITS_PER_LONG;
        if (offset >= size)
            return size;
        word = addr[BIT_WORD(offset)] ^ invert;
    }
    offset += __ffs(word);
    return offset < size ? offset : size;
}

unsigned long find_next_bit(const unsigned long *addr, unsigned long size, unsigned long offset)
{
    return find_next(addr, size, offset, 0UL);
}

unsigned long find_next_zero_bit(const unsigned long *addr, unsigned long size, unsigned long offset)
{
    return find_next(addr, size, offset, ~0UL);
}
