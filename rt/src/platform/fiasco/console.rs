//! [`crate::console`] on Fiasco.OC: the kernel's log object (its Vlog,
//! `L4_BASE_LOG_CAP`, which moe registers as `log` and ned hands on as
//! `console`). The kernel's serial console passes what is typed to it (the
//! escape key stays JDB's); it triggers an IRQ object bound to it (ICU bind,
//! line 0) when input comes, and its read operation returns what came.

use crate::ipc;
use crate::obj::{Factory, Irq, Thread, release};
use crate::{Error, Timeout};
use l4_sys::fiasco::Cap;
use l4_sys::fiasco::msg::{self, VconAttr};
use l4_sys::fiasco::syscall::call;
use l4_sys::fiasco::vbus;

/// The label input IRQs arrive with.
const LABEL: u64 = 0xc0;

/// The kernel's log object, with an IRQ bound to its input.
pub struct Console {
    vlog: Cap,
    irq: Irq,
}

impl Console {
    /// Binds an IRQ to the console's input and turns its echo and line mode
    /// off (the caller reads keys as they come and echoes what it wants).
    pub fn open() -> Result<Console, Error> {
        let vlog = Cap::from_idx(crate::env::cap("console").ok_or(Error::NoCapability)?);
        let irq = Factory::own().create_irq()?;
        let bound = call(vlog, ipc::compose(|m| vbus::icu_bind(m, 0, Cap::from_idx(irq.0))))
            .and_then(|_| irq.attach(&Thread::own_main(), LABEL));
        if let Err(e) = bound {
            release(irq.0);
            return Err(e);
        }
        if call(vlog, ipc::compose(msg::vcon_get_attr)).is_ok() {
            let [_, i, o, l] = ipc::mrs::<4>();
            let mut attr = VconAttr::from_words([i, o, l]);
            attr.l_flags &= !(VconAttr::ECHO | VconAttr::ICANON);
            let _ = call(vlog, ipc::compose(|m| msg::vcon_set_attr(m, attr)));
        }
        Ok(Console { vlog, irq })
    }

    /// What is waiting, at most `buf.len()` bytes.
    fn take(&self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            let asked = (buf.len() - n).min(msg::VCON_READ_MAX);
            if call(self.vlog, ipc::compose(|m| msg::vcon_read(m, asked))).is_err() {
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

    /// Waits up to `timeout` for input (not at all when some is there) and
    /// reads what there is into `buf`; 0 when nothing came.
    pub fn read(&mut self, buf: &mut [u8], timeout: Timeout) -> usize {
        let n = self.take(buf);
        if n > 0 {
            return n;
        }
        let _ = self.irq.wait(timeout);
        let n = self.take(buf);
        let _ = self.irq.unmask();
        n
    }
}
