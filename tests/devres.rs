//! Managed resources in QEMU: a legacy driver (drivers-legacy/devresdemo)
//! takes managed memory, a managed DMA pool with a block from it, the device
//! enabled with its memory BAR claimed and mapped (`pcim_*`), its interrupt
//! line (`devm_request_irq`), managed coherent DMA memory and release actions
//! at probe, then fails. The shim's PCI core
//! releases them as Linux's driver core does, last taken first, before it
//! reports the failed probe: the device ends disabled, not bus mastering, its
//! BAR free for another claim; the task then ends with no device registered.
//! Before that it loads the firmware file its manifest names (from the boot
//! archive, through the reincarnation server's read-only grant) and gets
//! Linux's -ENOENT for one it does not name, both again with
//! request_firmware_nowait(), and queues an RCU callback and a
//! kfree_rcu() that rcu_barrier() waits for, and runs a kernel thread until
//! kthread_stop(), which ups a semaphore the probe waits on, shares a
//! read-write semaphore with a writer thread, copies through
//! scatterlists and maps them for DMA, runs a periodic hrtimer and cancels a
//! far one, shuts down a self-arming timer, and calls Linux's bitmap and
//! rate-limit code; a managed network device is among what it takes.

mod common;

use common::*;
use resurgo::qemu::{NetConfig, QemuConfig};

