//! The bystander whose memory a hostile driver aims its device at: one page
//! of physically contiguous RAM filled with a pattern. Every call is answered
//! with the page's physical address, the checksum of its bytes now, and how
//! many calls came before (so each instance of the caller knows which
//! incarnation it is).
#![no_std]
#![no_main]

use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

/// FNV-1a of the bytes.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

fn main() {
    let page = rt::mem::alloc(4096, true).expect("a contiguous page");
    // SAFETY: the region is this task's own fresh mapping of 4096 bytes,
    // read-write, and nothing else in this task refers to it.
    let bytes = unsafe { core::slice::from_raw_parts_mut(page.as_mut_ptr(), 4096) };
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0x5a;
    }
    rt::info!("TEST victim.page ok phys={:#x} sum={:#x}", page.phys, checksum(bytes));
    let mut calls = 0u64;
    let mut msg = ipc::wait(Timeout::Never);
    loop {
        if msg.is_ok() {
            calls += 1;
            let _ = ipc::write_mrs(0, &[page.phys, checksum(bytes), calls]);
        }
        msg = ipc::reply_and_wait(MsgTag::new(0, 3, 0), Timeout::Never);
    }
}
