#ifndef _LINUX_GFP_H
#define _LINUX_GFP_H
#include <linux/gfp_types.h>
#include <linux/mm_types.h>
struct page *alloc_pages(gfp_t gfp, unsigned int order);
void __free_pages(struct page *page, unsigned int order);
unsigned long __get_free_pages(gfp_t gfp, unsigned int order);
void free_pages(unsigned long addr, unsigned int order);
#define alloc_page(gfp) alloc_pages(gfp, 0)
#define __get_free_page(gfp) __get_free_pages((gfp), 0)
#define free_page(addr) free_pages((addr), 0)
#define __free_page(page) __free_pages((page), 0)
#define dev_alloc_pages(order) alloc_pages(GFP_ATOMIC | __GFP_NOWARN, order)
#define dev_alloc_page() dev_alloc_pages(0)
#endif
