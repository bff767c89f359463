/*
 * Socket buffers: allocation (linear kmalloc'd heads, or page fragments with
 * build_skb), freeing with the host's transmit-completion hook, and the
 * non-linear helpers drivers use (pskb_trim, __pskb_pull_tail, skb_copy_bits,
 * padding with reallocation, skb_to_sgvec, skb_partial_csum_set), and the
 * page-fragment refill that drivers carve receive buffers from
 * (skb_page_frag_refill). The data layout is Linux's: headroom, data,
 * tailroom, then struct skb_shared_info with the page fragments.
 *
 * Every sk_buff is allocated here, inside a `struct dde_skb` that adds what
 * the shim keeps per skb: the host's transmit cookie (csrc/net/host.c), reported
 * when the skb is freed. Linux's sk_buff keeps its layout.
 */
#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <net/sock.h>
#include <resurgo/net.h>

#include "internal.h"
#include "net.h"

static struct kmem_cache *skb_cache;

struct dde_skb *dde_skb(struct sk_buff *skb) { return container_of(skb, struct dde_skb, skb); }
static struct dde_once skb_once;

static struct sk_buff *skb_struct_alloc(gfp_t gfp)
{
    struct dde_skb *d;

    if (__atomic_load_n(&skb_once.state, __ATOMIC_ACQUIRE) != 2 && dde_once_begin(&skb_once)) {
        skb_cache = kmem_cache_create("skbuff_head_cache", sizeof(struct dde_skb), 0, 0, NULL);
        dde_once_done(&skb_once);
    }
    d = skb_cache ? kmem_cache_alloc(skb_cache, gfp) : kmalloc(sizeof(struct dde_skb), gfp);
    return d ? &d->skb : NULL;
}

static void skb_struct_free(struct sk_buff *skb)
{
    if (skb_cache)
        kmem_cache_free(skb_cache, dde_skb(skb));
    else
        kfree(dde_skb(skb));
}

/* Initialises an skb around a buffer of `size` usable bytes at `data`
 * (the shared info follows them). */
static void skb_setup(struct sk_buff *skb, u8 *data, unsigned int size, bool head_frag)
{
    struct skb_shared_info *shinfo;

    memset(skb, 0, offsetof(struct sk_buff, tail));
    refcount_set(&skb->users, 1);
    skb->head = data;
    skb->data = data;
    skb_reset_tail_pointer(skb);
    skb->end = size;
    skb->head_frag = head_frag;
    skb->mac_header = (typeof(skb->mac_header))~0U;
    skb->transport_header = (typeof(skb->transport_header))~0U;
    skb->network_header = 0;
    skb->truesize = SKB_TRUESIZE(size);
    skb->destructor = NULL;
    dde_skb(skb)->cookie = 0;
    dde_skb(skb)->tx_dev = NULL;
    dde_skb(skb)->has_cookie = false;
    shinfo = skb_shinfo(skb);
    memset(shinfo, 0, offsetof(struct skb_shared_info, dataref));
    atomic_set(&shinfo->dataref, 1);
}

struct sk_buff *__alloc_skb(unsigned int size, gfp_t priority, int flags, int node)
{
    struct sk_buff *skb;
    u8 *data;

    (void)flags, (void)node;
    skb = skb_struct_alloc(priority & ~__GFP_ZERO);
    if (!skb)
        return NULL;
    size = SKB_DATA_ALIGN(size);
    data = kmalloc(size + SKB_DATA_ALIGN(sizeof(struct skb_shared_info)), priority & ~__GFP_ZERO);
    if (!data) {
        skb_struct_free(skb);
        return NULL;
    }
    skb_setup(skb, data, size, false);
    return skb;
}

static struct sk_buff *__build(void *data, unsigned int frag_size)
{
    struct sk_buff *skb = skb_struct_alloc(GFP_ATOMIC);
    unsigned int size = frag_size ? frag_size : (unsigned int)ksize(data);

    if (!skb)
        return NULL;
    size -= SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
    skb_setup(skb, data, size, frag_size != 0);
    return skb;
}

