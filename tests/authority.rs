//! Authority, attacked on purpose: tasks and HTTP clients ask the servers for
//! what the manifest does not grant them. Each test asserts that the attacker
//! is refused (or stops), that nothing changed, and that bystanders keep
//! working.

mod common;

use common::*;

#[test]
fn a_svc_grant_on_an_unsupervised_task_is_reported_with_its_place() {
    let err = resurgo::image::build(&resurgo::image::BuildOptions {
        manifest: manifest_path("bad-authority"),
        progress: false,
    })
    .expect_err("a grant on a task no svc server supervises")
    .to_string();
    let expected = "tests/manifests/bad-authority.toml:12:17: `svc.kill` of `shell` names `echo`, whose parent (`init`) is not a `svc` server `shell` uses (rs)";
    assert!(err.contains(expected), "expected `{expected}` in:\n{err}");
}

#[test]
fn every_svc_verb_without_a_grant_is_refused_and_changes_nothing() {
    let guest = boot("authority-svc");
    // The two attackers run side by side: wait for both, in either order.
    seen(&guest, "TEST authority.intruder done", STEP);
    seen(&guest, "TEST authority.operator done", STEP);
    let r: Vec<TestLine> = guest.lines().iter().filter_map(|l| parse_test_line(l)).collect();
    let verbs = ["restart", "kill", "down", "up", "crash", "crash-irq", "hang-irq", "complain", "poke"];
    for who in ["intruder", "operator"] {
        for verb in verbs {
            passed(&r, &format!("authority.{who}.{verb}_refused"));
        }
        passed(&r, &format!("authority.{who}.target_unchanged"));
        passed(&r, &format!("authority.{who}.bystanders_alive"));
    }
    passed(&r, "authority.operator_scoped");
    // The server says who was refused what, and never restarted `other`.
    seen(&guest, "[reincarnation] WARN refused: intruder may not kill other", STEP);
    assert!(
        !guest.lines().iter().any(|l| l.contains("other incarnation 2") || l.contains("WARN other failed")),
        "`other` was touched:\n{}",
        guest.tail(60)
    );
    seen(&guest, "[reincarnation] steady incarnation 2 started", STEP);
    // A task with the kernel capability as httpd has it cannot shut down.
    seen(&guest, "[init] intruder exited with status 1 shutdown refused", STEP);
    seen(&guest, "TEST authority.alive_after_shutdown_attempt", STEP);
    let r: Vec<TestLine> = guest.lines().iter().filter_map(|l| parse_test_line(l)).collect();
    passed(&r, "authority.kernel_read_only");
    passed(&r, "authority.alive_after_shutdown_attempt");
}

/// The default system with an rtl8139, the status page forwarded to a free
/// host port; returns the guest, that port and the operator token from the
/// console.
fn boot_default_with_status_page() -> (resurgo::qemu::Guest, u16, String) {
    let (guest, ports, token) = boot_default_with(&[80]);
    (guest, ports[0], token)
}

/// The default system with an rtl8139 and each of `guest_ports` forwarded
/// from a free host port (returned in the same order), and the token.
fn boot_default_with(guest_ports: &[u16]) -> (resurgo::qemu::Guest, Vec<u16>, String) {
    use resurgo::qemu::{Guest, NetConfig, QemuConfig};
    let ports = resurgo::ports::free(guest_ports.len()).expect("free host ports");
    let hostfwd = ports.iter().copied().zip(guest_ports.iter().copied()).collect();
    let cfg = QemuConfig { netdev: Some(NetConfig { model: "rtl8139".into(), hostfwd }), ..Default::default() };
    let image = resurgo::image::build(&resurgo::image::BuildOptions {
        manifest: resurgo::workspace_root().join("system/default.toml"),
        progress: false,
    })
    .unwrap();
    let guest = Guest::boot(&image, &cfg).unwrap();
    seen(&guest, "[httpd] status page on port 80", STEP);
    seen(&guest, "[netd] eth-8139cp up", STEP);
    seen(&guest, "[sink] listening on 9", STEP);
    seen(&guest, "[echo] listening on 7", STEP);
    let lines = guest.lines();
    let token = resurgo::svc::token_in_console(lines.iter().map(String::as_str)).expect("httpd printed its token");
    (guest, ports, token)
}

/// eth-8139cp's incarnation as the status page reports it.
fn incarnation(http: u16) -> u64 {
    let (code, body) = resurgo::svc::request_with(http, "GET", "/status.json", &[]).unwrap();
    assert_eq!(code, 200, "{body}");
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    status["drivers"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == "eth-8139cp"))
        .and_then(|d| d["incarnation"].as_u64())
        .unwrap_or_else(|| panic!("no eth-8139cp in {body}"))
}

