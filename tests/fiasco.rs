//! Resurgo on Fiasco.OC, booted in QEMU: a Resurgo task built with
//! `--kernel fiasco` runs as an L4Re application under ned (log, heap, a
//! dataspace from moe, an IPC timeout, a software IRQ, IPC between two of its
//! threads through a gate), a second task calls a third through the gate the
//! manifest grants it (a ned channel), and the same sources run on Resurgo's
//! kernel. With an rtl8139, the unmodified Linux 8139cp drives it from its
//! own L4Re task through io's vbus, and the host reaches echo and sink
//! through netd.
//!
//! The Fiasco tests need an L4Re build in `RESURGO_L4RE` (`.ci/run` sets
//! `../shared/fiasco`); without it they say so in one line and pass.

mod common;

use common::*;
use resurgo::fiasco::{self, L4re};
use resurgo::qemu::QemuConfig;

/// The L4Re build, or `None` (and one line saying why) when there is none.
fn l4re() -> Option<L4re> {
    match L4re::from_env() {
        Ok(Some(l)) => Some(l),
        Ok(None) => {
            println!(
                "the Fiasco.OC tests did not run: {} is not set (point it at a Fiasco.OC + L4Re build such as ../shared/fiasco; .ci/run does)",
                fiasco::L4RE_ENV
            );
            None
        }
        Err(e) => panic!("{e:#}"),
    }
}

/// The `TEST` lines of a Fiasco console (without ned's colour escapes).
fn results(lines: &[String]) -> Vec<TestLine> {
    lines.iter().filter_map(|l| parse_test_line(&fiasco::plain(l))).collect()
}