struct sk_buff *build_skb(void *data, unsigned int frag_size) { return __build(data, frag_size); }
struct sk_buff *napi_build_skb(void *data, unsigned int frag_size) { return __build(data, frag_size); }

struct sk_buff *__netdev_alloc_skb(struct net_device *dev, unsigned int length, gfp_t gfp_mask)
{
    struct sk_buff *skb = __alloc_skb(length + NET_SKB_PAD, gfp_mask, 0, -1);

    if (skb) {
        skb_reserve(skb, NET_SKB_PAD);
        skb->dev = dev;
    }
    return skb;
}

struct sk_buff *__napi_alloc_skb(struct napi_struct *napi, unsigned int length, gfp_t gfp_mask)
{
    struct sk_buff *skb = __alloc_skb(length + NET_SKB_PAD + NET_IP_ALIGN, gfp_mask, 0, -1);

    if (skb) {
        skb_reserve(skb, NET_SKB_PAD + NET_IP_ALIGN);
        skb->dev = napi->dev;
    }
    return skb;
}

static void skb_free_head(struct sk_buff *skb)
{
    if (skb->head_frag)
        skb_free_frag(skb->head);
    else
        kfree(skb->head);
}

/* Frees what the skb holds: fragments and head, then tells the host when
 * this was one of its frames. */
void __kfree_skb(struct sk_buff *skb)
{
    struct skb_shared_info *shinfo = skb_shinfo(skb);
    struct net_device *tx_dev = dde_skb(skb)->tx_dev;
    u64 cookie = dde_skb(skb)->cookie;
    bool report = dde_skb(skb)->has_cookie;

    if (skb->destructor)
        skb->destructor(skb);
    if (atomic_dec_and_test(&shinfo->dataref)) {
        for (int i = 0; i < shinfo->nr_frags; i++)
            __skb_frag_unref(&shinfo->frags[i], false);
        kfree_skb_list(shinfo->frag_list);
        skb_free_head(skb);
    }
    skb_struct_free(skb);
    if (report)
        resurgo_netdev_tx_done(tx_dev, cookie);
}

/* What Linux's kfree_skb_list() calls. */
void kfree_skb_list_reason(struct sk_buff *segs, enum skb_drop_reason reason)
{
    while (segs) {
        struct sk_buff *next = segs->next;

        kfree_skb_reason(segs, reason);
        segs = next;
    }
}

/* What Linux's kfree_skb() and consume_skb() call. */
void kfree_skb_reason(struct sk_buff *skb, enum skb_drop_reason reason)
{
    if (!skb_unref(skb))
        return;
    __kfree_skb(skb);
}

void napi_consume_skb(struct sk_buff *skb, int budget)
{
    (void)budget;
    kfree_skb(skb);
}

void skb_tx_error(struct sk_buff *skb) { (void)skb; }

void skb_dump_overflow(const struct sk_buff *skb, unsigned int len, const char *what)
{
    pr_emerg("skbuff: %s: len:%u put:%u head:%p data:%p tail:%#x end:%#x dev:%s\n", what, skb->len, len,
             skb->head, skb->data, skb->tail, skb->end, skb->dev ? skb->dev->name : "<NULL>");
    BUG();
}

void *skb_put(struct sk_buff *skb, unsigned int len)
{
    void *tmp = skb_tail_pointer(skb);

    SKB_LINEAR_ASSERT(skb);
    skb->tail += len;
    skb->len += len;
    if (unlikely(skb->tail > skb->end))
        skb_dump_overflow(skb, len, "skb_put over");
    return tmp;
}

void *skb_push(struct sk_buff *skb, unsigned int len)
{
    skb->data -= len;
    skb->len += len;
    if (unlikely(skb->data < skb->head))
        skb_dump_overflow(skb, len, "skb_push under");
    return skb->data;
}

void *skb_pull(struct sk_buff *skb, unsigned int len) { return skb_pull_inline(skb, len); }

void skb_trim(struct sk_buff *skb, unsigned int len)
{
    if (skb->len > len)
        __skb_trim(skb, len);
}

