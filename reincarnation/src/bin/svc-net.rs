//! svc-net: the reincarnation server's operator verbs over TCP, for a
//! system without a console shell (Resurgo on Fiasco.OC, whose serial line
//! the kernel owns). A client connects to port 23 (or the task's `port`
//! value) and sends lines `VERB
//! NAME` (`kill`, `restart`, `down`, `up`, `crash-irq`, `hang-irq`, `crash`,
//! as `svc VERB NAME` in the shell, and `poke NAME ADDR:HEX`, as `svc
//! poke`); each is answered `ok VERB NAME` (`ok poke NAME ADDR: was HEX`) or
//! `error VERB NAME: WHY`. It reaches the server through the one gate its
//! manifest grants (`uses = ["reincarnation.svc"]`, named `svc` on
//! Fiasco.OC); the server allows it the verbs its manifest entry's `svc`
//! table grants and answers the rest `denied`.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use netapps::Net;
use reincarnation::client;
use reincarnation::proto::svc;

rt::entry!(main);

/// The port unless the manifest gives one (`values = { port = N }`).
const PORT: u16 = 23;

fn main() {
    // `svc` on Fiasco.OC, whose capability names are at most 16 bytes.
    let Some(rs) = reincarnation::client::server() else { rt::exit(1, "no gate to the reincarnation server") };
    let net = match Net::open() {
        Ok(n) => n,
        Err(e) => netapps::fail("netd", e),
    };
    let port = rt::env::value("port").and_then(|p| u16::try_from(p).ok()).unwrap_or(PORT);
    let listener = match net.listen(port, 1) {
        Ok(l) => l,
        Err(e) => netapps::fail("listen", e),
    };
    rt::info!("listening on {}", port);
    let mut buf = [0u8; 256];
    loop {
        let mut conn = match net.accept(&listener) {
            Ok(c) => c,
            Err(e) => {
                rt::warn!("accept: {e}");
                rt::time::sleep_ms(100);
                continue;
            }
        };
        let mut line: Vec<u8> = Vec::new();
        'conn: loop {
            let n = match conn.read(&mut buf) {
                Ok(0) => break,
                Err(e) => {
                    rt::warn!("read: {e}");
                    break;
                }
                Ok(n) => n,
            };
            for &b in &buf[..n] {
                if b != b'\n' {
                    if line.len() < 128 {
                        line.push(b);
                    }
                    continue;
                }
                let text = core::str::from_utf8(&line).unwrap_or("").trim();
                let answer = match text.split_once(' ') {
                    Some(("poke", rest)) => poke(rs, rest.trim()),
                    Some((verb, name)) => match svc::operation(verb) {
                        Some((op, arg)) => match client::command(rs, op, name.trim(), arg) {
                            Ok(()) => format!("ok {verb} {}\n", name.trim()),
                            Err(e) => format!("error {verb} {}: {e}\n", name.trim()),
                        },
                        None => format!("error {verb}: no such verb\n"),
                    },
                    None => format!("error `{text}`: expected VERB NAME\n"),
                };
                rt::info!("{}", answer.trim_end());
                line.clear();
                if conn.write_all(answer.as_bytes()).is_err() {
                    break 'conn;
                }
            }
        }
        let _ = conn.close();
    }
}

/// `poke NAME ADDR:HEX`: patches the running instance's text at ADDR (hex)
/// with the bytes HEX (`svc::POKE`), answered with the bytes replaced.
fn poke(rs: rt::CapIdx, rest: &str) -> alloc::string::String {
    let Some((name, patch)) = rest.split_once(' ') else {
        return format!("error poke {rest}: expected NAME ADDR:HEX\n");
    };
    let parsed = patch.trim().split_once(':').and_then(|(a, h)| {
        let addr = u64::from_str_radix(a.trim_start_matches("0x"), 16).ok()?;
        let bytes: Option<Vec<u8>> =
            (0..h.len()).step_by(2).map(|i| h.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok())).collect();
        bytes.filter(|b| !b.is_empty() && b.len() <= svc::POKE_MAX).map(|b| (addr, b))
    });
    let Some((addr, bytes)) = parsed else {
        return format!("error poke {name}: `{}` is not ADDR:HEX (1 to {} bytes)\n", patch.trim(), svc::POKE_MAX);
    };
    match client::poke(rs, name, 0, addr, &bytes) {
        Ok(old) => {
            let was: alloc::string::String = old.iter().map(|b| format!("{b:02x}")).collect();
            format!("ok poke {name} {addr:#x}: was {was}\n")
        }
        Err(e) => format!("error poke {name}: {e}\n"),
    }
}
