//! Shared by the integration tests: build an image for a test manifest (once per
//! test binary), boot it, and read the `TEST name ok|FAIL key=value ...` lines
//! the guest tasks print.
#![allow(dead_code)]

use resurgo::image::{self, BuildOptions, Image};
use resurgo::qemu::{Guest, QemuConfig};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long a guest may take for one step; generous, CI machines are slow.
pub const STEP: Duration = Duration::from_secs(180);

/// The image for `tests/manifests/<name>.toml`, built once per test binary.
pub fn image(name: &str) -> Image {
    static CACHE: OnceLock<Mutex<HashMap<String, Image>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(img) = cache.lock().unwrap().get(name) {
        return img.clone();
    }
    // What building and booting need from the system, installed in one apt-get
    // run on a machine that lacks it (as `resurgo up` does).
    resurgo::deps::ensure(resurgo::deps::ALL).unwrap_or_else(|e| panic!("{e:#}"));
    let manifest = manifest_path(name);
    let img = image::build(&BuildOptions { manifest, progress: false })
        .unwrap_or_else(|e| panic!("building the image for {name}: {e:#}"));
    cache.lock().unwrap().insert(name.to_string(), img.clone());
    img
}

pub fn manifest_path(name: &str) -> PathBuf {
    resurgo::workspace_root().join("tests/manifests").join(format!("{name}.toml"))
}

pub fn boot(name: &str) -> Guest {
    boot_with(name, &QemuConfig::default())
}

pub fn boot_with(name: &str, cfg: &QemuConfig) -> Guest {
    Guest::boot(&image(name), cfg).unwrap_or_else(|e| panic!("booting {name}: {e:#}"))
}

/// One `TEST` line.
#[derive(Debug, Clone)]
pub struct TestLine {
    pub name: String,
    pub ok: bool,
    pub fields: BTreeMap<String, String>,
    pub raw: String,
}

impl TestLine {
    pub fn field(&self, key: &str) -> &str {
        self.fields.get(key).map(String::as_str).unwrap_or_else(|| panic!("no `{key}` in: {}", self.raw))
    }

    pub fn num(&self, key: &str) -> u64 {
        let v = self.field(key);
        let parsed = match v.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => v.parse(),
        };
        parsed.unwrap_or_else(|_| panic!("`{key}={v}` is not a number in: {}", self.raw))
    }
}

/// Parses `[task] TEST name ok|FAIL|event key=value ...`.
pub fn parse_test_line(line: &str) -> Option<TestLine> {
    let rest = &line[line.find("TEST ")? + 5..];
    let mut words = rest.split_whitespace();
    let name = words.next()?.to_string();
    let verdict = words.next()?;
    let mut fields = BTreeMap::new();
    for w in words {
        if let Some((k, v)) = w.split_once('=') {
            fields.insert(k.to_string(), v.to_string());
        }
    }
    Some(TestLine { name, ok: verdict == "ok", fields, raw: line.to_string() })
}

/// Waits for a line containing `done`, then returns every `TEST` line so far.
pub fn run_until(guest: &Guest, done: &str) -> Vec<TestLine> {
    guest.wait_line(done, STEP).unwrap_or_else(|e| panic!("{e:#}"));
    guest.lines().iter().filter_map(|l| parse_test_line(l)).collect()
}

/// The result named `name`, which must be `ok`.
pub fn passed<'a>(results: &'a [TestLine], name: &str) -> &'a TestLine {
    let t = results.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("no result for {name} in {results:#?}"));
    assert!(t.ok, "{name} failed in the guest: {}", t.raw);
    t
}