/* Transmit timestamps go to the socket that asked for them (SKBTX_SW_TSTAMP
 * and friends); no socket of a driver task's ever does, so there is nothing
 * to report. */
void skb_tstamp_tx(struct sk_buff *orig_skb, struct skb_shared_hwtstamps *hwtstamps) { }

/* ---- reshaping ---------------------------------------------------------------------------- */

int pskb_expand_head(struct sk_buff *skb, int nhead, int ntail, gfp_t gfp_mask)
{
    unsigned int size = SKB_DATA_ALIGN(skb_end_offset(skb) + (unsigned int)nhead + (unsigned int)ntail);
    unsigned int shinfo_size = SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
    long off;
    u8 *data;

    BUG_ON(nhead < 0 || skb_shared(skb));
    data = kmalloc(size + shinfo_size, gfp_mask);
    if (!data)
        return -ENOMEM;
    /* Head and data up to tail, then the shared info with its fragments. */
    memcpy(data + nhead, skb->head, skb_tail_pointer(skb) - skb->head);
    memcpy(data + size, skb_shinfo(skb), offsetof(struct skb_shared_info, frags[skb_shinfo(skb)->nr_frags]));
    skb_free_head(skb);
    off = (data + nhead) - skb->head;
    skb->head = data;
    skb->head_frag = 0;
    skb->data += off;
    skb->end = size;
    skb->tail += nhead;
    if (skb_mac_header_was_set(skb))
        skb->mac_header += nhead;
    skb->network_header += nhead;
    if (skb_transport_header_was_set(skb))
        skb->transport_header += nhead;
    skb->cloned = 0;
    atomic_set(&skb_shinfo(skb)->dataref, 1);
    return 0;
}

int __skb_pad(struct sk_buff *skb, int pad, bool free_on_error)
{
    int err, ntail;

    if (!skb_cloned(skb) && skb_tailroom(skb) >= pad) {
        memset(skb->data + skb->len, 0, (size_t)pad);
        return 0;
    }
    ntail = (int)skb->data_len + pad - (int)(skb->end - skb->tail);
    if (likely(skb_cloned(skb) || ntail > 0)) {
        err = pskb_expand_head(skb, 0, ntail, GFP_ATOMIC);
        if (unlikely(err))
            goto free_skb;
    }
    err = skb_linearize(skb);
    if (unlikely(err))
        goto free_skb;
    memset(skb->data + skb->len, 0, (size_t)pad);
    return 0;

free_skb:
    if (free_on_error)
        kfree_skb(skb);
    return err;
}

int skb_copy_bits(const struct sk_buff *skb, int offset, void *to, int len)
{
    int start = (int)skb_headlen(skb), copy;
    u8 *out = to;

    if (offset > (int)skb->len - len)
        return -EFAULT;
    if ((copy = start - offset) > 0) {
        if (copy > len)
            copy = len;
        memcpy(out, skb->data + offset, (size_t)copy);
        if ((len -= copy) == 0)
            return 0;
        offset += copy;
        out += copy;
    }
    for (int i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
        const skb_frag_t *f = &skb_shinfo(skb)->frags[i];
        int end = start + (int)skb_frag_size(f);

        if ((copy = end - offset) > 0) {
            if (copy > len)
                copy = len;
            memcpy(out, (u8 *)skb_frag_address(f) + (offset - start), (size_t)copy);
            if ((len -= copy) == 0)
                return 0;
            offset += copy;
            out += copy;
        }
        start = end;
    }
    return len ? -EFAULT : 0;
}

