/*
 * <linux/pci.h>: PCI drivers on the one device the io server gives the task
 * (csrc/pci.c). pci_register_driver() matches the driver's id_table against
 * that device and probes it with a pci_dev filled from ddekit_pci_get_info;
 * configuration space goes through ddekit_pci_read/write.
 */
#ifndef _LINUX_PCI_H
#define _LINUX_PCI_H

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/errno.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mod_devicetable.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/pm.h>
#include <linux/pm_wakeup.h>
#include <linux/slab.h>
#include <linux/types.h>

#define PCI_DEVFN(slot, func) ((((slot)&0x1f) << 3) | ((func)&0x07))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn)&0x07)

#define PCI_ROM_RESOURCE 6
#define DEVICE_COUNT_RESOURCE 7

typedef int pci_power_t;
#define PCI_D0 ((pci_power_t)0)
#define PCI_D1 ((pci_power_t)1)
#define PCI_D2 ((pci_power_t)2)
#define PCI_D3hot ((pci_power_t)3)
#define PCI_D3cold ((pci_power_t)4)
#define PCI_UNKNOWN ((pci_power_t)5)
#define PCI_POWER_ERROR ((pci_power_t)-1)

typedef unsigned int pci_channel_state_t;
enum pci_channel_state {
    pci_channel_io_normal = 1,
    pci_channel_io_frozen = 2,
    pci_channel_io_perm_failure = 3,
};

typedef unsigned int pci_ers_result_t;
enum pci_ers_result {
    PCI_ERS_RESULT_NONE = 1,
    PCI_ERS_RESULT_CAN_RECOVER = 2,
    PCI_ERS_RESULT_NEED_RESET = 3,
    PCI_ERS_RESULT_DISCONNECT = 4,
    PCI_ERS_RESULT_RECOVERED = 5,
    PCI_ERS_RESULT_NO_AER_DRIVER = 6,
};

#define PCIBIOS_SUCCESSFUL 0x00
#define PCIBIOS_FUNC_NOT_SUPPORTED 0x81
#define PCIBIOS_BAD_VENDOR_ID 0x83
#define PCIBIOS_DEVICE_NOT_FOUND 0x86
#define PCIBIOS_BAD_REGISTER_NUMBER 0x87
#define PCIBIOS_SET_FAILED 0x88
#define PCIBIOS_BUFFER_TOO_SMALL 0x89

static inline int pcibios_err_to_errno(int err)
{
    if (err <= PCIBIOS_SUCCESSFUL)
        return err;
    switch (err) {
    case PCIBIOS_FUNC_NOT_SUPPORTED:
        return -ENOENT;
    case PCIBIOS_BAD_VENDOR_ID:
        return -ENOTTY;
    case PCIBIOS_DEVICE_NOT_FOUND:
        return -ENODEV;
    case PCIBIOS_BAD_REGISTER_NUMBER:
        return -EFAULT;
    case PCIBIOS_SET_FAILED:
        return -EIO;
    case PCIBIOS_BUFFER_TOO_SMALL:
        return -ENOSPC;
    }
    return -ERANGE;
}

struct pci_bus {
    unsigned char number;
};

struct pci_driver;

struct pci_dev {
    struct list_head bus_list;
    struct pci_bus *bus;
    unsigned int devfn;
    unsigned short vendor;
    unsigned short device;
    unsigned short subsystem_vendor;
    unsigned short subsystem_device;
    unsigned int class; /* class << 16 | subclass << 8 | prog-if */
    u8 revision;
    u8 hdr_type;
    u8 pin;
    u8 pm_cap;
    struct pci_driver *driver;
    u64 dma_mask;
    struct device dev;
    int cfg_size;
    unsigned int irq;
    struct resource resource[DEVICE_COUNT_RESOURCE];
    pci_channel_state_t error_state;
    pci_power_t current_state;
    unsigned int is_busmaster : 1;
    unsigned int is_added : 1;
    unsigned int msi_enabled : 1;
    unsigned int msix_enabled : 1;
    unsigned int state_saved : 1;
    atomic_t enable_cnt;
    u32 saved_config_space[16];
    /* the real location, for ddekit_pci_read/write */
    int dde_bus, dde_slot, dde_func;
    unsigned int dde_regions; /* BARs claimed by pci_request_region(s) */
};

