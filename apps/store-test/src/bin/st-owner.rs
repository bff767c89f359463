//! The data store's owner-side tests: values of every kind (one in chunks)
//! written and read back, writes to other namespaces refused, a capability
//! published under a global name (the reader looks it up and triggers it),
//! garbage requests answered with errors, and the per-owner quota.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use datastore::{Error, Refusal, Value, private_key};
use protocols::status::ProtocolError;
use protocols::store as proto;
use rt::obj::Factory;
use rt::{Rights, Timeout, ipc};
use store_test::{Rng, check, finished, notification_irq, raw_call, store, wait_until};

rt::entry!(main);

/// Messages the store's IRQ probe delivered to a gate posing as an IRQ.
static PROBES: AtomicU64 = AtomicU64::new(0);
static TAKER_READY: AtomicBool = AtomicBool::new(false);

/// The blob written in chunks: longer than one message.
fn blob() -> Vec<u8> {
    (0..3000u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn main() {
    let store = store();
    let notify = notification_irq(1);

    // The reader subscribes first, then says so.
    let ready = wait_until(20_000, || store.get("st-reader/ready").is_ok());
    if !ready {
        rt::error!("st-reader never became ready");
    }

    // Values of every kind, read back.
    let blob = blob();
    let v1 = store.put_int("st-owner/config/mtu", 1500);
    let text = "eth-test «ünïcode»";
    let v2 = store.put_str("st-owner/name", text);
    let v3 = store.put_bytes("st-owner/blob", &blob);
    let v4 = store.put_bytes(&private_key("secret"), b"do not share");
    let back = (
        store.get("st-owner/config/mtu").map(|r| r.0),
        store.get("st-owner/name").map(|r| r.0),
        store.get("st-owner/blob").map(|r| r.0),
        store.get("st-owner/.private/secret").map(|r| r.0),
    );
    let same = back.0 == Ok(Value::Int(1500))
        && back.1 == Ok(Value::Str(text.into()))
        && back.2 == Ok(Value::Bytes(blob.clone()))
        && back.3 == Ok(Value::Bytes(b"do not share".to_vec()));
    let versions: Vec<u64> = [v1, v2, v3, v4].iter().map(|v| *v.as_ref().unwrap_or(&0)).collect();
    check!(
        "put_get",
        same && versions.windows(2).all(|w| w[0] < w[1]) && versions[0] > 0,
        "int=1500 str_chars={} blob_bytes={} versions={:?}",
        text.chars().count(),
        blob.len(),
        versions
    );

    // What the reader watches: create, change, delete.
    let _ = store.put_int("st-owner/watched", 1);
    let _ = store.put_int("st-owner/watched", 2);
    let _ = store.delete("st-owner/watched");

    // Other namespaces are not ours.
    let denied = Err(Error::Refused(Refusal::Denied));
    let put = store.put_int("st-reader/hijack", 1);
    let del = store.delete("st-reader/ready");
    let publ = store.publish("st-reader/cap", notify.0, Rights::WRITE, false);
    let long = store.put_bytes("st-stranger/x", &blob);
    check!(
        "foreign_write_refused",
        put == denied && del == denied && publ == denied && long == denied,
        "put={:?} delete={:?} publish={:?} chunked={:?}",
        put,
        del,
        publ,
        long
    );

    // The name service: an IRQ of ours under a global name; the reader looks
    // it up and triggers it.
    let named = notification_irq(2);
    let published = store.publish("test.owner-irq", named.0, Rights::WRITE, false);

    garbage(&store, &blob);
    quota(&store);

    let _ = store.put_int("st-owner/done", 1);
    let woke = named.wait(Timeout::Millis(30_000));
    check!(
        "name_service",
        published.is_ok() && woke == Ok(2),
        "published={:?} triggered_through_lookup={}",
        published,
        woke == Ok(2)
    );
    finished();
}

/// Requests no client library would send: each gets an error, the store
/// stays up.
fn garbage(store: &datastore::Client, blob: &[u8]) {
    let gate = rt::env::require_cap(datastore::ENDPOINT);
    // A byte string as requests carry it: its length, then the bytes.
    let text = |k: &[u8]| {
        let mut w = Vec::from([k.len() as u64]);
        let at = w.len();
        w.resize(at + k.len().div_ceil(8), 0);
        rt::sys::message::pack(k, &mut w[at..]);
        w
    };
    let k = text(b"st-owner/g");
    let put = |kind: u64, total: u64, offset: u64, key: &[u64], chunk: &[u64]| {
        let mut w = Vec::from([kind, total, offset]);
        w.extend_from_slice(key);
        w.extend_from_slice(chunk);
        raw_call(gate, proto::PUT, &w, &[])
    };
    let (int, bytes, string) = (proto::KIND_INT as u64, proto::KIND_BYTES as u64, proto::KIND_STR as u64);
    let mut cases: Vec<(&str, i64, proto::Error)> = alloc::vec![
        ("unknown label", raw_call(gate, 0x54ff, &[1, 2, 3], &[]), proto::Error::Invalid),
        ("kind past eight bits", put(int | 1 << 40, 5, 0, &k, &[0]), proto::Error::Invalid),
        ("key longer than sent", put(int, 5, 0, &[100], &[0]), proto::Error::Invalid),
        // Exactly as many words as a 200-byte key takes: past MAX_KEY.
        ("key over the limit", put(int, 5, 0, &text(&[b'a'; 200]), &[0]), proto::Error::Invalid),
        ("words left over", put(int, 5, 0, &k, &[0, 9]), proto::Error::Invalid),
        ("unknown kind", put(9, 5, 0, &k, &[0]), proto::Error::Invalid),
        ("value over the limit", put(bytes, 1 << 20, 0, &k, &[8, 0]), proto::Error::TooBig),
        ("chunk past the end", put(bytes, 8, 0, &k, &[16, 0, 0]), proto::Error::Invalid),
        ("chunk out of order", put(bytes, 64, 8, &k, &[8, 0]), proto::Error::Sequence),
        ("string not UTF-8", put(string, 2, 0, &k, &[2, 0x28c3]), proto::Error::Invalid),
    ];
    let r = raw_call(gate, proto::GET, &[0, 9, u64::from_le_bytes(*b"st-owner"), 0xff], &[]);
    cases.push(("key not UTF-8", r, proto::Error::Invalid));
    let r = raw_call(gate, proto::GET, &[0, k[0]], &[]);
    cases.push(("get without its key", r, proto::Error::Invalid));
    let mut w = Vec::from([0]);
    w.extend_from_slice(&text(b"st-owner/a b"));
    cases.push(("key with a space", raw_call(gate, proto::GET, &w, &[]), proto::Error::Invalid));
    cases.push(("events of nobody", raw_call(gate, proto::EVENTS, &[12345], &[]), proto::Error::BadId));
    let w = k.clone();
    cases.push(("subscribe without an IRQ", raw_call(gate, proto::SUBSCRIBE, &w, &[]), proto::Error::BadCap));
    // Things that are not IRQs, as notification IRQs: a dataspace; a gate
    // whose thread sleeps and never receives (IPC to it would block the
    // store forever); a gate whose thread takes every message (the store's
    // probe lands there and must not be taken for an IRQ's answer).
    let ds = Factory::own().create_dataspace(4096, false).expect("dataspace");
    let r = raw_call(gate, proto::SUBSCRIBE, &w, &[ipc::cap_item(ds.0, Rights::ALL)]);
    cases.push(("subscribe with a dataspace", r, proto::Error::BadCap));
    let sleeper = rt::thread::spawn(100, 16 << 10, || {
        loop {
            ipc::sleep_ms(60_000);
        }
    })
    .expect("thread");
    let trap = Factory::own().create_gate(Some(&sleeper.thread), 0x77).expect("gate");
    let r = raw_call(gate, proto::SUBSCRIBE, &w, &[ipc::cap_item(trap.0, Rights::ALL)]);
    cases.push(("subscribe with a gate nobody serves", r, proto::Error::BadCap));
    let taker = rt::thread::spawn(100, 16 << 10, || {
        TAKER_READY.store(true, Ordering::Release);
        loop {
            if ipc::wait(Timeout::Never).is_ok() {
                PROBES.fetch_add(1, Ordering::Relaxed);
            }
        }
    })
    .expect("thread");
    let trap = Factory::own().create_gate(Some(&taker.thread), 0x78).expect("gate");
    wait_until(1000, || TAKER_READY.load(Ordering::Acquire));
    ipc::sleep_ms(20);
    let r = raw_call(gate, proto::SUBSCRIBE, &w, &[ipc::cap_item(trap.0, Rights::ALL)]);
    cases.push(("subscribe with a served gate", r, proto::Error::BadCap));
    let irq = store_test::notification_irq(9);
    // PUBLISH: the delegate flag, then the key.
    let mut w = Vec::from([0]);
    w.extend_from_slice(&k);
    let r = raw_call(gate, proto::PUBLISH, &w, &[ipc::cap_item(irq.0, Rights::WRITE)]);
    cases.push(("publish without DELEGATE", r, proto::Error::BadCap));
    cases.push(("publish without a capability", raw_call(gate, proto::PUBLISH, &w, &[]), proto::Error::BadCap));
    cases.push(("info with words", raw_call(gate, proto::INFO, &[1], &[]), proto::Error::Invalid));

    let wrong: Vec<&(&str, i64, proto::Error)> = cases.iter().filter(|(_, got, want)| *got != want.code()).collect();
    for (what, got, want) in &wrong {
        rt::error!("garbage case `{}`: got {} instead of {}", what, got, want);
    }

    // Random messages: labels of the protocol and around it, random words.
    let mut rng = Rng::new();
    let mut odd = 0;
    for _ in 0..300 {
        let label = proto::PUT - 1 + (rng.next_u64() % 12) as i64;
        let n = (rng.next_u64() % 20) as usize;
        let mut words = [0u64; 20];
        for w in words.iter_mut().take(n) {
            *w = match rng.next_u64() % 4 {
                0 => rng.next_u64(),
                1 => rng.next_u64() & 0xffff_ffff,
                2 => rng.next_u64() % 300,
                _ => 0,
            };
        }
        // UNSUBSCRIBE 0 is legal (it drops our subscriptions): no harm.
        let status = raw_call(gate, label, &words[..n], &[]);
        if status <= -1000 {
            odd += 1;
        }
    }
    // Calls and replies hand the processor back and forth directly: give the
    // gate's thread a moment to count what it took.
    ipc::sleep_ms(20);
    let alive = store.get("st-owner/blob").map(|r| r.0) == Ok(Value::Bytes(blob.to_vec()));
    check!(
        "garbage",
        wrong.is_empty() && odd == 0 && alive,
        "cases={} wrong={} random=300 ipc_errors={} probes_at_gate={} alive={}",
        cases.len(),
        wrong.len(),
        odd,
        PROBES.load(Ordering::Relaxed),
        alive
    );
}

/// Entries and bytes are bounded per owner; deletes give them back.
fn quota(store: &datastore::Client) {
    let info = store.info().unwrap_or_default();
    let mut entries_refused_at = None;
    for i in 0..1000 {
        match store.put_int(&format!("st-owner/q/{i}"), i) {
            Ok(_) => {}
            Err(e) => {
                entries_refused_at = Some((i, e));
                break;
            }
        }
    }
    let full = store.info().unwrap_or_default();
    for key in store.list("st-owner/q/").unwrap_or_default() {
        let _ = store.delete(&key);
    }
    let big = [0x5au8; proto::MAX_VALUE];
    let mut bytes_refused_at = None;
    for i in 0..100 {
        if let Err(e) = store.put_bytes(&format!("st-owner/big/{i}"), &big) {
            bytes_refused_at = Some((i, e));
            break;
        }
    }
    let too_big = store.put_bytes("st-owner/huge", &[0u8; proto::MAX_VALUE + 1]);
    for key in store.list("st-owner/big/").unwrap_or_default() {
        let _ = store.delete(&key);
    }
    let after = store.info().unwrap_or_default();
    let quota = Some(Error::Refused(Refusal::Quota));
    check!(
        "quota",
        entries_refused_at.map(|r| r.1) == quota
            && full.entries == full.max_entries
            && bytes_refused_at.map(|r| r.1) == quota
            && too_big == Err(Error::Refused(Refusal::TooBig))
            && after.entries == info.entries,
        "max_entries={} entries_refused_at={:?} max_bytes={} bytes_refused_at={:?} entries_before={} after={}",
        full.max_entries,
        entries_refused_at.map(|r| r.0),
        full.max_bytes,
        bytes_refused_at.map(|r| r.0),
        info.entries,
        after.entries
    );
}
