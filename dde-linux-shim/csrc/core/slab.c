/*
 * Memory: kmalloc and friends on DDEKit's small-object allocator, vmalloc on
 * its page allocator, and kmem_cache on DDEKit slabs. Everything DDEKit hands
 * out is DMA-able, so the GFP zone flags need no special handling; only
 * __GFP_ZERO changes what happens. kfree() and kvfree() tell vmalloc memory
 * apart through a small registry of vmalloc areas (vmalloc is rare).
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "internal.h"

/* Whether allocations are zeroed on allocation and on free
 * (want_init_on_alloc(), want_init_on_free(); mm/dmapool.c asks): off unless
 * the configuration says otherwise, as in Linux's mm/page_alloc.c, and no
 * boot parameter turns them on here. */
DEFINE_STATIC_KEY_MAYBE(CONFIG_INIT_ON_ALLOC_DEFAULT_ON, init_on_alloc);
DEFINE_STATIC_KEY_MAYBE(CONFIG_INIT_ON_FREE_DEFAULT_ON, init_on_free);

/* kmalloc'd blocks carry their size just before the returned pointer so
 * that krealloc and ksize work; the header keeps the 16-byte alignment. */
struct kmalloc_hdr {
    size_t size;
    size_t magic;
};
#define KMALLOC_MAGIC 0x6b6d616c6c6f6321ull

void *__kmalloc(size_t size, gfp_t flags)
{
    struct kmalloc_hdr *h;

    if (!size)
        return ZERO_SIZE_PTR;
    if (size > KMALLOC_MAX_SIZE)
        return NULL;
    h = ddekit_simple_malloc(sizeof(*h) + size);
    if (!h)
        return NULL;
    h->size = size;
    h->magic = KMALLOC_MAGIC;
    if (flags & __GFP_ZERO)
        memset(h + 1, 0, size);
    return h + 1;
}

/* Linux's kmalloc() of a constant size reads a cache from this table and
 * calls kmalloc_trace() with it; every size is __kmalloc()'s here, so the
 * table stays empty. */
struct kmem_cache *kmalloc_caches[NR_KMALLOC_TYPES][KMALLOC_SHIFT_HIGH + 1];

void *kmalloc_trace(struct kmem_cache *s, gfp_t flags, size_t size) { return __kmalloc(size, flags); }
void *kmalloc_large(size_t size, gfp_t flags) { return __kmalloc(size, flags); }
void *__kmalloc_node(size_t size, gfp_t flags, int node) { return __kmalloc(size, flags); }
/* kmalloc_node_track_caller(): the caller is for Linux's slab debugging, which has no counterpart here. */
void *__kmalloc_node_track_caller(size_t size, gfp_t flags, int node, unsigned long caller)
{
    (void)node, (void)caller;
    return __kmalloc(size, flags);
}
void *kmalloc_node_trace(struct kmem_cache *s, gfp_t flags, int node, size_t size) { return __kmalloc(size, flags); }

static struct kmalloc_hdr *hdr_of(const void *p)
{
    struct kmalloc_hdr *h = (struct kmalloc_hdr *)p - 1;

    BUG_ON(h->magic != KMALLOC_MAGIC);
    return h;
}

void kfree(const void *p)
{
    struct kmalloc_hdr *h;

    if (ZERO_OR_NULL_PTR(p))
        return;
    h = hdr_of(p);
    h->magic = 0;
    ddekit_simple_free(h);
}

void kfree_sensitive(const void *p)
{
    if (ZERO_OR_NULL_PTR(p))
        return;
    memzero_explicit((void *)p, hdr_of(p)->size);
    kfree(p);
}

size_t ksize(const void *p)
{
    if (ZERO_OR_NULL_PTR(p))
        return 0;
    return hdr_of(p)->size;
}

void *krealloc(const void *p, size_t new_size, gfp_t flags)
{
    void *n;
    size_t old;

    if (!new_size) {
        kfree(p);
        return ZERO_SIZE_PTR;
    }
    old = ksize(p);
    if (p && !ZERO_OR_NULL_PTR(p) && old >= new_size)
        return (void *)p;
    n = __kmalloc(new_size, flags);
    if (!n)
        return NULL;
    if (old)
        memcpy(n, p, old);
    if (flags & __GFP_ZERO)
        memset((char *)n + old, 0, new_size - old);
    kfree(p);
    return n;
}