#define to_pci_dev(n) container_of(n, struct pci_dev, dev)
#define for_each_pci_dev(d) while ((d = pci_get_device(PCI_ANY_ID, PCI_ANY_ID, d)) != NULL)

struct pci_error_handlers {
    pci_ers_result_t (*error_detected)(struct pci_dev *dev, pci_channel_state_t error);
    pci_ers_result_t (*mmio_enabled)(struct pci_dev *dev);
    pci_ers_result_t (*slot_reset)(struct pci_dev *dev);
    void (*reset_prepare)(struct pci_dev *dev);
    void (*reset_done)(struct pci_dev *dev);
    void (*resume)(struct pci_dev *dev);
};

struct pci_driver {
    struct list_head node;
    const char *name;
    const struct pci_device_id *id_table;
    int (*probe)(struct pci_dev *dev, const struct pci_device_id *id);
    void (*remove)(struct pci_dev *dev);
    int (*suspend)(struct pci_dev *dev, pm_message_t state);
    int (*resume)(struct pci_dev *dev);
    void (*shutdown)(struct pci_dev *dev);
    int (*sriov_configure)(struct pci_dev *dev, int num_vfs);
    const struct pci_error_handlers *err_handler;
    struct device_driver driver;
};
#define to_pci_driver(drv) container_of(drv, struct pci_driver, driver)

#define PCI_DEVICE(vend, dev)                                                                      \
    .vendor = (vend), .device = (dev), .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID
#define PCI_DEVICE_SUB(vend, dev, subvend, subdev)                                                 \
    .vendor = (vend), .device = (dev), .subvendor = (subvend), .subdevice = (subdev)
#define PCI_DEVICE_CLASS(dev_class, dev_class_mask)                                                \
    .class = (dev_class), .class_mask = (dev_class_mask), .vendor = PCI_ANY_ID, .device = PCI_ANY_ID, \
    .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID
#define PCI_VDEVICE(vend, dev)                                                                     \
    .vendor = PCI_VENDOR_ID_##vend, .device = (dev), .subvendor = PCI_ANY_ID, .subdevice = PCI_ANY_ID, 0, 0

int __pci_register_driver(struct pci_driver *drv, struct module *owner, const char *mod_name);
#define pci_register_driver(driver) __pci_register_driver(driver, THIS_MODULE, KBUILD_MODNAME)
void pci_unregister_driver(struct pci_driver *drv);
#define module_pci_driver(__pci_driver) module_driver(__pci_driver, pci_register_driver, pci_unregister_driver)
const struct pci_device_id *pci_match_id(const struct pci_device_id *ids, struct pci_dev *dev);

static inline const char *pci_name(const struct pci_dev *pdev) { return dev_name(&pdev->dev); }
static inline void *pci_get_drvdata(struct pci_dev *pdev) { return dev_get_drvdata(&pdev->dev); }
static inline void pci_set_drvdata(struct pci_dev *pdev, void *data) { dev_set_drvdata(&pdev->dev, data); }
static inline struct pci_dev *pci_dev_get(struct pci_dev *dev) { return dev; }
static inline void pci_dev_put(struct pci_dev *dev) { (void)dev; }
struct pci_dev *pci_get_device(unsigned int vendor, unsigned int device, struct pci_dev *from);
struct pci_dev *pci_get_domain_bus_and_slot(int domain, unsigned int bus, unsigned int devfn);
static inline int pci_domain_nr(struct pci_bus *bus)
{
    (void)bus;
    return 0;
}

#define pci_resource_start(dev, bar) ((dev)->resource[(bar)].start)
#define pci_resource_end(dev, bar) ((dev)->resource[(bar)].end)
#define pci_resource_flags(dev, bar) ((dev)->resource[(bar)].flags)
#define pci_resource_len(dev, bar)                                                                 \
    ((pci_resource_end((dev), (bar)) == 0) ? 0 : (pci_resource_end((dev), (bar)) - pci_resource_start((dev), (bar)) + 1))

int pci_enable_device(struct pci_dev *dev);
int pci_enable_device_io(struct pci_dev *dev);
int pci_enable_device_mem(struct pci_dev *dev);
void pci_disable_device(struct pci_dev *dev);
int pci_is_enabled(struct pci_dev *pdev);
void pci_set_master(struct pci_dev *dev);
void pci_clear_master(struct pci_dev *dev);
int pci_set_mwi(struct pci_dev *dev);
int pci_try_set_mwi(struct pci_dev *dev);
void pci_clear_mwi(struct pci_dev *dev);
void pci_intx(struct pci_dev *dev, int enable);

