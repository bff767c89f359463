/*
 * The contract between the Linux shim's generic layer (C,
 * dde-linux-shim/csrc/core) and the driver task (Rust, dde-linux-shim/src):
 * start-up and exit, firmware, fault injection. Each device class has its own
 * contract beside this one (the network class: resurgo/net.h). The Rust side
 * reads these files through bindgen, so the two cannot disagree.
 */
#ifndef RESURGO_HOST_H
#define RESURGO_HOST_H

#include <stddef.h>
#include <stdint.h>

/* ---- implemented by the shim (C), called by the host ---------------------- */

/* Runs the Linux initcalls (module_init, module_pci_driver, ...), which
 * register PCI drivers and probe the task's device. Returns how many
 * initcalls failed; what the probe registered, each class reports itself. */
int dde_linux_init(void);

/* Orderly shutdown: runs the drivers' module_exit functions in reverse order,
 * then removes the PCI device if a driver is still bound to it (its remove()
 * stops the device and unregisters what it registered). */
void dde_linux_exit(void);

/* ---- firmware (implemented by the host) -------------------------------------
 * The files the driver's manifest names, which the reincarnation server grants
 * the task as one read-only archive. On success *data points into that
 * read-only mapping (it stays for the task's life) and *size is the file's
 * length; -2 (-ENOENT) when the task has no such file. */
int resurgo_firmware_find(const char *name, const uint8_t **data, size_t *size);

/* ---- fault injection (implemented by the host) ----------------------------
 * The interrupt dispatcher passes each handler's dev_id through this hook. An
 * armed crash injection returns a wild pointer instead, so the driver's own
 * interrupt handler faults on it; an armed hang never returns (an endless loop
 * in interrupt context). Unarmed, it returns dev_id. */
void *resurgo_irq_inject(unsigned int irq, void *dev_id);
/* The PCI probe passes the device through this hook. A task started with the
 * value `inject-probe-fault = 1` gets a wild pointer instead, so the driver's
 * own probe faults, every time: a driver that can never start. */
struct pci_dev;
struct pci_dev *resurgo_probe_inject(struct pci_dev *dev);

#endif
