/*
 * Pages: Linux's alloc_pages() (its inline calls __alloc_pages()) on DDEKit's
 * page allocator. Each allocation gets an array of struct pages of the
 * shim's, one per page as in Linux's memory map, behind a record of where its
 * memory is (`struct dde_pages`). An allocation of more than one page is a
 * compound page, as Linux makes it with __GFP_COMP: its tail pages point to
 * the head (compound_head), so Linux's inline get_page()/put_page() count
 * references on the head whichever page they are given, and nth_page() steps
 * through the array. put_page() dropping the last reference calls
 * __folio_put(), which frees. Any address inside an allocation finds its page
 * again through a hash of page numbers (dde_page_of()). Page fragments (a
 * class's caches: the network class's netdev_alloc_frag and napi_alloc_frag)
 * are carved from pages the way Linux's page_frag_cache does it: each
 * fragment holds a reference on its page, and page_frag_free() drops it,
 * whatever address inside the fragment it gets.
 *
 * virt_to_page() finds the shim's page for an address in one of its page
 * allocations; for any other address it is Linux's arithmetic: with
 * page_offset_base 0 a task address's page frame number is its page number,
 * and its struct page pointer is vmemmap_base + pfn, in the kernel's half of
 * the address space, where the task has no memory. page_address() (HASHED_PAGE_VIRTUAL, the
 * shadow asm/page.h) is the shim's function and knows both kinds: it turns a
 * memory-map pointer back into its address by the same arithmetic, and reads
 * the record behind one of the shim's pages. So a scatterlist entry that
 * sg_set_buf() made from any DDEKit-allocated buffer leads back to that
 * buffer (sg_virt(), the sg_miter copies, dma_map_sg()); a driver that reads
 * the fields of a memory-map pointer faults, visibly.
 */
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "internal.h"

/* What __pa(), __va() and virt_to_page() read (CONFIG_DYNAMIC_MEMORY_LAYOUT). */
unsigned long page_offset_base = 0;
unsigned long vmemmap_base = 0xffffea0000000000UL;
unsigned long phys_base = 0;

#define PAGE_MAGIC 0x70616765u
#define PAGE_HASH_BITS 10
#define PAGE_HASH_SIZE (1u << PAGE_HASH_BITS)

struct dde_pages {
    void *addr;
    unsigned int order;
    unsigned int magic;
    struct page pages[]; /* 1 << order of them */
};

struct page_ref {
    unsigned long pfn; /* virtual page number */
    struct dde_pages *alloc;
    struct page_ref *next;
};

static ddekit_lock_t page_lock;
static struct page_ref *page_hash[PAGE_HASH_SIZE];

static unsigned int hash_pfn(unsigned long pfn) { return (unsigned int)((pfn * 0x9e3779b97f4a7c15ull) >> (64 - PAGE_HASH_BITS)); }

static struct page_ref *lookup(unsigned long pfn)
{
    for (struct page_ref *r = page_hash[hash_pfn(pfn)]; r; r = r->next)
        if (r->pfn == pfn)
            return r;
    return NULL;
}

/* The allocation a page of the shim's (head or tail) belongs to. */
static struct dde_pages *dde_pages(const struct page *page)
{
    return container_of(compound_head(page), struct dde_pages, pages[0]);
}

static void unregister_pages(struct dde_pages *dp)
{
    unsigned long first = (unsigned long)dp->addr >> PAGE_SHIFT;

    for (unsigned long i = 0; i < (1UL << dp->order); i++) {
        unsigned long pfn = first + i;
        struct page_ref **pp = &page_hash[hash_pfn(pfn)];

        while (*pp) {
            if ((*pp)->pfn == pfn) {
                struct page_ref *r = *pp;
                *pp = r->next;
                ddekit_simple_free(r);
                break;
            }
            pp = &(*pp)->next;
        }
    }
}

struct page *__alloc_pages(gfp_t gfp, unsigned int order, int preferred_nid, nodemask_t *nodemask)
{
    size_t size = PAGE_SIZE << order;
    unsigned long count = 1UL << order;
    struct dde_pages *dp = ddekit_simple_malloc(struct_size(dp, pages, count));
    unsigned long first;
    bool ok = true;

    if (!dp)
        return NULL;
    memset(dp, 0, struct_size(dp, pages, count));
    dp->addr = ddekit_large_malloc(size);
    if (!dp->addr) {
        ddekit_simple_free(dp);
        return NULL;
    }
    dp->order = order;
    dp->magic = PAGE_MAGIC;
    atomic_set(&dp->pages[0]._refcount, 1);
    if (order) {
        /* A compound page, as Linux's prep_compound_page() makes one. */
        __SetPageHead(&dp->pages[0]);
        set_compound_order(&dp->pages[0], order);
        for (unsigned long i = 1; i < count; i++)
            set_compound_head(&dp->pages[i], &dp->pages[0]);
    }
    if (gfp & __GFP_ZERO)
        memset(dp->addr, 0, size);

    first = (unsigned long)dp->addr >> PAGE_SHIFT;
    ddekit_lock_lock(&page_lock);
    for (unsigned long i = 0; i < count; i++) {
        struct page_ref *r = ddekit_simple_malloc(sizeof(*r));

        if (!r) {
            ok = false;
            break;
        }
        r->pfn = first + i;
        r->alloc = dp;
        r->next = page_hash[hash_pfn(r->pfn)];
        page_hash[hash_pfn(r->pfn)] = r;
    }
    if (!ok)
        unregister_pages(dp);
    ddekit_lock_unlock(&page_lock);
    if (!ok) {
        ddekit_large_free(dp->addr);
        ddekit_simple_free(dp);
        return NULL;
    }
    return &dp->pages[0];
}

