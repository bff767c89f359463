//! Serves the IPC tests: echo, increment, capability transfer, slow replies, death.
#![no_std]
#![no_main]

use rt::obj::{Irq, delete};
use rt::{MsgTag, Timeout, ipc};
use selftest::proto::*;

rt::entry!(main);

fn main() {
    let cap_slot = rt::cap::alloc().expect("a free slot");
    ipc::set_receive_slot(cap_slot);
    let mut msg = ipc::wait(Timeout::Never);
    loop {
        let reply = match msg {
            Err(e) => {
                rt::warn!("receive failed: {}", e);
                msg = ipc::wait(Timeout::Never);
                continue;
            }
            Ok(m) => match m.tag.label() {
                ECHO => MsgTag::new(0, m.tag.words(), 0),
                INCREMENT => {
                    ipc::set_mr::<0>(ipc::mr::<0>() + 1);
                    MsgTag::new(0, 1, 0)
                }
                TRIGGER_CAP => {
                    let got = m.tag.items() == 1;
                    if got {
                        let _ = Irq(cap_slot).trigger();
                        let _ = delete(cap_slot);
                    }
                    ipc::set_mr::<0>(got as u64);
                    MsgTag::new(0, 1, 0)
                }
                SLOW => {
                    let ms = ipc::mr::<0>() as u32;
                    ipc::sleep_ms(ms);
                    MsgTag::new(0, 0, 0)
                }
                DIE => rt::exit(0, "asked to die in the middle of a call"),
                other => {
                    rt::warn!("unknown request {}", other);
                    MsgTag::new(-1, 0, 0)
                }
            },
        };
        msg = ipc::reply_and_wait(reply, Timeout::Never);
    }
}