/// Waits until some line since boot contains `needle`, wherever the cursor of
/// `wait_for` stands (for lines whose order against others is not fixed).
pub fn seen(guest: &Guest, needle: &str, timeout: Duration) -> String {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(l) = guest.lines().into_iter().find(|l| l.contains(needle)) {
            return l;
        }
        assert!(std::time::Instant::now() < deadline, "no line with `{needle}`; last lines:\n{}", guest.tail(40));
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `want` lines since boot satisfy `is` (or `timeout` passes),
/// and returns how many do: for answers to lines typed all at once.
pub fn count_within(guest: &Guest, is: impl Fn(&str) -> bool, want: usize, timeout: Duration) -> usize {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let n = guest.lines().iter().filter(|l| is(l)).count();
        if n >= want || std::time::Instant::now() >= deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A host port nobody listens on right now.
pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct host ports nobody listens on right now (ports picked one at
/// a time can repeat).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let ports = resurgo::ports::free(N).expect("free host ports");
    ports.try_into().expect("N ports")
}

/// Sends `data` to the echo server forwarded to 127.0.0.1:`port`, shuts
/// the sending side, and returns what came back until the server closed.
pub fn echo_round_trip(port: u16, data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = s.try_clone()?;
    let got = std::thread::spawn(move || {
        let mut got = Vec::new();
        reader.read_to_end(&mut got).map(|_| got)
    });
    s.write_all(data)?;
    s.shutdown(std::net::Shutdown::Write)?;
    got.join().map_err(|_| std::io::Error::other("the reader thread panicked"))?
}

/// Sends `data` to 127.0.0.1:`port`, shuts the sending side and waits for
/// the peer to close (a sink).
pub fn send_all(port: u16, data: &[u8]) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
    s.write_all(data).unwrap();
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let _ = s.read_to_end(&mut Vec::new());
}

/// `n` pseudo-random bytes (xorshift from `seed`): data to send that no
/// offset or repetition bug can pass by accident.
pub fn random_bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// What devresdemo says of its firmware file (after the task's prefix): its
/// length, CRC-32 and first line, and the length again for the request
/// without waiting; from the committed file itself.
pub fn devresdemo_firmware_lines() -> [String; 2] {
    let fw = std::fs::read(resurgo::workspace_root().join("drivers-legacy/devresdemo/devresdemo.fw")).unwrap();
    let first = String::from_utf8_lossy(fw.split(|&b| b == b'\n').next().unwrap()).into_owned();
    [
        format!(
            "devresdemo: firmware resurgo/devresdemo.fw: {} bytes, crc32 {:08x}, \"{first}\"",
            fw.len(),
            crc32fast::hash(&fw)
        ),
        format!(
            "devresdemo: firmware without waiting: {} bytes on another thread, the absent file not found",
            fw.len()
        ),
    ]
}

/// What a `bench swifi` campaign must show on either kernel: every NIC's
/// faults made and patched as chosen, the driver broken at least once, none
/// of the outcomes the system promises never to have (in MINIX-style mode a
/// client may notice a restart), the echo stream intact, the services up at
/// the end, and faults in the Linux driver's, the shim's and DDEKit's code.
pub fn assert_campaign_unharmed(opts: &resurgo::bench_swifi::SwifiOptions, report: &resurgo::bench_swifi::SwifiReport) {
    use resurgo::bench_restart::Mode;
    use resurgo::bench_swifi::Outcome;
    let json = report.json();
    for (mode, nics) in &report.modes {
        for (nic, run) in nics {
            let what = format!("{} {nic}", mode.name());
            assert!(run.error.is_none(), "{what}: {:?}\n{}", run.error, report.table());
            let wanted = if *mode == Mode::Minix { opts.minix_faults } else { opts.faults };
            assert!(run.faults() >= wanted, "{what}\n{}", report.table());
            assert!(run.patches_applied > 0 && run.patches_refused == 0 && run.patch_mismatches == 0, "{what}: {json}");
            let promised = |o: &&Outcome| {
                o.forbidden()
                    && (*mode == Mode::Transparent || !matches!(o, Outcome::ClientError | Outcome::DataCorrupted))
            };
            for o in Outcome::ALL.iter().filter(promised) {
                assert_eq!(run.count(*o), 0, "{what}: {} in {json}", o.name());
            }
            let failures =
                run.count(Outcome::DriverCrash) + run.count(Outcome::DriverHang) + run.count(Outcome::DriverExit);
            assert!(
                failures > 0,
                "{what}: bursts of {} faults never broke the driver: {}",
                opts.trial.burst,
                report.table()
            );
            assert!(run.sha256_match && run.services_ok, "{what}\n{}", report.table());
            let t = run.text.unwrap();
            assert!(t.linux > 0 && t.shim > 0 && t.ddekit > 0, "{t:?}");
            for r in resurgo::swifi::Region::ALL {
                assert!(
                    run.faults_by_region.get(&r).copied().unwrap_or(0) > 0,
                    "{what}: no fault in {}: {json}",
                    r.name()
                );
            }
        }
    }
    assert!(report.clean(), "{}", report.table());
}