/// The console once both seam-test and seam-ping have reported (in either
/// order); fails at once when a task fails or faults.
fn until_done(guest: &resurgo::qemu::Guest) -> Vec<String> {
    let deadline = std::time::Instant::now() + STEP;
    loop {
        let lines = guest.lines();
        if let Some(bad) = lines.iter().find(|l| l.contains("FATAL") || l.contains(" FAIL ")) {
            panic!("a task failed: {bad}\n{}", guest.tail(40));
        }
        if ["TEST seam done", "TEST seam.xipc"].iter().all(|m| lines.iter().any(|l| l.contains(m))) {
            return lines;
        }
        assert!(std::time::Instant::now() < deadline, "the seam tasks did not finish; last lines:\n{}", guest.tail(40));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn seam_task_runs_under_ned_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let manifest = resurgo::workspace_root().join(fiasco::DEFAULT_MANIFEST);
    let image = fiasco::build(&manifest).unwrap_or_else(|e| panic!("{e:#}"));
    let guest = fiasco::boot(&l4re, &image, &QemuConfig::default()).unwrap_or_else(|e| panic!("{e:#}"));
    let lines = until_done(&guest);
    assert!(lines.iter().any(|l| l.contains("Welcome to the L4Re Microkernel")), "not Fiasco's console");
    assert!(lines.iter().any(|l| l.contains("Ned: loading file: 'rom/fiasco.cfg'")), "ned did not load the script");
    let r = results(&lines);
    let log = passed(&r, "seam.log");
    assert_eq!(log.field("kernel"), "fiasco");
    assert_eq!(log.field("task"), "seam-test");
    assert!(log.raw.starts_with("seam-tes| "), "ned's log server prefixes the task: {}", log.raw);
    portable_steps(&r);
}

/// What the seam task checks on either kernel.
fn portable_steps(r: &[TestLine]) {
    assert_eq!(passed(r, "seam.heap").num("sum"), 4_999_950_000);
    let ds = passed(r, "seam.dataspace");
    assert_eq!((ds.field("zeroed"), ds.field("pattern")), ("true", "true"));
    let reuse = passed(r, "seam.reuse");
    assert_eq!((reuse.field("zeroed"), reuse.field("own")), ("true", "true"), "{}", reuse.raw);
    let t = passed(r, "seam.timeout");
    assert_eq!(t.field("result"), "Err(Timeout)");
    assert!((50..1000).contains(&t.num("waited_ms")), "{}", t.raw);
    let irq = passed(r, "seam.irq");
    assert_eq!((irq.field("label"), irq.field("tag")), ("0x1a0", "irq"));
    assert_eq!(passed(r, "seam.ipc").num("rounds"), 1000);
    // Across address spaces, through the one gate the manifest grants.
    assert_eq!(passed(r, "seam.xipc").num("rounds"), 10_000);
}

#[test]
fn seam_task_runs_on_resurgo_too() {
    let guest = boot("seam");
    let r = results(&until_done(&guest));
    let log = passed(&r, "seam.log");
    assert_eq!(log.field("kernel"), "resurgo");
    portable_steps(&r);
}

/// Boots `system/fiasco-net.toml` on Fiasco.OC with one QEMU NIC, echo and
/// sink forwarded; `probe` is the Linux driver's probe message.
fn boot_net(l4re: &L4re, model: &str) -> (resurgo::qemu::Guest, u16, u16) {
    let (g, [echo, sink, _, _]) = boot_manifest(l4re, fiasco::NET_MANIFEST, model);
    (g, echo, sink)
}

/// Boots `manifest` (from the workspace root) on Fiasco.OC with one QEMU NIC
/// `model`; echo, sink and svc-net (ports 23 and 24) forwarded: their host
/// ports.
fn boot_manifest(l4re: &L4re, manifest: &str, model: &str) -> (resurgo::qemu::Guest, [u16; 4]) {
    boot_forwarding(l4re, manifest, model, [7, 9, 23, 24])
}

/// [`boot_manifest`], forwarding free host ports to `guest_ports`.
fn boot_forwarding(
    l4re: &L4re,
    manifest: &str,
    model: &str,
    guest_ports: [u16; 4],
) -> (resurgo::qemu::Guest, [u16; 4]) {
    use resurgo::qemu::NetConfig;
    let manifest = resurgo::workspace_root().join(manifest);
    let image = fiasco::build(&manifest).unwrap_or_else(|e| panic!("{e:#}"));
    let boot = || {
        let ports = free_ports::<4>();
        let cfg = QemuConfig {
            netdev: Some(NetConfig { model: model.into(), hostfwd: ports.iter().copied().zip(guest_ports).collect() }),
            ..QemuConfig::default()
        };
        fiasco::boot(l4re, &image, &cfg).map(|g| (g, ports))
    };
    // A port picked free can be taken before QEMU binds it: pick again.
    (1..3)
        .fold(boot(), |r, _| match r {
            Err(e) if resurgo::ports::is_race(&format!("{e:#}")) => boot(),
            r => r,
        })
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// 1 MiB of random data through echo comes back byte for byte, and a 4 MiB
/// stream to sink arrives with its sha256.
fn traffic(guest: &resurgo::qemu::Guest, model: &str, echo_port: u16, sink_port: u16) {
    use sha2::{Digest, Sha256};
    let data = random_bytes(1 << 20, 0x5eed);
    let got =
        echo_round_trip(echo_port, &data).unwrap_or_else(|e| panic!("{model}: echo stream: {e}\n{}", guest.tail(30)));
    assert_eq!(got.len(), data.len(), "{model}: echoed length\n{}", guest.tail(30));
    assert!(got == data, "{model}: echoed bytes differ");
    seen(guest, "echoed 1048576 bytes", STEP);

    let data = random_bytes(4 << 20, 0xfeed);
    let want: String = Sha256::digest(&data).iter().map(|x| format!("{x:02x}")).collect();
    send_all(sink_port, &data);
    let report = fiasco::plain(&seen(guest, "sink    | received ", STEP));
    assert!(report.contains(&format!("received {} bytes sha256 {want}", data.len())), "{model}: {report}");
}

/// The driver tasks of `system/fiasco-net.toml`: driver, task, ned's log
/// prefix.
const DRIVERS: [(&str, &str, &str); 4] = [
    ("8139cp", "eth-8139cp", "eth-8139| "),
    ("ne2k-pci", "eth-ne2k-pci", "eth-ne2k| "),
    ("e1000", "eth-e1000", "eth-e100| "),
    ("virtio-net", "eth-virtio", "eth-virt| "),
];

/// Boots `system/fiasco-net.toml` on Fiasco.OC with one QEMU NIC `model`:
/// the unmodified Linux `driver` probes its device through L4Re io's vbus
/// (`rt::device`: PCI config, ports, registers, the interrupt through io's
/// ICU, DMA addresses from a `Dma_space`) and prints `probe`, the other
/// drivers find no device on their own vbus and end quietly, netd hands the
/// driver its rings (capabilities in a reply through a ned channel) and
/// brings the interface up, and the host reaches echo and sink. Returns
/// netd's line saying how the interface got its address (`None`: no L4Re
/// build, nothing ran).
fn check_nic_on_fiasco(model: &str, driver: &str, probe: &str) -> Option<String> {
    let l4re = l4re()?;
    let (guest, echo, sink) = boot_net(&l4re, model);
    let line = fiasco::plain(&seen(&guest, probe, STEP));
    let (_, task, prefix) = DRIVERS.iter().find(|(d, _, _)| *d == driver).expect("a driver of fiasco-net.toml");
    assert!(line.starts_with(prefix), "probe message from the driver's task: {line}");
    assert!(line.contains("52:54:00:12:34:56"), "the MAC read from the device: {line}");
    for (_, _, other) in DRIVERS.iter().filter(|(d, _, _)| *d != driver) {
        seen(&guest, &format!("{other}exit 0: no device"), STEP);
    }
    seen(&guest, &format!("{task}: attached (#1) mac 52:54:00:12:34:56"), STEP);
    seen(&guest, "eth0 attached to netd: 52:54:00:12:34:56 mtu 1500, incarnation 1", STEP);
    let up = fiasco::plain(&seen(&guest, &format!("{task} up 10.0.2.15/24"), STEP));
    seen(&guest, "echo    | listening on 7", STEP);
    seen(&guest, "sink    | listening on 9", STEP);
    traffic(&guest, model, echo, sink);
    let lines = guest.lines();
    for bad in ["cannot start thread", "ndo_open failed", "open failed", "interrupt thread of line"] {
        assert!(!lines.iter().any(|l| l.contains(bad)), "`{bad}` on the console:\n{}", lines.join("\n"));
    }
    Some(up)
}

/// The rtl8139 with Linux's 8139cp (descriptor rings in DMA memory). Its
/// link is up when netd attaches it, so the DHCP lease (frames both ways,
/// the interrupt acknowledged) comes before the static fallback would.
#[test]
fn rtl8139_carries_echo_and_sink_on_fiasco() {
    if let Some(up) = check_nic_on_fiasco("rtl8139", "8139cp", "RTL-8139C+ at ") {
        assert!(up.contains("via dhcp"), "{up}");
    }
}

/// The ne2k_pci with Linux's ne2k-pci (programmed I/O through the ports io
/// mapped, no DMA).
#[test]
fn ne2k_pci_carries_echo_and_sink_on_fiasco() {
    check_nic_on_fiasco("ne2k_pci", "ne2k-pci", "RealTek RTL-8029(AS) found at ");
}

/// QEMU's e1000 (82540EM) with Linux's e1000 (descriptor rings in DMA
/// memory, registers in a 128 KiB BAR).
#[test]
fn e1000_carries_echo_and_sink_on_fiasco() {
    check_nic_on_fiasco("e1000", "e1000", "e1000 0000:00:00.0 eth0: (PCI:");
}

/// QEMU's virtio-net-pci (modern only, through the DMA API) with Linux's
/// virtio_net on Linux's virtio core: virtqueues in DMA memory with device
/// addresses from io's `Dma_space`, notifications through a register BAR,
/// and the interrupt through io's ICU after virtio_pci's MSI-X attempt falls
/// back to INTx. virtio_net prints nothing at probe, so the driver task's
/// line for its attachment stands for the probe.
#[test]
fn virtio_net_carries_echo_and_sink_on_fiasco() {
    if let Some(up) = check_nic_on_fiasco("virtio-net-pci", "virtio-net", "eth0 attached to netd: 52:54:00:12:34:56") {
        assert!(up.contains("via dhcp"), "{up}");
    }
}

/// Issue 12, step 3 (`system/fiasco-restart.toml`): the reincarnation server
/// starts the rtl8139's driver itself (factory, task, image, stack and the
/// driver's capabilities mapped in) and is its pager: the driver probes,
/// netd attaches it and 1 MiB echoes byte for byte. Then a 16 MiB stream to
/// sink survives two kills, a crash and a crash in the driver's interrupt
/// handler (page faults that reach the server as IPC, with their places), with its
/// sha256 intact and no reset: each new instance gets the same vbus and netd
/// gate, and netd keeps rings, addresses and connections.
#[test]
fn a_sink_stream_survives_kills_and_crashes_on_fiasco() {
    use sha2::{Digest, Sha256};
    use std::io::{BufRead, Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::time::Duration;
    let Some(l4re) = l4re() else { return };
    let (guest, [echo, sink, svc, _]) = boot_manifest(&l4re, "system/fiasco-restart.toml", "rtl8139");
    seen(&guest, "reincarn| supervising 1 drivers (their pager on Fiasco.OC)", STEP);
    let probe = fiasco::plain(&seen(&guest, "RTL-8139C+ at ", STEP));
    assert!(probe.starts_with("eth-8139| ") && probe.contains("52:54:00:12:34:56"), "{probe}");
    seen(&guest, "eth-8139cp: attached (#1) mac 52:54:00:12:34:56", STEP);
    seen(&guest, "eth-8139cp up 10.0.2.15/24", STEP);
    seen(&guest, "svc-net | listening on 23", STEP);
    seen(&guest, "sink    | listening on 9", STEP);
    echo_mib(&guest, echo, 0x5eed, "");

    let data = random_bytes(16 << 20, 0x1234_5678_9abc_def1);
    let want: String = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
    let mut s = TcpStream::connect(("127.0.0.1", sink)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(240))).unwrap();
    // Paced, so that the stream lasts while the driver is killed.
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        for chunk in data.chunks(64 << 10) {
            s.write_all(chunk)?;
            std::thread::sleep(Duration::from_millis(60));
        }
        s.shutdown(Shutdown::Write)?;
        let mut rest = Vec::new();
        s.read_to_end(&mut rest)?;
        Ok(())
    });
    let (ctl, mut answers) = svc_connect(svc);
    for (i, verb) in ["kill", "crash", "crash-irq", "kill"].iter().enumerate() {
        std::thread::sleep(Duration::from_millis(2500));
        (&ctl).write_all(format!("{verb} eth-8139cp\n").as_bytes()).unwrap();
        let mut answer = String::new();
        answers.read_line(&mut answer).unwrap();
        assert_eq!(answer.trim(), format!("ok {verb} eth-8139cp"), "{}", guest.tail(30));
        seen(&guest, &format!("eth-8139cp incarnation {} started", i + 2), STEP);
        seen(&guest, &format!("eth-8139cp: attached (#{})", i + 2), STEP);
    }
    sender.join().unwrap().expect("the host's TCP connection was never reset");
    let report = fiasco::plain(&seen(&guest, "sink    | received ", STEP));
    assert!(report.contains(&format!("received {} bytes sha256 {want}", 16 << 20)), "{report}");
    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    let failed: Vec<&String> = lines.iter().filter(|l| l.starts_with("reincarn| WARN eth-8139cp failed: ")).collect();
    assert_eq!(failed.len(), 4, "{failed:#?}");
    assert_eq!(failed.iter().filter(|l| l.ends_with("killed by operator")).count(), 2, "{failed:?}");
    // The crashes: page faults, on the main thread and in the interrupt
    // handler, reported through the pager gate with their places in the
    // image. The crash "now" is a fault, not a hang: the server, the
    // driver's pager, does not wait for an answer that never comes.
    let faults: Vec<&&String> =
        failed.iter().filter(|l| l.contains("failed: page-fault at ") && l.contains("(ip 0x")).collect();
    assert_eq!(faults.len(), 2, "{failed:?}");
    assert!(faults.iter().any(|l| l.contains("page-fault at dde_linux_shim::task::crash_now+")), "{failed:?}");
    assert!(!failed.iter().any(|l| l.contains("heartbeats")), "{failed:?}");
    assert_eq!(lines.iter().filter(|l| l.contains("driver back; rings, addresses and connections kept")).count(), 4);
    // `io.admin`: each dead instance's card stopped mastering the bus (read
    // back through io) before its memory went.
    let quiesced = "reincarn| eth-8139cp: its device's bus mastering is off until a driver enables it again";
    assert_eq!(lines.iter().filter(|l| l.as_str() == quiesced).count(), 4, "{}", guest.tail(40));
    assert!(!lines.iter().any(|l| l.contains("bus mastering could not be switched off")), "{}", guest.tail(40));
    // What happened, for the test's log (`--nocapture`).
    for l in lines
        .iter()
        .filter(|l| l.starts_with("reincarn|") || l.contains("attached (#") || l.starts_with("sink    | received"))
    {
        println!("{l}");
    }
}

