//! A minimal task for the restart benchmark: tells its parent it runs.
#![no_std]
#![no_main]

use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

fn main() {
    let parent = rt::env::require_cap("ipc-bench.ready");
    let _ = ipc::call(parent, MsgTag::new(0, 0, 0), Timeout::Never);
    loop {
        ipc::sleep_ms(10_000);
    }
}
