/*
 * PCI: the driver task has exactly one device, the one the io server gives
 * it (ddekit_pci_get_device/get_info). pci_register_driver() matches the
 * driver's id_table against it and probes; pci_unregister_driver() (and
 * dde_linux_exit) removes. Configuration space goes through the io server,
 * which may refuse some writes (BARs): the helpers below that only optimise
 * or restore state treat a refusal like hardware without the feature.
 * Managed resources (devres, Linux's drivers/base/devres.c) are released as
 * Linux's driver core releases them: when the probe fails and after remove.
 * A device a driver enables with pcim_enable_device() is managed, as in
 * Linux: the BARs it claims, its INTx and MWI settings and the enable itself
 * are undone with the rest of its managed resources (pcim_iomap* come from
 * Linux's lib/devres.c). MSI is csrc/core/msi.c's; a failed probe or a
 * remove leaves the device on its INTx line.
 */
#include <linux/pci.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/slab.h>

#include "internal.h"
#include <resurgo/host.h>

struct bus_type pci_bus_type = {.name = "pci"};
static struct pci_bus the_bus;
static struct pci_dev *the_dev;
static struct dde_once dev_once;

static LIST_HEAD(drivers);

/* drivers/base/devres.c; Linux declares it in the driver core's own
 * drivers/base/base.h. */
int devres_release_all(struct device *dev);

/* The pci_dev the shim allocates for the task's device, and the BARs claimed
 * through pci_request_region(). Linux's pci_dev keeps its layout; the
 * location is Linux's: dev->bus->number and dev->devfn. */
struct dde_pci_dev {
    struct pci_dev dev;
    unsigned int regions;
};

static struct dde_pci_dev *dde_pci(struct pci_dev *dev) { return container_of(dev, struct dde_pci_dev, dev); }

/* What a managed device's release undoes (Linux keeps the same record, its
 * struct pci_devres, in drivers/pci/pci.h). */
struct pcim_state {
    unsigned int enabled : 1;
    unsigned int pinned : 1;
    unsigned int orig_intx : 1;
    unsigned int restore_intx : 1;
    unsigned int mwi : 1;
    u32 region_mask;
};

static struct pcim_state *pcim_find(struct pci_dev *dev);

/* ---- configuration space ---------------------------------------------------------- */

static int cfg_read(const struct pci_dev *dev, int where, int len, u32 *val)
{
    if (ddekit_pci_read(dev->bus->number, PCI_SLOT(dev->devfn), PCI_FUNC(dev->devfn), where, len, val) != 0) {
        *val = ~0u;
        return PCIBIOS_DEVICE_NOT_FOUND;
    }
    return PCIBIOS_SUCCESSFUL;
}

static int cfg_write(const struct pci_dev *dev, int where, int len, u32 val)
{
    if (ddekit_pci_write(dev->bus->number, PCI_SLOT(dev->devfn), PCI_FUNC(dev->devfn), where, len, val) != 0)
        return PCIBIOS_SET_FAILED;
    return PCIBIOS_SUCCESSFUL;
}

int pci_read_config_byte(const struct pci_dev *dev, int where, u8 *val)
{
    u32 v;
    int rc = cfg_read(dev, where, 1, &v);
    *val = (u8)v;
    return rc;
}

int pci_read_config_word(const struct pci_dev *dev, int where, u16 *val)
{
    u32 v;
    int rc = cfg_read(dev, where, 2, &v);
    *val = (u16)v;
    return rc;
}

int pci_read_config_dword(const struct pci_dev *dev, int where, u32 *val) { return cfg_read(dev, where, 4, val); }
int pci_write_config_byte(const struct pci_dev *dev, int where, u8 val) { return cfg_write(dev, where, 1, val); }
int pci_write_config_word(const struct pci_dev *dev, int where, u16 val) { return cfg_write(dev, where, 2, val); }
int pci_write_config_dword(const struct pci_dev *dev, int where, u32 val) { return cfg_write(dev, where, 4, val); }

/* Walks the capability list from the pointer at `where` (Linux's
 * __pci_find_next_cap_ttl): the offset of the first capability `cap`, or 0. */
