/*
 * I/O resources and device memory: request_region()/request_mem_region()
 * keep a list of claimed ranges (a second claim of a busy range fails, as on
 * Linux) and get port ranges into the task's I/O bitmap with
 * ddekit_request_io. ioremap() maps device memory with ddekit_request_mem,
 * sharing one mapping among ioremaps of the same range, and iounmap() drops
 * it with the last user. Also memcpy_fromio/toio and virt_to_phys, the
 * managed region claims (devm_request_region and kin) that Linux's
 * lib/devres.c builds on, and x86's memory-type hooks, which have nothing to
 * do here.
 */
#include <linux/device.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/slab.h>

#include "internal.h"

struct resource ioport_resource = {.name = "PCI IO", .start = 0, .end = IO_SPACE_LIMIT, .flags = IORESOURCE_IO};
struct resource iomem_resource = {.name = "PCI mem", .start = 0, .end = ~(resource_size_t)0, .flags = IORESOURCE_MEM};

static ddekit_lock_t res_lock;

static bool overlaps(const struct resource *r, resource_size_t start, resource_size_t end)
{
    return r->start <= end && start <= r->end;
}

struct resource *__request_region(struct resource *parent, resource_size_t start, resource_size_t n,
                                  const char *name, int flags)
{
    resource_size_t end = start + n - 1;
    struct resource *res, *r;

    if (!n || end < start)
        return NULL;
    res = kzalloc(sizeof(*res), GFP_KERNEL);
    if (!res)
        return NULL;
    res->start = start;
    res->end = end;
    res->name = name;
    res->flags = (parent->flags & IORESOURCE_TYPE_BITS) | IORESOURCE_BUSY | (unsigned long)flags;
    res->parent = parent;

    ddekit_lock_lock(&res_lock);
    for (r = parent->child; r; r = r->sibling) {
        if (overlaps(r, start, end)) {
            ddekit_lock_unlock(&res_lock);
            kfree(res);
            return NULL;
        }
    }
    if ((parent->flags & IORESOURCE_IO) && ddekit_request_io(start, n) != 0) {
        ddekit_lock_unlock(&res_lock);
        kfree(res);
        return NULL;
    }
    res->sibling = parent->child;
    parent->child = res;
    ddekit_lock_unlock(&res_lock);
    return res;
}

void __release_region(struct resource *parent, resource_size_t start, resource_size_t n)
{
    resource_size_t end = start + n - 1;
    struct resource **pp, *res = NULL;

    ddekit_lock_lock(&res_lock);
    for (pp = &parent->child; *pp; pp = &(*pp)->sibling) {
        if ((*pp)->start == start && (*pp)->end == end) {
            res = *pp;
            *pp = res->sibling;
            break;
        }
    }
    if (res && (parent->flags & IORESOURCE_IO))
        ddekit_release_io(start, n);
    ddekit_lock_unlock(&res_lock);
    if (!res) {
        pr_warn("Trying to free nonexistent resource <%#018llx-%#018llx>\n", (unsigned long long)start,
                (unsigned long long)end);
        return;
    }
    kfree(res);
}

/* ---- device memory ------------------------------------------------------------------- */

struct mmio_map {
    resource_size_t phys;
    unsigned long size;
    char *virt;
    int users;
    struct mmio_map *next;
};

static struct mmio_map *maps;

void __iomem *ioremap(resource_size_t offset, unsigned long size)
{
    struct mmio_map *m;
    ddekit_addr_t vaddr;

    if (!size)
        return NULL;
    ddekit_lock_lock(&res_lock);
    for (m = maps; m; m = m->next) {
        if (offset >= m->phys && offset + size <= m->phys + m->size) {
            m->users++;
            ddekit_lock_unlock(&res_lock);
            return (void __iomem *)(m->virt + (offset - m->phys));
        }
    }
    m = kzalloc(sizeof(*m), GFP_KERNEL);
    if (!m || ddekit_request_mem(offset, size, &vaddr) != 0) {
        ddekit_lock_unlock(&res_lock);
        kfree(m);
        return NULL;
    }
    m->phys = offset;
    m->size = size;
    m->virt = (char *)vaddr;
    m->users = 1;
    m->next = maps;
    maps = m;
    ddekit_lock_unlock(&res_lock);
    return (void __iomem *)m->virt;
}

