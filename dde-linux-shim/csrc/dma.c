/*
 * The DMA API: coherent memory from ddekit_contig_malloc (zeroed, aligned
 * to its size's page order, below the device's coherent mask), streaming
 * mappings as physical addresses from DDEKit's pgtab, checked against the
 * device's DMA mask. x86 DMA is cache coherent, so nothing is flushed; a
 * buffer DDEKit did not allocate (a static or stack buffer) has no known
 * physical address and fails to map, which drivers see via
 * dma_mapping_error().
 */
#include <linux/dma-mapping.h>
#include <linux/kernel.h>
#include <linux/mm.h>

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
    return map(dev, (char *)dde_page_address(page) + offset, size);
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
