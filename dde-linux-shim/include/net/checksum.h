/*
 * <net/checksum.h>: the Internet checksum (RFC 1071) in the kernel's
 * representation: 32-bit partial sums (__wsum) folded to 16 bits (__sum16).
 * csrc/checksum.c.
 */
#ifndef _NET_CHECKSUM_H
#define _NET_CHECKSUM_H

#include <linux/types.h>
#include <linux/compiler.h>
#include <asm/byteorder.h>

__wsum csum_partial(const void *buff, int len, __wsum sum);
__sum16 ip_fast_csum(const void *iph, unsigned int ihl);
__sum16 ip_compute_csum(const void *buff, int len);
__wsum csum_partial_copy_nocheck(const void *src, void *dst, int len);

static inline __sum16 csum_fold(__wsum csum)
{
    u32 sum = (u32)csum;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__sum16)~sum;
}
static inline __wsum csum_add(__wsum csum, __wsum addend)
{
    u32 res = (u32)csum;
    res += (u32)addend;
    return (__wsum)(res + (res < (u32)addend));
}
static inline __wsum csum_sub(__wsum csum, __wsum addend) { return csum_add(csum, ~addend); }
static inline __sum16 csum16_add(__sum16 csum, __be16 addend)
{
    u16 res = (u16)csum;
    res += (u16)addend;
    return (__sum16)(res + (res < (u16)addend));
}
static inline __sum16 csum16_sub(__sum16 csum, __be16 addend) { return csum16_add(csum, ~addend); }
static inline __wsum csum_unfold(__sum16 n) { return (__wsum)n; }
static inline __wsum csum_block_add(__wsum csum, __wsum csum2, int offset)
{
    u32 sum = (u32)csum2;
    if (offset & 1)
        sum = (sum << 24) + ((sum & 0xff00) << 8) + ((sum & 0xff0000) >> 8) + (sum >> 24);
    return csum_add(csum, (__wsum)sum);
}
__wsum csum_tcpudp_nofold(__be32 saddr, __be32 daddr, __u32 len, __u8 proto, __wsum sum);
static inline __sum16 csum_tcpudp_magic(__be32 saddr, __be32 daddr, __u32 len, __u8 proto, __wsum sum)
{
    return csum_fold(csum_tcpudp_nofold(saddr, daddr, len, proto, sum));
}
static inline void csum_replace4(__sum16 *sum, __be32 from, __be32 to)
{
    __wsum tmp = csum_sub(~csum_unfold(*sum), (__wsum)from);
    *sum = csum_fold(csum_add(tmp, (__wsum)to));
}
static inline void csum_replace2(__sum16 *sum, __be16 old, __be16 new)
{
    *sum = ~csum16_add(csum16_sub(~(*sum), old), new);
}
#define CSUM_MANGLED_0 ((__sum16)0xffff)

#endif
