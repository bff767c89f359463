#include <uapi/linux/pci_regs.h>
