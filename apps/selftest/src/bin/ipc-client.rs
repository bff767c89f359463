//! The IPC tests between two address spaces: call/reply, reply-and-wait,
//! capability transfer, the three kinds of timeout, and calls to a task that died.
#![no_std]
#![no_main]

use rt::obj::{Factory, KernelCap, Thread};
use rt::{Error, MsgTag, Rights, Timeout, ipc};
use selftest::check;
use selftest::proto::*;

rt::entry!(main);

fn ticks(k: &KernelCap) -> u64 {
    k.stats().map(|s| s.ticks).unwrap_or(0)
}

fn main() {
    let server = rt::env::require_cap("ipc-server.main");
    let victim = rt::env::require_cap("ipc-victim.main");
    let kernel = KernelCap(rt::env::require_cap("kernel"));

    // Call and reply: three words out, the same three back.
    let _ = ipc::write_mrs(0, &[0x1111, 0x2222, 0x3333]);
    let r = ipc::call(server, MsgTag::new(ECHO, 3, 0), Timeout::Never);
    let back = ipc::mrs::<3>() == [0x1111, 0x2222, 0x3333];
    check!("ipc.call_reply", r.is_ok_and(|m| m.tag.words() == 3) && back, "label={}", r.map(|m| m.label).unwrap_or(0));

    // Reply-and-wait: the server answers every call in one system call.
    let mut value = 0u64;
    let mut ok = true;
    for _ in 0..1000 {
        ipc::set_mr::<0>(value);
        match ipc::call(server, MsgTag::new(INCREMENT, 1, 0), Timeout::Never) {
            Ok(_) if ipc::mr::<0>() == value + 1 => value += 1,
            _ => ok = false,
        }
    }
    check!("ipc.reply_and_wait", ok && value == 1000, "calls={value}");

    // Capability transfer: hand the server an IRQ of ours; it triggers it.
    let irq = Factory::own().create_irq().expect("irq");
    irq.attach(&Thread::own_main(), 0x77).expect("attach");
    let [w0, w1] = ipc::cap_item(irq.0, Rights::WRITE);
    let _ = ipc::write_mrs(0, &[w0, w1]);
    let r = ipc::call(server, MsgTag::new(TRIGGER_CAP, 0, 1), Timeout::Never);
    let server_got_it = r.is_ok() && ipc::mr::<0>() == 1;
    let woke = irq.wait(Timeout::Millis(1000));
    check!("ipc.cap_transfer", server_got_it && woke == Ok(0x77), "server_got_cap={} irq={:?}", server_got_it, woke);

    // Zero timeout: nobody is sending, nothing is pending.
    let t0 = ticks(&kernel);
    let r = ipc::receive(rt::CapIdx::INVALID, Timeout::Zero);
    let r2 = ipc::wait(Timeout::Zero);
    // A send to a thread that is not receiving fails at once.
    let sleeper = rt::thread::spawn(50, 16 << 10, || {
        loop {
            ipc::sleep_ms(1000);
        }
    })
    .expect("thread");
    let r3 = ipc::send(sleeper.thread.0, MsgTag::new(0, 0, 0), Timeout::Zero);
    check!(
        "ipc.timeout_zero",
        r == Err(Error::Timeout) && r2 == Err(Error::Timeout) && r3 == Err(Error::Timeout) && ticks(&kernel) - t0 < 5,
        "receive={:?} wait={:?} send={:?}",
        r.err(),
        r2.err(),
        r3
    );

    // Finite timeout: the server sleeps 300 ms, the call gives up after 50.
    let t0 = ticks(&kernel);
    ipc::set_mr::<0>(300);
    let r = ipc::call(server, MsgTag::new(SLOW, 1, 0), Timeout::Millis(50));
    let waited = ticks(&kernel) - t0;
    check!(
        "ipc.timeout_finite",
        r == Err(Error::Timeout) && (50..300).contains(&waited),
        "waited_ms={waited} result={:?}",
        r.err()
    );
    // Let the server finish that request (its reply finds nobody waiting).
    ipc::sleep_ms(300);

    // Infinite timeout: the call waits as long as the server takes.
    let t0 = ticks(&kernel);
    ipc::set_mr::<0>(100);
    let r = ipc::call(server, MsgTag::new(SLOW, 1, 0), Timeout::Never);
    let waited = ticks(&kernel) - t0;
    check!("ipc.timeout_never", r.is_ok() && waited >= 100, "waited_ms={waited}");

    // A call in flight when the server dies returns an error, and so does every
    // later call to its gate: no hang.
    let t0 = ticks(&kernel);
    let r = ipc::call(victim, MsgTag::new(DIE, 0, 0), Timeout::Never);
    let r2 = ipc::call(victim, MsgTag::new(ECHO, 0, 0), Timeout::Never);
    let waited = ticks(&kernel) - t0;
    check!(
        "ipc.dead_partner",
        r == Err(Error::PeerDied) && r2.is_err() && waited < 1000,
        "in_flight={:?} after={:?}",
        r.err(),
        r2.err()
    );

    rt::info!("TEST ipc done");
}