/// The system Resurgo's kernel boots, system/default.toml, unchanged on
/// Fiasco.OC: the six drivers without a device end quietly, the shell reads
/// the serial console (the kernel's log object), the status page answers and
/// names the kernel, and a kill typed at the shell and one posted to the
/// status page with its token are restarts netd and echo do not notice; each
/// dead instance's card stops mastering the bus first.
#[test]
fn the_default_system_runs_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let (mut guest, [echo, _, http, _]) = boot_forwarding(&l4re, "system/default.toml", "rtl8139", [7, 9, 80, 23]);
    seen(&guest, "reincarn| supervising 7 drivers (their pager on Fiasco.OC); 2 svc clients", STEP);
    for driver in ["eth-e1000", "eth-e1000e", "eth-ne2k-pci", "eth-pcnet32", "eth-virtio", "eth-e100"] {
        seen(&guest, &format!("reincarn| {driver} exited: no device"), STEP);
    }
    seen(&guest, "eth-8139cp up 10.0.2.15/24", STEP);
    seen(&guest, "shell   | type `svc list` or `help`", STEP);
    seen(&guest, "httpd   | status page on port 80", STEP);
    echo_mib(&guest, echo, 0xdef0, " before the kills");

    guest.send_line("svc list").unwrap();
    let row = fiasco::plain(&seen(&guest, "shell   | eth-pcnet32 ", STEP));
    assert!(row.contains(" down ") && row.ends_with("exited: no device"), "{row}");

    let (code, body) = resurgo::svc::request_with(http, "GET", "/status.json", &[]).unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#""kernel":{"name":"Fiasco.OC""#), "{body}");
    assert!(body.contains(r#"{"name":"eth-8139cp","state":"running","incarnation":1,"#), "{body}");

    guest.send_line("svc kill eth-8139cp").unwrap();
    seen(&guest, "shell   | svc kill eth-8139cp: done", STEP);
    seen(&guest, "eth-8139cp: attached (#2)", STEP);
    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    let token = resurgo::svc::token_in_console(lines.iter().map(String::as_str)).expect("httpd's token");
    resurgo::svc::command(http, &token, "kill", "eth-8139cp").unwrap();
    seen(&guest, "eth-8139cp: attached (#3)", STEP);
    echo_mib(&guest, echo, 0xdef1, " after the kills");

    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    let quiesced = "reincarn| eth-8139cp: its device's bus mastering is off until a driver enables it again";
    assert_eq!(lines.iter().filter(|l| l.as_str() == quiesced).count(), 2, "{}", guest.tail(40));
    // The six that ended were not restarted, and no thread of a dead
    // instance ran on into its vanished address space.
    assert!(!lines.iter().any(|l| l.contains("incarnation 2 started") && !l.contains("eth-8139cp")), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("Pager of") || l.contains("FATAL")), "{}", guest.tail(40));
}

