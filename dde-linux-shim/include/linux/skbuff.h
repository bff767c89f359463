/*
 * <linux/skbuff.h>: socket buffers (csrc/skbuff.c).
 *
 * Layout as on 64-bit Linux: a linear buffer [head, head + end) with data and
 * tail inside it (tail and end are offsets from head), struct skb_shared_info
 * at the end of the buffer holding page fragments, header offsets from head.
 * An skb built by dde_netdev_xmit carries the host's cookie; freeing such an
 * skb (kfree_skb, consume_skb, dev_kfree_skb_*, napi_consume_skb) reports it
 * with resurgo_netdev_tx_done.
 */
#ifndef _LINUX_SKBUFF_H
#define _LINUX_SKBUFF_H

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/cache.h>
#include <linux/dma-mapping.h>
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/ktime.h>
#include <linux/netdev_features.h>
#include <linux/highmem.h>
#include <net/checksum.h>

struct net_device;
struct napi_struct;

#define CHECKSUM_NONE 0
#define CHECKSUM_UNNECESSARY 1
#define CHECKSUM_COMPLETE 2
#define CHECKSUM_PARTIAL 3

#define SKB_DATA_ALIGN(X) ALIGN(X, SMP_CACHE_BYTES)
#define SKB_WITH_OVERHEAD(X) ((X)-SKB_DATA_ALIGN(sizeof(struct skb_shared_info)))
#define SKB_TRUESIZE(X) ((X) + SKB_DATA_ALIGN(sizeof(struct sk_buff)) + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)))
#define SKB_MAX_ORDER(X, ORDER) SKB_WITH_OVERHEAD((PAGE_SIZE << (ORDER)) - (X))
#define SKB_MAX_HEAD(X) (SKB_MAX_ORDER((X), 0))

/* x86 handles unaligned IP headers well, so Linux uses no IP alignment there. */
#define NET_IP_ALIGN 0
#define NET_SKB_PAD 64

#define MAX_SKB_FRAGS 17UL

struct bio_vec {
    struct page *bv_page;
    unsigned int bv_len;
    unsigned int bv_offset;
};
typedef struct bio_vec skb_frag_t;

struct skb_shared_hwtstamps {
    ktime_t hwtstamp;
};

enum {
    SKBTX_HW_TSTAMP = 1 << 0,
    SKBTX_SW_TSTAMP = 1 << 1,
    SKBTX_IN_PROGRESS = 1 << 2,
};

enum {
    SKB_GSO_TCPV4 = 1 << 0,
    SKB_GSO_DODGY = 1 << 1,
    SKB_GSO_TCP_ECN = 1 << 2,
    SKB_GSO_TCP_FIXEDID = 1 << 3,
    SKB_GSO_TCPV6 = 1 << 4,
    SKB_GSO_FCOE = 1 << 5,
    SKB_GSO_UDP_L4 = 1 << 16,
};

struct skb_shared_info {
    __u8 flags;
    __u8 meta_len;
    __u8 nr_frags;
    __u8 tx_flags;
    unsigned short gso_size;
    unsigned short gso_segs;
    struct sk_buff *frag_list;
    struct skb_shared_hwtstamps hwtstamps;
    unsigned int gso_type;
    u32 tskey;
    atomic_t dataref;
    skb_frag_t frags[MAX_SKB_FRAGS];
};

typedef unsigned int sk_buff_data_t;

#define PACKET_HOST 0
#define PACKET_BROADCAST 1
#define PACKET_MULTICAST 2
#define PACKET_OTHERHOST 3
#define PACKET_OUTGOING 4
#define PACKET_LOOPBACK 5

