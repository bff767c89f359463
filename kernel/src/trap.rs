//! What happens on each kernel entry: system calls, user faults, interrupts.
//!
//! A user fault is the fault of that task alone: the kernel records the cause,
//! the instruction pointer and the faulting address, stops the task and notifies
//! its creator. A fault in kernel mode is a kernel bug: it panics, which prints
//! the reason and ends QEMU with a failure status.

use crate::arch::cpu;
use crate::arch::frame::{SYSCALL_VECTOR, TrapFrame};
use crate::arch::idt::IRQ_BASE;
use crate::kernel::{KERNEL, Kernel};
use crate::mem::paging;
use crate::obj::ObjId;
use crate::thread::Thread;
use l4_sys::event::{Cause, Event};

/// Called by the entry code for `syscall`; returns the frame to resume.
pub extern "C" fn syscall_from_user(frame: *mut TrapFrame) -> *const TrapFrame {
    let next = {
        let mut k = KERNEL.lock();
        let Some(cur) = k.sched.current else {
            drop(k);
            idle()
        };
        debug_assert!(k.objs.thread(cur).is_some_and(|t| core::ptr::eq(&t.frame, frame)));
        // SAFETY: the frame is the first field of the current thread's control
        // block (`Thread` is `repr(C)`), which the entry code just filled and
        // nothing else references while the lock is held.
        if let Some(next) = unsafe { k.fastpath(frame.cast::<Thread>()) } {
            return next;
        }
        k.invoke(cur);
        k.schedule()
    };
    next.unwrap_or_else(|| idle())
}

/// Called by the entry code for exceptions and interrupts from user mode.
pub extern "C" fn trap_from_user(frame: *mut TrapFrame) -> *const TrapFrame {
    let next = {
        let mut k = KERNEL.lock();
        // SAFETY: the entry code passes the current thread's frame, which it just
        // filled; the kernel lock is held, so nothing else touches it.
        let f = unsafe { &*frame };
        if f.vector >= IRQ_BASE {
            k.interrupt(f.vector);
        } else if let Some(cur) = k.sched.current {
            user_fault(&mut k, cur, f);
        }
        k.schedule()
    };
    next.unwrap_or_else(|| idle())
}

/// Called for entries from kernel mode: interrupts while idle, or kernel bugs.
/// Returns a user frame to resume, or null to go back to the idle loop.
pub extern "C" fn trap_from_kernel(frame: *mut TrapFrame) -> *const TrapFrame {
    // SAFETY: the entry code passes the frame it pushed on the kernel stack.
    let f = unsafe { &*frame };
    if f.vector < IRQ_BASE || f.vector == SYSCALL_VECTOR {
        panic!(
            "exception {} in kernel mode at {:#x}, error {:#x}, cr2 {:#x}, rsp {:#x}",
            f.vector,
            f.rip,
            f.error,
            cpu::read_cr2(),
            f.rsp
        );
    }
    let mut k = KERNEL.lock();
    k.interrupt(f.vector);
    k.schedule().unwrap_or(core::ptr::null())
}

/// Waits for interrupts; the interrupt path resumes a user thread directly.
pub fn idle() -> ! {
    loop {
        cpu::idle_wait();
    }
}

fn user_fault(k: &mut Kernel, cur: ObjId, f: &TrapFrame) {
    let Some(t) = k.objs.thread(cur) else { return };
    let (task, index) = (t.task, t.index as u64);
    let pml4 = k.objs.task(task).map(|t| t.space.pml4);
    let mut cause = Cause::from_raw(f.vector).unwrap_or(Cause::GeneralProtection);
    let mut addr = 0;
    if f.vector == Cause::PageFault as u64 {
        addr = cpu::read_cr2();
    } else if f.vector == Cause::GeneralProtection as u64
        && f.error == 0
        && let Some(pml4) = pml4
        && let Some(port) = port_access(k, pml4, f)
    {
        cause = Cause::IoPort;
        addr = port as u64;
    }
    k.stats.faults += 1;
    let name = k.objs.task(task).map_or("?", |t| t.name());
    crate::kwarn!(
        "fault: {} thread {}: {} at ip {:#x}, address {:#x}, error {:#x}; task stopped",
        name,
        index,
        cause.name(),
        f.rip,
        addr,
        f.error
    );
    k.report(task, Event { cause, ip: f.rip, addr, code: f.error, thread: index }, &[]);
}

/// If the instruction at the faulting address is a port access, the port.
fn port_access(k: &Kernel, pml4: paging::Table, f: &TrapFrame) -> Option<u16> {
    let mut bytes = [0u8; 3];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = read_user_byte(k, pml4, f.rip.checked_add(i as u64)?)?;
    }
    // Skip an operand-size prefix.
    let (op, imm) = if bytes[0] == 0x66 { (bytes[1], bytes[2]) } else { (bytes[0], bytes[1]) };
    match op {
        0xe4..=0xe7 => Some(imm as u16),
        0xec..=0xef | 0x6c..=0x6f => Some(f.rdx as u16),
        _ => None,
    }
}

/// Reads one byte of user memory through the task's page tables. The address is
/// not trusted: unmapped, kernel-only or non-RAM pages give `None`.
fn read_user_byte(k: &Kernel, pml4: paging::Table, addr: u64) -> Option<u8> {
    if addr >= l4_sys::layout::USER_END {
        return None;
    }
    let (phys, flags) = paging::translate(pml4, addr)?;
    if flags & paging::USER == 0 || !k.is_ram(phys, phys + 1) {
        return None;
    }
    // SAFETY: `phys` lies in RAM (checked), which the direct map covers.
    Some(unsafe { *crate::mem::phys_to_virt(phys) })
}
