//! A driver-like child of `st-parent`. First life: save private state,
//! subscribe to its own namespace, then wait to be killed. Second life: read
//! the state back, and see that the dead predecessor's subscription is gone.
#![no_std]
#![no_main]

use datastore::{Value, private_key};
use rt::{MsgTag, Timeout, ipc};
use store_test::{check, notification_irq, store};

rt::entry!(main);

/// What the first life saves.
const STATE: &[u8] = b"rx_ring=17 tx_ring=4 mac=52:54:00:12:34:56";

/// Calls the parent; returns its answer (the incarnation).
fn report() -> u64 {
    let parent = rt::env::require_cap("st-parent.alive");
    match ipc::call(parent, MsgTag::new(0, 0, 0), Timeout::Never) {
        Ok(_) => ipc::mr::<0>(),
        Err(_) => 0,
    }
}

fn main() {
    let store = store();
    let incarnation = report();
    if incarnation == 1 {
        let saved = store.put_bytes(&private_key("state"), STATE);
        let public = store.put_int("st-child/public", 1);
        let irq = notification_irq(1);
        let sub = store.subscribe("st-child/", &irq);
        rt::info!("first life: saved={:?} public={:?} subscription={:?}", saved, public, sub);
        report();
        loop {
            ipc::sleep_ms(10_000);
        }
    }

    let back = store.get(&private_key("state"));
    let ok = matches!(&back, Ok((Value::Bytes(b), _)) if b == STATE);
    check!(
        "private_restart",
        incarnation == 2 && ok,
        "incarnation={} state_bytes={} version={:?}",
        incarnation,
        STATE.len(),
        back.as_ref().map(|b| b.1)
    );

    // A change under the dead predecessor's prefix: its IRQ is gone with it,
    // so the store drops the subscription.
    let before = store.info().map(|i| i.subscriptions);
    let _ = store.put_int("st-child/public", 2);
    let after = store.info().map(|i| i.subscriptions);
    check!("dead_subscriber_dropped", before == Ok(1) && after == Ok(0), "before={:?} after={:?}", before, after);
    report();
    loop {
        ipc::sleep_ms(10_000);
    }
}