int skb_store_bits(struct sk_buff *skb, int offset, const void *from, int len)
{
    int start = (int)skb_headlen(skb), copy;
    const u8 *in = from;

    if (offset > (int)skb->len - len)
        return -EFAULT;
    if ((copy = start - offset) > 0) {
        if (copy > len)
            copy = len;
        memcpy(skb->data + offset, in, (size_t)copy);
        if ((len -= copy) == 0)
            return 0;
        offset += copy;
        in += copy;
    }
    for (int i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
        skb_frag_t *f = &skb_shinfo(skb)->frags[i];
        int end = start + (int)skb_frag_size(f);

        if ((copy = end - offset) > 0) {
            if (copy > len)
                copy = len;
            memcpy((u8 *)skb_frag_address(f) + (offset - start), in, (size_t)copy);
            if ((len -= copy) == 0)
                return 0;
            offset += copy;
            in += copy;
        }
        start = end;
    }
    return len ? -EFAULT : 0;
}

/* Trims a non-linear skb to `len` bytes: drops or shortens fragments. */
int ___pskb_trim(struct sk_buff *skb, unsigned int len)
{
    struct skb_shared_info *shinfo = skb_shinfo(skb);
    unsigned int offset = skb_headlen(skb);
    int nfrags = shinfo->nr_frags, i;

    if (offset >= len) {
        /* The linear part alone is long enough: drop every fragment. */
        for (i = 0; i < nfrags; i++)
            __skb_frag_unref(&shinfo->frags[i], false);
        shinfo->nr_frags = 0;
        skb->data_len = 0;
        skb->len = len;
        skb_set_tail_pointer(skb, (int)len);
        return 0;
    }
    for (i = 0; i < nfrags; i++) {
        unsigned int end = offset + skb_frag_size(&shinfo->frags[i]);

        if (end < len) {
            offset = end;
            continue;
        }
        skb_frag_size_set(&shinfo->frags[i++], len - offset);
        break;
    }
    for (int k = i; k < nfrags; k++)
        __skb_frag_unref(&shinfo->frags[k], false);
    shinfo->nr_frags = (u8)i;
    skb->data_len -= skb->len - len;
    skb->len = len;
    return 0;
}

/* Moves `delta` bytes from the fragments into the linear part. */
void *__pskb_pull_tail(struct sk_buff *skb, int delta)
{
    struct skb_shared_info *shinfo = skb_shinfo(skb);
    int eat = (int)(skb->tail + (unsigned int)delta) - (int)skb->end, k = 0;

    if (eat > 0 || skb_cloned(skb)) {
        if (pskb_expand_head(skb, 0, eat > 0 ? eat + 128 : 0, GFP_ATOMIC))
            return NULL;
        shinfo = skb_shinfo(skb);
    }
    if (skb_copy_bits(skb, (int)skb_headlen(skb), skb_tail_pointer(skb), delta))
        BUG();
    eat = delta;
    for (int i = 0; i < shinfo->nr_frags; i++) {
        unsigned int size = skb_frag_size(&shinfo->frags[i]);

        if ((int)size <= eat) {
            __skb_frag_unref(&shinfo->frags[i], false);
            eat -= (int)size;
        } else {
            skb_frag_t *f = &shinfo->frags[k];

            *f = shinfo->frags[i];
            if (eat) {
                skb_frag_off_add(f, eat);
                skb_frag_size_sub(f, eat);
                eat = 0;
            }
            k++;
        }
    }
    shinfo->nr_frags = (u8)k;
    skb->tail += (unsigned int)delta;
    skb->data_len -= (unsigned int)delta;
    return skb_tail_pointer(skb);
}

void skb_add_rx_frag(struct sk_buff *skb, int i, struct page *page, int off, int size, unsigned int truesize)
{
    skb_fill_page_desc(skb, i, page, off, size);
    skb->len += (unsigned int)size;
    skb->data_len += (unsigned int)size;
    skb->truesize += truesize;
}

void skb_coalesce_rx_frag(struct sk_buff *skb, int i, int size, unsigned int truesize)
{
    skb_frag_size_add(&skb_shinfo(skb)->frags[i], size);
    skb->len += (unsigned int)size;
    skb->data_len += (unsigned int)size;
    skb->truesize += truesize;
}

__wsum skb_checksum(const struct sk_buff *skb, int offset, int len, __wsum csum)
{
    u8 buf[256];

    while (len > 0) {
        int n = len < (int)sizeof(buf) ? len : (int)sizeof(buf);

        if (skb_copy_bits(skb, offset, buf, n))
            break;
        /* Chunks are an even number of bytes except the last, so the sums add. */
        csum = csum_partial(buf, n, csum);
        offset += n;
        len -= n;
    }
    return csum;
}