/* ---- vmalloc -------------------------------------------------------------------------- */

struct vm_area {
    const void *addr;
    size_t size;
    struct vm_area *next;
};

static ddekit_lock_t vm_lock;
static struct vm_area *vm_areas;

static struct vm_area *vm_find(const void *x, bool unlink)
{
    for (struct vm_area **pp = &vm_areas; *pp; pp = &(*pp)->next) {
        struct vm_area *a = *pp;

        if ((const char *)x >= (const char *)a->addr && (const char *)x < (const char *)a->addr + a->size) {
            if (unlink)
                *pp = a->next;
            return a;
        }
    }
    return NULL;
}

void *vmalloc(unsigned long size)
{
    struct vm_area *a;
    void *p;

    if (!size)
        return NULL;
    a = ddekit_simple_malloc(sizeof(*a));
    if (!a)
        return NULL;
    p = ddekit_large_malloc(size);
    if (!p) {
        ddekit_simple_free(a);
        return NULL;
    }
    a->addr = p;
    a->size = size;
    ddekit_lock_lock(&vm_lock);
    a->next = vm_areas;
    vm_areas = a;
    ddekit_lock_unlock(&vm_lock);
    return p;
}

void *vzalloc(unsigned long size)
{
    void *p = vmalloc(size);

    if (p)
        memset(p, 0, size);
    return p;
}

void *vmalloc_array(size_t n, size_t size)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vmalloc(bytes);
}

void *vcalloc(size_t n, size_t size)
{
    size_t bytes;

    if (check_mul_overflow(n, size, &bytes))
        return NULL;
    return vzalloc(bytes);
}

bool is_vmalloc_addr(const void *x)
{
    bool found;

    ddekit_lock_lock(&vm_lock);
    found = vm_find(x, false) != NULL;
    ddekit_lock_unlock(&vm_lock);
    return found;
}

void vfree(const void *addr)
{
    struct vm_area *a;

    if (!addr)
        return;
    ddekit_lock_lock(&vm_lock);
    a = vm_find(addr, true);
    ddekit_lock_unlock(&vm_lock);
    if (WARN(!a || a->addr != addr, "vfree(%p): not a vmalloc area\n", addr))
        return;
    ddekit_large_free((void *)addr);
    ddekit_simple_free(a);
}

/* What Linux's kvmalloc() and kvzalloc() call. */
void *kvmalloc_node(size_t size, gfp_t flags, int node)
{
    /* Physically contiguous memory of any size is what DDEKit gives anyway. */
    return __kmalloc(size, flags);
}

void kvfree(const void *addr)
{
    if (is_vmalloc_addr(addr))
        vfree(addr);
    else
        kfree(addr);
}

/* ---- slab caches ------------------------------------------------------------------------ */

struct kmem_cache {
    struct ddekit_slab *slab;
    unsigned int size;
    void (*ctor)(void *);
    const char *name;
};

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size, unsigned int align, slab_flags_t flags,
                                     void (*ctor)(void *))
{
    struct kmem_cache *s = kzalloc(sizeof(*s), GFP_KERNEL);
    unsigned int a = align > 16 ? align : 16;

    (void)flags;
    if (!s)
        return NULL;
    s->size = ALIGN(size, a);
    s->slab = ddekit_slab_init(s->size, 1);
    s->ctor = ctor;
    s->name = name;
    if (!s->slab) {
        kfree(s);
        return NULL;
    }
    return s;
}

void kmem_cache_destroy(struct kmem_cache *s)
{
    if (!s)
        return;
    ddekit_slab_destroy(s->slab);
    kfree(s);
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t flags)
{
    void *p = ddekit_slab_alloc(s->slab);

    if (!p)
        return NULL;
    if (flags & __GFP_ZERO)
        memset(p, 0, s->size);
    else if (s->ctor)
        s->ctor(p);
    return p;
}

void *kmem_cache_alloc_lru(struct kmem_cache *s, struct list_lru *lru, gfp_t flags) { return kmem_cache_alloc(s, flags); }
void *kmem_cache_alloc_node(struct kmem_cache *s, gfp_t flags, int node) { return kmem_cache_alloc(s, flags); }

void kmem_cache_free(struct kmem_cache *s, void *objp)
{
    if (objp)
        ddekit_slab_free(s->slab, objp);
}