struct sk_buff {
    struct sk_buff *next;
    struct sk_buff *prev;
    struct net_device *dev;
    ktime_t tstamp;
    char cb[48] __aligned(8);
    unsigned int len;
    unsigned int data_len;
    __u16 mac_len;
    __u16 hdr_len;
    __u16 queue_mapping;
    __u8 cloned : 1, nohdr : 1, head_frag : 1, pfmemalloc : 1, pp_recycle : 1, peeked : 1;
    __u8 pkt_type : 3, ignore_df : 1, ip_summed : 2, csum_valid : 1, encapsulation : 1;
    __u8 vlan_present : 1, csum_level : 2, l4_hash : 1, sw_hash : 1, no_fcs : 1, remcsum_offload : 1;
    union {
        __wsum csum;
        struct {
            __u16 csum_start;
            __u16 csum_offset;
        };
    };
    __u32 priority;
    int skb_iif;
    __u32 hash;
    __be16 vlan_proto;
    __u16 vlan_tci;
    __u32 mark;
    __be16 protocol;
    __u16 transport_header;
    __u16 network_header;
    __u16 mac_header;
    __u16 inner_transport_header;
    __u16 inner_network_header;
    __u16 inner_mac_header;
    sk_buff_data_t tail;
    sk_buff_data_t end;
    unsigned char *head;
    unsigned char *data;
    unsigned int truesize;
    refcount_t users;
    void (*destructor)(struct sk_buff *skb);
    /* shim: the host's transmit cookie (dde_netdev_xmit) */
    u64 dde_cookie;
    struct net_device *dde_tx_dev;
    bool dde_has_cookie;
};

struct sk_buff_head {
    struct sk_buff *next;
    struct sk_buff *prev;
    __u32 qlen;
    spinlock_t lock;
};

/* ---- allocation and freeing (csrc/skbuff.c) ---------------------------------- */

struct sk_buff *__alloc_skb(unsigned int size, gfp_t priority, int flags, int node);
static inline struct sk_buff *alloc_skb(unsigned int size, gfp_t priority) { return __alloc_skb(size, priority, 0, -1); }
struct sk_buff *build_skb(void *data, unsigned int frag_size);
struct sk_buff *napi_build_skb(void *data, unsigned int frag_size);
struct sk_buff *__netdev_alloc_skb(struct net_device *dev, unsigned int length, gfp_t gfp_mask);
static inline struct sk_buff *netdev_alloc_skb(struct net_device *dev, unsigned int length)
{
    return __netdev_alloc_skb(dev, length, GFP_ATOMIC);
}
static inline struct sk_buff *__dev_alloc_skb(unsigned int length, gfp_t gfp_mask)
{
    return __netdev_alloc_skb(NULL, length, gfp_mask);
}
static inline struct sk_buff *dev_alloc_skb(unsigned int length) { return netdev_alloc_skb(NULL, length); }
static inline struct sk_buff *__netdev_alloc_skb_ip_align(struct net_device *dev, unsigned int length, gfp_t gfp)
{
    struct sk_buff *skb = __netdev_alloc_skb(dev, length + NET_IP_ALIGN, gfp);

    if (NET_IP_ALIGN && skb)
        skb->data += NET_IP_ALIGN, skb->tail += NET_IP_ALIGN;
    return skb;
}
static inline struct sk_buff *netdev_alloc_skb_ip_align(struct net_device *dev, unsigned int length)
{
    return __netdev_alloc_skb_ip_align(dev, length, GFP_ATOMIC);
}
struct sk_buff *__napi_alloc_skb(struct napi_struct *napi, unsigned int length, gfp_t gfp_mask);
static inline struct sk_buff *napi_alloc_skb(struct napi_struct *napi, unsigned int length)
{
    return __napi_alloc_skb(napi, length, GFP_ATOMIC);
}

void kfree_skb(struct sk_buff *skb);
void consume_skb(struct sk_buff *skb);
void __kfree_skb(struct sk_buff *skb);
void napi_consume_skb(struct sk_buff *skb, int budget);
void skb_tx_error(struct sk_buff *skb);
#define kfree_skb_reason(skb, reason) kfree_skb(skb)
static inline void kfree_skb_list(struct sk_buff *segs)
{
    while (segs) {
        struct sk_buff *next = segs->next;
        kfree_skb(segs);
        segs = next;
    }
}

