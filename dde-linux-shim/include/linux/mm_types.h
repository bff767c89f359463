/*
 * struct page: a descriptor for page allocations (csrc/page.c). Every page of
 * an allocation maps back to its head descriptor, so virt_to_head_page() works
 * on any address inside (skb_free_frag() relies on that).
 */
#ifndef _LINUX_MM_TYPES_H
#define _LINUX_MM_TYPES_H

#include <linux/align.h>
#include <linux/types.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(addr) ALIGN(addr, PAGE_SIZE)
#define PAGE_ALIGNED(addr) IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)

struct page {
    unsigned long flags;
    void *virtual;     /* first byte of the allocation */
    atomic_t _refcount;
    unsigned int order; /* the allocation is PAGE_SIZE << order bytes */
    unsigned int dde_magic;
};

struct page_frag {
    struct page *page;
    u32 offset;
    u32 size;
};

#endif
