//! The task's name, its named capabilities and values on Fiasco.OC.
//!
//! Capabilities by name are the L4Re environment's list (the `caps` table of
//! ned's `start`); the name is the program's (`rom/NAME` → `NAME`); values are
//! the program's `NAME=NUMBER` arguments (decimal, `0x` hex, or with a `K`,
//! `M` or `G` suffix), which ned's script passes after the program.

use super::{ARGC, ARGV};
use core::sync::atomic::Ordering;
use l4_sys::CapIdx;
use l4_sys::fiasco::Cap;
use l4_sys::fiasco::env::CapEntry;

/// Longest argument the runtime reads.
const ARG_MAX: usize = 256;
/// Most named capabilities the runtime reads.
const CAPS_MAX: usize = 64;

fn arg(i: u64) -> Option<&'static str> {
    let argv = ARGV.load(Ordering::Relaxed);
    if argv == 0 || i >= ARGC.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: argv[0..argc] are pointers to NUL-terminated strings the loader
    // put on the entry stack, which stays mapped and unchanged; at most ARG_MAX
    // bytes of each are read.
    unsafe {
        let p = *((argv + i * 8) as *const *const u8);
        if p.is_null() {
            return None;
        }
        let mut n = 0;
        while n < ARG_MAX && *p.add(n) != 0 {
            n += 1;
        }
        core::str::from_utf8(core::slice::from_raw_parts(p, n)).ok()
    }
}

/// The task's name: its program's file name.
pub fn name() -> &'static str {
    let prog = arg(0).unwrap_or("?");
    prog.rsplit('/').next().unwrap_or(prog)
}

pub(crate) fn entries() -> impl Iterator<Item = &'static CapEntry> {
    let caps = super::l4re_env().caps;
    (0..CAPS_MAX)
        .map(move |i| {
            if caps.is_null() {
                return None;
            }
            // SAFETY: the environment's list is an array ended by an entry with
            // flags !0 (`take_while` below stops there), mapped for the task's
            // life; at most CAPS_MAX entries are read.
            Some(unsafe { &*caps.add(i) })
        })
        .take_while(|e| e.is_some_and(|e| !e.is_end()))
        .flatten()
}

/// A capability the starter granted under `name`.
pub fn cap(name: &str) -> Option<CapIdx> {
    l4_sys::fiasco::env::find(entries(), name).map(Cap).filter(|c| c.is_valid()).map(Cap::idx)
}

/// A capability that must be there: a task started without it cannot work, and
/// says so in its exit reason.
pub fn require_cap(name: &str) -> CapIdx {
    match cap(name) {
        Some(c) => c,
        None => panic!("ned's script gives this task no capability named `{name}`"),
    }
}

/// Parses `123`, `0x7b`, `4K`, `16M`, `1G`.
pub fn parse_number(s: &str) -> Option<u64> {
    if let Some(hex) = s.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok();
    }
    let (digits, shift) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 10),
        b'M' | b'm' => (&s[..s.len() - 1], 20),
        b'G' | b'g' => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// A value the starter passed under `name` (an argument `name=value`).
pub fn value(name: &str) -> Option<u64> {
    let argc = ARGC.load(Ordering::Relaxed);
    (1..argc).filter_map(arg).find_map(|a| {
        let (k, v) = a.split_once('=')?;
        if k == name { parse_number(v) } else { None }
    })
}

/// Every value the starter passed (the arguments `name=value` whose value is
/// a number), by name.
pub fn values() -> impl Iterator<Item = (&'static str, u64)> {
    let argc = ARGC.load(Ordering::Relaxed);
    (1..argc).filter_map(arg).filter_map(|a| {
        let (k, v) = a.split_once('=')?;
        Some((k, parse_number(v)?))
    })
}

/// Every `name=text` argument the starter passed, numbers or not (a
/// supervisor reads the names of its children from them).
pub fn strings() -> impl Iterator<Item = (&'static str, &'static str)> {
    let argc = ARGC.load(Ordering::Relaxed);
    (1..argc).filter_map(arg).filter_map(|a| a.split_once('='))
}

/// Every named capability the starter granted, by name.
pub fn named_caps() -> impl Iterator<Item = (&'static str, CapIdx)> {
    entries().filter_map(|e| {
        let c = Cap(e.cap);
        Some((core::str::from_utf8(e.name()).ok()?, c)).filter(|_| c.is_valid()).map(|(n, c)| (n, c.idx()))
    })
}
