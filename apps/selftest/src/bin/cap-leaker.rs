//! A driver that tries to pass its device on, and a task that tries to pick
//! it up: capabilities io hands a driver must work for that driver alone.
//!
//! `mode = 0` (the leaker) claims its device from io, shows it can use every
//! capability itself (its ports, its device memory, its IRQ), then tries to
//! copy each one (refused without DELEGATE) and to publish each, and a
//! dataspace made from its device memory, in the data store under global
//! names and in its own namespace (refused), records `cap-leaker/done` and
//! exits. `mode = 1` (the thief) waits for that record, then looks every name
//! up: nothing may be there, and nothing it could get may work. `mode = 2`
//! (the flooder) writes entries until the store refuses, which must be its
//! quota, and records `cap-flooder/done`; the thief then is the bystander
//! whose own writes must still work. `mode = 3` (a supervised driver, started
//! by the reincarnation server) tries to pass on the gates it was granted,
//! `io.pci` and `datastore.store`: whoever held them would be that driver to
//! io and to the store.
#![no_std]
#![no_main]

extern crate alloc;

use datastore::{Client, Error, Refusal};
use protocols::pci::{self, INFO_WORDS};
use rt::obj::{Dataspace, IoMem, IoPorts, Irq, Task, Thread};
use rt::{CapIdx, MsgTag, Rights, Timeout, ipc};
use selftest::check;

rt::entry!(main);

/// Where the leaker puts what it holds: (global name, key in its namespace).
const NAMES: [(&str, &str); 4] = [
    ("leak.ports", "cap-leaker/ports"),
    ("leak.mmio", "cap-leaker/mmio"),
    ("leak.irq", "cap-leaker/irq"),
    ("leak.dataspace", "cap-leaker/dataspace"),
];

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: a port of this task's own device, granted into its I/O bitmap
    // just before; a refused grant would fault this task alone.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack)) };
    v
}

fn main() {
    let store = Client::from_env().expect("datastore.store");
    match rt::env::value("mode") {
        Some(1) => return thief(&store),
        Some(2) => return flooder(&store),
        Some(3) => return gate_leaker(&store),
        _ => {}
    }
    let io = rt::env::require_cap("io.pci");
    let slots: [CapIdx; 4] = core::array::from_fn(|_| rt::cap::alloc().expect("slot"));
    ipc::set_receive_slots(&slots);
    let r = ipc::call(io, MsgTag::new(pci::OPEN, 0, 0), Timeout::Never).expect("io answers");
    if r.tag.words() != INFO_WORDS {
        rt::exit(2, "io gave no device");
    }
    let info = selftest::open_reply();
    // The rtl8139: an I/O BAR, a memory BAR, then the IRQ.
    let (ports, mmio, irq) = (slots[0], slots[1], slots[2]);
    let bar0 = info.bars[0].expect("an I/O BAR");
    let bar1 = info.bars[1].expect("a memory BAR");

    // Its own device works for it.
    let granted = Task::own().grant_io(&IoPorts(ports), false);
    let reg = if granted.is_ok() { inb(bar0.base as u16) } else { 0 };
    let page = bar1.base & !0xfff;
    let ds = IoMem(mmio).create_dataspace(page, 4096);
    let mapped = ds.as_ref().ok().map(|d| rt::mem::attach(d, 4096, true));
    let attached = Irq(irq).attach(&Thread::own_main(), 7);
    check!(
        "caps.own_device_works",
        granted.is_ok() && matches!(mapped, Some(Ok(_))) && attached.is_ok(),
        "grant_io={:?} reg0={:#x} mmio_map={:?} irq_attach={:?}",
        granted,
        reg,
        mapped,
        attached
    );

    // Passing them on: a copy into its own table is the first step of any.
    let ds_cap = ds.map(|d| d.0).unwrap_or(CapIdx::INVALID);
    let held = [ports, mmio, irq, ds_cap];
    let scratch = rt::cap::alloc().expect("slot");
    for ((global, _), cap) in NAMES.iter().zip(held) {
        let copy = Task::own().give(cap, scratch, Rights::ALL);
        if copy.is_ok() {
            let _ = rt::obj::delete(scratch);
        }
        check!("caps.copy_refused", copy.is_err(), "what={global} result={:?}", copy);
    }
    // Publishing them, under global names and in its own namespace.
    for ((global, own), cap) in NAMES.iter().zip(held) {
        for key in [global, own] {
            let r = store.publish(key, cap, Rights::ALL, true);
            check!("caps.publish_refused", r.is_err(), "key={key} result={:?}", r);
        }
    }
    let _ = store.put_int("cap-leaker/done", 1);
    rt::info!("TEST caps.leaker done");
}