/// A driver thread that spins (its interrupt thread, made to hang by `svc
/// hang-irq`) is found by the reincarnation server's watch of the time its
/// threads consume, not by the heartbeats, which the driver's first thread
/// still answers: the driver is restarted as hung, and echo works again.
#[test]
fn a_driver_thread_that_spins_is_found_and_the_driver_restarted_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let (mut guest, [echo, _, _, _]) = boot_forwarding(&l4re, "system/default.toml", "rtl8139", [7, 9, 80, 23]);
    seen(&guest, "eth-8139cp up 10.0.2.15/24", STEP);
    seen(&guest, "shell   | type `svc list` or `help`", STEP);
    guest.send_line("svc hang-irq eth-8139cp").unwrap();
    seen(&guest, "shell   | svc hang-irq eth-8139cp: done", STEP);
    // Any interrupt now spins in the driver; a connection from the host makes one.
    let _ = std::net::TcpStream::connect_timeout(
        &format!("127.0.0.1:{echo}").parse().unwrap(),
        std::time::Duration::from_secs(2),
    );
    let failed = fiasco::plain(&seen(&guest, "reincarn| WARN eth-8139cp failed: ", STEP));
    assert!(
        failed.contains("failed: a thread ran 90 % or more of the last 2000 ms without waiting: hung (at "),
        "{failed}"
    );
    seen(&guest, "eth-8139cp: attached (#2)", STEP);
    echo_mib(&guest, echo, 0xdef2, " after the restart");
}

