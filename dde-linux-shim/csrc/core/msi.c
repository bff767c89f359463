/*
 * Message-signalled interrupts: what <linux/pci.h> declares out of line
 * under CONFIG_PCI_MSI (Linux's drivers/pci/msi/), on DDEKit's MSI and
 * MSI-X. ddekit_pci_enable_msi() has the io server program the device's MSI
 * capability with what the kernel allocated for it and gives the interrupt
 * number to attach; ddekit_pci_enable_msix() does the same for the first
 * entries of the device's MSI-X table (at most MAX_MSIX of them), one
 * number per entry. request_irq() (csrc/core/irq.c) attaches those numbers
 * as it attaches the INTx line. MSI gives one vector. When DDEKit says no
 * (no capability, a smaller table, a bus or a kernel without them:
 * Fiasco.OC), the request is refused as Linux refuses it where it is not
 * supported (-EINVAL) or has too few vectors (-ENOSPC), and drivers go on
 * to MSI, then to their INTx line.
 *
 * The task has one device (csrc/core/pci.c), so its INTx line is kept here
 * while MSI is on. A managed device (pcim_enable_device()) has its MSI
 * switched off with its other managed resources, as in Linux; the shim's
 * PCI core switches it off after a failed probe or a remove either way.
 */
#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/pci.h>

#include "internal.h"

/* The device's INTx line while MSI is on (dev->irq is then the MSI's). */
static unsigned int intx_irq;
/* The interrupt number of each MSI-X table entry while MSI-X is on. */
#define MAX_MSIX 8
static int msix_irqs[MAX_MSIX];
static unsigned int msix_count;
/* Whether the driver asked for its vectors' affinity (PCI_IRQ_AFFINITY). */
static bool msi_affinity;

int pci_msi_vec_count(struct pci_dev *dev)
{
    u16 flags;

    if (!dev->msi_cap || pci_read_config_word(dev, dev->msi_cap + PCI_MSI_FLAGS, &flags))
        return -EINVAL;
    /* What the device can send (Multiple Message Capable), a power of two;
     * the shim enables one of them. */
    return 1 << ((flags & PCI_MSI_FLAGS_QMASK) >> 1);
}

int pci_msix_vec_count(struct pci_dev *dev)
{
    u16 flags;

    if (!dev->msix_cap || pci_read_config_word(dev, dev->msix_cap + PCI_MSIX_FLAGS, &flags))
        return -EINVAL;
    /* The table's size (the field holds it minus one), reported though the
     * shim enables none of it. */
    return (flags & PCI_MSIX_FLAGS_QSIZE) + 1;
}

/* Linux's answer is 0 only after pci=nomsi; a driver task's is DDEKit's,
 * per device, when the driver asks. */
int pci_msi_enabled(void) { return 1; }

/* A managed device's MSI or MSI-X goes with its other managed resources. */
static void pcim_msi_release(void *data)
{
    struct pci_dev *dev = data;

    dev->is_msi_managed = 0;
    pci_free_irq_vectors(dev);
}

/* One vector: 1, or a negative errno with the INTx line kept. */
static int enable_msi(struct pci_dev *dev, unsigned int min_vecs, unsigned int max_vecs)
{
    int irq, count;

    if (min_vecs < 1 || dev->no_msi || dev->current_state != PCI_D0 || dev->msix_enabled)
        return -EINVAL;
    if (max_vecs < min_vecs)
        return -ERANGE;
    if (dev->msi_enabled)
        return -EINVAL;
    count = pci_msi_vec_count(dev);
    if (count < 0)
        return count;
    /* One vector is all there is: fewer than a minimum above one. */
    if (min_vecs > 1)
        return -ENOSPC;
    irq = ddekit_pci_enable_msi();
    if (irq < 0)
        return -EINVAL;
    if (pci_is_managed(dev) && !dev->is_msi_managed) {
        if (devm_add_action(&dev->dev, pcim_msi_release, dev)) {
            ddekit_pci_disable_msi();
            return -ENOMEM;
        }
        dev->is_msi_managed = 1;
    }
    intx_irq = dev->irq;
    dev->irq = (unsigned int)irq;
    dev->msi_enabled = 1;
    /* A device does not assert INTx while its MSI is on; Linux sets the
     * command register's INTx disable bit all the same, and so does the
     * shim (a managed device gets its INTx setting back on release). */
    pci_intx(dev, 0);
    return 1;
}

int pci_enable_msi(struct pci_dev *dev)
{
    int rc = enable_msi(dev, 1, 1);

    return rc < 0 ? rc : 0;
}

void pci_disable_msi(struct pci_dev *dev)
{
    if (!dev || !dev->msi_enabled)
        return;
    ddekit_pci_disable_msi();
    pci_intx(dev, 1);
    dev->irq = intx_irq;
    dev->msi_enabled = 0;
    msi_affinity = false;
}

