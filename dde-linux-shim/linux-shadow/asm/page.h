/*
 * Resurgo's <asm/page.h> (the shadow folder; README.md): Linux's x86 one,
 * plus WANT_PAGE_VIRTUAL, which architectures without a linear map of memory
 * define in theirs. A driver task has no linear map either: its memory comes
 * from DDEKit's pool in regions the task's runtime places anywhere, so the
 * page a virtual address is on cannot be found by arithmetic alone. With it,
 * `struct page` carries its address (`page->virtual`) and page_address()
 * reads it, so the struct pages the shim allocates (alloc_pages(), page
 * fragments: csrc/page.c) say where their memory is. virt_to_page() stays
 * Linux's arithmetic (pfn into the vmemmap), which the shim's DMA mapping
 * turns back into the address (csrc/dma.c).
 */
#ifndef RESURGO_SHADOW_ASM_PAGE_H
#define RESURGO_SHADOW_ASM_PAGE_H

#include_next <asm/page.h>

#define WANT_PAGE_VIRTUAL

#endif
