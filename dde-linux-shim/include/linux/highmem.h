/* <linux/highmem.h>: every page is mapped, so kmap is page_address. */
#ifndef _LINUX_HIGHMEM_H
#define _LINUX_HIGHMEM_H
#include <linux/mm.h>
static inline void *kmap(struct page *page) { return page_address(page); }
static inline void kunmap(struct page *page) { (void)page; }
static inline void *kmap_atomic(struct page *page) { return page_address(page); }
static inline void *kmap_local_page(struct page *page) { return page_address(page); }
#define kunmap_atomic(addr) do { (void)(addr); } while (0)
#define kunmap_local(addr) do { (void)(addr); } while (0)
#endif
