/*
 * Pages: alloc_pages() on DDEKit's page allocator with a struct page
 * descriptor per allocation, found again from any address inside the
 * allocation through a hash of page numbers (virt_to_head_page), and
 * reference counted (get_page/put_page). Page fragments for receive buffers
 * (netdev_alloc_frag, napi_alloc_frag) are carved from pages the way Linux's
 * page_frag_cache does it: each fragment holds a reference on its page, and
 * skb_free_frag() drops it, whatever address inside the fragment it gets.
 */
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/skbuff.h>
#include <linux/slab.h>

#include "internal.h"

#define PAGE_MAGIC 0x70616765u
#define HASH_BITS 10
#define HASH_SIZE (1u << HASH_BITS)

struct page_ref {
    unsigned long pfn; /* virtual page number */
    struct page *page;
    struct page_ref *next;
};

static ddekit_lock_t page_lock;
static struct page_ref *page_hash[HASH_SIZE];

static unsigned int hash_pfn(unsigned long pfn) { return (unsigned int)((pfn * 0x9e3779b97f4a7c15ull) >> (64 - HASH_BITS)); }

static struct page_ref *lookup(unsigned long pfn)
{
    for (struct page_ref *r = page_hash[hash_pfn(pfn)]; r; r = r->next)
        if (r->pfn == pfn)
            return r;
    return NULL;
}

static void unregister_pages(struct page *page)
{
    unsigned long first = (unsigned long)page->virtual >> PAGE_SHIFT;

    for (unsigned long i = 0; i < (1UL << page->order); i++) {
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

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
    size_t size = PAGE_SIZE << order;
    struct page *page = ddekit_simple_malloc(sizeof(*page));
    unsigned long first;
    bool ok = true;

    if (!page)
        return NULL;
    page->virtual = ddekit_large_malloc(size);
    if (!page->virtual) {
        ddekit_simple_free(page);
        return NULL;
    }
    page->flags = 0;
    page->order = order;
    page->dde_magic = PAGE_MAGIC;
    atomic_set(&page->_refcount, 1);
    if (gfp & __GFP_ZERO)
        memset(page->virtual, 0, size);

    first = (unsigned long)page->virtual >> PAGE_SHIFT;
    ddekit_lock_lock(&page_lock);
    for (unsigned long i = 0; i < (1UL << order); i++) {
        struct page_ref *r = ddekit_simple_malloc(sizeof(*r));

        if (!r) {
            ok = false;
            break;
        }
        r->pfn = first + i;
        r->page = page;
        r->next = page_hash[hash_pfn(r->pfn)];
        page_hash[hash_pfn(r->pfn)] = r;
    }
    if (!ok)
        unregister_pages(page);
    ddekit_lock_unlock(&page_lock);
    if (!ok) {
        ddekit_large_free(page->virtual);
        ddekit_simple_free(page);
        return NULL;
    }
    return page;
}

static void free_page_now(struct page *page)
{
    ddekit_lock_lock(&page_lock);
    unregister_pages(page);
    ddekit_lock_unlock(&page_lock);
    page->dde_magic = 0;
    ddekit_large_free(page->virtual);
    ddekit_simple_free(page);
}

void put_page(struct page *page)
{
    BUG_ON(page->dde_magic != PAGE_MAGIC);
    if (atomic_dec_and_test(&page->_refcount))
        free_page_now(page);
}

void __free_pages(struct page *page, unsigned int order)
{
    (void)order;
    put_page(page);
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
    struct page *page = alloc_pages(gfp, order);

    return page ? (unsigned long)page_address(page) : 0;
}

void free_pages(unsigned long addr, unsigned int order)
{
    (void)order;
    if (addr)
        put_page(virt_to_head_page((void *)addr));
}

struct page *virt_to_head_page(const void *addr)
{
    struct page_ref *r;

    ddekit_lock_lock(&page_lock);
    r = lookup((unsigned long)addr >> PAGE_SHIFT);
    ddekit_lock_unlock(&page_lock);
    if (!r) {
        WARN(1, "virt_to_page(%p): not in an allocated page\n", addr);
        return NULL;
    }
    return r->page;
}

bool virt_addr_valid(const void *addr)
{
    bool found;

    ddekit_lock_lock(&page_lock);
    found = lookup((unsigned long)addr >> PAGE_SHIFT) != NULL;
    ddekit_lock_unlock(&page_lock);
    return found;
}

phys_addr_t page_to_phys(const struct page *page) { return ddekit_pgtab_get_physaddr(page->virtual); }

/* ---- page fragments -------------------------------------------------------------------- */

struct frag_cache {
    ddekit_lock_t lock;
    struct page *page; /* the page being carved, we hold one reference */
    unsigned int offset;
    unsigned int size;
};

static struct frag_cache netdev_frags, napi_frags;

#define FRAG_CACHE_ORDER 3 /* carve 32 KiB at a time, like Linux */

static void *frag_alloc(struct frag_cache *fc, unsigned int fragsz)
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

void *netdev_alloc_frag(unsigned int fragsz) { return frag_alloc(&netdev_frags, fragsz); }
void *napi_alloc_frag(unsigned int fragsz) { return frag_alloc(&napi_frags, fragsz); }

void page_frag_free(void *addr)
{
    struct page *page = virt_to_head_page(addr);

    if (page)
        put_page(page);
}

void skb_free_frag(void *addr) { page_frag_free(addr); }