int pci_request_regions(struct pci_dev *pdev, const char *name);
int pci_request_regions_exclusive(struct pci_dev *pdev, const char *name);
void pci_release_regions(struct pci_dev *pdev);
int pci_request_region(struct pci_dev *pdev, int bar, const char *name);
void pci_release_region(struct pci_dev *pdev, int bar);
int pci_request_selected_regions(struct pci_dev *pdev, int bars, const char *name);
int pci_request_selected_regions_exclusive(struct pci_dev *pdev, int bars, const char *name);
void pci_release_selected_regions(struct pci_dev *pdev, int bars);
int pci_select_bars(struct pci_dev *dev, unsigned long flags);

void __iomem *pci_iomap(struct pci_dev *dev, int bar, unsigned long maxlen);
void __iomem *pci_iomap_range(struct pci_dev *dev, int bar, unsigned long offset, unsigned long maxlen);
void pci_iounmap(struct pci_dev *dev, void __iomem *addr);
void __iomem *pci_ioremap_bar(struct pci_dev *pdev, int bar);
#define pci_ioremap_wc_bar(pdev, bar) pci_ioremap_bar(pdev, bar)

int pci_read_config_byte(const struct pci_dev *dev, int where, u8 *val);
int pci_read_config_word(const struct pci_dev *dev, int where, u16 *val);
int pci_read_config_dword(const struct pci_dev *dev, int where, u32 *val);
int pci_write_config_byte(const struct pci_dev *dev, int where, u8 val);
int pci_write_config_word(const struct pci_dev *dev, int where, u16 val);
int pci_write_config_dword(const struct pci_dev *dev, int where, u32 val);
u8 pci_find_capability(struct pci_dev *dev, int cap);
static inline bool pci_is_pcie(struct pci_dev *dev) { return pci_find_capability(dev, PCI_CAP_ID_EXP) != 0; }
int pcie_capability_read_word(struct pci_dev *dev, int pos, u16 *val);
int pcie_capability_write_word(struct pci_dev *dev, int pos, u16 val);
int pcie_capability_clear_and_set_word(struct pci_dev *dev, int pos, u16 clear, u16 set);
#define pcie_capability_set_word(dev, pos, set) pcie_capability_clear_and_set_word(dev, pos, 0, set)
#define pcie_capability_clear_word(dev, pos, clear) pcie_capability_clear_and_set_word(dev, pos, clear, 0)

int pcix_get_max_mmrbc(struct pci_dev *dev);
int pcix_get_mmrbc(struct pci_dev *dev);
int pcix_set_mmrbc(struct pci_dev *dev, int mmrbc);

int pci_save_state(struct pci_dev *dev);
void pci_restore_state(struct pci_dev *dev);
int pci_set_power_state(struct pci_dev *dev, pci_power_t state);
int pci_enable_wake(struct pci_dev *dev, pci_power_t state, bool enable);
int pci_wake_from_d3(struct pci_dev *dev, bool enable);
bool pci_pme_capable(struct pci_dev *dev, pci_power_t state);
void pci_pme_active(struct pci_dev *dev, bool enable);
int pci_prepare_to_sleep(struct pci_dev *dev);
int pci_back_from_sleep(struct pci_dev *dev);
static inline bool pci_dev_run_wake(struct pci_dev *dev)
{
    (void)dev;
    return false;
}
static inline int pci_channel_offline(struct pci_dev *pdev)
{
    return (pdev->error_state != pci_channel_io_normal);
}
static inline bool pci_device_is_present(struct pci_dev *pdev)
{
    u16 vendor;
    return pci_read_config_word(pdev, PCI_VENDOR_ID, &vendor) == 0 && vendor != 0xffff;
}
static inline int pci_enable_msi(struct pci_dev *dev)
{
    (void)dev;
    return -ENOSYS;
}
static inline void pci_disable_msi(struct pci_dev *dev) { (void)dev; }
static inline int pci_reset_function(struct pci_dev *dev)
{
    (void)dev;
    return -ENOTTY;
}
static inline int pci_reset_function_locked(struct pci_dev *dev)
{
    (void)dev;
    return -ENOTTY;
}

#include <linux/module.h>

#endif