/// A hostile child announces one of its gates as a thread (a second thread
/// of it waits in the gate and never answers) and spins: the server's watch
/// reads the gate without waiting on it, and after 2 s restarts the child
/// as hung.
#[test]
fn a_gate_announced_as_a_thread_does_not_stop_the_watch_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let (guest, _) = boot_manifest(&l4re, "tests/manifests/fiasco-thread-liar.toml", "rtl8139");
    seen(&guest, "thread-liar: a gate announced as a thread; spinning", STEP);
    let failed = fiasco::plain(&seen(&guest, "reincarn| WARN thread-liar failed: ", STEP));
    assert!(failed.contains("a thread ran 90 % or more of the last 2000 ms without waiting: hung (at "), "{failed}");
    seen(&guest, "thread-liar incarnation 2 started", STEP);
}

/// A hostile child tries to take more than its manifest gives it (see
/// `apps/seam/src/bin/overreach.rs`): a scheduler of its own making is
/// refused, memory and kernel threads end at its own quotas, and its first
/// thread, asked to Fiasco.OC's highest priority, spins at its own level,
/// below the server, whose watch restarts it as hung. A later instance
/// takes as much memory again: the dead one's came back. The same image started by ned
/// (`hog`) is bounded the same way by ned's script, and spins at the
/// default level for good, below the server, which goes on restarting.
#[test]
fn a_child_takes_no_more_than_its_manifest_gives_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let (guest, _) = boot_manifest(&l4re, "tests/manifests/fiasco-overreach.toml", "rtl8139");
    let sched = fiasco::plain(&seen(&guest, "overreac| overreach: a scheduler of its own making: ", STEP));
    assert!(sched.contains("refused"), "{sched}");
    let number_after = |line: &str, key: &str| -> u32 {
        let rest = &line[line.find(key).unwrap_or_else(|| panic!("`{key}` in {line}")) + key.len()..];
        rest.split(' ').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("a number after `{key}`: {line}"))
    };
    let memory = fiasco::plain(&seen(&guest, "overreac| overreach: memory: ", STEP));
    // Twice its manifest's 8 MiB (an instance and the one before it), its
    // heap (2 MiB) and stacks among them.
    let mib = number_after(&memory, "memory: ");
    assert!((1..16).contains(&mib), "{memory}");
    assert!(memory.contains("MiB taken, then ") && !memory.contains("no more asked"), "{memory}");
    let threads = fiasco::plain(&seen(&guest, "overreac| overreach: kernel objects: ", STEP));
    // The kernel refused it at its own factory's quota (a thread object
    // takes more than a page of it), not at the end of its 1,024 slots.
    let n = number_after(&threads, "kernel objects: ");
    let quota = l4_sys::fiasco::limits::kernel_quota(4, 8 << 20);
    assert!(n >= 1 && u64::from(n) * 4096 <= quota, "{threads} (quota {quota} bytes)");
    assert!(threads.ends_with("then out of memory"), "{threads}");
    seen(&guest, "overreac| overreach: priority 255 asked", STEP);
    let failed = fiasco::plain(&seen(&guest, "reincarn| WARN overreach failed: ", STEP));
    assert!(failed.contains("a thread ran 90 % or more of the last 2000 ms without waiting: hung (at "), "{failed}");
    seen(&guest, "overreach incarnation 2 started", STEP);
    for (what, want) in [
        ("a scheduler of its own making: ", "refused"),
        ("memory: ", "MiB taken, then out of memory"),
        ("kernel objects: ", "threads made, then out of memory"),
    ] {
        let line = fiasco::plain(&seen(&guest, &format!("hog     | overreach: {what}"), STEP));
        assert!(line.contains(want), "{line}");
    }
    // ned's script gives it its manifest's 8 MiB, its heap among them.
    let hog = fiasco::plain(&seen(&guest, "hog     | overreach: memory: ", STEP));
    assert!((1..8).contains(&number_after(&hog, "memory: ")), "{hog}");
    seen(&guest, "hog     | overreach: priority 255 asked", STEP);
    // What a dead instance took goes back to the child's allocator once the
    // server has deleted it: a later instance takes as much again.
    let again =
        |l: &str| l.contains("overreac| overreach: memory: ") && number_after(&fiasco::plain(l), "memory: ") == mib;
    assert!(count_within(&guest, again, 2, STEP * 2) >= 2, "{}", guest.tail(60));
}

/// A driver whose probe always faults (`inject-probe-fault`) is restarted
/// with backoff and then held down by the reincarnation server on
/// Fiasco.OC, while netd and the rest keep running.
#[test]
fn a_driver_whose_probe_always_faults_is_held_down_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let (guest, _) = boot_manifest(&l4re, "tests/manifests/fiasco-probe-fault.toml", "rtl8139");
    let held = fiasco::plain(&seen(&guest, "reincarn| ERROR eth-8139cp held down after ", STEP));
    assert!(held.contains("page-fault at "), "{held}");
    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    let at = lines.iter().position(|l| l.contains("held down after")).unwrap();
    assert!(lines[..at].iter().any(|l| l.contains("failed again: restart in ")), "backoff first:\n{}", guest.tail(40));
    // It stays down: no instance starts in the next seconds, and the rest
    // keeps running (no other task ends; svc-net came up on netd).
    seen(&guest, "svc-net | listening on 23", STEP);
    std::thread::sleep(std::time::Duration::from_secs(5));
    let after: Vec<String> = guest.lines().iter().skip(at + 1).map(|l| fiasco::plain(l)).collect();
    assert!(
        !after.iter().any(|l| l.contains("eth-8139cp incarnation")),
        "restarted after the hold-down:\n{}",
        guest.tail(40)
    );
    for bad in ["netd    | exit", "echo    | exit", "sink    | exit", "svc-net | exit", "reincarn| exit"] {
        assert!(!guest.lines().iter().any(|l| fiasco::plain(l).contains(bad)), "`{bad}`:\n{}", guest.tail(40));
    }
}

