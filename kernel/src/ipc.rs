//! Synchronous IPC: send, receive, call, reply, reply-and-wait, with timeouts and
//! capability transfer.
//!
//! A message moves from the sender's UTCB to the receiver's when both are ready;
//! whoever comes first waits (senders queue at the receiver in arrival order). A
//! call's sender then waits for the reply from exactly that receiver, which
//! remembers it as its reply partner. When the receiver of a call runs next,
//! the kernel switches to it directly.

use crate::kernel::Kernel;
use crate::obj::{ObjId, Object};
use crate::syscall::{Invocation, Item, MAX_ITEMS, check_shape};
use crate::task::Cap;
use crate::thread::{PendingSend, Source, State};
use l4_sys::event::Cause;
use l4_sys::syscall::Flags;
use l4_sys::utcb::{BR_COUNT, ITEM_MAP};
use l4_sys::{CapIdx, Error, MsgTag, Rights, Timeout};

enum Sent {
    /// The receiver had the message at once.
    Delivered,
    /// The sender waits in the receiver's queue.
    Queued,
}

impl Kernel {
    /// The `invoke` system call of thread `cur`, arguments in its saved registers.
    pub fn invoke(&mut self, cur: ObjId) {
        let Some(t) = self.objs.thread(cur) else { return };
        let task = t.task;
        let Invocation { flags, dest, tag, send_timeout, recv_timeout } =
            Invocation::from_registers(t.frame.rdi, t.frame.rsi, t.frame.r10);

        if flags.contains(Flags::SEND) {
            if flags.contains(Flags::REPLY) {
                if let Err(e) = self.reply(cur, tag)
                    && !flags.contains(Flags::RECV)
                {
                    return self.finish(cur, Err(e));
                }
            } else {
                let cap = match self.lookup(task, dest) {
                    Ok(cap) => cap,
                    Err(e) => return self.finish(cur, Err(e)),
                };
                let (target, label) = match self.objs.get(cap.obj) {
                    // A thread is an IPC destination, except for its own
                    // control protocol.
                    Some(Object::Thread(_)) if tag.label() != l4_sys::proto::PROTO_THREAD => (cap.obj, 0),
                    Some(Object::Gate(g)) if tag.label() != l4_sys::proto::PROTO_KOBJECT => {
                        if !cap.rights.contains(Rights::READ) {
                            return self.finish(cur, Err(Error::Denied));
                        }
                        match g.thread {
                            Some(th) => (th, g.label),
                            None => return self.finish(cur, Err(Error::NotBound)),
                        }
                    }
                    _ => {
                        // A kernel object: the operation completes within the call.
                        let result = self.kernel_op(cur, cap, tag);
                        return self.finish(cur, result);
                    }
                };
                let call = flags.contains(Flags::RECV) && !flags.contains(Flags::OPEN_WAIT);
                let reply_timeout = match recv_timeout {
                    Timeout::Millis(ms) => Some(ms),
                    _ => None,
                };
                let pending = PendingSend { tag, label, call, reply_timeout };
                match self.send(cur, target, pending, send_timeout, recv_timeout) {
                    Err(e) => return self.finish(cur, Err(e)),
                    // The reply phase of a call is already set up.
                    Ok(Sent::Queued) => return,
                    Ok(Sent::Delivered) if call => return,
                    Ok(Sent::Delivered) => {}
                }
            }
        }

        if !flags.contains(Flags::RECV) {
            return self.finish(cur, Ok((MsgTag(0), 0)));
        }
        let from = if flags.contains(Flags::OPEN_WAIT) {
            Source::Any
        } else if !dest.is_valid() {
            Source::Nobody
        } else {
            match self.lookup(task, dest) {
                Ok(cap) => match self.objs.get(cap.obj) {
                    Some(Object::Thread(_)) => Source::Thread(cap.obj),
                    Some(Object::Irq(_)) => Source::Irq(cap.obj),
                    _ => return self.finish(cur, Err(Error::InvalidArgument)),
                },
                Err(e) => return self.finish(cur, Err(e)),
            }
        };
        self.receive(cur, from, recv_timeout);
    }

    /// Resolves a capability of a task. An empty slot is an IPC-control
    /// violation: counted, logged and reported to the task's creator.
    pub fn lookup(&mut self, task: ObjId, idx: CapIdx) -> Result<Cap, Error> {
        let cap = self.objs.task(task).and_then(|t| t.caps.get(idx));
        match cap {
            Some(cap) if self.objs.get(cap.obj).is_some() => Ok(cap),
            Some(_) => Err(Error::DeadObject),
            None => {
                self.stats.ipc_denied += 1;
                let n = self.stats.ipc_denied;
                let (name, ip) = self.current_place();
                // Every denial is counted and reported to the creator.
                crate::kernel::worth_logging(n).then(|| {
                    crate::kwarn!(
                        "denied: {} invoked slot {} it holds no capability in (ip {:#x}; denied so far: {})",
                        name,
                        idx.0,
                        ip,
                        n
                    )
                });
                self.report_current(Cause::IpcDenied, idx.0 as u64, 0);
                Err(Error::NoCapability)
            }
        }
    }