/* Fills in a CHECKSUM_PARTIAL checksum in software. */
int skb_checksum_help(struct sk_buff *skb)
{
    int offset;
    __sum16 sum;

    if (skb->ip_summed != CHECKSUM_PARTIAL)
        return 0;
    offset = skb_checksum_start_offset(skb);
    sum = csum_fold(skb_checksum(skb, offset, (int)skb->len - offset, 0));
    offset += skb->csum_offset;
    if (sum == 0)
        sum = CSUM_MANGLED_0;
    if (skb_store_bits(skb, offset, &sum, sizeof(sum)))
        return -EINVAL;
    skb->ip_summed = CHECKSUM_NONE;
    return 0;
}

/* Copies a frame to `to`, filling in a CHECKSUM_PARTIAL checksum on the way
 * (for devices without checksum offload that copy into their own buffers). */
void skb_copy_and_csum_dev(const struct sk_buff *skb, u8 *to)
{
    int start = skb->ip_summed == CHECKSUM_PARTIAL ? skb_checksum_start_offset(skb) : (int)skb_headlen(skb);
    __wsum csum;

    if (start > (int)skb->len)
        start = (int)skb->len;
    if (skb_copy_bits(skb, 0, to, start))
        return;
    if (skb_copy_bits(skb, start, to + start, (int)skb->len - start))
        return;
    csum = csum_partial(to + start, (int)skb->len - start, 0);
    if (skb->ip_summed == CHECKSUM_PARTIAL) {
        __sum16 sum = csum_fold(csum);
        int at = start + skb->csum_offset;

        if (sum == 0)
            sum = CSUM_MANGLED_0;
        if (at + (int)sizeof(sum) <= (int)skb->len)
            memcpy(to + at, &sum, sizeof(sum));
    }
}

/* ---- queues -------------------------------------------------------------------------------- */

void skb_queue_tail(struct sk_buff_head *list, struct sk_buff *newsk)
{
    spin_lock(&list->lock);
    __skb_queue_tail(list, newsk);
    spin_unlock(&list->lock);
}

void skb_queue_head(struct sk_buff_head *list, struct sk_buff *newsk)
{
    spin_lock(&list->lock);
    __skb_queue_head(list, newsk);
    spin_unlock(&list->lock);
}

struct sk_buff *skb_dequeue(struct sk_buff_head *list)
{
    struct sk_buff *skb;

    spin_lock(&list->lock);
    skb = __skb_dequeue(list);
    spin_unlock(&list->lock);
    return skb;
}

void skb_queue_purge(struct sk_buff_head *list)
{
    struct sk_buff *skb;

    while ((skb = skb_dequeue(list)) != NULL)
        kfree_skb(skb);
}

/* ---- page fragments ------------------------------------------------------------------ */

static struct dde_frag_cache netdev_frags, napi_frags;

/* What Linux's netdev_alloc_frag() and napi_alloc_frag() call (as
 * net/core/skbuff.c has them): fragments are cache-line aligned, which
 * satisfies any alignment a driver asks for. */
void *__netdev_alloc_frag_align(unsigned int fragsz, unsigned int align_mask)
{
    return dde_frag_alloc(&netdev_frags, fragsz);
}

void *__napi_alloc_frag_align(unsigned int fragsz, unsigned int align_mask)
{
    return dde_frag_alloc(&napi_frags, fragsz);
}

/* ---- scatterlists, checksum offsets, page fragments ------------------------------------------ */

/* Linux's __skb_to_sgvec: the entries for `len` bytes from `offset`, the head
 * first, then each page fragment, then the skbs on the fragment list; the
 * number used, or -EMSGSIZE past 24 levels of fragment lists. */
