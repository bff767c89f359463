//! A bystander: answers every call with a count, to show it keeps running while
//! other tasks fault.
#![no_std]
#![no_main]

use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

fn main() {
    let mut count = 0u64;
    let mut msg = ipc::wait(Timeout::Never);
    loop {
        if msg.is_ok() {
            count += 1;
            ipc::set_mr::<0>(count);
        }
        msg = ipc::reply_and_wait(MsgTag::new(0, 1, 0), Timeout::Never);
    }
}
