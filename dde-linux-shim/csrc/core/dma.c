/*
 * The DMA API: coherent memory from ddekit_contig_malloc (zeroed, aligned
 * to its size's page order, below the device's coherent mask), streaming
 * mappings as physical addresses from DDEKit's pgtab, checked against the
 * device's DMA mask. x86 DMA is cache coherent, so nothing is flushed; a
 * buffer DDEKit did not allocate (a static or stack buffer) has no known
 * physical address and fails to map, which drivers see via
 * dma_mapping_error(); a scatterlist maps entry by entry. Managed coherent memory (dmam_*) is a devres entry
 * that frees the block when the device's managed resources go.
 */
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>

#include "internal.h"

static u64 coherent_mask(const struct device *dev)
{
    if (dev && dev->coherent_dma_mask)
        return dev->coherent_dma_mask;
    return DMA_BIT_MASK(32);
}

void *dma_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t flag, unsigned long attrs)
{
    size_t align = PAGE_SIZE << get_order(size);
    void *p;

    (void)flag, (void)attrs;
    if (!size)
        return NULL;
    p = ddekit_contig_malloc(size, 0, coherent_mask(dev), align, 0);
    if (!p)
        return NULL;
    memset(p, 0, size);
    *dma_handle = ddekit_pgtab_get_physaddr(p);
    if (!*dma_handle) {
        ddekit_contig_free(p, size);
        return NULL;
    }
    return p;
}

void dma_free_attrs(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle, unsigned long attrs)
{
    (void)dev, (void)dma_handle, (void)attrs;
    if (cpu_addr)
        ddekit_contig_free(cpu_addr, size);
}

/* A managed coherent block (Linux keeps the same record in kernel/dma/mapping.c). */
struct dmam_block {
    size_t size;
    void *vaddr;
    dma_addr_t dma_handle;
    unsigned long attrs;
};

static void dmam_release(struct device *dev, void *res)
{
    struct dmam_block *b = res;

    dma_free_attrs(dev, b->size, b->vaddr, b->dma_handle, b->attrs);
}

static int dmam_match(struct device *dev, void *res, void *match_data)
{
    struct dmam_block *b = res, *want = match_data;

    return b->vaddr == want->vaddr && b->dma_handle == want->dma_handle && !WARN_ON(b->size != want->size);
}

void *dmam_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp, unsigned long attrs)
{
    struct dmam_block *b = devres_alloc(dmam_release, sizeof(*b), gfp);
    void *vaddr;

    if (!b)
        return NULL;
    vaddr = dma_alloc_attrs(dev, size, dma_handle, gfp, attrs);
    if (!vaddr) {
        devres_free(b);
        return NULL;
    }
    *b = (struct dmam_block){.size = size, .vaddr = vaddr, .dma_handle = *dma_handle, .attrs = attrs};
    devres_add(dev, b);
    return vaddr;
}

void dmam_free_coherent(struct device *dev, size_t size, void *vaddr, dma_addr_t dma_handle)
{
    struct dmam_block want = {.size = size, .vaddr = vaddr, .dma_handle = dma_handle};

    /* As Linux: a block that is not this device's managed one is a driver bug. */
    WARN_ON(devres_destroy(dev, dmam_release, dmam_match, &want));
    dma_free_attrs(dev, size, vaddr, dma_handle, 0);
}

static dma_addr_t map(struct device *dev, const void *ptr, size_t size)
{
    dma_addr_t addr = ddekit_pgtab_get_physaddr(ptr);

    if (!addr || (dev && dev->dma_mask && addr + size - 1 > *dev->dma_mask))
        return DMA_MAPPING_ERROR;
    /* The device must see the CPU's writes to the buffer. */
    dma_wmb();
    return addr;
}

dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page, size_t offset, size_t size,
                              enum dma_data_direction dir, unsigned long attrs)
{
    (void)dir, (void)attrs;
    return map(dev, (char *)page_address(page) + offset, size);
}

/* No bounce buffers stand between a mapping and its memory: any size maps,
 * and x86 DMA is cache coherent, so no mapping needs syncing (as Linux's
 * direct mapping answers without swiotlb). */
size_t dma_max_mapping_size(struct device *dev)
{
    (void)dev;
    return SIZE_MAX;
}

bool dma_need_sync(struct device *dev, dma_addr_t dma_addr)
{
    (void)dev, (void)dma_addr;
    return false;
}

/* x86 DMA is cache coherent: unmapping and syncing need nothing. */
void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                          unsigned long attrs)
{
}

void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir)
{
    /* The CPU must see the device's writes before it reads the buffer. */
    dma_rmb();
}

void dma_sync_single_for_device(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir)
{
    dma_wmb();
}

/* Scatterlists: each entry is mapped on its own (no IOMMU merges them), so
 * the count mapped is the count given, and one that fails unmaps the ones
 * before it and maps none, as Linux's dma-direct does. */
unsigned int dma_map_sg_attrs(struct device *dev, struct scatterlist *sgl, int nents, enum dma_data_direction dir,
                              unsigned long attrs)
{
    struct scatterlist *sg;
    int i;

    (void)dir, (void)attrs;
    for_each_sg(sgl, sg, nents, i) {
        sg->dma_address = map(dev, (char *)page_address(sg_page(sg)) + sg->offset, sg->length);
        if (sg->dma_address == DMA_MAPPING_ERROR)
            return 0;
        sg_dma_len(sg) = sg->length;
    }
    return (unsigned int)nents;
}

void dma_unmap_sg_attrs(struct device *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
                        unsigned long attrs)
{
}

/* As Linux: the table's nents becomes the mapped count; an entry that cannot
 * be mapped is -EIO (this mapping never runs out of space). */
int dma_map_sgtable(struct device *dev, struct sg_table *sgt, enum dma_data_direction dir, unsigned long attrs)
{
    unsigned int n = dma_map_sg_attrs(dev, sgt->sgl, (int)sgt->orig_nents, dir, attrs);

    if (!n)
        return -EIO;
    sgt->nents = n;
    return 0;
}

void dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nelems, enum dma_data_direction dir)
{
    dma_rmb();
}

void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nelems, enum dma_data_direction dir)
{
    dma_wmb();
}

/* Streaming memory comes from anywhere in the task's RAM, so a mask must
 * cover 32-bit addresses; coherent allocations honour any mask. */
int dma_supported(struct device *dev, u64 mask)
{
    (void)dev;
    return mask >= DMA_BIT_MASK(32);
}

int dma_set_mask(struct device *dev, u64 mask)
{
    if (!dev->dma_mask || !dma_supported(dev, mask))
        return -EIO;
    *dev->dma_mask = mask;
    return 0;
}

int dma_set_coherent_mask(struct device *dev, u64 mask)
{
    if (!dma_supported(dev, mask))
        return -EIO;
    dev->coherent_dma_mask = mask;
    return 0;
}
