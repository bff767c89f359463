/*
 * Resurgo's <asm/page.h> (the shadow folder; README.md): Linux's x86 one,
 * plus HASHED_PAGE_VIRTUAL, which highmem architectures get from
 * <linux/mm.h>: page_address() is then a function instead of arithmetic on
 * the linear map. A driver task has no linear map: its memory comes from
 * DDEKit's pool in regions the task's runtime places anywhere, so the struct
 * pages the shim allocates (alloc_pages(), page fragments) are records of its
 * own, and page_address() (csrc/core/page.c) reads where their memory is.
 * virt_to_page() is the shim's function too: the shim's own struct page for
 * an address in one of its page allocations (so virt_to_head_page() and the
 * reference counts work on page fragments), Linux's arithmetic (pfn into the
 * vmemmap) for any other address, which page_address() turns back into the
 * address by the same arithmetic, so scatterlists built with sg_set_buf()
 * work on any buffer.
 */
#ifndef RESURGO_SHADOW_ASM_PAGE_H
#define RESURGO_SHADOW_ASM_PAGE_H

#include_next <asm/page.h>

#define HASHED_PAGE_VIRTUAL

struct page;
struct page *dde_virt_to_page(const void *addr);
#undef virt_to_page
#define virt_to_page(kaddr) dde_virt_to_page((const void *)(kaddr))

#endif
