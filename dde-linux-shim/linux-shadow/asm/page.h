/*
 * Resurgo's <asm/page.h> (the shadow folder; README.md): Linux's x86 one,
 * plus HASHED_PAGE_VIRTUAL, which highmem architectures get from
 * <linux/mm.h>: page_address() is then a function instead of arithmetic on
 * the linear map. A driver task has no linear map: its memory comes from
 * DDEKit's pool in regions the task's runtime places anywhere, so the struct
 * pages the shim allocates (alloc_pages(), page fragments) are records of its
 * own, and page_address() (csrc/core/page.c) reads where their memory is.
 * virt_to_page() stays Linux's arithmetic (pfn into the vmemmap), and
 * page_address() turns those pointers back into the address by the same
 * arithmetic, so scatterlists built with sg_set_buf() work.
 */
#ifndef RESURGO_SHADOW_ASM_PAGE_H
#define RESURGO_SHADOW_ASM_PAGE_H

#include_next <asm/page.h>

#define HASHED_PAGE_VIRTUAL

#endif
