/*
 * <linux/dma-mapping.h>: the DMA API on DDEKit memory (csrc/dma.c).
 * Coherent memory comes from ddekit_contig_malloc; streaming mappings of
 * driver buffers are their physical addresses (every DDEKit allocation is
 * physically contiguous and DMA is cache coherent on x86, so map/unmap/sync
 * need no copying or flushing). There is no IOMMU and no bounce buffering:
 * a buffer the device cannot reach under its mask fails to map.
 */
#ifndef _LINUX_DMA_MAPPING_H
#define _LINUX_DMA_MAPPING_H

#include <linux/device.h>
#include <linux/dma-direction.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/types.h>

#define DMA_BIT_MASK(n) (((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))
#define DMA_MAPPING_ERROR (~(dma_addr_t)0)

#define DMA_ATTR_WEAK_ORDERING (1UL << 1)
#define DMA_ATTR_WRITE_COMBINE (1UL << 2)
#define DMA_ATTR_NO_KERNEL_MAPPING (1UL << 4)
#define DMA_ATTR_SKIP_CPU_SYNC (1UL << 5)
#define DMA_ATTR_FORCE_CONTIGUOUS (1UL << 6)
#define DMA_ATTR_ALLOC_SINGLE_PAGES (1UL << 7)
#define DMA_ATTR_NO_WARN (1UL << 8)

void *dma_alloc_attrs(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t flag, unsigned long attrs);
void dma_free_attrs(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle, unsigned long attrs);
static inline void *dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp)
{
    return dma_alloc_attrs(dev, size, dma_handle, gfp, 0);
}
static inline void dma_free_coherent(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle)
{
    dma_free_attrs(dev, size, cpu_addr, dma_handle, 0);
}

dma_addr_t dma_map_single_attrs(struct device *dev, void *ptr, size_t size, enum dma_data_direction dir,
                                unsigned long attrs);
dma_addr_t dma_map_page_attrs(struct device *dev, struct page *page, size_t offset, size_t size,
                              enum dma_data_direction dir, unsigned long attrs);
static inline void dma_unmap_single_attrs(struct device *dev, dma_addr_t addr, size_t size,
                                          enum dma_data_direction dir, unsigned long attrs)
{
    (void)dev, (void)addr, (void)size, (void)dir, (void)attrs;
    dma_rmb();
}
static inline void dma_unmap_page_attrs(struct device *dev, dma_addr_t addr, size_t size,
                                        enum dma_data_direction dir, unsigned long attrs)
{
    dma_unmap_single_attrs(dev, addr, size, dir, attrs);
}
#define dma_map_single(d, a, s, r) dma_map_single_attrs(d, a, s, r, 0)
#define dma_unmap_single(d, a, s, r) dma_unmap_single_attrs(d, a, s, r, 0)
#define dma_map_page(d, p, o, s, r) dma_map_page_attrs(d, p, o, s, r, 0)
#define dma_unmap_page(d, a, s, r) dma_unmap_page_attrs(d, a, s, r, 0)

static inline int dma_mapping_error(struct device *dev, dma_addr_t dma_addr)
{
    (void)dev;
    return unlikely(dma_addr == DMA_MAPPING_ERROR) ? -ENOMEM : 0;
}

/* Cache coherent: syncing only orders the CPU's accesses against the device's. */
static inline void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size,
                                           enum dma_data_direction dir)
{
    (void)dev, (void)addr, (void)size, (void)dir;
    dma_rmb();
}
static inline void dma_sync_single_for_device(struct device *dev, dma_addr_t addr, size_t size,
                                              enum dma_data_direction dir)
{
    (void)dev, (void)addr, (void)size, (void)dir;
    dma_wmb();
}
static inline void dma_sync_single_range_for_cpu(struct device *dev, dma_addr_t addr, unsigned long offset,
                                                 size_t size, enum dma_data_direction dir)
{
    dma_sync_single_for_cpu(dev, addr + offset, size, dir);
}
static inline void dma_sync_single_range_for_device(struct device *dev, dma_addr_t addr, unsigned long offset,
                                                    size_t size, enum dma_data_direction dir)
{
    dma_sync_single_for_device(dev, addr + offset, size, dir);
}

int dma_set_mask(struct device *dev, u64 mask);
int dma_set_coherent_mask(struct device *dev, u64 mask);
static inline int dma_set_mask_and_coherent(struct device *dev, u64 mask)
{
    int rc = dma_set_mask(dev, mask);
    if (rc == 0)
        dma_set_coherent_mask(dev, mask);
    return rc;
}
static inline u64 dma_get_mask(struct device *dev)
{
    if (dev->dma_mask && *dev->dma_mask)
        return *dev->dma_mask;
    return DMA_BIT_MASK(32);
}
int dma_supported(struct device *dev, u64 mask);
static inline bool dma_capable(struct device *dev, dma_addr_t addr, size_t size)
{
    return addr + size - 1 <= dma_get_mask(dev);
}

#endif
