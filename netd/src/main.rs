//! netd: the network server. TCP/IP on smoltcp over the shared-memory rings of
//! NIC driver tasks (endpoint `nic`), TCP sockets for applications (endpoint
//! `sockets`), the NIC's configuration for the operator (endpoint `config`).
//!
//! One thread does everything in a loop: take what the drivers left in the rx
//! rings, let smoltcp process it and send, move bytes between smoltcp and the
//! applications' stream rings, then sleep in an open wait until a call, a
//! driver's or an application's IRQ, or smoltcp's next timer. Calls never block
//! (see `protocols::socket`), so netd is never stuck with one client while
//! others wait. Everything a driver needs lives here, so a driver that dies and
//! comes back finds its rings, and every TCP connection, as they were.
#![no_std]
#![no_main]

extern crate alloc;

mod announce;
mod config;
mod device;
mod nic;
mod reply;
mod sockets;
mod stack;

use reply::{Reply, Request};
use rt::{Timeout, ipc};

rt::entry!(main);

/// Labels of the IRQs attached to netd's thread (gate labels are small).
/// Below 2^62, so that they arrive as given on Fiasco.OC too, whose kernel
/// labels carry the sender's rights in their two low bits (`rt` shifts
/// labels by two there).
const IRQ_NIC: u64 = 1 << 58;
const IRQ_KICK: u64 = 1 << 57;
const IRQ_STORE: u64 = 1 << 56;

/// Longest sleep: the loop also looks at link state and statistics.
const MAX_SLEEP_MS: u64 = 1000;

fn main() {
    let settings = match manifest::settings::Settings::read(rt::env::value) {
        Ok(s) => s,
        Err(e) => {
            rt::error!("{}", e);
            rt::exit(1, "bad system settings");
        }
    };
    let mut nics = nic::Nics::new(IRQ_NIC, IRQ_STORE, settings.restart);
    let mut socks = sockets::Sockets::new(IRQ_KICK);
    let mut net = stack::Stack::new();
    let operators = config::Operators::new();
    let names: alloc::vec::Vec<&str> = nics.clients.iter().map(|(n, _)| n.as_str()).collect();
    let apps: alloc::vec::Vec<&str> = socks.clients.iter().map(|c| c.name.as_str()).collect();
    rt::info!("waiting for NICs ({}) and serving sockets to ({})", names.join(", "), apps.join(", "));
    drop(names);
    drop(apps);

    // The reply to the last call, kept out of the message registers while the
    // loop runs (logging and kernel calls use them).
    let mut reply: Option<Reply> = None;
    loop {
        let delay = net.run(&mut nics, &mut socks);
        let timeout = match delay {
            0 => Timeout::Zero,
            ms => Timeout::Millis(ms.min(MAX_SLEEP_MS) as u32),
        };
        // No client may hand netd a capability: receiving one fails the send.
        ipc::clear_receive_slots(1);
        let r = match reply.take() {
            Some(r) => {
                r.load();
                ipc::reply_and_wait(r.tag, timeout)
            }
            None => ipc::wait(timeout),
        };
        let msg = match r {
            Ok(m) => m,
            Err(rt::Error::Timeout) => continue,
            Err(e) => {
                rt::warn!("receive failed: {}", e);
                continue;
            }
        };
        if msg.label == IRQ_STORE {
            nics.store_news();
            continue;
        }
        if msg.label & (IRQ_NIC | IRQ_KICK) != 0 {
            // A driver or an application wants the loop to run: it does.
            continue;
        }
        let req = Request::take(msg.tag);
        reply = Some(if nics.is_client(msg.label) {
            let (r, event) = nics.handle(msg.label, &req);
            net.nic_event(&mut nics, event);
            r
        } else if let Some(c) = socks.client_of(msg.label) {
            let info = net.info(&nics);
            let (set, iface) = net.split();
            socks.handle(c, &req, set, iface, info)
        } else if let Some(who) = operators.client_of(msg.label) {
            let nic = net.nic_index();
            operators.handle(who, &req, &mut nics, nic)
        } else {
            rt::warn!("call through unknown gate label {:#x}", msg.label);
            Reply::word(protocols::status::encode(Err(protocols::socket::Error::Invalid)))
        });
    }
}