/* Page fragments for receive buffers. */
void *netdev_alloc_frag(unsigned int fragsz);
void *napi_alloc_frag(unsigned int fragsz);
void skb_free_frag(void *addr);
void page_frag_free(void *addr);

static inline struct sk_buff *skb_get(struct sk_buff *skb)
{
    refcount_inc(&skb->users);
    return skb;
}
static inline bool skb_unref(struct sk_buff *skb)
{
    if (unlikely(!skb))
        return false;
    if (likely(refcount_read(&skb->users) == 1))
        smp_rmb();
    else if (likely(!refcount_dec_and_test(&skb->users)))
        return false;
    return true;
}
static inline int skb_shared(const struct sk_buff *skb) { return refcount_read(&skb->users) != 1; }
static inline int skb_cloned(const struct sk_buff *skb) { return skb->cloned; }
static inline int skb_header_cloned(const struct sk_buff *skb) { return skb->cloned; }

/* ---- geometry ------------------------------------------------------------------- */

static inline unsigned char *skb_tail_pointer(const struct sk_buff *skb) { return skb->head + skb->tail; }
static inline void skb_reset_tail_pointer(struct sk_buff *skb) { skb->tail = (sk_buff_data_t)(skb->data - skb->head); }
static inline void skb_set_tail_pointer(struct sk_buff *skb, const int offset)
{
    skb_reset_tail_pointer(skb);
    skb->tail += offset;
}
static inline unsigned char *skb_end_pointer(const struct sk_buff *skb) { return skb->head + skb->end; }
static inline unsigned int skb_end_offset(const struct sk_buff *skb) { return skb->end; }
#define skb_shinfo(SKB) ((struct skb_shared_info *)(skb_end_pointer(SKB)))
static inline bool skb_is_nonlinear(const struct sk_buff *skb) { return skb->data_len; }
static inline unsigned int skb_headlen(const struct sk_buff *skb) { return skb->len - skb->data_len; }
static inline unsigned int skb_headroom(const struct sk_buff *skb) { return (unsigned int)(skb->data - skb->head); }
static inline int skb_tailroom(const struct sk_buff *skb)
{
    return skb_is_nonlinear(skb) ? 0 : (int)(skb->end - skb->tail);
}
static inline int skb_availroom(const struct sk_buff *skb) { return skb_tailroom(skb); }
static inline void skb_reserve(struct sk_buff *skb, int len)
{
    skb->data += len;
    skb->tail += len;
}

void skb_dump_overflow(const struct sk_buff *skb, unsigned int len, const char *what) __noreturn;

