//! [`crate::console`] on Fiasco.OC: the kernel's log object (its Vlog,
//! `L4_BASE_LOG_CAP`, which moe registers as `log` and ned hands on as
//! `console`). The kernel's serial console passes what is typed to it (the
//! escape key stays JDB's); it triggers an IRQ object bound to it (ICU bind,
//! line 0) when input comes, and its read operation returns what came.
//!
//! The kernel keeps what is typed in a buffer of 256 bytes and drops what
//! comes while it is full, and it drains the serial line as fast as QEMU
//! feeds it, so a reader that is busy (the shell, waiting for the answer to
//! the line before) would lose what is typed or pasted further ahead. A
//! thread of its own empties the kernel's buffer as soon as input comes,
//! into [`KEPT`] bytes of this task, and wakes the reader.

use crate::ipc;
use crate::obj::{Factory, Irq, Thread, release};
use crate::sync::Mutex;
use crate::{Error, Timeout};
use alloc::collections::VecDeque;
use alloc::sync::Arc;
use l4_sys::fiasco::Cap;
use l4_sys::fiasco::msg::{self, VconAttr};
use l4_sys::fiasco::syscall::call;
use l4_sys::fiasco::vbus;

/// The label the reader's wake-ups arrive with.
const LABEL: u64 = 0xc0;
/// The label of the kernel's input IRQ at the input thread.
const INPUT_LABEL: u64 = 0xc1;
/// How many typed bytes wait here for the reader at most.
pub const KEPT: usize = 4096;
/// The input thread's stack, and its priority: above the default, so that it
/// empties the kernel's buffer before the tasks at the default level run on.
const STACK: u64 = 16 << 10;
const PRIORITY: u8 = l4_sys::proto::thread::DEFAULT_PRIORITY + 10;

/// What the input thread took from the kernel and the reader has not.
struct Keys {
    bytes: VecDeque<u8>,
    /// Bytes dropped because [`KEPT`] were waiting, since the reader last
    /// said so.
    lost: u64,
}

/// The kernel's log object, read by a thread of this task.
pub struct Console {
    keys: Arc<Mutex<Keys>>,
    /// Triggered by the input thread when it has added keys.
    ready: Irq,
}

/// Reads what the kernel has waiting, at most `buf.len()` bytes.
fn take(vlog: Cap, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        let asked = (buf.len() - n).min(msg::VCON_READ_MAX);
        if call(vlog, ipc::compose(|m| msg::vcon_read(m, asked))).is_err() {
            break;
        }
        let (got, more) = msg::vcon_read_answer(ipc::mr::<0>(), asked);
        let words = ipc::mrs::<{ 1 + msg::VCON_READ_MAX / 8 }>();
        l4_sys::message::unpack(&words[1..1 + got.div_ceil(8)], &mut buf[n..n + got]);
        n += got;
        if !more || got == 0 {
            break;
        }
    }
    n
}

/// Moves everything the kernel has waiting into `keys`; whether it moved any.
fn drain(vlog: Cap, keys: &Mutex<Keys>) -> bool {
    let mut chunk = [0u8; msg::VCON_READ_MAX];
    let mut any = false;
    loop {
        let n = take(vlog, &mut chunk);
        if n == 0 {
            return any;
        }
        any = true;
        let mut k = keys.lock();
        let room = KEPT.saturating_sub(k.bytes.len()).min(n);
        k.bytes.extend(&chunk[..room]);
        k.lost += (n - room) as u64;
    }
}

/// The input thread: waits for the kernel's IRQ, empties the kernel's buffer
/// and wakes the reader, for the task's life.
fn input_loop(vlog: Cap, input: Irq, ready: Irq, keys: Arc<Mutex<Keys>>) -> ! {
    loop {
        let _ = ipc::wait(Timeout::Never);
        let mut any = drain(vlog, &keys);
        let _ = input.unmask();
        // Input that came between the last read and the unmask triggered
        // nothing (the kernel triggers when its buffer stops being empty).
        any |= drain(vlog, &keys);
        if any {
            let _ = ready.trigger();
        }
    }
}

impl Console {
    /// Binds an IRQ to the console's input, turns its echo and line mode off
    /// (the caller reads keys as they come and echoes what it wants), and
    /// starts the thread that takes the input from the kernel.
    pub fn open() -> Result<Console, Error> {
        let vlog = Cap::from_idx(crate::env::cap("console").ok_or(Error::NoCapability)?);
        let factory = Factory::own();
        let ready = factory.create_irq()?;
        let input = match factory.create_irq() {
            Ok(i) => i,
            Err(e) => {
                release(ready.0);
                return Err(e);
            }
        };
        let keys = Arc::new(Mutex::new(Keys { bytes: VecDeque::with_capacity(KEPT), lost: 0 }));
        let for_thread = keys.clone();
        let started = ready.attach(&Thread::own_main(), LABEL).and_then(|()| {
            // The thread waits for any message: the IRQ reaches it once
            // attached below.
            crate::thread::spawn(PRIORITY, STACK, move || input_loop(vlog, input, ready, for_thread))
        });
        let bound = started.and_then(|h| {
            input.attach(&h.thread, INPUT_LABEL)?;
            call(vlog, ipc::compose(|m| vbus::icu_bind(m, 0, Cap::from_idx(input.0)))).map(|_| ())
        });
        if let Err(e) = bound {
            // A thread that started waits for an IRQ that never comes.
            release(input.0);
            release(ready.0);
            return Err(e);
        }
        if call(vlog, ipc::compose(msg::vcon_get_attr)).is_ok() {
            let [_, i, o, l] = ipc::mrs::<4>();
            let mut attr = VconAttr::from_words([i, o, l]);
            attr.l_flags &= !(VconAttr::ECHO | VconAttr::ICANON);
            let _ = call(vlog, ipc::compose(|m| msg::vcon_set_attr(m, attr)));
        }
        // What was typed before the bind triggered nothing.
        if drain(vlog, &keys) {
            let _ = ready.trigger();
        }
        Ok(Console { keys, ready })
    }

    /// Takes what the input thread kept, at most `buf.len()` bytes.
    fn kept(&self, buf: &mut [u8]) -> usize {
        let mut k = self.keys.lock();
        if k.lost > 0 {
            crate::warn!("console: {} typed bytes lost, more than {} were waiting", k.lost, KEPT);
            k.lost = 0;
        }
        let n = buf.len().min(k.bytes.len());
        for (b, key) in buf.iter_mut().zip(k.bytes.drain(..n)) {
            *b = key;
        }
        n
    }

    /// Waits up to `timeout` for input (not at all when some is there) and
    /// reads what there is into `buf`; 0 when nothing came.
    pub fn read(&mut self, buf: &mut [u8], timeout: Timeout) -> usize {
        let n = self.kept(buf);
        if n > 0 {
            return n;
        }
        let _ = self.ready.wait(timeout);
        let _ = self.ready.unmask();
        self.kept(buf)
    }
}
