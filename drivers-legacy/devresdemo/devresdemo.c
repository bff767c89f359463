/*
 * devresdemo: not a Linux driver but Resurgo's own test of managed resources
 * (devres, Linux's drivers/base/devres.c as the shim compiles it). It claims
 * QEMU's rtl8139 (10ec:8139) and, at probe, takes managed memory, a managed
 * DMA pool (and a block from it, given back) and two release actions, then
 * fails with -EIO. The shim's PCI core must release all of it as Linux's driver core
 * does, in the reverse order of taking: the second action, the pool, the
 * first action (tests/devres.rs).
 */
#include <linux/device.h>
#include <linux/dmapool.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

static const struct pci_device_id devresdemo_pci_tbl[] = {
	{ PCI_DEVICE(0x10ec, 0x8139) },
	{ }
};
MODULE_DEVICE_TABLE(pci, devresdemo_pci_tbl);

static void devresdemo_say(void *what)
{
	pr_info("devresdemo: released %s\n", (const char *)what);
}

static int devresdemo_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	struct dma_pool *pool;
	dma_addr_t dma;
	char *name;
	void *block;
	int err;

	pr_info("devresdemo: probing %s\n", pci_name(pdev));
	name = devm_kasprintf(&pdev->dev, GFP_KERNEL, "the first action (%s)", pci_name(pdev));
	if (!name)
		return -ENOMEM;
	err = devm_add_action(&pdev->dev, devresdemo_say, name);
	if (err)
		return err;
	pool = dmam_pool_create("devresdemo", &pdev->dev, 256, 16, 0);
	if (!pool)
		return -ENOMEM;
	block = dma_pool_zalloc(pool, GFP_KERNEL, &dma);
	if (!block)
		return -ENOMEM;
	pr_info("devresdemo: a pool block at %s DMA address, %s\n", dma ? "a" : "no",
		((unsigned long)block & 15) ? "misaligned" : "16-byte aligned");
	/* A pool destroyed with a block still out is a driver bug Linux reports. */
	dma_pool_free(pool, block, dma);
	err = devm_add_action(&pdev->dev, devresdemo_say, "the second action");
	if (err)
		return err;
	pr_info("devresdemo: failing the probe with -EIO\n");
	return -EIO;
}

static void devresdemo_remove(struct pci_dev *pdev)
{
}

static struct pci_driver devresdemo_driver = {
	.name		= "devresdemo",
	.id_table	= devresdemo_pci_tbl,
	.probe		= devresdemo_probe,
	.remove		= devresdemo_remove,
};

module_pci_driver(devresdemo_driver);

MODULE_DESCRIPTION("Resurgo's test of managed resources: takes some at probe, then fails");
MODULE_LICENSE("GPL");