#[test]
fn a_failed_probe_releases_its_managed_resources_last_first() {
    let cfg = QemuConfig { netdev: Some(NetConfig { model: "rtl8139".into(), hostfwd: vec![] }), ..Default::default() };
    let guest = boot_with("devres", &cfg);
    seen(&guest, "[eth-devres] devresdemo: probing 0000:00:02.0", STEP);
    // The file whole: its length, its CRC-32 and its first line.
    let [whole, nowait] = devresdemo_firmware_lines();
    seen(&guest, &format!("[eth-devres] {whole}"), STEP);
    seen(
        &guest,
        "[eth-devres] WARN devresdemo 0000:00:02.0: Direct firmware load for resurgo/absent.fw failed with error -2",
        STEP,
    );
    seen(&guest, "[eth-devres] devresdemo: firmware resurgo/absent.fw: error -2, no file", STEP);
    // request_firmware_nowait(): the callback, on the system workqueue, gets
    // the file, and nothing (with Linux's warning) for the absent one.
    seen(&guest, &format!("[eth-devres] {nowait}"), STEP);
    // call_rcu() after a grace period, as from softirq; rcu_barrier() waits for it.
    let callback = seen(
        &guest,
        "[eth-devres] devresdemo: an RCU callback ran after a grace period (value 42, bottom halves off)",
        STEP,
    );
    let barrier = seen(&guest, "[eth-devres] devresdemo: rcu_barrier returned", STEP);
    // A kernel thread with its own name runs until kthread_stop(), which
    // returns what its function returned.
    seen(&guest, "[eth-devres] devresdemo: kernel thread devresdemo-1 runs", STEP);
    // Linux's own kernel/locking/semaphore.c: the thread's up() ends the first
    // wait, none is left for the trylock, the second wait times out (-ETIME).
    seen(&guest, "[eth-devres] devresdemo: semaphore: down_timeout 0, down_trylock 1, down_timeout again -62", STEP);
    seen(&guest, "[eth-devres] devresdemo: kthread_stop returned 7 after 3 or more rounds", STEP);
    // Linux's own kernel/locking/rwsem.c: readers share, the writer thread
    // waits for both, a reader that comes while it writes waits for it.
    seen(
        &guest,
        "[eth-devres] devresdemo: rwsem: a second reader shares it, a writer's trylock 0, the writer waited for both readers, a reader waited for the writer",
        STEP,
    );
    // Scatterlists (Linux's lib/scatterlist.c on the shim's page_address()):
    // copies through the page iterator land in each buffer, the DMA mapping
    // gives an entry the same bus address as dma_map_single(), the iterator
    // steps into the tail page of an order-1 allocation, whose reference
    // counts on the head, and a long table is chained.
    seen(
        &guest,
        "[eth-devres] devresdemo: a scatterlist of 2 buffers: 8000 bytes copied in, 8000 out, each buffer holds its part",
        STEP,
    );
    seen(&guest, "[eth-devres] devresdemo: dma_map_sg mapped 2 of 2 entries, each at its buffer's bus address", STEP);
    seen(
        &guest,
        "[eth-devres] devresdemo: an order-1 page through a scatterlist: 8192 bytes, both pages filled, the tail's reference counted on the head (2)",
        STEP,
    );
    seen(&guest, "[eth-devres] devresdemo: a table of 300 entries walked through its chain links: 300", STEP);
    // hrtimers: a periodic one forwarded from its callback, which runs in
    // hard interrupt context, never early; a far one cancelled while armed.
    seen(
        &guest,
        "[eth-devres] devresdemo: an hrtimer fired 5 times, every 2 ms: 10 ms or more, in hard interrupt context: yes, active after: no",
        STEP,
    );
    seen(&guest, "[eth-devres] devresdemo: a 10 s hrtimer: more than 9 s left, cancel 1 then 0 (an idle one 0)", STEP);
    // timer_shutdown_sync(): a timer that re-arms itself from its callback
    // stops, and arming it again does nothing.
    seen(&guest, "[eth-devres] devresdemo: a self-arming timer shut down: it stopped, mod_timer 0, pending no", STEP);
    // Linux's lib/bitmap.c (the out-of-line __bitmap_*()) and lib/ratelimit.c
    // (net_ratelimit(): a burst of 10 per 5 s).
    seen(
        &guest,
        "[eth-devres] devresdemo: bitmaps: 70 and 30 bits set, 10 in both, the second a subset of the first: no",
        STEP,
    );
    seen(&guest, "[eth-devres] devresdemo: net_ratelimit allowed 10 of 15 at once", STEP);
    seen(&guest, "[eth-devres] devresdemo: a pool block at a DMA address, 16-byte aligned", STEP);
    // Read through the managed mapping: QEMU's first NIC has this address.
    seen(&guest, "[eth-devres] devresdemo: BAR 1 mapped, the station address 52:54:00:12:34:56", STEP);
    // The shim's MSI (csrc/core/msi.c) on QEMU's RTL8139, which has neither
    // an MSI nor an MSI-X capability: MSI-X alone and MSI are Linux's -EINVAL
    // for such a device, so is counting their vectors, and a driver that asks
    // for any kind of vector gets its INTx line.
    seen(
        &guest,
        "[eth-devres] devresdemo: interrupt vectors: 1 of any kind (the INTx line), MSI-X only -22, \
         pci_enable_msi -22 (the INTx line kept), MSI vectors -22, MSI-X vectors -22",
        STEP,
    );
    seen(
        &guest,
        "[eth-devres] devresdemo: 8192 bytes of managed coherent memory at a DMA address, zeroed, page-aligned",
        STEP,
    );
    // Linux's net/devres.c: a network device freed with the rest.
    seen(&guest, "[eth-devres] devresdemo: a managed network device, not registered", STEP);
    seen(&guest, "[eth-devres] devresdemo: failing the probe with -EIO", STEP);
    let second = seen(&guest, "[eth-devres] devresdemo: released the second action", STEP);
    let first = seen(&guest, "[eth-devres] devresdemo: released the first action (0000:00:02.0)", STEP);
    // The check was taken first, so it runs last: by then the managed device
    // was disabled (bus mastering with it), its claimed BAR and its interrupt
    // line given back, MSI off and INTx on.
    let check = seen(
        &guest,
        "[eth-devres] devresdemo: at the end the device is disabled, bus mastering off, BAR 1 free, \
         its interrupt line free, managed no, INTx on",
        STEP,
    );
    // The check, the name, two actions, the pool, the device, its mapping
    // table, its interrupt line, the coherent block and the network device.
    let count = seen(&guest, "[eth-devres] devresdemo: 10 managed resource(s) of the failed probe released", STEP);
    let failed = seen(&guest, "[eth-devres] WARN devresdemo: probe of 0000:00:02.0 failed with error -5", STEP);
    let lines = guest.lines();
    let at = |l: &str| lines.iter().position(|x| x == l).unwrap_or_else(|| panic!("no line {l}"));
    assert!(at(&callback) < at(&barrier), "the callback ran before rcu_barrier() returned");
    let order = [&second, &first, &check, &count, &failed].map(|l| at(l));
    assert!(order.is_sorted(), "released last first, then the failure reported: {lines:#?}");
    // Nothing else went wrong in the task: no trap, no fault, no warning
    // but the three the test provokes (two absent files, the failed probe).
    assert!(!lines.iter().any(|l| l.contains("unimplemented") || l.contains("[eth-devres] ERROR")), "{lines:#?}");
    let warnings: Vec<_> = lines.iter().filter(|l| l.starts_with("[eth-devres] WARN")).collect();
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
}
