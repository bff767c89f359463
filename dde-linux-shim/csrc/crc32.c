/*
 * CRC-32 with the IEEE 802.3 polynomial, one table lookup per byte. The
 * little-endian (bit-reflected) form is what Ethernet transmits and what
 * ether_crc/ether_crc_le derive the multicast hash from; the big-endian form
 * processes bits MSB first. Tables are computed once on first use.
 */
#include <linux/crc32.h>
#include <linux/types.h>

#define CRC32_POLY_LE 0xedb88320u /* reflected 0x04c11db7 */
#define CRC32_POLY_BE 0x04c11db7u

static u32 table_le[256];
static u32 table_be[256];
static int tables_ready; /* read with acquire, written with release */

static void crc32_make_tables(void)
{
    for (u32 i = 0; i < 256; i++) {
        u32 le = i, be = i << 24;

        for (int bit = 0; bit < 8; bit++) {
            le = (le >> 1) ^ ((le & 1) ? CRC32_POLY_LE : 0);
            be = (be << 1) ^ ((be & 0x80000000u) ? CRC32_POLY_BE : 0);
        }
        table_le[i] = le;
        table_be[i] = be;
    }
    /* Concurrent first callers compute identical tables; publishing is enough. */
    __atomic_store_n(&tables_ready, 1, __ATOMIC_RELEASE);
}

static inline void crc32_tables(void)
{
    if (!__atomic_load_n(&tables_ready, __ATOMIC_ACQUIRE))
        crc32_make_tables();
}

u32 crc32_le(u32 crc, const unsigned char *p, size_t len)
{
    crc32_tables();
    while (len--)
        crc = (crc >> 8) ^ table_le[(crc ^ *p++) & 0xff];
    return crc;
}

u32 crc32_be(u32 crc, const unsigned char *p, size_t len)
{
    crc32_tables();
    while (len--)
        crc = (crc << 8) ^ table_be[((crc >> 24) ^ *p++) & 0xff];
    return crc;
}
