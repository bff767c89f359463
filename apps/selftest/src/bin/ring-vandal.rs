//! A NIC driver that writes garbage into its rings with netd, and a bystander
//! that keeps calling netd while it does.
//!
//! `mode = 0` (the vandal) attaches to netd like a driver, so its rings are
//! netd's interface, then for `seconds` overwrites the whole ring header
//! (indices, lengths, wake flags, link, MAC, MTU, the configuration echo) and
//! the slots (frame lengths, bytes) with pseudo-random words, in bursts, and
//! triggers netd after each, and ends by leaving the indices impossible (tx
//! `done` ahead of `head`, rx `done` apart from `taken`). Then it behaves, as its
//! successor would: it reports a sane device, takes netd's tx frames, and
//! delivers an ARP request for netd's address; netd's answer must come out of
//! the tx ring. `mode = 1` (the prober) opens a socket session,
//! then calls netd every 100 ms with a 2 s timeout until the vandal is done,
//! and finally listens on a port: netd must have answered every call.
#![no_std]
#![no_main]

extern crate alloc;

use core::sync::atomic::Ordering;
use netapps::Net;
use netring::{Dir, Rings};
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
    let (rings, base, size, to_netd) = match attach(netd) {
        Ok(a) => a,
        Err(e) => {
            rt::error!("TEST ring.vandal FAIL {}", e);
            return;
        }
    };
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
    let h = rings.header();
    h.tx.done.store(h.tx.head.load(Ordering::Acquire).wrapping_add(1000), Ordering::Release);
    h.tx.taken.store(h.tx.head.load(Ordering::Acquire).wrapping_add(1000), Ordering::Release);
    // rx: nothing pending, but netd's `done` moved so the ring looks full.
    h.rx.head.store(h.rx.taken.load(Ordering::Acquire), Ordering::Release);
    h.rx.done.store(h.rx.taken.load(Ordering::Acquire).wrapping_add(5000), Ordering::Release);
    let _ = to_netd.trigger();
    // The geometry too, then attach again as a successor would: netd must
    // have written it back, or no later instance could use the rings.
    // SAFETY: the first header words of the mapped region; garbage on purpose.
    unsafe { (base as *mut u64).write_volatile(0xdead_beef_0000_0003) };
    let again = attach(netd).map(|_| ());
    check!("ring.successor_attaches", again.is_ok(), "attach={:?}", again.err());
    rt::info!("TEST ring.vandal ok bursts={}", bursts);

    // Now a working driver: a sane device, and an ARP request for netd's
    // address (10.0.2.15, the static fallback without DHCP) from 10.0.2.2.
    const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x66, 0x66, 0x66];
    const PEER: [u8; 6] = [0x52, 0x54, 0x00, 0x66, 0x66, 0x67];
    netring::config::store_mac(&h.driver_mac, MAC);
    h.driver_mtu.store(1500, Ordering::Release);
    h.link_up.store(1, Ordering::Release);
    let mut arp = [0u8; 42];
    arp[..6].fill(0xff);
    arp[6..12].copy_from_slice(&PEER);
    arp[12..14].copy_from_slice(&[0x08, 0x06]);
    arp[14..22].copy_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, 1]);
    arp[22..28].copy_from_slice(&PEER);
    arp[28..32].copy_from_slice(&[10, 0, 2, 2]);
    arp[38..42].copy_from_slice(&[10, 0, 2, 15]);
    let (mut pushed, mut frames, mut replies) = (0u32, 0u32, 0u32);
    let t1 = rt::time::ticks();
    while rt::time::ticks() - t1 < 5000 && replies == 0 {
        if rings.push(Dir::Rx, &arp) {
            pushed += 1;
        }
        let _ = to_netd.trigger();
        ipc::sleep_ms(50);
        // At most a ring's worth per round: with the indices left as they
        // were, "pending" would never end.
        for _ in 0..rings.slots() {
            let Some((index, frame)) = rings.peek(Dir::Tx) else { break };
            frames += 1;
            if frame.len() >= 22 && frame[12..14] == [0x08, 0x06] && frame[20..22] == [0, 2] {
                replies += 1;
            }
            rings.take(Dir::Tx);
            rings.complete(Dir::Tx, index.wrapping_add(1));
        }
    }
    check!(
        "ring.recovered",
        replies > 0,
        "arp_requests={pushed} tx_frames={frames} arp_replies={replies} after_ms={}",
        rt::time::ticks() - t1
    );
    rt::info!("TEST ring.vandal done");
}

/// ATTACH as a driver instance does: the rings netd hands out, checked,
/// where they are mapped, their size, and netd's wake-up IRQ.
fn attach(netd: CapIdx) -> Result<(Rings, u64, u64, Irq), alloc::string::String> {
    use alloc::format;
    let slots: [CapIdx; 3] = core::array::from_fn(|_| rt::cap::alloc().expect("slot"));
    ipc::set_receive_slots(&slots);
    let request = nic::Request::Attach { mac: [0x52, 0x54, 0x00, 0x66, 0x66, 0x66], mtu: 1500, link: true };
    let tag = ipc::encode_call(&request).map_err(|e| format!("cannot encode the attach: {e:?}"))?;
    let tag =
        ipc::call(netd, tag, Timeout::Millis(5000)).map_err(|e| format!("netd did not answer the attach: {e:?}"))?.tag;
    let attached = nic::decode_attach(&ipc::received_words(tag)).map_err(|e| format!("attach refused: {e}"))?;
    if tag.items() != nic::ATTACH_ITEMS {
        return Err("attach answered without its three capabilities".into());
    }
    let size = attached.ring_bytes;
    let base = rt::mem::attach(&Dataspace(slots[0]), size, true).map_err(|e| format!("cannot map the rings: {e:?}"))?;
    // SAFETY: `size` bytes of the ring dataspace are mapped at `base` for good.
    let rings = unsafe { Rings::attach(base as *mut u8, size as usize) }
        .map_err(|e| format!("netd's rings do not check: {e:?}"))?;
    Ok((rings, base, size, Irq(slots[2])))
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