static u8 find_cap_from(struct pci_dev *dev, int where, int cap)
{
    u8 pos, id;
    int ttl = 48;

    if (pci_read_config_byte(dev, where, &pos))
        return 0;
    while (ttl--) {
        pos &= ~3;
        if (pos < 0x40)
            break;
        if (pci_read_config_byte(dev, pos + PCI_CAP_LIST_ID, &id) || id == 0xff)
            break;
        if (id == cap)
            return pos;
        if (pci_read_config_byte(dev, pos + PCI_CAP_LIST_NEXT, &pos))
            break;
    }
    return 0;
}

u8 pci_find_capability(struct pci_dev *dev, int cap)
{
    u16 status;

    if (pci_read_config_word(dev, PCI_STATUS, &status) || !(status & PCI_STATUS_CAP_LIST))
        return 0;
    return find_cap_from(dev, PCI_CAPABILITY_LIST, cap);
}

/* The next capability `cap` after the one at `pos` (virtio's vendor
 * capabilities, several of one id). */
u8 pci_find_next_capability(struct pci_dev *dev, u8 pos, int cap) { return find_cap_from(dev, pos + PCI_CAP_LIST_NEXT, cap); }

/* Extended capabilities live above the first 256 bytes of configuration
 * space, which the io server cannot reach (configuration mechanism 1
 * addresses 256 bytes): the shim's devices have cfg_size
 * PCI_CFG_SPACE_SIZE, and Linux finds none on such a device. */
u16 pci_find_ext_capability(struct pci_dev *dev, int cap)
{
    (void)dev, (void)cap;
    return 0;
}

/* Whether the device still answers: its vendor id reads as a real one. */
bool pci_device_is_present(struct pci_dev *pdev)
{
    u32 id;

    if (pci_read_config_dword(pdev, PCI_VENDOR_ID, &id))
        return false;
    return (id & 0xffff) != 0xffff && (id & 0xffff) != 0;
}

int pcie_capability_read_word(struct pci_dev *dev, int pos, u16 *val)
{
    u8 cap = pci_find_capability(dev, PCI_CAP_ID_EXP);

    *val = 0;
    if (!cap)
        return -EINVAL;
    return pci_read_config_word(dev, cap + pos, val);
}

int pcie_capability_write_word(struct pci_dev *dev, int pos, u16 val)
{
    u8 cap = pci_find_capability(dev, PCI_CAP_ID_EXP);

    if (!cap)
        return -EINVAL;
    return pci_write_config_word(dev, cap + pos, val);
}

/* What Linux's pcie_capability_clear_and_set_word() calls; one device and
 * the callers' own locks: the locked variant needs nothing more. */
int pcie_capability_clear_and_set_word_unlocked(struct pci_dev *dev, int pos, u16 clear, u16 set)
{
    u16 val;
    int rc = pcie_capability_read_word(dev, pos, &val);

    if (rc)
        return rc;
    return pcie_capability_write_word(dev, pos, (u16)((val & ~clear) | set));
}

int pcie_capability_clear_and_set_word_locked(struct pci_dev *dev, int pos, u16 clear, u16 set)
{
    return pcie_capability_clear_and_set_word_unlocked(dev, pos, clear, set);
}

/* Sets or clears bits of the command register. */
static int update_command(struct pci_dev *dev, u16 set, u16 clear)
{
    u16 cmd, new;
    int rc = pci_read_config_word(dev, PCI_COMMAND, &cmd);

    if (rc)
        return rc;
    new = (u16)((cmd | set) & ~clear);
    if (new == cmd)
        return 0;
    return pci_write_config_word(dev, PCI_COMMAND, new);
}

/* ---- the device ---------------------------------------------------------------------- */

static struct pci_dev *the_device(void)
{
    struct ddekit_pci_info info;
    struct dde_pci_dev *d;
    struct pci_dev *dev;
    int bus, slot, func;

