/*
 * trapdemo: not a Linux driver but Resurgo's own test of the generated traps.
 * It claims QEMU's rtl8139 (10ec:8139) and, at probe, calls a function that
 * neither Linux's API as the shim has it, DDEKit nor the runtime define. The
 * image builder links a trap in its place, so the call ends the task with
 * "called unimplemented `trapdemo_missing_function`", which the reincarnation
 * server reports (tests/traps.rs).
 */
#include <linux/module.h>
#include <linux/pci.h>

/* Declared here, defined nowhere: the build links a trap for it. */
int trapdemo_missing_function(struct pci_dev *pdev, int arg);

static const struct pci_device_id trapdemo_pci_tbl[] = {
	{ PCI_DEVICE(0x10ec, 0x8139) },
	{ }
};
MODULE_DEVICE_TABLE(pci, trapdemo_pci_tbl);

static int trapdemo_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	pr_info("trapdemo: probing %s, calling a function the shim lacks\n", pci_name(pdev));
	return trapdemo_missing_function(pdev, 1);
}

static void trapdemo_remove(struct pci_dev *pdev)
{
}

static struct pci_driver trapdemo_driver = {
	.name		= "trapdemo",
	.id_table	= trapdemo_pci_tbl,
	.probe		= trapdemo_probe,
	.remove		= trapdemo_remove,
};

module_pci_driver(trapdemo_driver);

MODULE_DESCRIPTION("Resurgo's test of generated traps: calls a missing function at probe");
MODULE_LICENSE("GPL");
