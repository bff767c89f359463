/* <linux/mm.h>: pages, their addresses and reference counts (csrc/page.c). */
#ifndef _LINUX_MM_H
#define _LINUX_MM_H

#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/types.h>
#include <asm/io.h>

static inline void *page_address(const struct page *page) { return page->virtual; }
#define lowmem_page_address(page) page_address(page)
struct page *virt_to_head_page(const void *addr);
#define virt_to_page(addr) virt_to_head_page(addr)
static inline struct page *compound_head(struct page *page) { return page; }
phys_addr_t page_to_phys(const struct page *page);
#define page_to_virt(page) page_address(page)
bool virt_addr_valid(const void *addr);

static inline int page_ref_count(const struct page *page) { return atomic_read(&page->_refcount); }
static inline int page_count(const struct page *page) { return atomic_read(&page->_refcount); }
static inline void set_page_count(struct page *page, int v) { atomic_set(&page->_refcount, v); }
static inline void page_ref_inc(struct page *page) { atomic_inc(&page->_refcount); }
static inline void page_ref_add(struct page *page, int nr) { atomic_add(nr, &page->_refcount); }
static inline void get_page(struct page *page) { atomic_inc(&page->_refcount); }
void put_page(struct page *page);
static inline bool page_is_pfmemalloc(const struct page *page)
{
    (void)page;
    return false;
}
static inline int page_to_nid(const struct page *page)
{
    (void)page;
    return 0;
}
#define numa_mem_id() 0
#define NUMA_NO_NODE (-1)

static inline int get_order(unsigned long size)
{
    if (size <= PAGE_SIZE)
        return 0;
    return fls64((size - 1) >> PAGE_SHIFT);
}

/* Memory is never swapped or migrated: pinning and flushing are no-ops. */
#define flush_dcache_page(page) do { (void)(page); } while (0)

#endif