    if (!dde_once_begin(&dev_once))
        return the_dev;
    if (ddekit_pci_get_device(0, &bus, &slot, &func) != 0 || ddekit_pci_get_info(&info) != 0)
        goto out;
    d = kzalloc(sizeof(*d), GFP_KERNEL);
    if (!d)
        goto out;
    dev = &d->dev;
    the_bus.number = (unsigned char)bus;
    INIT_LIST_HEAD(&dev->bus_list);
    dev->bus = &the_bus;
    dev->devfn = PCI_DEVFN(slot, func);
    dev->vendor = info.vendor;
    dev->device = info.device;
    dev->subsystem_vendor = info.subsystem_vendor;
    dev->subsystem_device = info.subsystem_device;
    dev->revision = info.revision;
    dev->class = info.class_code;
    dev->irq = info.irq_line;
    dev->cfg_size = PCI_CFG_SPACE_SIZE;
    dev->error_state = pci_channel_io_normal;
    dev->current_state = PCI_D0;
    dev->dma_mask = DMA_BIT_MASK(32);
    dev->dev.dma_mask = &dev->dma_mask;
    dev->dev.coherent_dma_mask = DMA_BIT_MASK(32);
    /* Its DMA pools (mm/dmapool.c), managed resources
     * (drivers/base/devres.c) and reference count (csrc/core/device.c):
     * the task's own reference is never put. */
    device_initialize(&dev->dev);
    dev->dev.bus = &pci_bus_type;
    dev_set_name(&dev->dev, "0000:%02x:%02x.%d", bus, slot, func);
    pci_read_config_byte(dev, PCI_HEADER_TYPE, &dev->hdr_type);
    pci_read_config_byte(dev, PCI_INTERRUPT_PIN, &dev->pin);
    for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
        const struct ddekit_pci_bar *b = &info.bars[i];
        struct resource *r = &dev->resource[i];
        u32 raw;

        r->name = dev_name(&dev->dev);
        if (!b->present || !b->size)
            continue;
        r->start = b->base;
        r->end = b->base + b->size - 1;
        r->flags = b->is_io ? IORESOURCE_IO : IORESOURCE_MEM;
        if (!b->is_io && pci_read_config_dword(dev, PCI_BASE_ADDRESS_0 + 4 * i, &raw) == 0 && raw != ~0u) {
            if (raw & PCI_BASE_ADDRESS_MEM_PREFETCH)
                r->flags |= IORESOURCE_PREFETCH;
            if ((raw & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
                r->flags |= IORESOURCE_MEM_64;
        }
    }
    dev->pm_cap = pci_find_capability(dev, PCI_CAP_ID_PM);
    /* What csrc/core/msi.c reads, as Linux's PCI core finds them. */
    dev->msi_cap = pci_find_capability(dev, PCI_CAP_ID_MSI);
    dev->msix_cap = pci_find_capability(dev, PCI_CAP_ID_MSIX);
    raw_spin_lock_init(&dev->msi_lock);
    the_dev = dev;
out:
    dde_once_done(&dev_once);
    return the_dev;
}

/* The task's one pci_dev lives as long as the task (the shim allocates it
 * once and never frees it), so references to it need no count. */
struct pci_dev *pci_dev_get(struct pci_dev *dev) { return dev; }
void pci_dev_put(struct pci_dev *dev) { }

const struct pci_device_id *pci_match_id(const struct pci_device_id *ids, struct pci_dev *dev)
{
    if (!ids)
        return NULL;
    for (; ids->vendor || ids->subvendor || ids->class_mask; ids++) {
        if ((ids->vendor == (u32)PCI_ANY_ID || ids->vendor == dev->vendor) &&
            (ids->device == (u32)PCI_ANY_ID || ids->device == dev->device) &&
            (ids->subvendor == (u32)PCI_ANY_ID || ids->subvendor == dev->subsystem_vendor) &&
            (ids->subdevice == (u32)PCI_ANY_ID || ids->subdevice == dev->subsystem_device) &&
            !((ids->class ^ dev->class) & ids->class_mask))
            return ids;
    }
    return NULL;
}

int __pci_register_driver(struct pci_driver *drv, struct module *owner, const char *mod_name)
{
    struct pci_dev *dev;
    const struct pci_device_id *id;
    int rc;

    (void)owner, (void)mod_name;
    dde_runtime_init();
    drv->driver.name = drv->name;
    list_add_tail(&drv->node, &drivers);
    dev = the_device();
    if (!dev || dev->driver)
        return 0;
    id = pci_match_id(drv->id_table, dev);

    if (!id)
        return 0;
    dev->driver = drv;
    dev->dev.driver = &drv->driver;
    rc = drv->probe(resurgo_probe_inject(dev), id);
    if (rc) {
        int released = devres_release_all(&dev->dev);

        /* A device the probe switched to MSI without managing it goes back
         * to its INTx line (csrc/core/msi.c; a managed one already has). */
        pci_free_irq_vectors(dev);

        if (released > 0)
            pr_info("%s: %d managed resource(s) of the failed probe released\n", drv->name, released);
        dev->driver = NULL;
        dev->dev.driver = NULL;
        dev_set_drvdata(&dev->dev, NULL);
        if (rc != -ENODEV && rc != -ENXIO)
            pr_warn("%s: probe of %s failed with error %d\n", drv->name, pci_name(dev), rc);
        else
            pr_info("%s: probe of %s rejected the device (%d)\n", drv->name, pci_name(dev), rc);
    }
    return 0;
}

void pci_unregister_driver(struct pci_driver *drv)
{
    struct pci_dev *dev = the_dev;

    if (dev && dev->driver == drv) {
        if (drv->remove)
            drv->remove(dev);
        devres_release_all(&dev->dev);
        pci_free_irq_vectors(dev);
        dev->driver = NULL;
        dev->dev.driver = NULL;
        dev_set_drvdata(&dev->dev, NULL);
    }
    list_del_init(&drv->node);
}

struct pci_dev *pci_get_device(unsigned int vendor, unsigned int device, struct pci_dev *from)
{
    struct pci_dev *dev = the_device();

