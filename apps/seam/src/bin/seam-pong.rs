//! The server of the backend seam's cross-task IPC pair: answers each call
//! through its `main` gate with the caller's word plus one. The same source
//! on both kernels: Resurgo's init binds the gate before the task starts, on
//! Fiasco.OC the runtime does.
#![no_std]
#![no_main]

use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

fn main() {
    let mut r = ipc::wait(Timeout::Never);
    loop {
        r = match r {
            Ok(_) => {
                ipc::set_mr::<0>(ipc::mr::<0>().wrapping_add(1));
                ipc::reply_and_wait(MsgTag::new(0, 1, 0), Timeout::Never)
            }
            Err(_) => ipc::wait(Timeout::Never),
        };
    }
}
