/*
 * <asm/byteorder.h>: x86_64 is little endian; the le helpers are identities
 * and the be helpers swap.
 */
#ifndef _ASM_BYTEORDER_H
#define _ASM_BYTEORDER_H

#include <linux/swab.h>
#include <linux/types.h>

#ifndef __LITTLE_ENDIAN
#define __LITTLE_ENDIAN 1234
#endif
#ifndef __LITTLE_ENDIAN_BITFIELD
#define __LITTLE_ENDIAN_BITFIELD
#endif

#define cpu_to_le64(x) ((__le64)(__u64)(x))
#define le64_to_cpu(x) ((__u64)(__le64)(x))
#define cpu_to_le32(x) ((__le32)(__u32)(x))
#define le32_to_cpu(x) ((__u32)(__le32)(x))
#define cpu_to_le16(x) ((__le16)(__u16)(x))
#define le16_to_cpu(x) ((__u16)(__le16)(x))
#define cpu_to_be64(x) ((__be64)swab64((x)))
#define be64_to_cpu(x) swab64((__u64)(__be64)(x))
#define cpu_to_be32(x) ((__be32)swab32((x)))
#define be32_to_cpu(x) swab32((__u32)(__be32)(x))
#define cpu_to_be16(x) ((__be16)swab16((x)))
#define be16_to_cpu(x) swab16((__u16)(__be16)(x))
#define __cpu_to_le16(x) cpu_to_le16(x)
#define __le16_to_cpu(x) le16_to_cpu(x)
#define __cpu_to_le32(x) cpu_to_le32(x)
#define __le32_to_cpu(x) le32_to_cpu(x)
#define __cpu_to_be16(x) cpu_to_be16(x)
#define __be16_to_cpu(x) be16_to_cpu(x)
#define __cpu_to_be32(x) cpu_to_be32(x)
#define __be32_to_cpu(x) be32_to_cpu(x)
#define __constant_htons(x) ((__be16)___constant_swab16((x)))
#define __constant_ntohs(x) ___constant_swab16((__be16)(x))
#define __constant_htonl(x) ((__be32)___constant_swab32((x)))
#define __constant_cpu_to_le16(x) ((__le16)(__u16)(x))
#define __constant_cpu_to_le32(x) ((__le32)(__u32)(x))
#define __constant_cpu_to_be16(x) ((__be16)___constant_swab16((x)))
#define __constant_cpu_to_be32(x) ((__be32)___constant_swab32((x)))
#define ___constant_swab16(x) ((__u16)((((__u16)(x) & (__u16)0x00ffU) << 8) | (((__u16)(x) & (__u16)0xff00U) >> 8)))
#define ___constant_swab32(x)                                                                      \
    ((__u32)((((__u32)(x) & (__u32)0x000000ffUL) << 24) | (((__u32)(x) & (__u32)0x0000ff00UL) << 8) | \
             (((__u32)(x) & (__u32)0x00ff0000UL) >> 8) | (((__u32)(x) & (__u32)0xff000000UL) >> 24)))

static inline void le16_to_cpus(__u16 *p) { (void)p; }
static inline void cpu_to_le16s(__u16 *p) { (void)p; }
static inline void le32_to_cpus(__u32 *p) { (void)p; }
static inline void cpu_to_le32s(__u32 *p) { (void)p; }
static inline void le64_to_cpus(__u64 *p) { (void)p; }
static inline void cpu_to_le64s(__u64 *p) { (void)p; }
static inline void be16_to_cpus(__u16 *p) { swab16s(p); }
static inline void cpu_to_be16s(__u16 *p) { swab16s(p); }
static inline void be32_to_cpus(__u32 *p) { swab32s(p); }
static inline void cpu_to_be32s(__u32 *p) { swab32s(p); }
static inline __u16 le16_to_cpup(const __le16 *p) { return le16_to_cpu(*p); }
static inline __u32 le32_to_cpup(const __le32 *p) { return le32_to_cpu(*p); }
static inline __u16 be16_to_cpup(const __be16 *p) { return be16_to_cpu(*p); }
static inline __u32 be32_to_cpup(const __be32 *p) { return be32_to_cpu(*p); }
static inline void le16_add_cpu(__le16 *var, u16 val) { *var = cpu_to_le16(le16_to_cpu(*var) + val); }
static inline void le32_add_cpu(__le32 *var, u32 val) { *var = cpu_to_le32(le32_to_cpu(*var) + val); }
static inline void be16_add_cpu(__be16 *var, u16 val) { *var = cpu_to_be16(be16_to_cpu(*var) + val); }

#define htonl(x) cpu_to_be32(x)
#define ntohl(x) be32_to_cpu(x)
#define htons(x) cpu_to_be16(x)
#define ntohs(x) be16_to_cpu(x)

#endif