    if (from || !dev)
        return NULL;
    if ((vendor != (unsigned int)PCI_ANY_ID && vendor != dev->vendor) ||
        (device != (unsigned int)PCI_ANY_ID && device != dev->device))
        return NULL;
    return dev;
}

struct pci_dev *pci_get_domain_bus_and_slot(int domain, unsigned int bus, unsigned int devfn)
{
    struct pci_dev *dev = the_device();

    if (!dev || domain != 0 || bus != dev->bus->number || devfn != dev->devfn)
        return NULL;
    return dev;
}

/* ---- enabling -------------------------------------------------------------------------- */

static int enable(struct pci_dev *dev, unsigned long types)
{
    u16 bits = 0;

    for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
        if (!(dev->resource[i].flags & types))
            continue;
        if (dev->resource[i].flags & IORESOURCE_IO)
            bits |= PCI_COMMAND_IO;
        else
            bits |= PCI_COMMAND_MEMORY;
    }
    if (atomic_inc_return(&dev->enable_cnt) > 1)
        return 0;
    /* The io server may already have enabled decoding and refuse the write.
     * As in Linux, enabling a device with an interrupt pin and MSI off also
     * enables its INTx interrupt, whatever a driver left. */
    update_command(dev, bits, dev->pin && !dev->msi_enabled ? PCI_COMMAND_INTX_DISABLE : 0);
    if (dev->current_state != PCI_D0)
        pci_set_power_state(dev, PCI_D0);
    return 0;
}

int pci_enable_device(struct pci_dev *dev) { return enable(dev, IORESOURCE_IO | IORESOURCE_MEM); }
int pci_enable_device_io(struct pci_dev *dev) { return enable(dev, IORESOURCE_IO); }
int pci_enable_device_mem(struct pci_dev *dev) { return enable(dev, IORESOURCE_MEM); }

void pci_disable_device(struct pci_dev *dev)
{
    if (atomic_dec_return(&dev->enable_cnt) != 0)
        return;
    /* Stop bus mastering: the device must not DMA into memory that is freed. */
    update_command(dev, 0, PCI_COMMAND_MASTER);
    dev->is_busmaster = 0;
}

