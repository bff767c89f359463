//! The syscall fuzzer: `calls` random kernel calls from the fixed `seed`, with
//! random slots, labels, operations, message words, items, buffer registers,
//! timeouts and RFLAGS, against its own objects and against child tasks it
//! keeps creating and destroying. Counts every result by kind and checks that
//! the kernel preserves the registers it promises to. `fuzz-runner` measures
//! the kernel around it. Results are `BENCH` lines.
//!
//! Random means random except where a call would end the fuzzer itself (kill
//! or exit its own task or main thread, unmap its own image, delete a
//! capability outside its scratch slots, start a thread of its own at a
//! random address): those are turned into harmless ones and counted as such.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::arch::asm;
use rt::obj::{Factory, Task, TaskSpec, Thread};
use rt::sys::cap::{CAP_SLOTS, slot};
use rt::sys::layout::{MAP_AREA, PAGE_SIZE};
use rt::sys::proto::{self, task, thread};
use rt::sys::syscall::{Flags, invoke};
use rt::sys::utcb::{BR_COUNT, MR_COUNT};
use rt::{CapIdx, Timeout, ipc};

use selftest::garbage::XorShift;

rt::entry!(main);

/// Result kinds: 0 is success, 1..=17 the `Error` codes, 18 anything else.
const KINDS: usize = 19;

const fn kind_name(k: usize) -> &'static str {
    match k {
        0 => "ok",
        1 => "no_capability",
        2 => "dead_object",
        3 => "peer_died",
        4 => "timeout",
        5 => "bad_protocol",
        6 => "bad_opcode",
        7 => "invalid_argument",
        8 => "out_of_memory",
        9 => "quota_exceeded",
        10 => "denied",
        11 => "not_bound",
        12 => "no_reply_partner",
        13 => "in_use",
        14 => "bad_address",
        15 => "busy",
        16 => "no_receive_slot",
        17 => "cancelled",
        _ => "unknown_code",
    }
}

/// What a factory creates (its `mr[0]`).
const FACTORY_KINDS: [i64; 5] = [
    proto::factory::CREATE_TASK,
    proto::factory::CREATE_THREAD,
    proto::factory::CREATE_GATE,
    proto::factory::CREATE_IRQ,
    proto::factory::CREATE_DATASPACE,
];

/// Slots the fuzzer's creations and received capabilities land in, and the
/// only ones it deletes from.
const SCRATCH: u64 = 600;
const SCRATCH_LEN: u64 = 100;
/// Children alive at a time, and calls between two generations of them.
const CHILDREN: usize = 3;
const CHURN: u64 = 2000;

/// RFLAGS bits the fuzzer sets at random before a call: CF PF AF ZF SF DF OF,
/// IOPL (ignored at CPL 3), NT, AC, ID. TF would only stop the fuzzer.
const RANDOM_FLAGS: u64 = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x400 | 0x800 | 0x3000 | 0x4000 | 0x4_0000 | 0x20_0000;

/// A thread started here never runs user code that needs a stack: it sleeps
/// forever (a receive from nobody without timeout).
#[unsafe(naked)]
extern "C" fn park() -> ! {
    core::arch::naked_asm!("2:", "mov edi, 2", "xor esi, esi", "mov r10, -1", "syscall", "jmp 2b")
}

struct Child {
    task: Task,
    factory: Option<Factory>,
    thread: Option<Thread>,
}

/// One raw system call with random RFLAGS and random values in the registers
/// the kernel must preserve; returns rax and whether they came back intact.
fn raw_call(rdi: u64, rsi: u64, r10: u64, flags: u64, junk: [u64; 6]) -> (u64, bool) {
    let rax: u64;
    let out: [u64; 6];
    let (mut a, mut b, mut c, mut d, mut e, mut f) = (junk[0], junk[1], junk[2], junk[3], junk[4], junk[5]);
    // SAFETY: the system call reads rdi, rsi, r10 and this thread's UTCB and
    // clobbers rax, rdx, rsi, rcx and r11; r8, r9, r12..r15 are given and read
    // back to check that the kernel preserved them. The flags set here are
    // cleared again (DF above all) before the block ends.
    unsafe {
        asm!(
            "pushfq",
            "or qword ptr [rsp], {flags}",
            "popfq",
            "syscall",
            "pushfq",
            "and qword ptr [rsp], {keep}",
            "popfq",
            "cld",
            flags = in(reg) flags,
            keep = in(reg) !(0x400u64 | 0x4000 | 0x4_0000 | 0x20_0000),
            inout("rdi") rdi => _,
            inout("rsi") rsi => _,
            inout("r10") r10 => _,
            inout("r8") a, inout("r9") b, inout("r12") c, inout("r13") d, inout("r14") e, inout("r15") f,
            out("rax") rax, out("rdx") _, out("rcx") _, out("r11") _,
        );
        out = [a, b, c, d, e, f];
    }
    (rax, out == junk)
}

