//! The backend seam's test task: it uses only `rt`'s portable interface and
//! runs unchanged on Resurgo's kernel and on Fiasco.OC (`resurgo up --kernel
//! fiasco`). It logs, fills a heap vector, maps and checks a dataspace, waits
//! out an IPC timeout, signals itself through a software IRQ, then makes IPC
//! round trips between two of its threads through a gate, and prints one
//! `TEST name ok|FAIL key=value ...` line per step.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

/// The gate's label (a multiple of 4: Fiasco keeps the two low bits for rights).
const LABEL: u64 = 0x5ea0;
/// Round trips to make.
const ROUNDS: u64 = 1000;

fn main() {
    let kernel = rt::platform::KERNEL.name();
    rt::info!("TEST seam.log ok kernel={kernel} task={}", rt::env::name());
    heap();
    dataspace();
    reuse();
    timeout();
    irq();
    round_trips();
    rt::info!("TEST seam done");
}

fn heap() {
    let v: Vec<u64> = (0..100_000u64).collect();
    let sum: u64 = v.iter().sum();
    let ok = sum == 100_000 * 99_999 / 2;
    rt::info!("TEST seam.heap {} kib={} sum={sum}", if ok { "ok" } else { "FAIL" }, v.len() * 8 / 1024);
}

fn dataspace() {
    let size = 1 << 20;
    let region = match rt::mem::alloc(size, false) {
        Ok(r) => r,
        Err(e) => {
            rt::info!("TEST seam.dataspace FAIL error=\"{e}\"");
            return;
        }
    };
    let words = (size / 8) as usize;
    // SAFETY: the region is `size` bytes of fresh RAM mapped writable here alone.
    let mem = unsafe { core::slice::from_raw_parts_mut(region.as_mut_ptr() as *mut u64, words) };
    let zeroed = mem.iter().all(|&w| w == 0);
    for (i, w) in mem.iter_mut().enumerate() {
        *w = i as u64 ^ 0x5a5a_5a5a;
    }
    let kept = mem.iter().enumerate().all(|(i, &w)| w == i as u64 ^ 0x5a5a_5a5a);
    let ok = zeroed && kept;
    rt::info!(
        "TEST seam.dataspace {} kib={} zeroed={zeroed} pattern={kept}",
        if ok { "ok" } else { "FAIL" },
        size / 1024
    );
    region.free();
}

/// Freed memory is gone from the address space: a region allocated after
/// another was freed (the region manager tends to hand out the same
/// addresses again) is zeroed and is its own dataspace: what is written
/// through it shows through a second mapping of that dataspace. A page of
/// the freed region still mapped would show the old pattern instead.
fn reuse() {
    let size: u64 = 64 << 10;
    let fill = |r: &rt::mem::Region, v: u64| {
        // SAFETY: the region is `size` bytes mapped writable here alone.
        let mem = unsafe { core::slice::from_raw_parts_mut(r.as_mut_ptr() as *mut u64, (size / 8) as usize) };
        let zeroed = mem.iter().all(|&w| w == 0);
        mem.iter_mut().for_each(|w| *w = v);
        zeroed
    };
    let step = || -> Result<(bool, bool, bool), rt::Error> {
        let old = rt::mem::alloc(size, false)?;
        fill(&old, 0xdead_beef);
        let old_addr = old.addr;
        old.free();
        let new = rt::mem::alloc(size, false)?;
        let zeroed = fill(&new, 0x600d_600d);
        let again = rt::mem::attach(&new.ds, size, false)?;
        // SAFETY: `again` maps `size` readable bytes of the new dataspace.
        let seen = unsafe { core::slice::from_raw_parts(again as *const u64, (size / 8) as usize) };
        let own = seen.iter().all(|&w| w == 0x600d_600d);
        let _ = rt::mem::detach(again, size);
        let same = new.addr == old_addr;
        new.free();
        Ok((same, zeroed, own))
    };
    match step() {
        Ok((same, zeroed, own)) => rt::info!(
            "TEST seam.reuse {} same_address={same} zeroed={zeroed} own={own}",
            if zeroed && own { "ok" } else { "FAIL" }
        ),
        Err(e) => rt::info!("TEST seam.reuse FAIL error=\"{e}\""),
    }
}