    /// Name of the current task and the current thread's instruction pointer.
    pub fn current_place(&self) -> (&str, u64) {
        self.sched
            .current
            .and_then(|c| self.objs.thread(c))
            .and_then(|t| Some((self.objs.task(t.task)?.name(), t.frame.rip)))
            .unwrap_or(("?", 0))
    }

    fn send(
        &mut self,
        cur: ObjId,
        target: ObjId,
        p: PendingSend,
        timeout: Timeout,
        recv_timeout: Timeout,
    ) -> Result<Sent, Error> {
        let ready = match self.objs.thread(target) {
            None => return Err(Error::DeadObject),
            Some(t) if !t.is_alive() => return Err(Error::PeerDied),
            Some(t) => match t.state {
                State::Receiving { from: Source::Any } => true,
                State::Receiving { from: Source::Thread(x) } => x == cur,
                _ => false,
            },
        };
        if ready {
            let tag = self.transfer(cur, target, p.tag)?;
            if p.call {
                self.objs.thread_mut(target).expect("checked").reply_to = Some(cur);
                self.block_for_reply(cur, target, recv_timeout);
            }
            if p.call {
                // The callee runs on the caller's time slice (see fastpath.rs).
                let slice = self.objs.thread(cur).map_or(1, |t| t.slice.max(1));
                if let Some(t) = self.objs.thread_mut(target) {
                    t.slice = slice;
                }
            }
            self.finish_handoff(target, Ok((tag, p.label)));
            return Ok(Sent::Delivered);
        }
        if timeout == Timeout::Zero {
            return Err(Error::Timeout);
        }
        let t = self.objs.thread_mut(cur).expect("current thread");
        t.waits(State::Sending { to: target });
        t.send = Some(p);
        self.objs.thread_mut(target).expect("checked").senders.push_back(cur);
        if let Timeout::Millis(ms) = timeout {
            self.arm_timeout(cur, ms);
        }
        Ok(Sent::Queued)
    }

    fn block_for_reply(&mut self, caller: ObjId, callee: ObjId, timeout: Timeout) {
        if let Some(t) = self.objs.thread_mut(caller) {
            t.waits(State::Receiving { from: Source::Reply(callee) });
        }
        if let Timeout::Millis(ms) = timeout {
            self.arm_timeout(caller, ms);
        }
    }

    fn reply(&mut self, cur: ObjId, tag: MsgTag) -> Result<(), Error> {
        let caller = self.objs.thread_mut(cur).and_then(|t| t.reply_to.take()).ok_or(Error::NoReplyPartner)?;
        let waits = self.objs.thread(caller).is_some_and(|t| t.state == State::Receiving { from: Source::Reply(cur) });
        if !waits {
            return Err(Error::NoReplyPartner);
        }
        match self.transfer(cur, caller, tag) {
            Ok(tag) => {
                self.finish_handoff(caller, Ok((tag, 0)));
                Ok(())
            }
            Err(e) => {
                // The caller must not wait forever for a reply that failed.
                self.finish(caller, Err(e));
                Err(e)
            }
        }
    }

    fn receive(&mut self, cur: ObjId, from: Source, timeout: Timeout) {
        let irq_filter = match from {
            Source::Any => Some(None),
            Source::Irq(i) => Some(Some(i)),
            _ => None,
        };
        if let Some(only) = irq_filter
            && let Some(label) = self.take_pending_irq(cur, only)
        {
            return self.finish(cur, Ok((MsgTag::new(l4_sys::proto::PROTO_IRQ, 0, 0), label)));
        }
        loop {
            let sender = {
                let t = self.objs.thread_mut(cur).expect("current thread");
                let pos = match from {
                    Source::Any => (!t.senders.is_empty()).then_some(0),
                    Source::Thread(x) => t.senders.iter().position(|&s| s == x),
                    _ => None,
                };
                match pos {
                    Some(p) => t.senders.remove(p).expect("position is valid"),
                    None => break,
                }
            };
            if let Some(result) = self.take_message(cur, sender) {
                return self.finish(cur, Ok(result));
            }
        }
        if timeout == Timeout::Zero {
            return self.finish(cur, Err(Error::Timeout));
        }
        if let Some(t) = self.objs.thread_mut(cur) {
            t.waits(State::Receiving { from });
        }
        if let Timeout::Millis(ms) = timeout {
            self.arm_timeout(cur, ms);
        }
    }