/* x86 write-combining is a caching mode of the mapping, which DDEKit does not
 * offer: an uncached mapping is correct, if slower. */
void __iomem *ioremap_wc(resource_size_t offset, unsigned long size) { return ioremap(offset, size); }

/* ioremap() already maps uncached. */
void __iomem *ioremap_uc(resource_size_t offset, unsigned long size) { return ioremap(offset, size); }

/* Write-combining through MTRRs: Linux on a machine with PAT adds no MTRR
 * either and returns 0, which callers take as "nothing to undo". */
int arch_phys_wc_add(unsigned long base, unsigned long size) { return 0; }
void arch_phys_wc_del(int handle) { }
int arch_phys_wc_index(int handle) { return -1; }
int arch_io_reserve_memtype_wc(resource_size_t start, resource_size_t size) { return 0; }
void arch_io_free_memtype_wc(resource_size_t start, resource_size_t size) { }

/* A managed claim: released with the device's other managed resources. */
struct region_devres {
    struct resource *parent;
    resource_size_t start;
    resource_size_t n;
};

static void devm_region_release(struct device *dev, void *res)
{
    struct region_devres *r = res;

    __release_region(r->parent, r->start, r->n);
}

static int devm_region_match(struct device *dev, void *res, void *match_data)
{
    struct region_devres *r = res, *want = match_data;

    return r->parent == want->parent && r->start == want->start && r->n == want->n;
}

struct resource *__devm_request_region(struct device *dev, struct resource *parent, resource_size_t start,
                                       resource_size_t n, const char *name)
{
    struct region_devres *r = devres_alloc(devm_region_release, sizeof(*r), GFP_KERNEL);
    struct resource *res;

    if (!r)
        return NULL;
    res = __request_region(parent, start, n, name, 0);
    if (!res) {
        devres_free(r);
        return NULL;
    }
    *r = (struct region_devres){.parent = parent, .start = start, .n = n};
    devres_add(dev, r);
    return res;
}

void __devm_release_region(struct device *dev, struct resource *parent, resource_size_t start, resource_size_t n)
{
    struct region_devres want = {.parent = parent, .start = start, .n = n};

    WARN_ON(devres_release(dev, devm_region_release, devm_region_match, &want));
}

void iounmap(volatile void __iomem *addr)
{
    struct mmio_map **pp, *m = NULL;
    const char *a = (const char *)addr;

    if (!addr)
        return;
    ddekit_lock_lock(&res_lock);
    for (pp = &maps; *pp; pp = &(*pp)->next) {
        if (a >= (*pp)->virt && a < (*pp)->virt + (*pp)->size) {
            m = *pp;
            if (--m->users == 0)
                *pp = m->next;
            else
                m = NULL;
            break;
        }
    }
    if (m)
        ddekit_release_mem(m->phys, m->size);
    ddekit_lock_unlock(&res_lock);
    kfree(m);
}

/* Device memory copies: aligned 32-bit accesses where possible, like the
 * x86 string moves Linux uses, so registers see no odd-sized reads. */
void memcpy_fromio(void *dst, const volatile void __iomem *src, size_t count)
{
    u8 *d = dst;
    const volatile u8 *s = (const volatile u8 *)src;

    while (count && ((unsigned long)s & 3)) {
        *d++ = *s++;
        count--;
    }
    while (count >= 4) {
        u32 v = *(const volatile u32 *)s;
        memcpy(d, &v, 4);
        d += 4, s += 4, count -= 4;
    }
    while (count--)
        *d++ = *s++;
}

void memcpy_toio(volatile void __iomem *dst, const void *src, size_t count)
{
    volatile u8 *d = (volatile u8 *)dst;
    const u8 *s = src;

    while (count && ((unsigned long)d & 3)) {
        *d++ = *s++;
        count--;
    }
    while (count >= 4) {
        u32 v;
        memcpy(&v, s, 4);
        *(volatile u32 *)d = v;
        d += 4, s += 4, count -= 4;
    }
    while (count--)
        *d++ = *s++;
}

void memset_io(volatile void __iomem *dst, int c, size_t count)
{
    volatile u8 *d = (volatile u8 *)dst;

    while (count--)
        *d++ = (u8)c;
}
