//! A NIC's configuration survives its driver's restart: changes made on the
//! console (MTU, MAC address, multicast list, promiscuous mode) reach the
//! unmodified Linux 8139cp driver through netd and the DDE layer, which records
//! them in the data store and replays them into the driver's next incarnation,
//! in both restart modes. TCP from the host keeps working across the MAC
//! change and the restarts.

mod common;

use common::*;
use resurgo::qemu::{Guest, NetConfig, QemuConfig};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const NEW_MAC: &str = "52:54:00:aa:bb:cc";
const GROUP: &str = "01:00:5e:00:00:fb";

/// Boots system/default.toml (in `mode`) with QEMU's rtl8139; returns the
/// guest and the host port forwarded to echo.
fn boot_default(mode: manifest::RestartMode) -> (Guest, u16) {
    let echo = free_port();
    let cfg = QemuConfig {
        netdev: Some(NetConfig { model: "rtl8139".into(), hostfwd: vec![(echo, 7)] }),
        ..Default::default()
    };
    let default = resurgo::workspace_root().join("system/default.toml");
    let manifest = match mode {
        manifest::RestartMode::Transparent => default,
        m => resurgo::image::with_restart_mode(&default, m).unwrap(),
    };
    let image = resurgo::image::build(&resurgo::image::BuildOptions { manifest, progress: false }).unwrap();
    let guest = Guest::boot(&image, &cfg).unwrap();
    seen(&guest, "[echo] listening on 7", STEP);
    seen(&guest, "[netd] eth-8139cp up 10.0.2.15", STEP);
    seen(&guest, "[shell] type `svc list`", STEP);
    (guest, echo)
}