/// A receive from nobody with a timeout: the typed error after the time.
fn timeout() {
    let before = rt::time::ticks();
    let r = ipc::receive(rt::CapIdx::INVALID, Timeout::Millis(50));
    let waited = rt::time::ticks().saturating_sub(before);
    let ok = r == Err(rt::Error::Timeout) && (50..5000).contains(&waited);
    rt::info!("TEST seam.timeout {} waited_ms={waited} result={:?}", if ok { "ok" } else { "FAIL" }, r.map(|_| ()));
}

/// A software IRQ attached to this thread, triggered and received: the
/// message has the attach label and `PROTO_IRQ` in its tag on both kernels
/// (Fiasco's own IRQ messages have tag 0; `rt` gives them Resurgo's tag).
fn irq() {
    const IRQ_LABEL: u64 = 0x1a0;
    let me = rt::obj::Thread(rt::thread::current_cap());
    let r = rt::obj::Factory::own().create_irq().and_then(|irq| {
        irq.attach(&me, IRQ_LABEL)?;
        irq.trigger()?;
        let m = ipc::receive(irq.0, Timeout::Millis(1000))?;
        rt::obj::release(irq.0);
        Ok(m)
    });
    match r {
        Ok(m) if m.label == IRQ_LABEL && m.tag.label() == rt::sys::proto::PROTO_IRQ => {
            rt::info!("TEST seam.irq ok label={IRQ_LABEL:#x} tag=irq")
        }
        Ok(m) => rt::info!("TEST seam.irq FAIL label={:#x} tag={}", m.label, m.tag.label()),
        Err(e) => rt::info!("TEST seam.irq FAIL error=\"{e}\""),
    }
}

/// The server thread: answers each call with its word plus one.
fn serve() {
    let mut r = ipc::wait(Timeout::Never);
    loop {
        match r {
            Ok(m) if m.label == LABEL => {
                ipc::set_mr::<0>(ipc::mr::<0>().wrapping_add(1));
                r = ipc::reply_and_wait(MsgTag::new(0, 1, 0), Timeout::Never);
            }
            _ => r = ipc::wait(Timeout::Never),
        }
    }
}

fn round_trips() {
    let server = match rt::thread::spawn(rt::sys::proto::thread::DEFAULT_PRIORITY, 64 * 1024, serve) {
        Ok(h) => h,
        Err(e) => {
            rt::info!("TEST seam.ipc FAIL step=thread error=\"{e}\"");
            return;
        }
    };
    let gate = match rt::obj::Factory::own().create_gate(Some(&server.thread), LABEL) {
        Ok(g) => g,
        Err(e) => {
            rt::info!("TEST seam.ipc FAIL step=gate error=\"{e}\"");
            return;
        }
    };
    let start = rt::time::rdtsc();
    for i in 0..ROUNDS {
        ipc::set_mr::<0>(i);
        match ipc::call(gate.0, MsgTag::new(0, 1, 0), Timeout::Millis(5000)) {
            Ok(_) if ipc::mr::<0>() == i + 1 => {}
            Ok(_) => {
                rt::info!("TEST seam.ipc FAIL step=answer round={i} got={}", ipc::mr::<0>());
                return;
            }
            Err(e) => {
                rt::info!("TEST seam.ipc FAIL step=call round={i} error=\"{e}\"");
                return;
            }
        }
    }
    let cycles = (rt::time::rdtsc() - start) / ROUNDS;
    rt::info!("TEST seam.ipc ok rounds={ROUNDS} cycles_per_round_trip={cycles}");
}
