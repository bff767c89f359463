/*
 * The Internet checksum (RFC 1071): 32-bit one's complement partial sums of
 * 16-bit words in network byte order, as the kernel's csum_* helpers keep them.
 */
#include <linux/in6.h>
#include <linux/string.h>
#include <net/checksum.h>
#include <net/ip6_checksum.h>

static inline u32 fold64(u64 sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    return (u32)sum;
}

/* Sums the buffer as 16-bit words in memory order (which, on a
 * little-endian machine, gives the byte-swapped one's complement sum that
 * the kernel's __wsum represents). */
__wsum csum_partial(const void *buff, int len, __wsum wsum)
{
    const u8 *p = buff;
    u64 sum = 0;
    u32 r;
    bool odd;

    if (len <= 0)
        return wsum;
    odd = ((unsigned long)p & 1) != 0;
    if (odd) {
        /* Start on an even address: the first byte is the high half of a
         * word; the rotation below puts every byte back in its lane. */
        sum += (u64)p[0] << 8;
        p++;
        len--;
    }
    while (len >= 2) {
        sum += (u16)(p[0] | p[1] << 8);
        p += 2;
        len -= 2;
    }
    if (len)
        sum += p[0];
    r = fold64(sum);
    r = (r & 0xffff) + (r >> 16);
    r = (r & 0xffff) + (r >> 16);
    if (odd)
        r = ((r & 0xff) << 8) | ((r >> 8) & 0xff);
    return csum_add((__wsum)r, wsum);
}

__sum16 ip_compute_csum(const void *buff, int len) { return csum_fold(csum_partial(buff, len, 0)); }

__wsum csum_partial_copy_nocheck(const void *src, void *dst, int len)
{
    memcpy(dst, src, (size_t)len);
    return csum_partial(dst, len, 0);
}

__sum16 csum_ipv6_magic(const struct in6_addr *saddr, const struct in6_addr *daddr, __u32 len, __u8 proto,
                        __wsum csum)
{
    u64 sum = (u32)csum;

    for (int i = 0; i < 4; i++) {
        sum += saddr->s6_addr32[i];
        sum += daddr->s6_addr32[i];
    }
    sum += cpu_to_be32(len);
    sum += cpu_to_be32((u32)proto);
    return csum_fold((__wsum)fold64(sum));
}
