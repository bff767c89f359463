//! Watches the hostile driver through the reincarnation server's `svc`
//! status (what `svc list` and the status page show) and reports every
//! DMA fault it sees there as the driver's last fault.
#![no_std]
#![no_main]

use alloc::string::String;
use reincarnation::client;
use reincarnation::policy::State;

extern crate alloc;

rt::entry!(main);

const DRIVER: &str = "dma-hostile";

fn main() {
    let rs = rt::env::require_cap("reincarnation.svc");
    let t0 = rt::time::ticks();
    let mut seen = String::new();
    while rt::time::ticks() - t0 < 60_000 {
        if let Some(s) = client::status(rs, DRIVER) {
            if s.last_cause.contains("dma-fault") && s.last_cause != seen {
                rt::info!(
                    "TEST dma.svc_status ok incarnation={} restarts={} cause=\"{}\"",
                    s.incarnation,
                    s.restarts,
                    s.last_cause
                );
                seen = s.last_cause.clone();
            }
            if s.state == State::Down {
                rt::info!("TEST dma.watch done incarnation={}", s.incarnation);
                return;
            }
        }
        rt::ipc::sleep_ms(20);
    }
    rt::error!("TEST dma.watch FAIL the driver did not finish");
}