    /// Moves the message of a queued sender to `cur`. On a transfer error the
    /// sender gets the error and `None` is returned.
    fn take_message(&mut self, cur: ObjId, sender: ObjId) -> Option<(MsgTag, u64)> {
        let p = self.objs.thread_mut(sender)?.send.take()?;
        if let Some(t) = self.objs.thread_mut(sender) {
            t.wakeup = None;
        }
        match self.transfer(sender, cur, p.tag) {
            Ok(tag) => {
                if p.call {
                    self.objs.thread_mut(cur)?.reply_to = Some(sender);
                    let timeout = p.reply_timeout.map_or(Timeout::Never, Timeout::Millis);
                    self.block_for_reply(sender, cur, timeout);
                } else {
                    self.finish(sender, Ok((MsgTag(0), 0)));
                }
                Some((tag, p.label))
            }
            Err(e) => {
                self.finish(sender, Err(e));
                None
            }
        }
    }

    /// Copies the message words and transfers the capability items.
    fn transfer(&mut self, from: ObjId, to: ObjId, tag: MsgTag) -> Result<MsgTag, Error> {
        check_shape(tag)?;
        let (words, items) = (tag.words(), tag.items());
        let (s, r) = self.objs.thread_pair_mut(from, to).ok_or(Error::PeerDied)?;
        let (src, dst) = (s.utcb(), r.utcb_mut());
        dst.mr[..words].copy_from_slice(&src.mr[..words]);
        if items == 0 {
            return Ok(tag);
        }
        let mut descs = [(0u64, 0u64); MAX_ITEMS];
        for (i, d) in descs.iter_mut().enumerate().take(items) {
            *d = (src.mr[words + 2 * i], src.mr[words + 2 * i + 1]);
        }
        let recv_slots: [u64; BR_COUNT] = dst.br;
        let (from_task, to_task) = (s.task, r.task);
        // All or nothing: if one item fails, the ones already installed go again,
        // so a failed message leaves the receiver's slots as they were.
        let mut installed = 0;
        let mut result = Ok(());
        for (i, &(flags, fpage)) in descs.iter().enumerate().take(items) {
            let dst_slot = CapIdx::from_selector(recv_slots[i]);
            let step = match Item::decode(flags, fpage) {
                Err(e) => Err(e),
                Ok(_) if !dst_slot.is_valid() => Err(Error::NoReceiveSlot),
                Ok(item) => self.copy_cap(from_task, item.slot, to_task, dst_slot, item.mask),
            };
            if let Err(e) = step {
                result = Err(e);
                break;
            }
            installed += 1;
        }
        if let Err(e) = result {
            for &slot in recv_slots.iter().take(installed) {
                let _ = self.delete_cap(to_task, CapIdx::from_selector(slot));
            }
            return Err(e);
        }
        let r = self.objs.thread_mut(to).ok_or(Error::PeerDied)?.utcb_mut();
        for (i, &slot) in recv_slots.iter().enumerate().take(items) {
            r.mr[words + 2 * i] = ITEM_MAP;
            r.mr[words + 2 * i + 1] = slot;
        }
        Ok(tag)
    }

    /// Copies a capability between tables (it must carry DELEGATE), reducing its
    /// rights by `mask`. Dataspaces count the new reference.
    pub fn copy_cap(&mut self, from: ObjId, src: CapIdx, to: ObjId, dst: CapIdx, mask: Rights) -> Result<(), Error> {
        let cap = self.objs.task(from).and_then(|t| t.caps.get(src)).ok_or(Error::NoCapability)?;
        if self.objs.get(cap.obj).is_none() {
            return Err(Error::DeadObject);
        }
        if !cap.rights.contains(Rights::DELEGATE) {
            return Err(Error::Denied);
        }
        let new = Cap { obj: cap.obj, rights: cap.rights & mask };
        self.install_cap(to, dst, new)
    }

    /// Puts a capability into a task's empty slot, counting dataspace references.
    pub fn install_cap(&mut self, task: ObjId, slot: CapIdx, cap: Cap) -> Result<(), Error> {
        self.objs.task_mut(task).ok_or(Error::DeadObject)?.caps.install(slot, cap)?;
        if let Some(ds) = self.objs.dataspace_mut(cap.obj) {
            ds.refs += 1;
        }
        Ok(())
    }

    /// Empties a slot, dropping a dataspace reference.
    pub fn delete_cap(&mut self, task: ObjId, slot: CapIdx) -> Result<(), Error> {
        let cap = self.objs.task_mut(task).ok_or(Error::DeadObject)?.caps.take(slot).ok_or(Error::NoCapability)?;
        self.drop_ds_ref(cap.obj);
        Ok(())
    }

    /// Drops one reference to a dataspace; the last one frees its memory.
    pub fn drop_ds_ref(&mut self, id: ObjId) {
        let Some(ds) = self.objs.dataspace_mut(id) else { return };
        ds.refs -= 1;
        if ds.refs > 0 {
            return;
        }
        if let Some(Object::Dataspace(ds)) = self.remove_object(id) {
            if let Some(t) = ds.charged_to {
                self.refund(t, ds.charged_pages());
            }
            ds.release(&mut self.frames);
        }
    }
}
