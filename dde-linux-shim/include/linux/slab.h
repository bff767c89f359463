/*
 * <linux/slab.h>: kmalloc and slab caches on DDEKit memory (csrc/slab.c).
 * Every allocation is DMA-able (physically contiguous with a known physical
 * address) and 16-byte aligned. GFP flags are accepted; __GFP_ZERO zeroes.
 */
#ifndef _LINUX_SLAB_H
#define _LINUX_SLAB_H

#include <linux/gfp.h>
#include <linux/overflow.h>
#include <linux/types.h>

#define ZERO_SIZE_PTR ((void *)16)
#define ZERO_OR_NULL_PTR(x) ((unsigned long)(x) <= (unsigned long)ZERO_SIZE_PTR)
#define ARCH_KMALLOC_MINALIGN 16
#define ARCH_DMA_MINALIGN 16
#define KMALLOC_MAX_SIZE (1UL << 30)

void *__kmalloc(size_t size, gfp_t flags) __malloc;
void kfree(const void *objp);
void *krealloc(const void *objp, size_t new_size, gfp_t flags);
size_t ksize(const void *objp);
void kfree_sensitive(const void *objp);

static inline void *kmalloc(size_t size, gfp_t flags) { return __kmalloc(size, flags); }
static inline void *kzalloc(size_t size, gfp_t flags) { return __kmalloc(size, flags | __GFP_ZERO); }
#define kmalloc_node(size, flags, node) kmalloc(size, flags)
#define kzalloc_node(size, flags, node) kzalloc(size, flags)
static inline void *kmalloc_array(size_t n, size_t size, gfp_t flags)
{
    size_t bytes;

    if (unlikely(check_mul_overflow(n, size, &bytes)))
        return NULL;
    return __kmalloc(bytes, flags);
}
static inline void *kcalloc(size_t n, size_t size, gfp_t flags) { return kmalloc_array(n, size, flags | __GFP_ZERO); }
static inline void *krealloc_array(void *p, size_t new_n, size_t new_size, gfp_t flags)
{
    size_t bytes;

    if (unlikely(check_mul_overflow(new_n, new_size, &bytes)))
        return NULL;
    return krealloc(p, bytes, flags);
}

void *kvmalloc(size_t size, gfp_t flags);
static inline void *kvzalloc(size_t size, gfp_t flags) { return kvmalloc(size, flags | __GFP_ZERO); }
static inline void *kvmalloc_array(size_t n, size_t size, gfp_t flags)
{
    size_t bytes;

    if (unlikely(check_mul_overflow(n, size, &bytes)))
        return NULL;
    return kvmalloc(bytes, flags);
}
#define kvcalloc(n, size, flags) kvmalloc_array(n, size, (flags) | __GFP_ZERO)
void kvfree(const void *addr);

/* Slab caches. */
struct kmem_cache;
#define SLAB_HWCACHE_ALIGN 0x00002000U
#define SLAB_PANIC 0x00040000U
#define SLAB_ACCOUNT 0x04000000U
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align, slab_flags_t flags,
                                     void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *s);
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags);
void *kmem_cache_zalloc(struct kmem_cache *s, gfp_t flags);
void kmem_cache_free(struct kmem_cache *s, void *objp);
#define KMEM_CACHE(__struct, __flags)                                                              \
    kmem_cache_create(#__struct, sizeof(struct __struct), __alignof__(struct __struct), (__flags), NULL)

#endif