void pci_set_master(struct pci_dev *dev)
{
    if (ddekit_pci_enable_busmaster() == 0)
        dev->is_busmaster = 1;
    else
        dev_warn(&dev->dev, "cannot enable bus mastering\n");
}

void pci_clear_master(struct pci_dev *dev)
{
    update_command(dev, 0, PCI_COMMAND_MASTER);
    dev->is_busmaster = 0;
}

/* Memory-write-invalidate is an optimisation. If the io server does not let
 * the driver set it, the device simply goes without, as on platforms where
 * Linux defines PCI_DISABLE_MWI and pci_set_mwi() succeeds doing nothing. */
int pci_set_mwi(struct pci_dev *dev)
{
    u8 cls;

    if (pci_read_config_byte(dev, PCI_CACHE_LINE_SIZE, &cls) == 0 && cls != L1_CACHE_BYTES / 4)
        pci_write_config_byte(dev, PCI_CACHE_LINE_SIZE, L1_CACHE_BYTES / 4);
    update_command(dev, PCI_COMMAND_INVALIDATE, 0);
    return 0;
}

int pci_try_set_mwi(struct pci_dev *dev) { return pci_set_mwi(dev); }
void pci_clear_mwi(struct pci_dev *dev) { update_command(dev, 0, PCI_COMMAND_INVALIDATE); }

/* A managed device gets its INTx setting back on release: the one before
 * the first change (a call that changes nothing records nothing, as in
 * Linux). */
void pci_intx(struct pci_dev *dev, int enable_intx)
{
    struct pcim_state *m;
    u16 cmd;

    if (pci_read_config_word(dev, PCI_COMMAND, &cmd))
        return;
    if (!(cmd & PCI_COMMAND_INTX_DISABLE) == !!enable_intx)
        return;
    if (enable_intx)
        update_command(dev, 0, PCI_COMMAND_INTX_DISABLE);
    else
        update_command(dev, PCI_COMMAND_INTX_DISABLE, 0);
    m = pcim_find(dev);
    if (m && !m->restore_intx) {
        m->restore_intx = 1;
        m->orig_intx = !enable_intx;
    }
}

/* ---- regions ---------------------------------------------------------------------------- */

int pci_select_bars(struct pci_dev *dev, unsigned long flags)
{
    int bars = 0;

    for (int i = 0; i < PCI_STD_NUM_BARS; i++)
        if (pci_resource_flags(dev, i) & flags)
            bars |= 1 << i;
    return bars;
}

int pci_request_region(struct pci_dev *pdev, int bar, const char *name)
{
    resource_size_t start = pci_resource_start(pdev, bar), len = pci_resource_len(pdev, bar);
    struct pcim_state *m;
    struct resource *r;

    if (!len)
        return 0;
    if (pci_resource_flags(pdev, bar) & IORESOURCE_IO)
        r = request_region(start, len, name);
    else if (pci_resource_flags(pdev, bar) & IORESOURCE_MEM)
        r = request_mem_region(start, len, name);
    else
        return 0;
    if (!r) {
        dev_warn(&pdev->dev, "BAR %d: can't reserve %pR\n", bar, &pdev->resource[bar]);
        return -EBUSY;
    }
    dde_pci(pdev)->regions |= 1u << bar;
    if ((m = pcim_find(pdev)))
        m->region_mask |= 1u << bar;
    return 0;
}

void pci_release_region(struct pci_dev *pdev, int bar)
{
    resource_size_t start = pci_resource_start(pdev, bar), len = pci_resource_len(pdev, bar);
    struct pcim_state *m;

    if (!len || !(dde_pci(pdev)->regions & (1u << bar)))
        return;
    if (pci_resource_flags(pdev, bar) & IORESOURCE_IO)
        release_region(start, len);
    else
        release_mem_region(start, len);
    dde_pci(pdev)->regions &= ~(1u << bar);
    if ((m = pcim_find(pdev)))
        m->region_mask &= ~(1u << bar);
}

