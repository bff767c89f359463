//! A hostile child of the reincarnation server on Fiasco.OC
//! (`tests/fiasco.rs`): it tells the server of a "thread" that is a gate of
//! its own (`rt::thread::announce`, the message a driver sends for each
//! thread it starts), which a second thread waits in without ever
//! answering, and then spins on its first thread. A server that asked that
//! "thread" for its consumed time with an ordinary call would wait for ever
//! and supervise nothing more; it has to go on watching and restart this
//! task as hung. On Resurgo's kernel
//! there is no such message: it only spins there (the kernel's own runaway
//! policy applies).
#![no_std]
#![no_main]

rt::entry!(main);

fn main() {
    lie();
    loop {
        core::hint::spin_loop();
    }
}

rt::fiasco_only! {
    fn lie() {
        use rt::obj::{Factory, Thread};
        use rt::{Timeout, ipc};
        // The thread that receives what comes through the gate and never
        // answers: a capability to it is announced too, by `spawn` itself.
        let waiter = match rt::thread::spawn(100, 16 << 10, || {
            loop {
                let _ = ipc::wait(Timeout::Never);
            }
        }) {
            Ok(h) => h,
            Err(e) => rt::exit(1, e.as_str()),
        };
        let gate = match Factory::own().create_gate(Some(&waiter.thread), 0x11) {
            Ok(g) => g,
            Err(e) => rt::exit(1, e.as_str()),
        };
        match rt::thread::announce(Thread(gate.0)) {
            Ok(()) => rt::info!("thread-liar: a gate announced as a thread; spinning"),
            Err(e) => rt::info!("thread-liar: the announcement was refused: {}", e),
        }
    }
}

rt::resurgo_only! {
    fn lie() {}
}