fn main() {
    let seed = rt::env::value("seed").unwrap_or(1);
    // The runner's warm-up incarnation gets `warm-up-calls` and reports nothing.
    let warm_up = rt::env::value("warm-up-calls");
    let calls = warm_up.or(rt::env::value("calls")).unwrap_or(50_000);
    let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    rt::info!("fuzzing {} calls from seed {}", calls, seed);
    let own = Factory::own();
    let events = own.create_irq().expect("irq");
    let _ = events.attach(&Thread::own_main(), 9);
    let gate = own.create_gate(Some(&Thread::own_main()), 7).expect("gate");
    let ds = own.create_dataspace(2 * PAGE_SIZE, false).expect("dataspace");
    let dma = own.create_dataspace(PAGE_SIZE, true).expect("dma");
    let helper = rt::thread::spawn(5, 16 << 10, || {
        loop {
            ipc::sleep_ms(3);
        }
    })
    .expect("helper thread");
    // Slots worth aiming at: the fixed ones and the objects above.
    let mut targets: Vec<u64> = alloc::vec![1, 2, 3, 4, events.0.0 as u64, gate.0.0 as u64, ds.0.0 as u64];
    targets.extend([dma.0.0 as u64, helper.thread.0.0 as u64]);
    let fixed_targets = targets.len();
    let mut children: Vec<Child> = Vec::new();
    let (mut counts, mut corrupted, mut tamed, mut created) = ([0u64; KINDS], 0u64, 0u64, 0u64);
    for i in 0..calls {
        if i % CHURN == 0 {
            // A new generation of children; the old one goes with what it held.
            for c in children.drain(..) {
                let _ = c.task.destroy();
                for s in [Some(c.task.0), c.factory.map(|f| f.0), c.thread.map(|t| t.0)].into_iter().flatten() {
                    rt::obj::release(s);
                }
            }
            // Tasks created into scratch slots belong to this task and would
            // outlive their capabilities: destroy them. Other objects refuse;
            // to a thread or a gate this is an IPC, hence the zero timeouts.
            for s in SCRATCH..SCRATCH + SCRATCH_LEN {
                ipc::set_mr::<0>(task::DESTROY);
                let tag = rt::MsgTag::new(proto::PROTO_TASK, 1, 0);
                let zero = Timeout::pair(Timeout::Zero, Timeout::Zero);
                let _ = invoke(CapIdx(s as u32), Flags::SEND, tag, zero);
                let _ = rt::obj::delete(CapIdx(s as u32));
            }
            targets.truncate(fixed_targets);
            for _ in 0..CHILDREN {
                let spec = TaskSpec {
                    name: "fuzz-child",
                    event_irq: Some(events),
                    quota_pages: 48,
                    max_priority: 50,
                    max_threads: 4,
                    may_debug: false,
                };
                let Ok(task) = own.create_task(&spec) else { continue };
                created += 1;
                let factory = task.factory().ok();
                let thread = own.create_thread(&task).ok().map(|(t, _)| t);
                if let Some(t) = thread
                    && rng.below(2) == 0
                {
                    // A child thread at a random place: it faults, and the
                    // event comes to this task.
                    let _ = t.start(rng.next_u64() & 0x7fff_ffff_ffff, rng.next_u64() & 0x7fff_ffff_fff0, 1, 0);
                }
                targets.push(task.0.0 as u64);
                targets.extend(factory.map(|f| f.0.0 as u64));
                targets.extend(thread.map(|t| t.0.0 as u64));
                children.push(Child { task, factory, thread });
            }
        }
        let target = match rng.below(8) {
            0 => rng.below(CAP_SLOTS as u64 + 80),
            1 => SCRATCH + rng.below(SCRATCH_LEN),
            _ => targets[rng.below(targets.len() as u64) as usize],
        };
        let label = rng.label();
        let words = rng.below(MR_COUNT as u64 + 6) as usize;
        let items = match rng.below(16) {
            0 => rng.below(40) as usize,
            1..=3 => 1 + rng.below(3) as usize,
            _ => 0,
        };
        let mut mr = [0u64; MR_COUNT];
        // The operation: a small number (most protocols' opcodes), now and
        // then anything, and for a factory mostly one of its object kinds.
        mr[0] = match rng.below(16) {
            0 => rng.next_u64(),
            _ if label == proto::PROTO_FACTORY && rng.below(4) != 0 => FACTORY_KINDS[rng.below(5) as usize] as u64,
            _ => rng.below(16),
        };
        for w in mr.iter_mut().skip(1) {
            *w = match rng.below(7) {
                0 => rng.below(64),
                // A size of a few pages: dataspaces until the quota says no.
                6 => (1 + rng.below(64)) * PAGE_SIZE,
                1 => rng.below(CAP_SLOTS as u64 + 80),
                2 => MAP_AREA + rng.below(1 << 20) * PAGE_SIZE,
                3 => (SCRATCH + rng.below(SCRATCH_LEN)) << 12 | rng.below(16),
                4 => rng.below(1 << 24) * PAGE_SIZE,
                _ => rng.next_u64(),
            };
        }
        // Item descriptors after the words: mostly well formed.
        for n in 0..items.min((MR_COUNT.saturating_sub(words)) / 2) {
            mr[words + 2 * n] = if rng.below(4) == 0 { rng.next_u64() } else { rt::obj::ITEM_MAP };
            mr[words + 2 * n + 1] = targets[rng.below(targets.len() as u64) as usize] << 12 | rng.below(16);
        }
        let brs: [u64; BR_COUNT] = core::array::from_fn(|_| {
            if rng.below(8) == 0 { rng.next_u64() } else { (SCRATCH + rng.below(SCRATCH_LEN)) << 12 }
        });
        ipc::write_brs(0, &brs);
        // Timeouts: mostly zero, one call in sixteen a millisecond or two,
        // never infinite.
        let mut timeout = || if rng.below(16) == 0 { 1 + rng.below(2) } else { 0 };
        let (send_t, recv_t) = (timeout(), timeout());
        let flags_in = rng.below(16);
        // Calls that would end the fuzzer itself become harmless ones.
        let own_task = target == slot::TASK.0 as u64;
        let own_main = target == slot::THREAD.0 as u64;
        let op = mr[0];
        if (own_task
            && label == proto::PROTO_TASK
            && matches!(op, task::KILL | task::EXIT | task::UNMAP | task::CAP_DELETE))
            || (own_main && label == proto::PROTO_THREAD && op == thread::EXIT)
        {
            mr[0] = task::INFO;
            tamed += 1;
        }
        if label == proto::PROTO_TASK && op == task::CAP_DELETE && !(SCRATCH..SCRATCH + SCRATCH_LEN).contains(&mr[1]) {
            mr[1] = SCRATCH + rng.below(SCRATCH_LEN);
            tamed += 1;
        }
        if label == proto::PROTO_THREAD && op == thread::START {
            // Children's threads start anywhere; this task's only in `park`.
            let child_thread = children.iter().any(|c| c.thread.is_some_and(|t| t.0.0 as u64 == target));
            if !child_thread {
                mr[1] = park as *const () as u64;
                tamed += 1;
            }
        }
        let _ = ipc::write_mrs(0, &mr);
        let tag = rt::MsgTag::new(label, words.min(63), items.min(1023));
        let rdi = (target << 12) | flags_in;
        let r10 = (send_t << 32) | recv_t;
        let junk = [rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64(), rng.next_u64()];
        let (rax, intact) = raw_call(rdi, tag.0, r10, rng.next_u64() & RANDOM_FLAGS, junk);
        counts[(rax as usize).min(KINDS - 1)] += 1;
        corrupted += !intact as u64;
        // Events of faulting children arrive as IRQ messages; take them.
        if i % 64 == 0 {
            for c in &children {
                while let Ok(info) = c.task.next_event() {
                    if info.event.is_none() {
                        break;
                    }
                }
            }
        }
    }
    for c in children.drain(..) {
        let _ = c.task.destroy();
    }
    let errors: u64 = counts[1..].iter().sum();
    if warm_up.is_some() {
        rt::exit(if corrupted == 0 { 0 } else { 1 }, "warm-up done");
    }
    rt::info!(
        "BENCH calls={} ok={} errors={} registers_corrupted={} tamed={} children_created={}",
        calls,
        counts[0],
        errors,
        corrupted,
        tamed,
        created
    );
    for (k, &n) in counts.iter().enumerate().skip(1) {
        rt::info!("BENCH err_{}={}", kind_name(k), n);
    }
    rt::exit(if corrupted == 0 { 0 } else { 1 }, "fuzzing done")
}