int pci_request_selected_regions(struct pci_dev *pdev, int bars, const char *name)
{
    for (int i = 0; i < PCI_STD_NUM_BARS; i++) {
        if (!(bars & (1 << i)))
            continue;
        if (pci_request_region(pdev, i, name)) {
            while (--i >= 0)
                if (bars & (1 << i))
                    pci_release_region(pdev, i);
            return -EBUSY;
        }
    }
    return 0;
}

int pci_request_selected_regions_exclusive(struct pci_dev *pdev, int bars, const char *name)
{
    return pci_request_selected_regions(pdev, bars, name);
}

void pci_release_selected_regions(struct pci_dev *pdev, int bars)
{
    for (int i = 0; i < PCI_STD_NUM_BARS; i++)
        if (bars & (1 << i))
            pci_release_region(pdev, i);
}

int pci_request_regions(struct pci_dev *pdev, const char *name)
{
    return pci_request_selected_regions(pdev, (1 << PCI_STD_NUM_BARS) - 1, name);
}

int pci_request_regions_exclusive(struct pci_dev *pdev, const char *name) { return pci_request_regions(pdev, name); }

void pci_release_regions(struct pci_dev *pdev) { pci_release_selected_regions(pdev, (1 << PCI_STD_NUM_BARS) - 1); }

void __iomem *pci_ioremap_bar(struct pci_dev *pdev, int bar)
{
    if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM)) {
        WARN_ON(1);
        return NULL;
    }
    return ioremap(pci_resource_start(pdev, bar), (unsigned long)pci_resource_len(pdev, bar));
}

/* ---- managed devices (pcim_*) ------------------------------------------------------------ */

static void pcim_release(struct device *gendev, void *res)
{
    struct pci_dev *dev = to_pci_dev(gendev);
    struct pcim_state *m = res;

    for (int i = 0; i < PCI_STD_NUM_BARS; i++)
        if (m->region_mask & (1u << i))
            pci_release_region(dev, i);
    if (m->mwi)
        pci_clear_mwi(dev);
    if (m->restore_intx)
        pci_intx(dev, m->orig_intx);
    if (m->enabled && !m->pinned)
        pci_disable_device(dev);
    dev->is_managed = 0;
}

/* The device's managed record, if pcim_enable_device() made it managed. */
static struct pcim_state *pcim_find(struct pci_dev *dev)
{
    if (!pci_is_managed(dev))
        return NULL;
    return devres_find(&dev->dev, pcim_release, NULL, NULL);
}

int pcim_enable_device(struct pci_dev *pdev)
{
    struct pcim_state *m = devres_find(&pdev->dev, pcim_release, NULL, NULL);
    int rc;

    if (!m) {
        m = devres_alloc(pcim_release, sizeof(*m), GFP_KERNEL);
        if (!m)
            return -ENOMEM;
        devres_add(&pdev->dev, m);
    }
    if (m->enabled)
        return 0;
    rc = pci_enable_device(pdev);
    if (rc)
        return rc;
    pdev->is_managed = 1;
    m->enabled = 1;
    return 0;
}

/* The device stays enabled when its managed resources go. */
void pcim_pin_device(struct pci_dev *pdev)
{
    struct pcim_state *m = pcim_find(pdev);

    WARN_ON(!m || !m->enabled);
    if (m)
        m->pinned = 1;
}

int pcim_set_mwi(struct pci_dev *dev)
{
    struct pcim_state *m = pcim_find(dev);

    if (!m)
        return -ENOMEM;
    m->mwi = 1;
    return pci_set_mwi(dev);
}

/* ---- PCI-X ------------------------------------------------------------------------------ */

int pcix_get_max_mmrbc(struct pci_dev *dev)
{
    u8 cap = pci_find_capability(dev, PCI_CAP_ID_PCIX);
    u32 stat;

    if (!cap || pci_read_config_dword(dev, cap + PCI_X_STATUS, &stat))
        return -EINVAL;
    return 512 << ((stat & PCI_X_STATUS_MAX_READ) >> 21);
}

int pcix_get_mmrbc(struct pci_dev *dev)
{
    u8 cap = pci_find_capability(dev, PCI_CAP_ID_PCIX);
    u16 cmd;

    if (!cap || pci_read_config_word(dev, cap + PCI_X_CMD, &cmd))
        return -EINVAL;
    return 512 << ((cmd & PCI_X_CMD_MAX_READ) >> 2);
}