/// What a request tries, its method and its extra headers.
type Attempt<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

#[test]
fn the_status_page_changes_nothing_without_the_token_or_across_origins() {
    use resurgo::svc::{TOKEN_HEADER, request_with};
    let (guest, http, token) = boot_default_with_status_page();
    assert_eq!(token.len(), 32, "128 bits in hex: {token}");
    let before = incarnation(http);
    let kill = "/svc/kill/eth-8139cp";
    let evil = [("Origin", "http://evil.example")];
    let attempts: [Attempt; 6] = [
        ("a plain GET", "GET", vec![]),
        ("no token", "POST", vec![]),
        ("a wrong token", "POST", vec![(TOKEN_HEADER, "0123456789abcdef0123456789abcdef")]),
        ("the token from another origin", "POST", vec![(TOKEN_HEADER, token.as_str()), evil[0]]),
        ("a cross-origin form", "POST", vec![evil[0], ("Content-Type", "application/x-www-form-urlencoded")]),
        ("the token as a query", "POST", vec![]),
    ];
    for (what, method, headers) in &attempts {
        let path = if *what == "the token as a query" { format!("{kill}?token={token}") } else { kill.to_string() };
        let (code, body) = request_with(http, method, &path, headers).unwrap();
        assert!(code == 403 || (*method == "GET" && code == 404), "{what}: {code} {body}");
        assert!(!body.contains("\"ok\":true"), "{what}: {body}");
    }
    assert_eq!(incarnation(http), before, "a refused request changed the driver");
    assert!(
        !guest.lines().iter().any(|l| l.contains("eth-8139cp failed")),
        "the driver was killed:\n{}",
        guest.tail(40)
    );
    seen(&guest, "[httpd] WARN refused: POST /svc/kill/eth-8139cp: cross-origin request refused", STEP);

    // With the token, from the page's own origin: the driver is killed and back.
    let origin = format!("http://127.0.0.1:{http}");
    let (code, body) =
        request_with(http, "POST", kill, &[(TOKEN_HEADER, token.as_str()), ("Origin", origin.as_str())]).unwrap();
    assert_eq!(code, 200, "{body}");
    seen(&guest, &format!("[reincarnation] eth-8139cp incarnation {} started", before + 1), STEP);
    // `resurgo svc` does the same with the token.
    resurgo::svc::command(http, &token, "restart", "eth-8139cp").unwrap();
    seen(&guest, &format!("[reincarnation] eth-8139cp incarnation {} started", before + 2), STEP);

    // And so does the command line, with the token from a saved console;
    // without one it says where the token is, and changes nothing.
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_resurgo"))
            .args(["svc", "--port", &http.to_string()])
            .args(args)
            .env_remove(resurgo::svc::TOKEN_ENV)
            .output()
            .unwrap()
    };
    let refused = cli(&["kill", "eth-8139cp"]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("--token") && why.contains("svc token"), "{why}");
    let saved = resurgo::image::target_dir().join(format!("authority-console-{http}.log"));
    std::fs::write(&saved, guest.lines().join("\n")).unwrap();
    let done = cli(&["--console", saved.to_str().unwrap(), "kill", "eth-8139cp"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(String::from_utf8_lossy(&done.stdout).contains("svc kill eth-8139cp: done"));
    seen(&guest, &format!("[reincarnation] eth-8139cp incarnation {} started", before + 3), STEP);
    let _ = std::fs::remove_file(&saved);
    assert_eq!(
        guest
            .lines()
            .iter()
            .filter(|l| l.contains("eth-8139cp failed") || l.contains("eth-8139cp incarnation"))
            .count(),
        5,
        "two kills and a restart, nothing else:\n{}",
        guest.tail(40)
    );
}

#[test]
fn a_driver_cannot_pass_on_or_publish_its_device_capabilities() {
    let cfg = resurgo::qemu::QemuConfig {
        extra_args: ["-netdev", "user,id=a", "-device", "rtl8139,netdev=a"].map(String::from).to_vec(),
        ..Default::default()
    };
    let guest = boot_with("authority-caps", &cfg);
    seen(&guest, "TEST caps.leaker done", STEP);
    seen(&guest, "TEST caps.gate_leaker done", STEP);
    seen(&guest, "TEST caps.thief done", STEP);
    let r: Vec<TestLine> = guest.lines().iter().filter_map(|l| parse_test_line(l)).collect();
    // The driver's own device works for it...
    passed(&r, "caps.own_device_works");
    // ...but no copy of any of its capabilities, or of a dataspace made from
    // its device memory, leaves it: 4 copies, 8 publications, 8 lookups.
    for (name, count) in [
        ("caps.copy_refused", 4),
        ("caps.publish_refused", 8),
        ("caps.lookup_finds_nothing", 10),
        ("caps.gate_not_passed_on", 2),
    ] {
        let lines: Vec<&TestLine> = r.iter().filter(|t| t.name == name).collect();
        assert_eq!(lines.len(), count, "{name}: {lines:#?}");
        for t in lines {
            assert!(t.ok, "{}", t.raw);
        }
    }
    // A task that fills its share of the store is refused with "quota
    // exceeded"; another task's writes still work.
    let flood = passed(&r, "store.flood_refused");
    assert!(flood.num("written") > 0, "{}", flood.raw);
    passed(&r, "store.bystander_writes");
}

#[test]
fn configuration_writes_outside_a_driver_s_fields_are_refused_by_io() {
    let cfg = resurgo::qemu::QemuConfig {
        // The e1000e, which no driver claims, has the capabilities none of
        // the four NICs has: io must find them at its scan.
        extra_args: [
            "-netdev",
            "user,id=a",
            "-device",
            "rtl8139,netdev=a",
            "-netdev",
            "user,id=b",
            "-device",
            "ne2k_pci,netdev=b",
            "-device",
            "e1000e,netdev=c",
            "-netdev",
            "user,id=c",
        ]
        .map(String::from)
        .to_vec(),
        ..Default::default()
    };
    let guest = boot_with("authority-pci", &cfg);
    seen(&guest, "[io] 00:03.0 10ec:8029 class 020000 irq 11 bar0 io 0xc100+0x100", STEP);
    seen(&guest, "TEST pci.hostile done", STEP);
    seen(&guest, "TEST pci.bystander done", STEP);
    let r: Vec<TestLine> = guest.lines().iter().filter_map(|l| parse_test_line(l)).collect();
    let refused: Vec<&TestLine> = r.iter().filter(|t| t.name == "pci.write_refused").collect();
    assert_eq!(refused.len(), 8, "{refused:#?}");
    for t in refused {
        assert!(t.ok, "{}", t.raw);
    }
    passed(&r, "pci.command_filtered");
    passed(&r, "pci.cache_line_allowed");
    passed(&r, "pci.header_unchanged");
    passed(&r, "pci.bystander_ok");
    seen(&guest, "[io] WARN refused: pci-hostile writing 0xc101 to config offset 0x10 of 00:02.0: a BAR", STEP);
    // What io refuses in capabilities (protocols::pci_config's unit tests),
    // it finds on a device that has them.
    seen(&guest, "caps pm@0xc8 msi@0xd0 pcie@0xe0 msi-x@0xa0", STEP);
}

#[test]
fn a_driver_writing_garbage_into_its_rings_cannot_stop_netd() {
    let guest = boot("authority-rings");
    seen(&guest, "TEST ring.vandal done", STEP);
    seen(&guest, "TEST ring.prober done", STEP);
    let r: Vec<TestLine> = guest.lines().iter().filter_map(|l| parse_test_line(l)).collect();
    assert!(passed(&r, "ring.vandal").num("bursts") > 100, "the attack ran");
    passed(&r, "ring.successor_attaches");
    seen(&guest, "[netd] WARN ring-vandal: the ring header's geometry had been overwritten", STEP);
    // ...and the rings it left impossible work again for the driver that
    // behaves: netd's answer to its ARP request comes out of the tx ring.
    passed(&r, "ring.recovered");
    seen(&guest, "[netd] WARN ring-vandal: the driver's tx indices cannot be: reset", STEP);
    let p = passed(&r, "ring.netd_kept_answering");
    assert!(p.num("calls") >= 40, "{}", p.raw);
    assert!(
        !guest
            .lines()
            .iter()
            .any(|l| l.starts_with("[init] netd") || l.contains("[netd] PANIC") || l.contains("[netd] ERROR")),
        "netd stopped or panicked:\n{}",
        guest.tail(40)
    );
    // What the driver wrote into its header is reported, not echoed line by
    // line onto the console (the first 20, then every 100th).
    let noise = guest.lines().iter().filter(|l| l.starts_with("[netd]") && l.contains("ring-vandal:")).count();
    assert!(noise < 60, "{noise} lines of netd about the vandal");
    seen(&guest, "[netd] WARN ring-vandal: the driver's rx ring claims", STEP);
    // The hostile application beside it: its listener flood is refused once
    // its share of netd's sockets is used, with that error, and every other
    // bad request gets its own; the prober's calls above were answered
    // throughout.
    seen(&guest, "TEST net.probe done", STEP);
    let r: Vec<TestLine> = guest.lines().iter().filter_map(|l| parse_test_line(l)).collect();
    // (The probe itself checks that the refusal is netd's "too many" or "no
    // memory" error, and that netd answers right after.)
    let flood = passed(&r, "net.listener_flood");
    assert!(flood.num("opened") > 0, "{}", flood.raw);
    for t in r.iter().filter(|t| t.name.starts_with("net.") && t.name != "net.probe") {
        assert!(t.ok, "{}", t.raw);
    }
}

#[test]
fn without_svc_grants_the_status_page_only_shows() {
    use resurgo::qemu::{NetConfig, QemuConfig};
    use resurgo::svc::{TOKEN_HEADER, request_with};
    let http = free_port();
    let cfg = QemuConfig {
        netdev: Some(NetConfig { model: "rtl8139".into(), hostfwd: vec![(http, 80)] }),
        ..Default::default()
    };
    let guest = boot_with("authority-page", &cfg);
    seen(&guest, "[httpd] no svc grants in the manifest: the status page only shows", STEP);
    seen(&guest, "[netd] eth-8139cp up", STEP);
    let before = incarnation(http);
    for verb in ["kill", "restart", "down", "crash"] {
        let path = format!("/svc/{verb}/eth-8139cp");
        let (code, body) =
            request_with(http, "POST", &path, &[(TOKEN_HEADER, "0123456789abcdef0123456789abcdef")]).unwrap();
        assert_eq!(code, 403, "{verb}: {body}");
        assert!(body.contains("write verbs are off"), "{verb}: {body}");
    }
    assert_eq!(incarnation(http), before);
    assert!(!guest.lines().iter().any(|l| l.contains("svc token")), "a token without grants");
    assert!(!guest.lines().iter().any(|l| l.contains("eth-8139cp failed")), "{}", guest.tail(30));
}

#[test]
fn silent_clients_and_a_connection_flood_leave_the_bystanders_working() {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::time::{Duration, Instant};
    let (guest, ports, _) = boot_default_with(&[80, 7, 9]);
    let (http, echo, sink) = (ports[0], ports[1], ports[2]);
    // More silent connections to the status page than its listener's
    // backlog holds (httpd serves one at a time: it used to wait for the first
    // one's request forever), and more connections to echo than its share of
    // netd's sockets; none of them says anything.
    let silent: Vec<TcpStream> = (0..6).map(|_| TcpStream::connect(("127.0.0.1", http)).unwrap()).collect();
    let flood: Vec<TcpStream> = (0..80).filter_map(|_| TcpStream::connect(("127.0.0.1", echo)).ok()).collect();
    assert!(flood.len() > 64, "only {} connections", flood.len());
    std::thread::sleep(Duration::from_millis(500));
    // The status page answers (after the silent ones' second each), the sink
    // takes a stream whole.
    let t0 = Instant::now();
    let (code, body) = resurgo::svc::request_with(http, "GET", "/status.json", &[]).unwrap();
    assert_eq!(code, 200, "{body}");
    assert!(t0.elapsed() < Duration::from_secs(30), "answered after {:?}", t0.elapsed());
    seen(&guest, "[httpd] WARN dropped a connection that sent no request within", STEP);
    let data = random_bytes(256 << 10, 7);
    let mut s = TcpStream::connect(("127.0.0.1", sink)).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(&data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let digest = format!("{:x}", Sha256::digest(&data));
    seen(&guest, &format!("received {} bytes sha256 {digest}", data.len()), STEP);
    // Once they are gone, the page answers at once and echo serves again.
    drop(silent);
    drop(flood);
    let t1 = Instant::now();
    let (code, _) = resurgo::svc::request_with(http, "GET", "/status.json", &[]).unwrap();
    assert_eq!(code, 200);
    assert!(t1.elapsed() < Duration::from_secs(5), "{:?}", t1.elapsed());
    // The flood's connections are closed one by one first: a new one may be
    // reset while echo's backlog is still full of them.
    let echoed = |port: u16| -> std::io::Result<Vec<u8>> {
        let mut e = TcpStream::connect(("127.0.0.1", port))?;
        e.set_read_timeout(Some(Duration::from_secs(10)))?;
        e.write_all(b"still here\n")?;
        let mut back = [0u8; 11];
        e.read_exact(&mut back)?;
        Ok(back.to_vec())
    };
    let t2 = Instant::now();
    let back = loop {
        match echoed(echo) {
            Ok(b) => break b,
            Err(e) if t2.elapsed() < Duration::from_secs(20) => eprintln!("echo not yet: {e}"),
            Err(e) => panic!("echo did not come back in 20 s: {e}\n{}", guest.tail(30)),
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(back, b"still here\n");
    assert!(!guest.lines().iter().any(|l| l.starts_with("[init] netd") || l.contains("PANIC")), "{}", guest.tail(30));
}
