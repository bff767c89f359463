//! The guest shell: reads lines from the serial console ([`rt::console`]:
//! COM1's receive side on Resurgo's kernel, the kernel's log object on
//! Fiasco.OC), passes `svc` commands to the reincarnation server and `net`
//! commands to netd's `config` endpoint.
//!
//! ```text
//! svc list
//! svc restart|kill|down|up NAME
//! svc crash-irq|hang-irq|crash NAME     (fault injection)
//! svc poke NAME [@INCARNATION] ADDR:HEX [ADDR:HEX...]   (patch the driver's running text)
//! net show
//! net mtu N | net mac 52:54:00:12:34:56 | net promisc|allmulti on|off
//! net mc add|del 01:00:5e:00:00:fb
//! ```
//!
//! A `net` change is answered by netd at once; the shell then waits (up to
//! three seconds) until the driver has applied it and prints what the device
//! has.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use netapps::Mac;
use netapps::nicconfig::{Change, NicConfigClient, State};
use protocols::nicconfig::{IFF_ALLMULTI, IFF_PROMISC};
use reincarnation::client::{self, CallError};
use reincarnation::proto::svc;
use rt::Timeout;

rt::entry!(main);

/// The longest line the shell takes. A longer one is refused whole when it
/// ends, never run cut short (a `svc poke` cut short would patch other bytes).
const LINE_MAX: usize = 200;

fn main() {
    let mut console = match rt::console::Console::open() {
        Ok(c) => c,
        Err(e) => rt::exit(1, &alloc::format!("no console to read: {e}")),
    };
    rt::info!("type `svc list` or `help`");
    let mut line = String::new();
    // Characters beyond LINE_MAX in the line being typed.
    let mut over = 0usize;
    let mut keys = [0u8; 64];
    loop {
        let n = console.read(&mut keys, Timeout::Millis(1000));
        for &key in &keys[..n] {
            match key {
                b'\r' | b'\n' => {
                    if over > 0 {
                        rt::info!("line too long ({} characters, at most {}): not run", LINE_MAX + over, LINE_MAX);
                    } else if !line.trim().is_empty() {
                        run(line.trim());
                    }
                    line.clear();
                    over = 0;
                }
                8 | 0x7f if over > 0 => over -= 1,
                8 | 0x7f => {
                    line.pop();
                }
                c if (0x20..0x7f).contains(&c) && line.len() < LINE_MAX => line.push(c as char),
                c if (0x20..0x7f).contains(&c) => over += 1,
                _ => {}
            }
        }
    }
}

fn run(cmd: &str) {
    if cmd.split_whitespace().next() == Some("net") {
        return net(cmd);
    }
    let mut words = cmd.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("svc"), Some("list"), None) => list(),
        (Some("svc"), Some("poke"), Some(name)) => poke(name, words),
        (Some("svc"), Some(op), Some(name)) => {
            let Some((code, arg)) = svc::operation(op) else { return help() };
            let Some(rs) = client::server() else { return rt::info!("no reincarnation server") };
            match client::command(rs, code, name, arg) {
                Ok(()) => rt::info!("svc {} {}: done", op, name),
                Err(CallError::Server(svc::Error::NoService)) => rt::info!("svc {}: no service `{}`", op, name),
                Err(CallError::Server(svc::Error::State)) => {
                    rt::info!("svc {} {}: refused in its current state", op, name)
                }
                Err(e) => rt::info!("svc {} {}: {}", op, name, e),
            }
        }
        _ => help(),
    }
}

fn list() {
    let Some(rs) = client::server() else { return rt::info!("no reincarnation server") };
    rt::info!("{:<16} {:<10} {:>11} {:>8}  last fault", "driver", "state", "incarnation", "restarts");
    for s in client::list(rs) {
        rt::info!("{:<16} {:<10} {:>11} {:>8}  {}", s.name, s.state.name(), s.incarnation, s.restarts, s.last_cause);
    }
}

/// `svc poke NAME [@INCARNATION] ADDR:HEX...`: one line per patch, with the
/// bytes it replaced (what `resurgo bench swifi` reads back to check it hit
/// the driver's code). With `@K` only instance K is patched: once it has died
/// the rest of the line is refused, never applied to its successor.
fn poke<'a>(name: &str, patches: impl Iterator<Item = &'a str>) {
    let Some(rs) = client::server() else { return rt::info!("no reincarnation server") };
    let mut incarnation = 0;
    for word in patches {
        if let Some(k) = word.strip_prefix('@') {
            match k.parse() {
                Ok(k) => incarnation = k,
                Err(_) => return rt::info!("svc poke {}: `{}` is not @INCARNATION", name, word),
            }
            continue;
        }
        let Some((addr, (bytes, n))) = svc::parse_patch(word) else {
            return rt::info!(
                "svc poke {}: `{}` is not ADDR:HEX (hex address, 1 to {} hex bytes)",
                name,
                word,
                svc::POKE_MAX
            );
        };
        match client::poke(rs, name, incarnation, addr, &bytes[..n]) {
            Ok(old) => {
                let mut hex = String::new();
                for b in old {
                    let _ = core::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
                }
                rt::info!("svc poke {} {:#x}: was {}", name, addr, hex)
            }
            Err(CallError::Kernel(e)) => {
                rt::info!("svc poke {} {:#x}: refused by the kernel: {}", name, addr, e.as_str())
            }
            Err(CallError::Server(svc::Error::NoService)) => return rt::info!("svc poke: no service `{}`", name),
            Err(e) => return rt::info!("svc poke {}: {}", name, e),
        }
    }
}