static int to_sgvec(struct sk_buff *skb, struct scatterlist *sg, int offset, int len, unsigned int depth)
{
    int start = (int)skb_headlen(skb), copy = start - offset, elt = 0;
    struct sk_buff *frag_iter;

    if (unlikely(depth > 24))
        return -EMSGSIZE;
    if (copy > 0) {
        if (copy > len)
            copy = len;
        sg_set_buf(sg, skb->data + offset, (unsigned int)copy);
        elt++;
        if ((len -= copy) == 0)
            return elt;
        offset += copy;
    }
    for (int i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
        skb_frag_t *frag = &skb_shinfo(skb)->frags[i];
        int end = start + (int)skb_frag_size(frag);

        if ((copy = end - offset) > 0) {
            if (copy > len)
                copy = len;
            sg_set_page(&sg[elt], skb_frag_page(frag), (unsigned int)copy,
                        skb_frag_off(frag) + (unsigned int)(offset - start));
            elt++;
            if (!(len -= copy))
                return elt;
            offset += copy;
        }
        start = end;
    }
    skb_walk_frags(skb, frag_iter) {
        int end = start + (int)frag_iter->len, ret;

        if ((copy = end - offset) > 0) {
            if (copy > len)
                copy = len;
            ret = to_sgvec(frag_iter, sg + elt, offset - start, copy, depth + 1);
            if (unlikely(ret < 0))
                return ret;
            elt += ret;
            if ((len -= copy) == 0)
                return elt;
            offset += copy;
        }
        start = end;
    }
    BUG_ON(len);
    return elt;
}

int skb_to_sgvec(struct sk_buff *skb, struct scatterlist *sg, int offset, int len)
{
    int nsg = to_sgvec(skb, sg, offset, len, 0);

    if (nsg <= 0)
        return nsg;
    sg_mark_end(&sg[nsg - 1]);
    return nsg;
}

int skb_to_sgvec_nomark(struct sk_buff *skb, struct scatterlist *sg, int offset, int len)
{
    return to_sgvec(skb, sg, offset, len, 0);
}

/* A checksum the device left to software (virtio's NEEDS_CSUM): it starts
 * `start` bytes into the data and goes `off` bytes further; false if that
 * lies outside the head. */
bool skb_partial_csum_set(struct sk_buff *skb, u16 start, u16 off)
{
    u32 csum_end = (u32)start + (u32)off + sizeof(__sum16);
    u32 csum_start = skb_headroom(skb) + (u32)start;

    if (unlikely(csum_start > U16_MAX || csum_end > skb_headlen(skb))) {
        net_warn_ratelimited("bad partial csum: csum=%u/%u headroom=%u headlen=%u\n", start, off,
                             skb_headroom(skb), skb_headlen(skb));
        return false;
    }
    skb->ip_summed = CHECKSUM_PARTIAL;
    skb->csum_start = (u16)csum_start;
    skb->csum_offset = off;
    skb_set_transport_header(skb, start);
    return true;
}

/* Makes room for `sz` bytes in `pfrag`: the page it has if nothing else
 * holds it any more (start over) or the bytes fit, else a fresh 32 KiB
 * compound page, else a single page (Linux's semantics, net/core/sock.c). */
bool skb_page_frag_refill(unsigned int sz, struct page_frag *pfrag, gfp_t gfp)
{
    if (pfrag->page) {
        if (page_ref_count(pfrag->page) == 1) {
            pfrag->offset = 0;
            return true;
        }
        if (pfrag->offset + sz <= pfrag->size)
            return true;
        put_page(pfrag->page);
    }
    pfrag->offset = 0;
    pfrag->page = alloc_pages((gfp & ~__GFP_DIRECT_RECLAIM) | __GFP_COMP | __GFP_NOWARN | __GFP_NORETRY,
                              SKB_FRAG_PAGE_ORDER);
    if (likely(pfrag->page)) {
        pfrag->size = PAGE_SIZE << SKB_FRAG_PAGE_ORDER;
        return true;
    }
    pfrag->page = alloc_page(gfp);
    if (likely(pfrag->page)) {
        pfrag->size = PAGE_SIZE;
        return true;
    }
    return false;
}

