//! A NIC driver that writes garbage into its rings with netd, and a bystander
//! that keeps calling netd while it does.
//!
//! `mode = 0` (the vandal) attaches to netd like a driver, so its rings are
//! netd's interface, then for `seconds` overwrites the whole ring header
//! (indices, lengths, wake flags, link, MAC, MTU, the configuration echo) and
//! the slots (frame lengths, bytes) with pseudo-random words, in bursts, and
//! triggers netd after each. `mode = 1` (the prober) opens a socket session,
//! then calls netd every 100 ms with a 2 s timeout until the vandal is done,
//! and finally listens on a port: netd must have answered every call.
#![no_std]
#![no_main]

use netapps::Net;
use protocols::nic;
use protocols::socket as sock;
use rt::obj::{Dataspace, Irq};
use rt::{CapIdx, MsgTag, Timeout, ipc};
use selftest::check;

rt::entry!(main);

/// Where the vandal says it is finished (a value the prober cannot see
/// otherwise: the prober simply runs longer than the attack).
fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn main() {
    let seconds = rt::env::value("seconds").unwrap_or(4);
    if rt::env::value("mode") == Some(1) {
        return prober(seconds);
    }
    let netd = rt::env::require_cap("netd.nic");
    let slots: [CapIdx; 3] = core::array::from_fn(|_| rt::cap::alloc().expect("slot"));
    for (i, s) in slots.iter().enumerate() {
        ipc::utcb().br[i] = s.selector();
    }
    let mr = ipc::mr();
    mr[0] = nic::mac_to_word([0x52, 0x54, 0x00, 0x66, 0x66, 0x66]);
    mr[1] = 1500;
    mr[2] = 1;
    let r = ipc::call(netd, MsgTag::new(nic::ATTACH, 3, 0), Timeout::Millis(5000));
    let Ok(r) = r.map(|m| m.tag) else {
        rt::error!("TEST ring.vandal FAIL netd did not answer the attach: {:?}", r.err());
        return;
    };
    if r.items() != 3 {
        rt::error!("TEST ring.vandal FAIL attach refused: {:#x}", ipc::mr()[0]);
        return;
    }
    let size = ipc::mr()[0];
    let to_netd = Irq(slots[2]);
    let base = rt::mem::attach(&Dataspace(slots[0]), size, true).expect("map the rings");
    let words = (size / 8) as usize;
    let header_words = netring::HEADER_BYTES / 8;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let t0 = rt::time::ticks();
    let mut bursts = 0u64;
    while rt::time::ticks() - t0 < seconds * 1000 {
        for _ in 0..256 {
            let r = xorshift(&mut x);
            // Half the writes into the header (indices, flags, report), half
            // anywhere in the slots (frame lengths and bytes).
            let at = if r & 1 == 0 { (r >> 8) as usize % header_words } else { (r >> 8) as usize % words };
            let value = match (r >> 4) & 3 {
                0 => xorshift(&mut x),
                1 => xorshift(&mut x) & 0xffff_ffff_0000_0000 | 0xffff_ffff,
                2 => (xorshift(&mut x) & 0x1ff) << 32 | (xorshift(&mut x) & 0x1ff),
                _ => 0,
            };
            // SAFETY: `at` < the mapped region's words; the region is shared
            // memory whose contents netd must not trust, which is the point.
            unsafe { ((base as *mut u64).add(at)).write_volatile(value) };
        }
        let _ = to_netd.trigger();
        bursts += 1;
        ipc::sleep_ms(2);
    }
    rt::info!("TEST ring.vandal ok bursts={}", bursts);
    rt::info!("TEST ring.vandal done");
}

fn prober(seconds: u64) {
    let net = match Net::open() {
        Ok(n) => n,
        Err(e) => {
            rt::error!("TEST ring.prober FAIL no session: {}", e);
            return;
        }
    };
    let gate = rt::env::require_cap("netd.sockets");
    let t0 = rt::time::ticks();
    let (mut calls, mut failures, mut slowest) = (0u64, 0u64, 0u64);
    // Past the attack, with a margin.
    while rt::time::ticks() - t0 < (seconds + 2) * 1000 {
        let t = rt::time::ticks();
        let r = ipc::call(gate, MsgTag::new(sock::INFO, 0, 0), Timeout::Millis(2000));
        slowest = slowest.max(rt::time::ticks() - t);
        calls += 1;
        failures += r.is_err() as u64;
        ipc::sleep_ms(100);
    }
    let listen = net.listen(4242, 1);
    check!(
        "ring.netd_kept_answering",
        failures == 0 && slowest < 2000 && listen.is_ok(),
        "calls={calls} failures={failures} slowest_ms={slowest} listen={:?}",
        listen.as_ref().err()
    );
    rt::info!("TEST ring.prober done");
}