fn help() {
    rt::info!(
        "svc list | svc restart|kill|down|up NAME | svc crash-irq|hang-irq|crash NAME | svc poke NAME ADDR:HEX..."
    );
    rt::info!("net show | net mtu N | net mac MAC | net promisc|allmulti on|off | net mc add|del MAC");
}

/// How long a `net` change waits for the driver.
const APPLY_WAIT_MS: u64 = 3000;

/// `net ...`: the NIC's configuration through netd.
fn net(cmd: &str) {
    let words: alloc::vec::Vec<&str> = cmd.split_whitespace().collect();
    let change = match words[1..] {
        ["show"] => None,
        ["mtu", n] => match n.parse() {
            Ok(n) => Some(Change::Mtu(n)),
            Err(_) => return rt::info!("{}: `{}` is not a number", cmd, n),
        },
        ["mac", m] => match Mac::parse(m) {
            Some(m) => Some(Change::Mac(m.0)),
            None => return rt::info!("{}: `{}` is not a MAC address like 52:54:00:12:34:56", cmd, m),
        },
        [flag @ ("promisc" | "allmulti"), v @ ("on" | "off")] => {
            Some(if flag == "promisc" { Change::Promisc(v == "on") } else { Change::AllMulti(v == "on") })
        }
        ["mc", op @ ("add" | "del"), m] => match Mac::parse(m) {
            Some(m) if op == "add" => Some(Change::McAdd(m.0)),
            Some(m) => Some(Change::McDel(m.0)),
            None => return rt::info!("{}: `{}` is not a MAC address like 01:00:5e:00:00:fb", cmd, m),
        },
        _ => return help(),
    };
    let c = match NicConfigClient::open() {
        Ok(c) => c,
        Err(e) => return rt::info!("{}: {}", cmd, e),
    };
    let Some(change) = change else {
        return match c.show() {
            Ok(s) => show(&s),
            Err(e) => rt::info!("{}: {}", cmd, e),
        };
    };
    let generation = match c.set(change) {
        Ok(g) => g,
        Err(e) => return rt::info!("{}: {}", cmd, e),
    };
    match c.wait_applied(generation, APPLY_WAIT_MS) {
        Ok(s) if s.show.applied < generation => {
            rt::info!("{}: accepted (generation {}), not applied by {} yet", cmd, generation, s.show.name())
        }
        Ok(s) if s.show.driver_error != 0 => {
            rt::info!("{}: the driver refused: error {} (generation {})", cmd, s.show.driver_error, generation);
            show(&s);
        }
        Ok(s) => {
            rt::info!("{}: applied by {} (generation {})", cmd, s.show.name(), generation);
            show(&s);
        }
        Err(e) => rt::info!("{}: accepted (generation {}), then {}", cmd, generation, e),
    }
}

fn on(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// What netd wants and what the device has.
fn show(s: &State) {
    let w = &s.show;
    rt::info!("net: {} generation {} applied {} incarnation {}", w.name(), w.generation, w.applied, w.incarnation);
    let mut mc = String::new();
    for m in s.multicast() {
        use core::fmt::Write;
        let _ = write!(mc, " {}", Mac(*m));
    }
    rt::info!(
        "net: wanted mtu {} mac {} promisc {} allmulti {} mc{}",
        w.mtu,
        Mac(w.mac),
        on(w.flags & IFF_PROMISC != 0),
        on(w.flags & IFF_ALLMULTI != 0),
        if mc.is_empty() { " none" } else { &mc }
    );
    rt::info!(
        "net: device mtu {} mac {} promisc {} allmulti {} mc {}{}",
        w.driver_mtu,
        Mac(w.driver_mac),
        on(w.driver_flags & IFF_PROMISC != 0),
        on(w.driver_flags & IFF_ALLMULTI != 0),
        w.driver_mc_count,
        if w.driver_error != 0 { alloc::format!(" (last change: error {})", w.driver_error) } else { String::new() }
    );
}
