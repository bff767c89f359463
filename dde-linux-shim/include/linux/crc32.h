/* <linux/crc32.h>: CRC-32 (IEEE 802.3 polynomial), compiled from Linux's own lib/crc32.c (linux-lib.toml). */
#ifndef _LINUX_CRC32_H
#define _LINUX_CRC32_H
#include <linux/bitrev.h>
#include <linux/types.h>
u32 crc32_le(u32 crc, const unsigned char *p, size_t len);
u32 crc32_be(u32 crc, const unsigned char *p, size_t len);
#define crc32(seed, data, length) crc32_le(seed, (const unsigned char *)(data), length)
/* The Ethernet FCS register value (bit-reversed) and its little-endian form. */
#define ether_crc(length, data) bitrev32(crc32_le(~0, data, length))
#define ether_crc_le(length, data) crc32_le(~0, data, length)
#endif
