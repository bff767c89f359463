//! Interrupts as messages (Omega0 style) and software notifications.
//!
//! A hardware line is masked when it fires, and each IRQ object bound to it gets
//! the interrupt as a message to its attached thread. The line is unmasked when
//! every object sharing it has acknowledged (`UNMASK`), so level-triggered, shared
//! PCI lines work. A trigger nobody waits for is kept as `pending` and delivered
//! when the thread next waits: a restarted driver that attaches to the same IRQ
//! object gets the interrupt its predecessor never handled.

use crate::arch::idt::IRQ_BASE;
use crate::arch::{cpu, pic};
use crate::kernel::Kernel;
use crate::obj::{ObjId, Object};
use crate::thread::{Source, State};
use alloc::vec::Vec;
use l4_sys::MsgTag;
use l4_sys::proto::PROTO_IRQ;

pub struct Line {
    /// IRQ objects bound to the line.
    pub irqs: Vec<ObjId>,
    /// Bound objects that still owe an acknowledgement.
    pub outstanding: u32,
    /// TSC at kernel entry of the last interrupt (for latency measurement).
    pub entry_tsc: u64,
    pub count: u64,
}

impl Line {
    pub const fn new() -> Line {
        Line { irqs: Vec::new(), outstanding: 0, entry_tsc: 0, count: 0 }
    }
}

impl Kernel {
    /// Delivers a trigger: to the attached thread if it waits for it, else
    /// remembered as pending.
    pub fn trigger_irq(&mut self, irq: ObjId) {
        let Some(i) = self.objs.irq_mut(irq) else { return };
        let Some((thread, label)) = i.target else {
            i.pending = true;
            return;
        };
        let waiting = self.objs.thread(thread).is_some_and(|t| match t.state {
            State::Receiving { from: Source::Any } => true,
            State::Receiving { from: Source::Irq(x) } => x == irq,
            _ => false,
        });
        if waiting {
            if let Some(i) = self.objs.irq_mut(irq) {
                i.pending = false;
            }
            self.finish(thread, Ok((MsgTag::new(PROTO_IRQ, 0, 0), label)));
        } else if let Some(i) = self.objs.irq_mut(irq)
            && !i.pending
        {
            i.pending = true;
            if let Some(t) = self.objs.thread_mut(thread) {
                t.pending_irqs.push_back(irq);
            }
        }
    }

    /// Takes a pending trigger for a thread that starts to wait: returns the
    /// IRQ's label.
    pub fn take_pending_irq(&mut self, thread: ObjId, only: Option<ObjId>) -> Option<u64> {
        let t = self.objs.thread_mut(thread)?;
        let pos = match only {
            None => 0,
            Some(x) => t.pending_irqs.iter().position(|&p| p == x)?,
        };
        let irq = t.pending_irqs.remove(pos)?;
        let i = self.objs.irq_mut(irq)?;
        i.pending = false;
        match i.target {
            Some((th, label)) if th == thread => Some(label),
            // Re-attached elsewhere in the meantime: drop the stale entry.
            _ => self.take_pending_irq(thread, only),
        }
    }

    /// Interrupt `vector` entered the kernel: a PIC line, an MSI, or a
    /// stray one (the APIC's spurious vector, or a message no MSI slot
    /// sent), which is acknowledged and dropped.
    pub fn interrupt(&mut self, vector: u64) {
        if let Some(n) = crate::msi::slot(vector) {
            self.msi_interrupt(n);
        } else if let Some(line) = vector.checked_sub(IRQ_BASE).filter(|&l| l < pic::LINES as u64) {
            self.hardware_irq(line as u8);
        } else {
            crate::arch::lapic::eoi();
        }
    }

    /// Whether `[addr, addr + len)` meets the local APIC's registers.
    pub fn is_apic_regs(&self, addr: u64, len: u64) -> bool {
        self.apic.is_some_and(|a| addr < a.phys + 4096 && a.phys < addr.saturating_add(len))
    }

    /// A hardware interrupt on `line` entered the kernel.
    pub fn hardware_irq(&mut self, line: u8) {
        let tsc = cpu::rdtsc();
        if line == 0 {
            pic::eoi(0);
            self.tick();
            return;
        }
        if pic::is_spurious(line) {
            return;
        }
        let l = &mut self.lines[line as usize];
        l.entry_tsc = tsc;
        l.count += 1;
        pic::mask(line);
        pic::eoi(line);
        l.outstanding = l.irqs.len() as u32;
        // Indexing, not iterating: triggering borrows the kernel mutably.
        for n in 0..self.lines[line as usize].irqs.len() {
            let irq = self.lines[line as usize].irqs[n];
            if let Some(i) = self.objs.irq_mut(irq) {
                i.awaiting_ack = true;
            }
            self.trigger_irq(irq);
        }
    }

    /// One bound object acknowledged its interrupt.
    pub fn ack_irq(&mut self, irq: ObjId) {
        let Some(i) = self.objs.irq_mut(irq) else { return };
        let Some(line) = i.line else { return };
        if !core::mem::take(&mut i.awaiting_ack) {
            return;
        }
        let l = &mut self.lines[line as usize];
        l.outstanding = l.outstanding.saturating_sub(1);
        if l.outstanding == 0 {
            pic::unmask(line);
        }
    }

    pub fn bind_line(&mut self, line: u8, irq: ObjId) {
        if let Some(i) = self.objs.irq_mut(irq) {
            i.line = Some(line);
        }
        let l = &mut self.lines[line as usize];
        l.irqs.push(irq);
        if l.outstanding == 0 {
            pic::unmask(line);
        }
    }

    /// An IRQ object is going away: it no longer holds its line masked (or
    /// its MSI vector).
    pub fn unbind_irq(&mut self, irq: ObjId) {
        self.ack_irq(irq);
        let Some(Object::Irq(i)) = self.objs.get(irq) else { return };
        if let Some(n) = i.msi {
            self.unbind_msi(n);
            return;
        }
        if let Some(line) = i.line {
            let l = &mut self.lines[line as usize];
            l.irqs.retain(|&x| x != irq);
            if l.irqs.is_empty() {
                pic::mask(line);
            }
        }
    }

    /// A thread died: IRQs and gates bound to it become unbound. Hardware IRQs
    /// keep their line masked and their pending interrupt for the next thread.
    pub fn detach_thread(&mut self, thread: ObjId) {
        let bound = self.objs.ids_where(|o| match o {
            Object::Irq(i) => i.target.is_some_and(|(t, _)| t == thread),
            Object::Gate(g) => g.thread == Some(thread),
            _ => false,
        });
        for id in bound {
            match self.objs.get_mut(id) {
                Some(Object::Irq(i)) => {
                    i.target = None;
                    // An interrupt delivered to the dead thread and never
                    // acknowledged keeps its line masked: the next thread that
                    // attaches gets it again, so a restarted driver sees the
                    // interrupt its predecessor died handling.
                    if i.awaiting_ack {
                        i.pending = true;
                    }
                }
                Some(Object::Gate(g)) => g.thread = None,
                _ => {}
            }
        }
    }
}