/// One line to an svc-net and its answer (the console's end when none comes).
/// The managed-resource driver on Fiasco.OC: the firmware file its manifest
/// names reaches it whole from an archive the reincarnation server holds
/// (a ROM module ned grants it, passed on to the driver), an absent one is
/// Linux's -ENOENT, both again without waiting; then the failed probe's
/// managed resources go back, last taken first (the device memory mapping
/// among them, detached through the reincarnation server's region manager),
/// and the task ends with no device, not with a fault.
#[test]
fn a_driver_gets_its_firmware_and_releases_its_managed_resources_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let (guest, _) = boot_manifest(&l4re, "tests/manifests/devres.toml", "rtl8139");
    let [whole, nowait] = devresdemo_firmware_lines();
    seen(&guest, &format!("eth-devr| {whole}"), STEP);
    seen(&guest, "eth-devr| devresdemo: firmware resurgo/absent.fw: error -2, no file", STEP);
    seen(&guest, &format!("eth-devr| {nowait}"), STEP);
    seen(&guest, "eth-devr| devresdemo: BAR 1 mapped, the station address 52:54:00:12:34:56", STEP);
    seen(&guest, "eth-devr| devresdemo: released the first action", STEP);
    seen(
        &guest,
        "eth-devr| devresdemo: at the end the device is disabled, bus mastering off, BAR 1 free, its interrupt line free, managed no",
        STEP,
    );
    seen(&guest, "eth-devr| devresdemo: 10 managed resource(s) of the failed probe released", STEP);
    seen(&guest, "reincarn| eth-devres exited: no device", STEP);
    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    assert!(!lines.iter().any(|l| l.contains("eth-devres failed")), "a fault:\n{}", guest.tail(40));
}

/// 1 MiB of random bytes (from `seed`) through echo on `port` comes back
/// byte for byte; `when` names the moment in the messages.
fn echo_mib(guest: &resurgo::qemu::Guest, port: u16, seed: u64, when: &str) {
    let data = random_bytes(1 << 20, seed);
    let got = echo_round_trip(port, &data).unwrap_or_else(|e| panic!("echo stream{when}: {e}\n{}", guest.tail(30)));
    assert!(got == data, "echoed bytes differ{when} ({} of {})", got.len(), data.len());
}

/// A connection to svc-net on `port` and a line reader over it.
fn svc_connect(port: u16) -> (std::net::TcpStream, std::io::BufReader<std::net::TcpStream>) {
    let ctl = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    ctl.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let answers = std::io::BufReader::new(ctl.try_clone().unwrap());
    (ctl, answers)
}

fn svc_line(
    guest: &resurgo::qemu::Guest,
    ctl: &std::net::TcpStream,
    answers: &mut impl std::io::BufRead,
    line: &str,
) -> String {
    use std::io::Write;
    let mut w = ctl;
    w.write_all(format!("{line}\n").as_bytes()).unwrap();
    let mut answer = String::new();
    if let Err(e) = answers.read_line(&mut answer) {
        panic!("no answer to `{line}`: {e}\n{}", guest.tail(40));
    }
    answer.trim().to_string()
}

/// The manifest's `svc` grants hold on Fiasco.OC as on Resurgo's kernel
/// (`system/fiasco-restart.toml`): svc-ro, granted nothing, is refused
/// `kill`; svc-net, granted `kill` and `inject` on the driver, is refused
/// `restart` and `up` (the class `restart`) and may `kill`. Each refusal is the server's typed
/// error (`svc::Error::Denied`), logged with who asked for what, and leaves
/// the driver running.
#[test]
fn svc_verbs_need_the_manifests_grant_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let (guest, [_, _, granted, ungranted]) = boot_manifest(&l4re, "system/fiasco-restart.toml", "rtl8139");
    seen(&guest, "reincarn| supervising 1 drivers (their pager on Fiasco.OC); 2 svc clients", STEP);
    seen(&guest, "eth-8139cp: attached (#1) mac 52:54:00:12:34:56", STEP);
    seen(&guest, "eth-8139cp up 10.0.2.15/24", STEP);
    seen(&guest, "svc-net | listening on 23", STEP);
    seen(&guest, "svc-ro  | listening on 24", STEP);
    let (ro, mut ro_answers) = svc_connect(ungranted);
    let answer = svc_line(&guest, &ro, &mut ro_answers, "kill eth-8139cp");
    assert!(answer.starts_with("error kill eth-8139cp: "), "{answer}\n{}", guest.tail(30));
    let refused = fiasco::plain(&seen(&guest, "reincarn| WARN refused: svc-ro may not kill eth-8139cp", STEP));
    assert!(refused.contains("grants it no `svc.kill` on it"), "{refused}");
    seen(&guest, "svc-ro  | error kill eth-8139cp: not permitted by the manifest", STEP);

    let (rw, mut rw_answers) = svc_connect(granted);
    for verb in ["restart", "up"] {
        let answer = svc_line(&guest, &rw, &mut rw_answers, &format!("{verb} eth-8139cp"));
        assert!(answer.starts_with(&format!("error {verb} eth-8139cp: ")), "{answer}");
        let refused =
            fiasco::plain(&seen(&guest, &format!("reincarn| WARN refused: svc-net may not {verb} eth-8139cp"), STEP));
        assert!(refused.contains("grants it no `svc.restart` on it"), "{refused}");
        // The answer reaches the socket before the task's own log line
        // reaches the console: wait for the line before counting it.
        seen(&guest, &format!("svc-net | error {verb} eth-8139cp: not permitted by the manifest"), STEP);
    }
    // All three answered the same way, with the server's own error.
    let denied: Vec<String> = guest
        .lines()
        .iter()
        .map(|l| fiasco::plain(l))
        .filter(|l| l.contains("| error ") && l.contains(" eth-8139cp: "))
        .collect();
    assert_eq!(denied.len(), 3, "{denied:#?}");
    let why: std::collections::BTreeSet<&str> = denied.iter().filter_map(|l| l.split(": ").last()).collect();
    assert_eq!(why.len(), 1, "one typed error: {denied:#?}");
    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    assert!(!lines.iter().any(|l| l.contains("eth-8139cp failed") || l.contains("eth-8139cp is down")), "{lines:#?}");

    assert_eq!(svc_line(&guest, &rw, &mut rw_answers, "kill eth-8139cp"), "ok kill eth-8139cp", "{}", guest.tail(30));
    seen(&guest, "reincarn| WARN eth-8139cp failed: killed by operator", STEP);
    seen(&guest, "eth-8139cp incarnation 2 started", STEP);
    seen(&guest, "eth-8139cp: attached (#2)", STEP);
    for l in
        guest.lines().iter().map(|l| fiasco::plain(l)).filter(|l| l.starts_with("reincarn|") || l.contains("| error "))
    {
        println!("{l}");
    }
}