int pcix_set_mmrbc(struct pci_dev *dev, int mmrbc)
{
    u8 cap;
    u32 stat;
    u16 cmd;
    int v;

    if (mmrbc < 512 || mmrbc > 4096 || !is_power_of_2((unsigned long)mmrbc))
        return -EINVAL;
    v = ffs(mmrbc) - 10;
    cap = pci_find_capability(dev, PCI_CAP_ID_PCIX);
    if (!cap)
        return -EINVAL;
    if (pci_read_config_dword(dev, cap + PCI_X_STATUS, &stat))
        return -EINVAL;
    if ((u32)v > (stat & PCI_X_STATUS_MAX_READ) >> 21)
        return -E2BIG;
    if (pci_read_config_word(dev, cap + PCI_X_CMD, &cmd))
        return -EINVAL;
    if ((int)((cmd & PCI_X_CMD_MAX_READ) >> 2) != v) {
        cmd &= ~PCI_X_CMD_MAX_READ;
        cmd |= (u16)(v << 2);
        if (pci_write_config_word(dev, cap + PCI_X_CMD, cmd))
            return -EIO;
    }
    return 0;
}

/* ---- state and power -------------------------------------------------------------------- */

int pci_save_state(struct pci_dev *dev)
{
    for (int i = 0; i < 16; i++)
        pci_read_config_dword(dev, i * 4, &dev->saved_config_space[i]);
    dev->state_saved = 1;
    return 0;
}

void pci_restore_state(struct pci_dev *dev)
{
    if (!dev->state_saved)
        return;
    /* Highest first, so the command register comes last; the io server
     * keeps the BARs, and a refused write leaves that register as it is. */
    for (int i = 15; i >= 0; i--) {
        u32 val;

        if (pci_read_config_dword(dev, i * 4, &val) == 0 && val != dev->saved_config_space[i])
            pci_write_config_dword(dev, i * 4, dev->saved_config_space[i]);
    }
    dev->state_saved = 0;
}

int pci_set_power_state(struct pci_dev *dev, pci_power_t state)
{
    u16 pmcsr;

    if (state == PCI_D3cold)
        state = PCI_D3hot;
    if (state < PCI_D0 || state > PCI_D3hot)
        return -EINVAL;
    if (dev->current_state == state)
        return 0;
    if (!dev->pm_cap) {
        /* No power management: the device is always in D0. */
        return state == PCI_D0 ? 0 : -EIO;
    }
    if (pci_read_config_word(dev, dev->pm_cap + PCI_PM_CTRL, &pmcsr))
        return -EIO;
    pmcsr = (u16)((pmcsr & ~PCI_PM_CTRL_STATE_MASK) | (u16)state);
    if (pci_write_config_word(dev, dev->pm_cap + PCI_PM_CTRL, pmcsr))
        return -EIO;
    /* Transition times from the PCI PM spec: 10 ms into or out of D3hot. */
    if (state == PCI_D3hot || dev->current_state == PCI_D3hot)
        msleep(10);
    dev->current_state = state;
    return 0;
}

bool pci_pme_capable(struct pci_dev *dev, pci_power_t state)
{
    u16 pmc;

    if (!dev->pm_cap || pci_read_config_word(dev, dev->pm_cap + PCI_PM_PMC, &pmc))
        return false;
    return (pmc >> (11 + state)) & 1;
}

void pci_pme_active(struct pci_dev *dev, bool enable_pme)
{
    u16 pmcsr;

    if (!dev->pm_cap || pci_read_config_word(dev, dev->pm_cap + PCI_PM_CTRL, &pmcsr))
        return;
    pmcsr |= PCI_PM_CTRL_PME_STATUS; /* write 1 to clear */
    if (enable_pme)
        pmcsr |= PCI_PM_CTRL_PME_ENABLE;
    else
        pmcsr &= ~PCI_PM_CTRL_PME_ENABLE;
    pci_write_config_word(dev, dev->pm_cap + PCI_PM_CTRL, pmcsr);
}

