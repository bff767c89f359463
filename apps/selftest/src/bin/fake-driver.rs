//! Stands in for a driver under the reincarnation server: serves `control`
//! (heartbeats, fault injection) from its main loop. `mode` 1 faults at once
//! every time (a probe that always faults); mode 2 works for a second, then
//! loops forever (hung); mode 0 works until told to crash.
#![no_std]
#![no_main]

use reincarnation::proto::control;
use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

#[inline(never)]
#[unsafe(no_mangle)]
pub extern "C" fn fake_probe() {
    // SAFETY: deliberately faulting: the fault under test.
    unsafe { core::ptr::write_volatile(0x10 as *mut u64, 1) };
}

fn main() {
    let mode = rt::env::value("mode").unwrap_or(0);
    let incarnation = rt::env::value("incarnation").unwrap_or(0);
    rt::info!("incarnation {} up (mode {})", incarnation, mode);
    if mode == 1 {
        fake_probe();
    }
    let started = rt::time::ticks();
    let mut msg = ipc::wait(Timeout::Millis(100));
    loop {
        if mode == 2 && rt::time::ticks() - started > 1000 {
            rt::info!("incarnation {} now loops forever", incarnation);
            #[allow(clippy::empty_loop)]
            loop {}
        }
        // The driver's side of the `control` protocol: a status word.
        let answer = |r: Result<(), control::Error>| {
            ipc::set_mr::<0>(protocols::status::encode(r.map(|()| 0)));
            Some(MsgTag::new(0, 1, 0))
        };
        let reply = match msg.map(|m| ipc::decode_call::<control::Request>(m.tag)) {
            Ok(Ok(control::Request::Ping {})) => answer(Ok(())),
            Ok(Ok(control::Request::Inject { kind })) => {
                if kind == control::INJECT_CRASH_NOW {
                    fake_probe();
                }
                answer(Ok(()))
            }
            Ok(Err(_)) => answer(Err(control::Error::Invalid)),
            Err(_) => None,
        };
        msg = match reply {
            Some(tag) => ipc::reply_and_wait(tag, Timeout::Millis(100)),
            None => ipc::wait(Timeout::Millis(100)),
        };
    }
}