/// Issue 12, step 3, MINIX-style (`system/fiasco-minix.toml`, `[system]
/// restart = "minix"`): the data store runs on Fiasco.OC; each driver
/// instance announces its own rings and wake-up IRQ there, netd learns of it
/// through its subscription and attaches it. After a kill, the new instance
/// announces again and netd comes back through the store: rings formatted
/// afresh, frames in flight dropped, and the host's echo works again on a new
/// connection (a connection open across the kill may be reset, as with
/// MINIX-style restarts on Resurgo's kernel).
#[test]
fn netd_comes_back_through_the_data_store_after_a_minix_style_kill_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let (guest, [echo, _, svc, _]) = boot_manifest(&l4re, "system/fiasco-minix.toml", "rtl8139");
    let store = fiasco::plain(&seen(&guest, "datastor| ", STEP));
    assert!(store.contains(" clients; each may hold "), "{store}");
    seen(&guest, "eth-8139| MINIX-style: own rings announced in the data store; waiting for netd", STEP);
    seen(&guest, "eth-8139cp: attached (#1) mac 52:54:00:12:34:56", STEP);
    seen(&guest, "eth-8139cp up 10.0.2.15/24", STEP);
    seen(&guest, "echo    | listening on 7", STEP);
    seen(&guest, "svc-net | listening on 23", STEP);
    echo_mib(&guest, echo, 0x5eed, "");

    let (ctl, mut answers) = svc_connect(svc);
    assert_eq!(svc_line(&guest, &ctl, &mut answers, "kill eth-8139cp"), "ok kill eth-8139cp", "{}", guest.tail(30));
    seen(&guest, "eth-8139cp incarnation 2 started", STEP);
    let restart =
        fiasco::plain(&seen(&guest, "netd    | eth-8139cp: MINIX-style restart: rings formatted afresh", STEP));
    assert!(restart.ends_with("frames dropped (new instance learned from the data store)"), "{restart}");
    seen(&guest, "eth-8139cp: attached (#2)", STEP);

    echo_mib(&guest, echo, 0xbeef, " after the restart");
    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    let announced =
        lines.iter().filter(|l| l.starts_with("eth-8139| MINIX-style: own rings announced in the data store")).count();
    // Every instance announces, the first and each restart: one more restart
    // than the kill (CI once saw three announcements) must not fail the test,
    // an instance that announces twice or never must; the failure shows why
    // each restart happened.
    let restarts: Vec<&String> =
        lines.iter().filter(|l| l.contains("eth-8139cp incarnation ") && l.contains(" started (")).collect();
    assert!(!restarts.is_empty(), "no restart:\n{}", lines.join("\n"));
    assert_eq!(announced, 1 + restarts.len(), "each instance announces its rings; restarts: {restarts:#?}");
    for bad in
        ["without the data store", "announced rings refused", "cannot announce", "datastor| WARN", "netd    | exit"]
    {
        assert!(!lines.iter().any(|l| l.contains(bad)), "`{bad}` on the console:\n{}", lines.join("\n"));
    }
    for l in lines.iter().filter(|l| {
        l.starts_with("reincarn|")
            || l.starts_with("datastor|")
            || l.contains("MINIX-style")
            || l.contains("attached (#")
    }) {
        println!("{l}");
    }
}

