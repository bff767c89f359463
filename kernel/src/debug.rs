//! The debugging right (`Rights::DEBUG` on a task): patching a task's own
//! text, which is how fault injection reaches a running driver.
//!
//! Everything is checked before a byte is written: the range lies in the user
//! half, and every page it touches is mapped executable in the target, from RAM
//! the target's own quota pays for and that nothing else maps. A patch can so
//! change only the target's own code, never another task's memory, a shared
//! ring, a device's registers or the boot archive.

use crate::kernel::Kernel;
use crate::mem::{paging, phys_to_virt};
use crate::obj::{ObjId, Object};
use crate::space::Memory;
use l4_sys::Error;
use l4_sys::proto::task::POKE_MAX;

const PAGE: u64 = 4096;

impl Kernel {
    /// Writes `bytes` at `addr` in `target`'s text and returns what was there.
    pub fn poke_text(&mut self, target: ObjId, addr: u64, bytes: &[u8]) -> Result<[u8; POKE_MAX], Error> {
        if bytes.is_empty() || bytes.len() > POKE_MAX {
            return Err(Error::InvalidArgument);
        }
        let len = bytes.len() as u64;
        if addr.checked_add(len).is_none_or(|end| end > l4_sys::layout::USER_END) {
            return Err(Error::BadAddress);
        }
        // The range touches at most two pages: find each one's frame.
        let first = addr & !(PAGE - 1);
        let last = (addr + len - 1) & !(PAGE - 1);
        let mut frames = [0u64; 2];
        for (k, page) in [first, last].into_iter().enumerate() {
            frames[k] = self.patchable_frame(target, page)?;
        }
        let mut old = [0u8; POKE_MAX];
        for (i, &b) in bytes.iter().enumerate() {
            let va = addr + i as u64;
            let frame = if va & !(PAGE - 1) == first { frames[0] } else { frames[1] };
            // SAFETY: `frame` is a RAM frame of a dataspace only `target` maps
            // (checked above), reached through the kernel's map of physical
            // memory; `va % PAGE` keeps the access inside that frame.
            unsafe {
                let p = phys_to_virt(frame + (va % PAGE));
                old[i] = p.read_volatile();
                p.write_volatile(b);
            }
        }
        Ok(old)
    }

    /// The frame behind the page at `page` in `target`, if it is the target's
    /// own executable RAM.
    fn patchable_frame(&self, target: ObjId, page: u64) -> Result<u64, Error> {
        let t = self.objs.task(target).ok_or(Error::DeadObject)?;
        let m = t.space.find(page).ok_or(Error::BadAddress)?;
        let Some(Object::Dataspace(d)) = self.objs.get(m.ds) else { return Err(Error::BadAddress) };
        let own_ram = matches!(d.memory, Memory::Ram(_)) && d.charged_to == Some(target) && d.refs == 1;
        let (phys, flags) = paging::translate(t.space.pml4, page).ok_or(Error::BadAddress)?;
        let executable = flags & paging::USER != 0 && flags & paging::NO_EXECUTE == 0;
        if !own_ram || !executable {
            return Err(Error::Denied);
        }
        Ok(phys & !(PAGE - 1))
    }
}
