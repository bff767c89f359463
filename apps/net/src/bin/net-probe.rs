//! net-probe: sends netd's `sockets` endpoint the requests a buggy or hostile
//! application might send (no session, bad ports, unknown and forged handles,
//! handles of other applications, unknown operations, too few words, a
//! capability netd did not ask for, a flood of listeners) and checks each gets
//! its error reply while netd keeps serving. Prints one `TEST` line per check.
//! It ends listening on a port and exiting, so that netd's cleanup of a dead
//! application's sockets shows in the log.
#![no_std]
#![no_main]

use protocols::socket::{self as proto, make_handle};
use rt::obj::Factory;
use rt::{CapIdx, MsgTag, Rights, Timeout, ipc};

rt::entry!(main);

macro_rules! check {
    ($name:expr, $ok:expr, $($fmt:tt)*) => {{
        let ok = $ok;
        rt::info!("TEST {} {} {}", $name, if ok { "ok" } else { "FAIL" }, format_args!($($fmt)*));
        ok
    }};
}

/// Why a call failed: netd's refusal, or the kernel's error for the IPC.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Failure {
    Netd(proto::Error),
    Ipc(rt::Error),
}
use Failure::Netd;

/// A call with `words`; the decoded status word.
fn call(gate: CapIdx, op: i64, words: &[u64]) -> Result<u64, Failure> {
    ipc::write_mrs(0, words).map_err(Failure::Ipc)?;
    match ipc::call(gate, MsgTag::new(op, words.len(), 0), Timeout::Millis(5000)) {
        Ok(_) => protocols::status::decode(ipc::mr::<0>()).map_err(Netd),
        Err(e) => Err(Failure::Ipc(e)),
    }
}

fn main() {
    let gate = rt::env::require_cap("netd.sockets");
    let mut all = true;

    let r = call(gate, proto::LISTEN, &[1234, 1]);
    all &= check!("net.no_session", r == Err(Netd(proto::Error::NoSession)), "listen={:?}", r);

    let slots = [rt::cap::alloc().expect("slot"), rt::cap::alloc().expect("slot")];
    ipc::set_receive_slots(&slots);
    let r = ipc::call(gate, MsgTag::new(proto::HELLO, 0, 0), Timeout::Millis(5000));
    ipc::clear_receive_slots(2);
    let items = r.map(|m| m.tag.items()).unwrap_or(0);
    all &= check!(
        "net.hello",
        items == 2 && protocols::status::decode::<proto::Error>(ipc::mr::<0>()) == Ok(0),
        "items={}",
        items
    );

    let bad = [
        call(gate, proto::LISTEN, &[0, 1]),
        call(gate, proto::LISTEN, &[70000, 1]),
        call(gate, proto::LISTEN, &[1234, 99]),
        call(gate, proto::LISTEN, &[1234]),
        call(gate, proto::ACCEPT, &[]),
    ];
    all &= check!("net.bad_arguments", bad.iter().all(|r| *r == Err(Netd(proto::Error::Invalid))), "{:?}", bad);

    let mine = call(gate, proto::LISTEN, &[1234, 1]);
    let r = call(gate, proto::LISTEN, &[1234, 1]);
    all &= check!("net.port_in_use", mine.is_ok() && r == Err(Netd(proto::Error::InUse)), "listen 1234 twice={:?}", r);

    let r = mine.and_then(|h| call(gate, proto::ACCEPT, &[h]));
    all &= check!(
        "net.accept_would_block",
        mine.is_ok() && r == Err(Netd(proto::Error::WouldBlock)),
        "{:?} {:?}",
        mine,
        r
    );

    // Garbage and forged handles: every slot and generation near the start,
    // which includes the listeners of echo and sink.
    let own = mine.unwrap_or(0);
    let mut refused = 0;
    let mut tried = 0;
    for h in [0, 1, 7, u64::MAX, 1 << 63, own ^ (1 << 40), own + 1] {
        tried += 1;
        refused += (call(gate, proto::ACCEPT, &[h]) == Err(Netd(proto::Error::BadHandle))) as u32;
    }
    for slot in 0..8 {
        for generation in 0..4 {
            let h = make_handle(slot, generation);
            if h == own {
                continue;
            }
            tried += 1;
            refused += (call(gate, proto::CLOSE, &[h]) == Err(Netd(proto::Error::BadHandle))) as u32;
        }
    }
    all &= check!("net.foreign_handles", refused == tried, "refused={} of {}", refused, tried);

    let bad = [
        call(gate, proto::CONNECT, &[0, 80]),
        call(gate, proto::CONNECT, &[0x0a00_0202, 0]),
        call(gate, proto::CONNECT, &[1 << 40, 80]),
        call(gate, proto::CONNECT, &[0x0a00_0202]),
    ];
    all &= check!("net.connect_bad_arguments", bad.iter().all(|r| *r == Err(Netd(proto::Error::Invalid))), "{:?}", bad);

    let r = call(gate, 0x53ff, &[1, 2, 3]);
    all &= check!("net.unknown_op", r == Err(Netd(proto::Error::NotSupported)), "{:?}", r);

    // A capability netd never asked for: the kernel refuses the send, netd
    // carries on.
    let irq = Factory::own().create_irq().expect("irq");
    let [a, b] = ipc::cap_item(irq.0, Rights::WRITE);
    let _ = ipc::write_mrs(0, &[a, b]);
    let r = ipc::call(gate, MsgTag::new(proto::INFO, 0, 1), Timeout::Millis(5000));
    let after = call(gate, proto::INFO, &[]);
    all &= check!("net.unwanted_capability", r.is_err() && after.is_ok(), "send={:?} then info={:?}", r.err(), after);

    // A flood of listeners: refused once the client's share is used, never a crash.
    let mut opened = 0;
    let mut last = Ok(0);
    for port in 2000..2100u64 {
        last = call(gate, proto::LISTEN, &[port, proto::MAX_BACKLOG]);
        if last.is_err() {
            break;
        }
        opened += 1;
    }
    let info = call(gate, proto::INFO, &[]);
    all &= check!(
        "net.listener_flood",
        matches!(last, Err(Netd(proto::Error::NoMemory | proto::Error::TooMany))) && info.is_ok(),
        "opened={} then {:?}",
        opened,
        last
    );

    // A new session drops the old sockets: the port is free again.
    for s in slots {
        let _ = rt::obj::delete(s);
    }
    ipc::set_receive_slots(&slots);
    let _ = ipc::call(gate, MsgTag::new(proto::HELLO, 0, 0), Timeout::Millis(5000));
    ipc::clear_receive_slots(2);
    let again = call(gate, proto::LISTEN, &[1234, 1]);
    all &= check!("net.hello_resets", again.is_ok(), "listen 1234 again={:?}", again);

    rt::info!("TEST net.probe {}", if all { "done" } else { "FAILED" });
    // Exit with a listener open: netd notices and drops it.
    let notify = rt::obj::Irq(slots[0]);
    let _ = notify.attach(&rt::obj::Thread::own_main(), 1);
    rt::time::sleep_ms(1500);
}
