/* <linux/vmalloc.h>: page-aligned DDEKit memory (csrc/slab.c); also DMA-able here. */
#ifndef _LINUX_VMALLOC_H
#define _LINUX_VMALLOC_H
#include <linux/types.h>
void *vmalloc(unsigned long size);
void *vzalloc(unsigned long size);
void *vmalloc_array(size_t n, size_t size);
void *vcalloc(size_t n, size_t size);
void vfree(const void *addr);
bool is_vmalloc_addr(const void *x);
#endif
