//! A task the manifest grants no reads: the owner's namespace is closed to it
//! (values, listing, subscriptions), and a global name someone else claimed
//! is not its to change.
#![no_std]
#![no_main]

use datastore::{Error, Refusal, Value};
use rt::Rights;
use store_test::{check, finished, notification_irq, store, wait_until};

rt::entry!(main);

fn main() {
    let store = store();
    let irq = notification_irq(1);
    // Global names are everyone's to read: wait for the owner's, which it
    // publishes after writing its values.
    let found = wait_until(30_000, || store.get("test.owner-irq").is_ok_and(|(v, _)| v == Value::Cap));

    let denied = Error::Refused(Refusal::Denied);
    let existing = store.get("st-owner/config/mtu").map(|r| r.0);
    let absent = store.get("st-owner/no-such-key").map(|r| r.0);
    let watch = store.subscribe("st-owner/", &irq);
    let listed = store.list("st-owner/").unwrap_or_default();
    let everything = store.list("").unwrap_or_default();
    let all_visible = everything.iter().all(|k| k.starts_with("st-stranger/") || !k.contains('/'));
    check!(
        "ungranted_refused",
        found
            && existing == Err(denied)
            && absent == Err(denied)
            && watch == Err(denied)
            && listed.is_empty()
            && all_visible,
        "get={:?} get_absent={:?} subscribe={:?} listed={} visible={}",
        existing,
        absent,
        watch,
        listed.len(),
        everything.len()
    );

    // First come, first served: the owner's global name is not ours.
    let publish = store.publish("test.owner-irq", irq.0, Rights::WRITE, false);
    let put = store.put_int("test.owner-irq", 7);
    let delete = store.delete("test.owner-irq");
    let own = store.put_int("st-stranger/mine", 1);
    let claim = store.put_str("test.stranger-name", "mine");
    check!(
        "global_first_come",
        publish == Err(denied) && put == Err(denied) && delete == Err(denied) && own.is_ok() && claim.is_ok(),
        "publish={:?} put={:?} delete={:?} own={:?} claim_free_name={:?}",
        publish,
        put,
        delete,
        own,
        claim
    );
    finished();
}