static inline void *__skb_put(struct sk_buff *skb, unsigned int len)
{
    void *tmp = skb_tail_pointer(skb);
    skb->tail += len;
    skb->len += len;
    return tmp;
}
static inline void *skb_put(struct sk_buff *skb, unsigned int len)
{
    void *tmp = skb_tail_pointer(skb);

    if (unlikely(skb_is_nonlinear(skb)))
        skb_dump_overflow(skb, len, "skb_put on a nonlinear skb");
    skb->tail += len;
    skb->len += len;
    if (unlikely(skb->tail > skb->end))
        skb_dump_overflow(skb, len, "skb_put over");
    return tmp;
}
static inline void *skb_put_zero(struct sk_buff *skb, unsigned int len)
{
    void *tmp = skb_put(skb, len);
    memset(tmp, 0, len);
    return tmp;
}
static inline void *skb_put_data(struct sk_buff *skb, const void *data, unsigned int len)
{
    void *tmp = skb_put(skb, len);
    memcpy(tmp, data, len);
    return tmp;
}
static inline void skb_put_u8(struct sk_buff *skb, u8 val) { *(u8 *)skb_put(skb, 1) = val; }
static inline void *__skb_push(struct sk_buff *skb, unsigned int len)
{
    skb->data -= len;
    skb->len += len;
    return skb->data;
}
static inline void *skb_push(struct sk_buff *skb, unsigned int len)
{
    skb->data -= len;
    skb->len += len;
    if (unlikely(skb->data < skb->head))
        skb_dump_overflow(skb, len, "skb_push under");
    return skb->data;
}
static inline void *__skb_pull(struct sk_buff *skb, unsigned int len)
{
    skb->len -= len;
    if (unlikely(skb->len < skb->data_len))
        skb_dump_overflow(skb, len, "__skb_pull into the fragments");
    return skb->data += len;
}
static inline void *skb_pull(struct sk_buff *skb, unsigned int len)
{
    if (unlikely(len > skb->len))
        return NULL;
    return __skb_pull(skb, len);
}
static inline void __skb_trim(struct sk_buff *skb, unsigned int len)
{
    if (unlikely(skb_is_nonlinear(skb)))
        skb_dump_overflow(skb, len, "__skb_trim on a nonlinear skb");
    skb->len = len;
    skb_set_tail_pointer(skb, len);
}
static inline void skb_trim(struct sk_buff *skb, unsigned int len)
{
    if (skb->len > len)
        __skb_trim(skb, len);
}
int ___pskb_trim(struct sk_buff *skb, unsigned int len);
static inline int __pskb_trim(struct sk_buff *skb, unsigned int len)
{
    if (skb->data_len)
        return ___pskb_trim(skb, len);
    __skb_trim(skb, len);
    return 0;
}
static inline int pskb_trim(struct sk_buff *skb, unsigned int len)
{
    return (len < skb->len) ? __pskb_trim(skb, len) : 0;
}
void *__pskb_pull_tail(struct sk_buff *skb, int delta);
static inline bool pskb_may_pull(struct sk_buff *skb, unsigned int len)
{
    if (likely(len <= skb_headlen(skb)))
        return true;
    if (unlikely(len > skb->len))
        return false;
    return __pskb_pull_tail(skb, (int)(len - skb_headlen(skb))) != NULL;
}
static inline void *pskb_pull(struct sk_buff *skb, unsigned int len)
{
    if (len > skb->len)
        return NULL;
    if (len > skb_headlen(skb) && !__pskb_pull_tail(skb, (int)(len - skb_headlen(skb))))
        return NULL;
    return __skb_pull(skb, len);
}
int __skb_linearize(struct sk_buff *skb);
static inline int skb_linearize(struct sk_buff *skb) { return skb_is_nonlinear(skb) ? __skb_linearize(skb) : 0; }
int pskb_expand_head(struct sk_buff *skb, int nhead, int ntail, gfp_t gfp_mask);
int skb_copy_bits(const struct sk_buff *skb, int offset, void *to, int len);
int skb_store_bits(struct sk_buff *skb, int offset, const void *from, int len);
static inline int skb_cow_head(struct sk_buff *skb, unsigned int headroom)
{
    int delta = 0;

    if (headroom > skb_headroom(skb))
        delta = (int)(headroom - skb_headroom(skb));
    if (delta || skb_header_cloned(skb))
        return pskb_expand_head(skb, ALIGN(delta, NET_SKB_PAD), 0, GFP_ATOMIC);
    return 0;
}
static inline int skb_cow(struct sk_buff *skb, unsigned int headroom) { return skb_cow_head(skb, headroom); }

/* Padding: on failure the skb is freed, as on Linux. */
int __skb_pad(struct sk_buff *skb, int pad, bool free_on_error);
static inline int skb_pad(struct sk_buff *skb, int pad) { return __skb_pad(skb, pad, true); }
static inline int __skb_put_padto(struct sk_buff *skb, unsigned int len, bool free_on_error)
{
    unsigned int size = skb->len;

    if (unlikely(size < len)) {
        len -= size;
        if (__skb_pad(skb, (int)len, free_on_error))
            return -ENOMEM;
        __skb_put(skb, len);
    }
    return 0;
}
static inline int skb_put_padto(struct sk_buff *skb, unsigned int len) { return __skb_put_padto(skb, len, true); }
static inline int skb_padto(struct sk_buff *skb, unsigned int len)
{
    unsigned int size = skb->len;

    if (likely(size >= len))
        return 0;
    return skb_pad(skb, (int)(len - size));
}

