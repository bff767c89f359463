//! The data store's reader-side tests: notifications of create, change and
//! delete; reading a namespace the manifest grants; private keys refused and
//! never notified; a bounded event queue reporting what it dropped; a
//! capability looked up by name and used.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use datastore::{Error, EventKind, Refusal, Value};
use rt::{Rights, Timeout};
use store_test::{check, finished, notification_irq, store, wait_until};

rt::entry!(main);

fn main() {
    let store = store();
    let irq = notification_irq(1);
    let watched = store.subscribe("st-owner/watched", &irq);
    let everything = store.subscribe("st-owner/", &irq);
    let _ = store.put_int("st-reader/ready", 1);

    // Create, change, delete of the watched key, in order.
    let mut seen = Vec::new();
    let mut wakes = 0;
    if let Ok(id) = watched {
        let start = rt::time::ticks();
        while !seen.iter().any(|e: &datastore::Event| e.kind == EventKind::Deleted)
            && rt::time::ticks() - start < 30_000
        {
            if irq.wait(Timeout::Millis(1000)).is_ok() {
                wakes += 1;
            }
            while let Ok(batch) = store.events(id) {
                seen.extend(batch.events);
                if !batch.more {
                    break;
                }
            }
        }
    }
    let kinds: Vec<EventKind> = seen.iter().map(|e| e.kind).collect();
    let versions: Vec<u64> = seen.iter().map(|e| e.version).collect();
    check!(
        "notify",
        kinds == [EventKind::Created, EventKind::Changed, EventKind::Deleted]
            && seen.iter().all(|e| e.key == "st-owner/watched")
            && versions.windows(2).all(|w| w[0] < w[1]),
        "events={:?} versions={:?} wakes={} subscribe={:?}",
        kinds,
        versions,
        wakes,
        watched
    );

    // A namespace the manifest grants.
    let mtu = store.get("st-owner/config/mtu").map(|r| r.0);
    let blob = store.get("st-owner/blob").map(|r| r.0);
    let blob_ok = matches!(&blob, Ok(Value::Bytes(b)) if b.len() == 3000 && b.iter().enumerate().all(|(i, &x)| x == (i as u32 * 7 % 251) as u8));
    let listed = store.list("st-owner/").unwrap_or_default();
    check!(
        "granted_read",
        mtu == Ok(Value::Int(1500)) && blob_ok && listed.iter().all(|k| !k.contains(".private")) && !listed.is_empty(),
        "mtu={:?} blob_bytes_ok={} listed={}",
        mtu,
        blob_ok,
        listed.len()
    );

    // Private keys are their owner's alone, even to a granted reader.
    let denied = Error::Refused(Refusal::Denied);
    let secret = store.get("st-owner/.private/secret").map(|r| r.0);
    let watch = store.subscribe("st-owner/.private/", &irq);
    check!("private_refused", secret == Err(denied) && watch == Err(denied), "get={:?} subscribe={:?}", secret, watch);

    // After the owner's quota test (hundreds of changes) the broad
    // subscription's queue is full: its events are the first ones, none of
    // them private, and it says how many it dropped.
    let done = wait_until(60_000, || store.get("st-owner/done").is_ok());
    let mut first = Vec::new();
    let mut lost = 0;
    if let Ok(id) = everything {
        while let Ok(batch) = store.events(id) {
            first.extend(batch.events);
            lost += batch.lost;
            if !batch.more {
                break;
            }
        }
    }
    let private = first.iter().filter(|e| e.key.contains(".private")).count();
    let has_first = first.first().is_some_and(|e| e.key == "st-owner/config/mtu" && e.kind == EventKind::Created);
    check!(
        "queue_bounded",
        done && private == 0 && has_first && lost > 0 && first.len() == 32,
        "queued={} lost={} private={} first={:?}",
        first.len(),
        lost,
        private,
        first.first().map(|e| e.key.as_str())
    );

    // The name service: the owner's IRQ, looked up and triggered.
    let found = wait_until(30_000, || store.get("test.owner-irq").is_ok());
    let looked = store.lookup("test.owner-irq");
    let triggered = looked.as_ref().map(|(cap, _)| rt::obj::Irq(*cap).trigger());
    // Published without delegation: we may use it, not pass it on.
    let passed_on = looked.as_ref().map(|(cap, _)| store.publish("st-reader/copy", *cap, Rights::WRITE, false));
    check!(
        "lookup",
        found && matches!(triggered, Ok(Ok(()))) && matches!(passed_on, Ok(Err(Error::Ipc(rt::Error::Denied)))),
        "version={:?} trigger={:?} pass_on={:?}",
        looked.map(|l| l.1),
        triggered,
        passed_on
    );
    finished();
}