int pci_enable_wake(struct pci_dev *dev, pci_power_t state, bool enable_wake)
{
    if (enable_wake) {
        if (!pci_pme_capable(dev, state))
            return -EINVAL;
        pci_pme_active(dev, true);
    } else {
        pci_pme_active(dev, false);
    }
    return 0;
}

int pci_wake_from_d3(struct pci_dev *dev, bool enable_wake)
{
    return pci_pme_capable(dev, PCI_D3cold) ? pci_enable_wake(dev, PCI_D3cold, enable_wake)
                                            : pci_enable_wake(dev, PCI_D3hot, enable_wake);
}

/* Linux's choice of a low-power state for a system sleep (drivers/pci/pci.c,
 * without a platform to ask): D3hot for any suspend, D0 without power
 * management. Nothing in a driver task suspends the system, so only a
 * driver's own suspend path would ask. */
pci_power_t pci_choose_state(struct pci_dev *dev, pm_message_t state)
{
    if (!dev->pm_cap)
        return PCI_D0;
    switch (state.event) {
    case PM_EVENT_ON:
        return PCI_D0;
    case PM_EVENT_FREEZE:
    case PM_EVENT_PRETHAW:
    case PM_EVENT_SUSPEND:
    case PM_EVENT_HIBERNATE:
        return PCI_D3hot;
    default:
        /* Linux stops here (BUG()); the device stays on. */
        pci_warn(dev, "unrecognized suspend event %d\n", state.event);
        return PCI_D0;
    }
}

/* The error bits of the status register, cleared (they are write-one-to-
 * clear, and io lets a driver write the status register). */
int pci_status_get_and_clear_errors(struct pci_dev *pdev)
{
    u16 status;

    if (pci_read_config_word(pdev, PCI_STATUS, &status))
        return -EIO;
    status &= PCI_STATUS_ERROR_BITS;
    if (status)
        pci_write_config_word(pdev, PCI_STATUS, status);
    return status;
}

/* Linux's (drivers/pci/pci.c): whether the device can wake itself from a
 * runtime low-power state. dev->pme_support stays 0, as Linux leaves it for a
 * device that cannot signal PME, because nothing in a driver task ever
 * suspends the device at run time (no runtime PM, no PME interrupt), so this
 * is false, and e1000e keeps its device powered as Linux does then. */
bool pci_dev_run_wake(struct pci_dev *dev)
{
    struct pci_bus *bus = dev->bus;

    if (!dev->pme_support)
        return false;
    if (device_can_wakeup(&dev->dev))
        return true;
    /* The task's device is alone on its bus: no bridge above it to ask. */
    return bus->bridge ? device_can_wakeup(bus->bridge) : false;
}

/* ASPM (Linux's drivers/pci/pcie/aspm.c, CONFIG_PCIEASPM): a link's state is
 * kept on the bridge above the device (pcie_aspm_get_link()), and a driver
 * task sees no bridge, only its own device, so there is no link to change,
 * and Linux's answer for that is -EINVAL. Drivers then clear the ASPM bits
 * in their device's own Link Control register themselves, as e1000e's
 * __e1000e_disable_aspm() does (what Linux's comment there calls "BIOS is
 * preventing that"). */
int pci_disable_link_state(struct pci_dev *pdev, int state)
{
    (void)pdev;
    (void)state;
    return -EINVAL;
}

int pci_disable_link_state_locked(struct pci_dev *pdev, int state)
{
    return pci_disable_link_state(pdev, state);
}

int pci_prepare_to_sleep(struct pci_dev *dev) { return pci_set_power_state(dev, PCI_D3hot); }
int pci_back_from_sleep(struct pci_dev *dev) { return pci_set_power_state(dev, PCI_D0); }

/* The bound device, for dde_linux_exit (csrc/core/host.c). */
void dde_pci_remove_all(void)
{
    struct pci_driver *drv, *tmp;

    list_for_each_entry_safe(drv, tmp, &drivers, node) {
        if (the_dev && the_dev->driver == drv)
            pci_unregister_driver(drv);
    }
}