/// `up --kernel fiasco --restart transparent` with fiasco-minix.toml: the
/// manifest's `[system] restart` overridden as on Resurgo's kernel. The
/// data store still runs, but the driver announces no rings of its own, and
/// after a kill netd keeps its rings and the echo stream works again.
#[test]
fn restart_flag_overrides_the_manifests_mode_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let minix = resurgo::workspace_root().join("system/fiasco-minix.toml");
    let manifest = resurgo::image::with_restart_mode(&minix, manifest::RestartMode::Transparent).unwrap();
    let (guest, [echo, _, svc, _]) = boot_manifest(&l4re, manifest.to_str().unwrap(), "rtl8139");
    seen(&guest, "datastor| ", STEP);
    seen(&guest, "eth-8139cp: attached (#1) mac 52:54:00:12:34:56", STEP);
    seen(&guest, "eth-8139cp up 10.0.2.15/24", STEP);
    seen(&guest, "svc-net | listening on 23", STEP);
    let (ctl, mut answers) = svc_connect(svc);
    assert_eq!(svc_line(&guest, &ctl, &mut answers, "kill eth-8139cp"), "ok kill eth-8139cp", "{}", guest.tail(30));
    seen(&guest, "eth-8139cp incarnation 2 started", STEP);
    seen(&guest, "driver back; rings, addresses and connections kept", STEP);
    seen(&guest, "eth-8139cp: attached (#2)", STEP);
    echo_mib(&guest, echo, 0xbeef, " after the restart");
    // fiasco-minix.toml gives the server no `debug`: svc-net's `poke` is refused.
    let answer = svc_line(&guest, &ctl, &mut answers, "poke eth-8139cp 401000:90");
    assert!(answer.starts_with("error poke eth-8139cp: "), "{answer}");
    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    assert!(!lines.iter().any(|l| l.contains("MINIX-style")), "{}", lines.join("\n"));
    for l in lines.iter().filter(|l| l.starts_with("reincarn|") || l.contains("attached (#")) {
        println!("{l}");
    }
}

/// The driver's entry point, from its ELF image (`e_entry`).
fn entry_of(image: &fiasco::FiascoImage, task: &str) -> u64 {
    let name = &image.system.tasks.iter().find(|t| t.name == task).unwrap().image;
    let path = &image.binaries.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no image {name}")).1;
    let elf = std::fs::read(path).unwrap();
    assert_eq!(&elf[..4], b"\x7fELF");
    u64::from_le_bytes(elf[24..32].try_into().unwrap())
}

/// `debug = true` on Fiasco.OC (`system/fiasco-restart.toml`): svc-net,
/// granted `inject`, patches the running driver's text through the
/// reincarnation server's mapping of its image (`poke NAME ADDR:HEX`) and
/// gets back the bytes replaced; patching them back returns its own. svc-ro,
/// granted nothing, is refused. The driver keeps running.
#[test]
fn svc_poke_patches_a_drivers_text_on_fiasco() {
    let Some(l4re) = l4re() else { return };
    let manifest = resurgo::workspace_root().join("system/fiasco-restart.toml");
    let image = fiasco::build(&manifest).unwrap_or_else(|e| panic!("{e:#}"));
    let entry = entry_of(&image, "eth-8139cp");
    let (guest, [echo, _, granted, ungranted]) = boot_manifest(&l4re, "system/fiasco-restart.toml", "rtl8139");
    seen(&guest, "eth-8139cp up 10.0.2.15/24", STEP);
    seen(&guest, "svc-net | listening on 23", STEP);
    seen(&guest, "svc-ro  | listening on 24", STEP);
    let (ro, mut ro_answers) = svc_connect(ungranted);
    let answer = svc_line(&guest, &ro, &mut ro_answers, &format!("poke eth-8139cp {entry:x}:cc"));
    assert!(answer.starts_with("error poke eth-8139cp: "), "{answer}\n{}", guest.tail(30));

    let (rw, mut rw_answers) = svc_connect(granted);
    let answer = svc_line(&guest, &rw, &mut rw_answers, &format!("poke eth-8139cp {entry:x}:90"));
    let prefix = format!("ok poke eth-8139cp {entry:#x}: was ");
    let old = answer.strip_prefix(&prefix).unwrap_or_else(|| panic!("{answer}\n{}", guest.tail(30))).to_string();
    assert_eq!(old.len(), 2, "{answer}");
    // The entry's first byte as the image has it.
    assert_ne!(old, "90", "{answer}");
    let answer = svc_line(&guest, &rw, &mut rw_answers, &format!("poke eth-8139cp {entry:x}:{old}"));
    assert_eq!(answer, format!("{prefix}90"), "{}", guest.tail(30));
    // Outside the text: refused.
    let answer = svc_line(&guest, &rw, &mut rw_answers, "poke eth-8139cp 10:90");
    assert!(answer.starts_with("error poke eth-8139cp: "), "{answer}");
    echo_mib(&guest, echo, 0x5eed, "");
    let lines: Vec<String> = guest.lines().iter().map(|l| fiasco::plain(l)).collect();
    assert!(!lines.iter().any(|l| l.contains("eth-8139cp failed")), "{}", lines.join("\n"));
    for l in lines.iter().filter(|l| l.contains("poke")) {
        println!("{l}");
    }
}

#[test]
fn a_short_fault_injection_campaign_leaves_fiasco_the_other_tasks_and_the_client_unharmed() {
    use resurgo::bench_restart::Mode;
    use resurgo::bench_swifi::{self, SwifiOptions, TrialOptions};
    let Some(l4re) = l4re() else { return };
    let opts = SwifiOptions {
        nics: vec!["rtl8139".into()],
        modes: Mode::ALL.to_vec(),
        faults: 500,
        minix_faults: 300,
        trial: TrialOptions { burst: 100, limit: std::time::Duration::from_millis(2_000) },
        seed: 7,
        machine: resurgo::qemu::Machine::Pc,
        fiasco: Some(l4re),
        progress: false,
    };
    let report = bench_swifi::run(&opts).unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(report.kernel, "fiasco");
    assert_campaign_unharmed(&opts, &report);
}