/// The first line after line `from` that contains `needle`.
fn line_after(guest: &Guest, from: usize, needle: &str) -> String {
    let deadline = Instant::now() + STEP;
    loop {
        if let Some(l) = guest.lines().into_iter().skip(from).find(|l| l.contains(needle)) {
            return l;
        }
        assert!(
            Instant::now() < deadline,
            "no line with `{needle}` after line {from}; last lines:\n{}",
            guest.tail(40)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Types `cmd` on the console and waits for a line containing `needle` after it.
fn console(guest: &mut Guest, cmd: &str, needle: &str) -> String {
    let from = guest.lines().len();
    guest.send_line(cmd).unwrap();
    line_after(guest, from, needle)
}

/// Bytes through the echo server and back, byte for byte.
fn echo(port: u16, seed: u8) {
    let data: Vec<u8> = (0..64 << 10).map(|i: u32| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut reader = s.try_clone().unwrap();
    let expect = data.len();
    let got = std::thread::spawn(move || {
        let mut got = vec![0u8; expect];
        reader.read_exact(&mut got).map(|_| got)
    });
    s.write_all(&data).unwrap();
    let got = got.join().unwrap().expect("the echo came back");
    assert!(got == data, "echoed bytes differ");
}

/// What `net show` prints for the device with this configuration.
fn device_line(mtu: u32, mac: &str, promisc: &str, mc: usize) -> String {
    format!("net: device mtu {mtu} mac {mac} promisc {promisc} allmulti off mc {mc}")
}

/// Changes the configuration on the console and checks the driver applied
/// each change (its own log, and what it reports back through netd).
fn configure(guest: &mut Guest) {
    console(guest, "net mtu 1400", "net mtu 1400: applied by eth-8139cp");
    line_after(guest, 0, "[eth-8139cp] config: mtu 1500 -> 1400 (dev->mtu now 1400)");
    line_after(guest, 0, "[netd] eth-8139cp: interface MTU 1500 -> 1400");
    console(guest, &format!("net mac {NEW_MAC}"), &device_line(1400, NEW_MAC, "off", 0));
    line_after(guest, 0, &format!("[eth-8139cp] config: mac 52:54:00:12:34:56 -> {NEW_MAC} (dev_addr now {NEW_MAC})"));
    line_after(guest, 0, &format!("[netd] eth-8139cp: interface MAC 52:54:00:12:34:56 -> {NEW_MAC}"));
    console(guest, &format!("net mc add {GROUP}"), &device_line(1400, NEW_MAC, "off", 1));
    console(guest, "net promisc on", &device_line(1400, NEW_MAC, "on", 1));
    line_after(
        guest,
        0,
        "[eth-8139cp] config: rx mode promisc on, allmulti off, 1 multicast address (dev->flags promisc on",
    );
    line_after(
        guest,
        0,
        &format!("[eth-8139cp] config: recorded v1 generation=8 mtu=1400 mac={NEW_MAC} flags=0x100 mc={GROUP}"),
    );
}

/// Kills the driver and checks its next incarnation replayed the configuration.
fn kill_and_check_replay(guest: &mut Guest, incarnation: u32, promisc: &str) {
    let from = guest.lines().len();
    guest.send_line("svc kill eth-8139cp").unwrap();
    line_after(guest, from, &format!("eth-8139cp incarnation {incarnation} started"));
    line_after(
        guest,
        from,
        &format!(
            "[eth-8139cp] config: replayed mtu 1400, mac {NEW_MAC}, promisc {promisc}, allmulti off, 1 multicast address into incarnation {incarnation}"
        ),
    );
    // The device came up with the replayed address: attached with it.
    line_after(guest, from, &format!("[netd] eth-8139cp: attached (#{incarnation}) mac {NEW_MAC}"));
    let show = console(guest, "net show", "net: device mtu");
    assert_eq!(show.trim_start_matches("[shell] "), device_line(1400, NEW_MAC, promisc, 1), "{}", guest.tail(30));
    let lines = guest.lines();
    assert!(!lines[from..].iter().any(|l| l.contains("attached again with MAC")), "{}", guest.tail(40));
    // Everything came from the record: nothing was left to apply after it.
    let replayed = from + lines[from..].iter().position(|l| l.contains("config: replayed")).unwrap();
    let changes = ["[eth-8139cp] config: mtu", "[eth-8139cp] config: mac", "[eth-8139cp] config: rx mode"];
    assert!(!lines[replayed..].iter().any(|l| changes.iter().any(|c| l.contains(c))), "{}", guest.tail(40));
}

#[test]
fn configuration_is_replayed_into_a_restarted_driver() {
    let (mut guest, port) = boot_default(manifest::RestartMode::Transparent);
    echo(port, 1);

    // Bad requests are refused with a reason, and change nothing.
    console(&mut guest, "net mtu 20000", "net mtu 20000: refused: MTU out of range 68..=1500");
    console(&mut guest, "net mtu 1400x", "net mtu 1400x: `1400x` is not a number");
    console(&mut guest, "net mac 01:00:5e:00:00:01", "refused: not a unicast MAC address");
    console(&mut guest, "net mac 52:54:00:aa:bb", "is not a MAC address like");
    console(&mut guest, "net mc add 52:54:00:12:34:56", "refused: not a multicast MAC address");
    console(&mut guest, "net mc del 01:00:5e:00:00:01", "refused: not in the multicast list");
    console(&mut guest, "net show", "net: wanted mtu 1500 mac 52:54:00:12:34:56 promisc off allmulti off mc none");
    line_after(&guest, 0, "net: eth-8139cp generation 0 applied 0");

    configure(&mut guest);
    console(&mut guest, &format!("net mc add {GROUP}"), "refused: already in the multicast list");
    // The device answers at its new address, without promiscuous mode.
    console(&mut guest, "net promisc off", &device_line(1400, NEW_MAC, "off", 1));
    echo(port, 2);
    console(&mut guest, "net promisc on", &device_line(1400, NEW_MAC, "on", 1));

    kill_and_check_replay(&mut guest, 2, "on");
    echo(port, 3);

    // Once more with promiscuous mode off, so that only the replayed address
    // lets frames for it in.
    console(&mut guest, "net promisc off", &device_line(1400, NEW_MAC, "off", 1));
    kill_and_check_replay(&mut guest, 3, "off");
    echo(port, 4);
}

#[test]
fn configuration_is_replayed_after_a_minix_style_restart() {
    let (mut guest, port) = boot_default(manifest::RestartMode::Minix);
    configure(&mut guest);
    echo(port, 5);
    kill_and_check_replay(&mut guest, 2, "on");
    // The new instance owns its rings and announced them in the data store,
    // which is where netd learned of it.
    let lines = guest.lines();
    let announced = lines
        .iter()
        .filter(|l| l.starts_with("[eth-8139cp] MINIX-style: own rings announced in the data store"))
        .count();
    assert_eq!(announced, 2, "each instance announces its rings");
    let restart = line_after(&guest, 0, "[netd] eth-8139cp: MINIX-style restart: rings formatted afresh");
    assert!(restart.ends_with("frames dropped (new instance learned from the data store)"), "{restart}");
    echo(port, 6);
}