static inline void skb_copy_from_linear_data(const struct sk_buff *skb, void *to, const unsigned int len)
{
    memcpy(to, skb->data, len);
}
static inline void skb_copy_from_linear_data_offset(const struct sk_buff *skb, const int offset, void *to,
                                                    const unsigned int len)
{
    memcpy(to, skb->data + offset, len);
}
static inline void skb_copy_to_linear_data(struct sk_buff *skb, const void *from, const unsigned int len)
{
    memcpy(skb->data, from, len);
}
static inline void skb_copy_to_linear_data_offset(struct sk_buff *skb, const int offset, const void *from,
                                                  const unsigned int len)
{
    memcpy(skb->data + offset, from, len);
}

/* ---- headers -------------------------------------------------------------------- */

static inline bool skb_mac_header_was_set(const struct sk_buff *skb) { return skb->mac_header != (typeof(skb->mac_header))~0U; }
static inline unsigned char *skb_mac_header(const struct sk_buff *skb) { return skb->head + skb->mac_header; }
static inline void skb_reset_mac_header(struct sk_buff *skb) { skb->mac_header = (u16)(skb->data - skb->head); }
static inline void skb_set_mac_header(struct sk_buff *skb, const int offset)
{
    skb_reset_mac_header(skb);
    skb->mac_header += offset;
}
static inline int skb_mac_offset(const struct sk_buff *skb) { return (int)(skb_mac_header(skb) - skb->data); }
static inline u32 skb_mac_header_len(const struct sk_buff *skb) { return skb->network_header - skb->mac_header; }
static inline void skb_reset_mac_len(struct sk_buff *skb) { skb->mac_len = skb->network_header - skb->mac_header; }
static inline unsigned char *skb_network_header(const struct sk_buff *skb) { return skb->head + skb->network_header; }
static inline void skb_reset_network_header(struct sk_buff *skb) { skb->network_header = (u16)(skb->data - skb->head); }
static inline void skb_set_network_header(struct sk_buff *skb, const int offset)
{
    skb_reset_network_header(skb);
    skb->network_header += offset;
}
static inline unsigned char *skb_transport_header(const struct sk_buff *skb) { return skb->head + skb->transport_header; }
static inline void skb_reset_transport_header(struct sk_buff *skb) { skb->transport_header = (u16)(skb->data - skb->head); }
static inline void skb_set_transport_header(struct sk_buff *skb, const int offset)
{
    skb_reset_transport_header(skb);
    skb->transport_header += offset;
}
static inline bool skb_transport_header_was_set(const struct sk_buff *skb) { return skb->transport_header != (typeof(skb->transport_header))~0U; }
static inline int skb_network_offset(const struct sk_buff *skb) { return (int)(skb_network_header(skb) - skb->data); }
static inline int skb_transport_offset(const struct sk_buff *skb) { return (int)(skb_transport_header(skb) - skb->data); }
static inline u32 skb_network_header_len(const struct sk_buff *skb) { return skb->transport_header - skb->network_header; }
static inline int skb_checksum_start_offset(const struct sk_buff *skb) { return skb->csum_start - skb_headroom(skb); }
static inline unsigned char *skb_checksum_start(const struct sk_buff *skb) { return skb->head + skb->csum_start; }

static inline void skb_checksum_none_assert(const struct sk_buff *skb)
{
    (void)skb;
#ifdef DEBUG
    BUG_ON(skb->ip_summed != CHECKSUM_NONE);
#endif
}

/* ---- fragments ------------------------------------------------------------------- */