/* MSI-X with as many vectors as the device's table, DDEKit (MAX_MSIX) and
 * maxvec allow, at least minvec: the count, or a negative errno with the
 * INTx line kept. `entries` (may be NULL: entries 0..n) name the table
 * entries wanted and get their interrupt numbers. */
int pci_enable_msix_range(struct pci_dev *dev, struct msix_entry *entries, int minvec, int maxvec)
{
    int lines[MAX_MSIX];
    int table, nvec, need = 0;

    if (maxvec < minvec)
        return -ERANGE;
    if (minvec < 1 || dev->no_msi || dev->current_state != PCI_D0 || dev->msi_enabled || dev->msix_enabled)
        return -EINVAL;
    table = pci_msix_vec_count(dev);
    if (table < 0)
        return table;
    nvec = min3(maxvec, table, MAX_MSIX);
    if (nvec < minvec)
        return -ENOSPC;
    for (int i = 0; i < nvec; i++) {
        int entry = entries ? entries[i].entry : i;

        if (entry < 0 || entry >= table)
            return -EINVAL;
        for (int j = 0; j < i; j++)
            if (entries && entries[j].entry == entry)
                return -EINVAL;
        need = max(need, entry + 1);
    }
    /* io programs entries 0..need-1; the ones asked for are among them. */
    if (need > MAX_MSIX)
        return -ENOSPC;
    if (ddekit_pci_enable_msix(need, lines) != need)
        return -ENOSPC;
    if (pci_is_managed(dev) && !dev->is_msi_managed) {
        if (devm_add_action(&dev->dev, pcim_msi_release, dev)) {
            ddekit_pci_disable_msix();
            return -ENOMEM;
        }
        dev->is_msi_managed = 1;
    }
    msix_count = (unsigned int)need;
    for (int i = 0; i < need; i++)
        msix_irqs[i] = lines[i];
    if (entries)
        for (int i = 0; i < nvec; i++)
            entries[i].vector = (u32)lines[entries[i].entry];
    dev->msix_enabled = 1;
    pci_intx(dev, 0);
    return nvec;
}

void pci_disable_msix(struct pci_dev *dev)
{
    if (!dev || !dev->msix_enabled)
        return;
    ddekit_pci_disable_msix();
    pci_intx(dev, 1);
    msix_count = 0;
    dev->msix_enabled = 0;
    msi_affinity = false;
}

/* The io server owns what the MSI capability is programmed with (it refuses
 * a driver's writes to the address and data, issue 10) and keeps it
 * programmed while MSI is on, so a driver's restore after a reset or resume
 * has nothing to write. */
void pci_restore_msi_state(struct pci_dev *dev) { (void)dev; }

/* Linux's order: MSI-X, then MSI, then the INTx line, each if the flags
 * allow it; the last refusal's errno when none is had. */
int pci_alloc_irq_vectors_affinity(struct pci_dev *dev, unsigned int min_vecs, unsigned int max_vecs,
                                   unsigned int flags, struct irq_affinity *affd)
{
    int nvecs = -ENOSPC;

    (void)affd;
    if (flags & PCI_IRQ_MSIX) {
        nvecs = pci_enable_msix_range(dev, NULL, (int)min_vecs, (int)max_vecs);
        if (nvecs > 0) {
            msi_affinity = (flags & PCI_IRQ_AFFINITY) != 0;
            return nvecs;
        }
    }
    if (flags & PCI_IRQ_MSI) {
        nvecs = enable_msi(dev, min_vecs, max_vecs);
        if (nvecs > 0) {
            msi_affinity = (flags & PCI_IRQ_AFFINITY) != 0;
            return nvecs;
        }
    }
    if ((flags & PCI_IRQ_LEGACY) && min_vecs == 1 && dev->irq) {
        pci_intx(dev, 1);
        return 1;
    }
    return nvecs;
}

void pci_free_irq_vectors(struct pci_dev *dev)
{
    pci_disable_msix(dev);
    pci_disable_msi(dev);
}

/* With MSI-X on, table entry nr's interrupt; else vector 0 is the one
 * there is: the MSI's interrupt when MSI is on, else the INTx line. */
int pci_irq_vector(struct pci_dev *dev, unsigned int nr)
{
    if (dev->msix_enabled)
        return nr < msix_count ? msix_irqs[nr] : -EINVAL;
    return nr == 0 ? (int)dev->irq : -EINVAL;
}

/* As Linux: every CPU for the INTx line, which has no descriptor; for the
 * MSI vector, the spread it asked for (all CPUs: a driver task runs on one)
 * or none (NULL) when it asked for no affinity. */
const struct cpumask *pci_irq_get_affinity(struct pci_dev *dev, int nr)
{
    if (dev->msix_enabled)
        return nr >= 0 && (unsigned int)nr < msix_count && msi_affinity ? cpu_possible_mask : NULL;
    if (nr != 0 || !dev->irq)
        return NULL;
    if (dev->msi_enabled && !msi_affinity)
        return NULL;
    return cpu_possible_mask;
}