fn thief(store: &Client) {
    let t0 = rt::time::ticks();
    while store.get("cap-leaker/done").is_err() {
        if rt::time::ticks() - t0 > 20_000 {
            rt::error!("TEST caps.thief FAIL the leaker never finished");
            return;
        }
        ipc::sleep_ms(50);
    }
    for (global, own) in NAMES {
        for key in [global, own] {
            let got = store.lookup(key);
            // Whatever arrived, show whether it works for the thief.
            let usable = match got {
                Ok((cap, _)) => {
                    let ports = Task::own().grant_io(&IoPorts(cap), false).is_ok();
                    let ds = rt::mem::attach(&Dataspace(cap), 4096, true).is_ok();
                    let irq = Irq(cap).attach(&Thread::own_main(), 9).is_ok();
                    Some((ports, ds, irq))
                }
                Err(_) => None,
            };
            check!("caps.lookup_finds_nothing", got.is_err(), "key={key} result={:?} usable={:?}", got, usable);
        }
    }
    // The supervised driver's gates are not to be had either.
    let t0 = rt::time::ticks();
    while store.get("gate-leaker/done").is_err() && rt::time::ticks() - t0 < 20_000 {
        ipc::sleep_ms(50);
    }
    for (key, _) in GATES {
        let got = store.lookup(key);
        check!("caps.lookup_finds_nothing", got.is_err(), "key={key} result={:?}", got);
    }
    // The bystander of the flooder: the store still takes its writes.
    let t0 = rt::time::ticks();
    while store.get("cap-flooder/done").is_err() && rt::time::ticks() - t0 < 20_000 {
        ipc::sleep_ms(50);
    }
    let put = store.put_int("cap-thief/still-writes", 7);
    let got = store.get("cap-thief/still-writes").map(|(v, _)| v);
    check!(
        "store.bystander_writes",
        put.is_ok() && matches!(got, Ok(datastore::Value::Int(7))),
        "put={:?} get={:?}",
        put,
        got
    );
    rt::info!("TEST caps.thief done");
}

/// Global names the gate leaker tries to publish its gates under.
const GATES: [(&str, &str); 2] = [("leak.io-gate", "io.pci"), ("leak.store-gate", "datastore.store")];

fn gate_leaker(store: &Client) {
    let scratch = rt::cap::alloc().expect("slot");
    for (key, grant) in GATES {
        let gate = rt::env::require_cap(grant);
        let copy = Task::own().give(gate, scratch, Rights::ALL);
        if copy.is_ok() {
            let _ = rt::obj::delete(scratch);
        }
        let published = store.publish(key, gate, Rights::ALL, true);
        check!(
            "caps.gate_not_passed_on",
            copy.is_err() && published.is_err(),
            "gate={grant} copy={:?} publish={:?}",
            copy,
            published
        );
    }
    let _ = store.put_int("gate-leaker/done", 1);
    rt::info!("TEST caps.gate_leaker done");
}

/// Fills its share of the store until refused.
fn flooder(store: &Client) {
    let mut written = 0u32;
    let refusal = loop {
        let key = alloc::format!("cap-flooder/k{written}");
        match store.put_int(&key, written as i64) {
            Ok(_) => written += 1,
            Err(e) => break e,
        }
        if written > 100_000 {
            break Error::BadReply;
        }
    };
    // Room for the record that it is done.
    let freed = store.delete("cap-flooder/k0");
    let done = store.put_int("cap-flooder/done", written as i64);
    check!(
        "store.flood_refused",
        matches!(refusal, Error::Refused(Refusal::Quota)) && freed.is_ok() && done.is_ok(),
        "written={written} refusal={:?} then delete={:?} put={:?}",
        refusal,
        freed,
        done
    );
}