static inline unsigned int skb_frag_size(const skb_frag_t *frag) { return frag->bv_len; }
static inline void skb_frag_size_set(skb_frag_t *frag, unsigned int size) { frag->bv_len = size; }
static inline void skb_frag_size_add(skb_frag_t *frag, int delta) { frag->bv_len += delta; }
static inline void skb_frag_size_sub(skb_frag_t *frag, int delta) { frag->bv_len -= delta; }
static inline unsigned int skb_frag_off(const skb_frag_t *frag) { return frag->bv_offset; }
static inline void skb_frag_off_set(skb_frag_t *frag, unsigned int offset) { frag->bv_offset = offset; }
static inline void skb_frag_off_add(skb_frag_t *frag, int delta) { frag->bv_offset += delta; }
static inline struct page *skb_frag_page(const skb_frag_t *frag) { return frag->bv_page; }
static inline void *skb_frag_address(const skb_frag_t *frag) { return page_address(skb_frag_page(frag)) + skb_frag_off(frag); }
static inline void __skb_frag_ref(skb_frag_t *frag) { get_page(skb_frag_page(frag)); }
static inline void __skb_frag_unref(skb_frag_t *frag, bool recycle)
{
    (void)recycle;
    put_page(skb_frag_page(frag));
}
static inline void skb_frag_unref(struct sk_buff *skb, int f) { __skb_frag_unref(&skb_shinfo(skb)->frags[f], false); }
static inline dma_addr_t skb_frag_dma_map(struct device *dev, const skb_frag_t *frag, size_t offset, size_t size,
                                          enum dma_data_direction dir)
{
    return dma_map_page(dev, skb_frag_page(frag), skb_frag_off(frag) + offset, size, dir);
}
static inline void __skb_fill_page_desc_noacc(struct skb_shared_info *shinfo, int i, struct page *page, int off,
                                              int size)
{
    skb_frag_t *frag = &shinfo->frags[i];

    frag->bv_page = page;
    frag->bv_offset = (unsigned int)off;
    frag->bv_len = (unsigned int)size;
}
static inline void __skb_fill_page_desc(struct sk_buff *skb, int i, struct page *page, int off, int size)
{
    __skb_fill_page_desc_noacc(skb_shinfo(skb), i, page, off, size);
}
static inline void skb_fill_page_desc(struct sk_buff *skb, int i, struct page *page, int off, int size)
{
    __skb_fill_page_desc(skb, i, page, off, size);
    skb_shinfo(skb)->nr_frags = (u8)(i + 1);
}
void skb_add_rx_frag(struct sk_buff *skb, int i, struct page *page, int off, int size, unsigned int truesize);
void skb_coalesce_rx_frag(struct sk_buff *skb, int i, int size, unsigned int truesize);

/* ---- offloads and metadata -------------------------------------------------------- */

static inline bool skb_is_gso(const struct sk_buff *skb) { return skb_shinfo(skb)->gso_size; }
static inline bool skb_is_gso_v6(const struct sk_buff *skb) { return skb_shinfo(skb)->gso_type & SKB_GSO_TCPV6; }
static inline bool skb_is_gso_tcp(const struct sk_buff *skb) { return skb_shinfo(skb)->gso_type & (SKB_GSO_TCPV4 | SKB_GSO_TCPV6); }
static inline void skb_record_rx_queue(struct sk_buff *skb, u16 rx_queue) { skb->queue_mapping = rx_queue + 1; }
static inline u16 skb_get_rx_queue(const struct sk_buff *skb) { return skb->queue_mapping - 1; }
static inline bool skb_rx_queue_recorded(const struct sk_buff *skb) { return skb->queue_mapping != 0; }
static inline u16 skb_get_queue_mapping(const struct sk_buff *skb) { return skb->queue_mapping; }
static inline void skb_set_queue_mapping(struct sk_buff *skb, u16 queue_mapping) { skb->queue_mapping = queue_mapping; }
static inline void skb_set_hash(struct sk_buff *skb, __u32 hash, int type)
{
    (void)type;
    skb->hash = hash;
}
static inline void skb_orphan(struct sk_buff *skb)
{
    if (skb->destructor) {
        skb->destructor(skb);
        skb->destructor = NULL;
    }
}
/* Timestamps: nothing asks the drivers for them in this system. */
static inline void skb_tx_timestamp(struct sk_buff *skb) { (void)skb; }
static inline bool skb_defer_rx_timestamp(struct sk_buff *skb)
{
    (void)skb;
    return false;
}
static inline void skb_tstamp_tx(struct sk_buff *skb, struct skb_shared_hwtstamps *hwtstamps)
{
    (void)skb, (void)hwtstamps;
}
static inline struct skb_shared_hwtstamps *skb_hwtstamps(struct sk_buff *skb) { return &skb_shinfo(skb)->hwtstamps; }
static inline void skb_mark_for_recycle(struct sk_buff *skb) { (void)skb; }
static inline void skb_mark_napi_id(struct sk_buff *skb, struct napi_struct *napi) { (void)skb, (void)napi; }
static inline __u32 skb_get_hash(struct sk_buff *skb) { return skb->hash; }

