//! The other end of the IPC benchmark: answers each call at once.
#![no_std]
#![no_main]

use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

fn main() {
    let _ = ipc::wait(Timeout::Never);
    loop {
        let _ = ipc::reply_and_wait(MsgTag::new(0, 1, 0), Timeout::Never);
    }
}