struct folio *__folio_alloc(gfp_t gfp, unsigned int order, int preferred_nid, nodemask_t *nodemask)
{
    return (struct folio *)__alloc_pages(gfp, order, preferred_nid, nodemask);
}

static void free_page_now(struct dde_pages *dp)
{
    BUG_ON(dp->magic != PAGE_MAGIC);
    ddekit_lock_lock(&page_lock);
    unregister_pages(dp);
    ddekit_lock_unlock(&page_lock);
    dp->magic = 0;
    ddekit_large_free(dp->addr);
    ddekit_simple_free(dp);
}

/* put_page() dropped the last reference. */
void __folio_put(struct folio *folio) { free_page_now(dde_pages(&folio->page)); }

void __free_pages(struct page *page, unsigned int order)
{
    struct page *head = compound_head(page);

    /* Linux frees what it is given; the shim only hands out whole allocations. */
    WARN_ON(head != page || order != dde_pages(head)->order);
    if (put_page_testzero(head))
        free_page_now(dde_pages(head));
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
    struct page *page = alloc_pages(gfp, order);

    return page ? (unsigned long)page_address(page) : 0;
}

unsigned long get_zeroed_page(gfp_t gfp) { return __get_free_pages(gfp | __GFP_ZERO, 0); }

/* Exactly `size` bytes in Linux, which frees the pages of the power of two
 * beyond them; here the whole allocation stays (its pages are one record),
 * and free_pages_exact() gives it back whole. */
void *alloc_pages_exact(size_t size, gfp_t gfp)
{
    if (WARN_ON_ONCE(gfp & __GFP_COMP))
        gfp &= ~__GFP_COMP;
    return (void *)__get_free_pages(gfp, (unsigned int)get_order(size));
}

void free_pages_exact(void *virt, size_t size)
{
    free_pages((unsigned long)virt, (unsigned int)get_order(size));
}

/* virt_to_page() (the shadow asm/page.h): the shim's page for an address in
 * one of its page allocations, so that virt_to_head_page() finds the head
 * and its reference count (virtio_net's receive buffers, carved from page
 * fragments); for any other address Linux's arithmetic pointer, which only
 * page_address() reads. */
struct page *dde_virt_to_page(const void *addr)
{
    struct page *page = dde_page_of(addr);

    return page ? page : pfn_to_page((unsigned long)addr >> PAGE_SHIFT);
}

/* The page of the shim's that `addr` is on, or NULL. */
struct page *dde_page_of(const void *addr)
{
    unsigned long pfn = (unsigned long)addr >> PAGE_SHIFT;
    struct page_ref *r;

    ddekit_lock_lock(&page_lock);
    r = lookup(pfn);
    ddekit_lock_unlock(&page_lock);
    return r ? &r->alloc->pages[pfn - ((unsigned long)r->alloc->addr >> PAGE_SHIFT)] : NULL;
}

void free_pages(unsigned long addr, unsigned int order)
{
    struct page *page;

    if (!addr)
        return;
    page = dde_page_of((void *)addr);
    if (WARN(!page, "free_pages(%#lx): not an allocated page\n", addr))
        return;
    __free_pages(page, order);
}

/* The address a struct page stands for: one that virt_to_page() computed is
 * vmemmap_base + the page number; one of the shim's is a page of the
 * allocation behind it. */
void *page_address(const struct page *page)
{
    unsigned long p = (unsigned long)page;
    const struct page *head;

    if (p >= vmemmap_base && p - vmemmap_base < (1UL << (47 - PAGE_SHIFT)) * sizeof(struct page))
        return (void *)(((p - vmemmap_base) / sizeof(struct page)) << PAGE_SHIFT);
    head = compound_head(page);
    return (char *)dde_pages(head)->addr + ((page - head) << PAGE_SHIFT);
}

/* The shim's pages always have their address: nothing to record. */
void set_page_address(struct page *page, void *virtual)
{
    WARN_ON(virtual != page_address(page));
}

bool __virt_addr_valid(unsigned long addr) { return dde_page_of((void *)addr) != NULL; }

/* ---- page fragments -------------------------------------------------------------------- */

#define FRAG_CACHE_ORDER 3 /* carve 32 KiB at a time, like Linux */

void *dde_frag_alloc(struct dde_frag_cache *fc, unsigned int fragsz)
{
    void *p = NULL;

    fragsz = ALIGN(fragsz, SMP_CACHE_BYTES);
    if (fragsz > (PAGE_SIZE << FRAG_CACHE_ORDER)) {
        /* Bigger than a whole cache page: a page allocation of its own. */
        struct page *page = alloc_pages(GFP_ATOMIC, (unsigned int)get_order(fragsz));
        return page ? page_address(page) : NULL;
    }
    ddekit_lock_lock(&fc->lock);
    if (!fc->page || fc->offset + fragsz > fc->size) {
        if (fc->page)
            put_page(fc->page);
        fc->page = alloc_pages(GFP_ATOMIC, FRAG_CACHE_ORDER);
        fc->offset = 0;
        fc->size = fc->page ? (unsigned int)(PAGE_SIZE << FRAG_CACHE_ORDER) : 0;
    }
    if (fc->page) {
        p = (char *)page_address(fc->page) + fc->offset;
        fc->offset += fragsz;
        get_page(fc->page);
    }
    ddekit_lock_unlock(&fc->lock);
    return p;
}

void page_frag_free(void *addr)
{
    struct page *page = dde_page_of(addr);

    if (!WARN(!page, "page_frag_free(%p): not in an allocated page\n", addr))
        put_page(page);
}
