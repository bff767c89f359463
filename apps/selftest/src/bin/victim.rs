//! Reports to its parent that it runs, then idles until it is killed.
#![no_std]
#![no_main]

use rt::{MsgTag, Timeout, ipc};

rt::entry!(main);

fn main() {
    let parent = rt::env::require_cap("restarter.alive");
    let _ = ipc::call(parent, MsgTag::new(0, 0, 0), Timeout::Never);
    loop {
        ipc::sleep_ms(1000);
    }
}