__wsum skb_checksum(const struct sk_buff *skb, int offset, int len, __wsum csum);
int skb_checksum_help(struct sk_buff *skb);
void skb_copy_and_csum_dev(const struct sk_buff *skb, u8 *to);

/* ---- queues ----------------------------------------------------------------------- */

static inline void __skb_queue_head_init(struct sk_buff_head *list)
{
    list->prev = list->next = (struct sk_buff *)list;
    list->qlen = 0;
}
static inline void skb_queue_head_init(struct sk_buff_head *list)
{
    spin_lock_init(&list->lock);
    __skb_queue_head_init(list);
}
static inline __u32 skb_queue_len(const struct sk_buff_head *list) { return list->qlen; }
static inline int skb_queue_empty(const struct sk_buff_head *list) { return list->next == (const struct sk_buff *)list; }
static inline void __skb_insert(struct sk_buff *newsk, struct sk_buff *prev, struct sk_buff *next,
                                struct sk_buff_head *list)
{
    newsk->next = next;
    newsk->prev = prev;
    next->prev = newsk;
    prev->next = newsk;
    list->qlen++;
}
static inline void __skb_queue_tail(struct sk_buff_head *list, struct sk_buff *newsk)
{
    __skb_insert(newsk, list->prev, (struct sk_buff *)list, list);
}
static inline void __skb_queue_head(struct sk_buff_head *list, struct sk_buff *newsk)
{
    __skb_insert(newsk, (struct sk_buff *)list, list->next, list);
}
static inline void __skb_unlink(struct sk_buff *skb, struct sk_buff_head *list)
{
    struct sk_buff *next = skb->next, *prev = skb->prev;

    list->qlen--;
    skb->next = skb->prev = NULL;
    next->prev = prev;
    prev->next = next;
}
static inline struct sk_buff *skb_peek(const struct sk_buff_head *list)
{
    struct sk_buff *skb = list->next;
    return skb == (struct sk_buff *)list ? NULL : skb;
}
static inline struct sk_buff *__skb_dequeue(struct sk_buff_head *list)
{
    struct sk_buff *skb = skb_peek(list);
    if (skb)
        __skb_unlink(skb, list);
    return skb;
}
void skb_queue_tail(struct sk_buff_head *list, struct sk_buff *newsk);
void skb_queue_head(struct sk_buff_head *list, struct sk_buff *newsk);
struct sk_buff *skb_dequeue(struct sk_buff_head *list);
void skb_queue_purge(struct sk_buff_head *list);
#define __skb_queue_purge(list) skb_queue_purge(list)
#define skb_queue_walk(queue, skb) for (skb = (queue)->next; skb != (struct sk_buff *)(queue); skb = skb->next)
#define skb_queue_walk_safe(queue, skb, tmp)                                                       \
    for (skb = (queue)->next, tmp = skb->next; skb != (struct sk_buff *)(queue); skb = tmp, tmp = skb->next)

#endif
