//! Starts `st-child`, lets it save private state, kills it, starts it again:
//! the new incarnation must find the state (the store outlives drivers), and
//! the dead incarnation's subscription must go away. Its own reads of the
//! child's private keys are refused, though it may read the rest.
#![no_std]
#![no_main]

use datastore::{Error, Refusal, Value};
use rt::obj::{Factory, Thread};
use rt::{MsgTag, Timeout, ipc};
use store_test::{check, finished, store};

rt::entry!(main);

const EVENTS: u64 = 0xe;

/// Waits for the child's next call and answers it with `reply`.
fn answer(reply: u64) -> bool {
    loop {
        match ipc::wait(Timeout::Millis(30_000)) {
            Ok(m) if m.label == EVENTS => continue,
            Ok(_) => {
                ipc::set_mr::<0>(reply);
                return ipc::reply(MsgTag::new(0, 1, 0)).is_ok();
            }
            Err(e) => {
                rt::error!("st-child did not call: {}", e);
                return false;
            }
        }
    }
}

fn main() {
    let store = store();
    let boot = boot::Boot::open().expect("the boot archive");
    let events = Factory::own().create_irq().expect("irq");
    events.attach(&Thread::own_main(), EVENTS).expect("attach");

    // First life: it saves its state, subscribes, says so, and is killed.
    let first = boot::spawn_child(&boot, "st-child", Some(events)).expect("spawn st-child");
    let ran = answer(1);
    let saved = answer(1);
    let killed = first.task.kill();
    let _ = ipc::receive(events.0, Timeout::Millis(5000));
    first.destroy();

    // The parent reads the child's namespace, but not its private keys.
    let public = store.get("st-child/public").map(|r| r.0);
    let private = store.get("st-child/.private/state").map(|r| r.0);
    check!(
        "private_hidden_from_parent",
        public == Ok(Value::Int(1)) && private == Err(Error::Refused(Refusal::Denied)),
        "public={:?} private={:?}",
        public,
        private
    );

    // Second life: the same name, so the same namespace and state.
    let second = boot::spawn_child(&boot, "st-child", Some(events)).expect("respawn st-child");
    let ran_again = answer(2);
    let reported = answer(2);
    rt::info!(
        "st-child: first life ran={} saved={} killed={:?}; second life ran={} reported={}",
        ran,
        saved,
        killed,
        ran_again,
        reported
    );
    let _ = second.task.kill();
    let _ = ipc::receive(events.0, Timeout::Millis(5000));
    second.destroy();
    finished();
}
