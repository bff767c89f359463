//! One attack on the kernel per incarnation, chosen by the `attack` value: CPU
//! state that user mode can set at kernel entry (RFLAGS bits, stack pointers,
//! segment registers, FPU control words), the edges of the user address space,
//! and requests that would make kernel structures grow. `hostile-runner`
//! starts each, watches the kernel and a bystander, and reports.
//!
//! An attack the kernel survives ends with `exit(0, what happened)`; one that
//! stops the attacker is reported by the kernel as a fault.
#![no_std]
#![no_main]

extern crate alloc;

use core::arch::asm;
use rt::obj::{Factory, Irq, MapAccess, Task, Thread};
use rt::sys::layout::{CANONICAL_END, MAP_AREA, PAGE_SIZE, USER_END};
use rt::{CapIdx, Error, Timeout, ipc};

rt::entry!(main);

/// RFLAGS bits.
const CF: u64 = 1 << 0;
const PF: u64 = 1 << 2;
const AF: u64 = 1 << 4;
const ZF: u64 = 1 << 6;
const SF: u64 = 1 << 7;
const TF: u64 = 1 << 8;
const DF: u64 = 1 << 10;
const OF: u64 = 1 << 11;
const IOPL: u64 = 3 << 12;
const NT: u64 = 1 << 14;
const AC: u64 = 1 << 18;
const ID: u64 = 1 << 21;

/// A kernel address (the direct map of physical memory) and the first
/// non-canonical address above the user half.
const KERNEL_ADDR: u64 = 0xffff_8000_0010_0000;
const NON_CANONICAL: u64 = CANONICAL_END;

/// Sets RFLAGS to `(current & !clear) | set`, makes one system call (a receive
/// from nobody with a zero timeout: an immediate `Timeout`) and returns the flags
/// user mode sees after it, with the direction flag cleared again.
fn syscall_with_flags(set: u64, clear: u64) -> u64 {
    let after: u64;
    // SAFETY: only flags and the registers named here change; DF is cleared before
    // the block ends, as Rust requires; the system call touches only this thread's
    // registers (rax, rdx, rsi, rcx, r11).
    unsafe {
        asm!(
            "pushfq",
            "and qword ptr [rsp], {clear}",
            "or qword ptr [rsp], {set}",
            "popfq",
            "syscall",
            "pushfq",
            "pop {after}",
            "cld",
            "pushfq",
            "and qword ptr [rsp], {sane}",
            "popfq",
            set = in(reg) set,
            clear = in(reg) !clear,
            sane = in(reg) !(NT | AC | ID | TF),
            after = lateout(reg) after,
            inout("rdi") 2u64 => _,
            inout("rsi") 0u64 => _,
            inout("r10") 0u64 => _,
            out("rax") _, out("rdx") _, out("rcx") _, out("r11") _,
        );
    }
    after
}

/// Spins for `ms` milliseconds with the direction flag set: every timer
/// interrupt in between enters the kernel with DF = 1.
fn spin_with_df(ms: u64) {
    let until = rt::time::rdtsc() + ms * rt::time::tsc_per_ms();
    // SAFETY: only flags, rax and rdx change; DF is cleared before the block ends.
    unsafe {
        asm!(
            "std",
            "2:",
            "rdtsc",
            "shl rdx, 32",
            "or rax, rdx",
            "cmp rax, {until}",
            "jb 2b",
            "cld",
            until = in(reg) until,
            out("rax") _, out("rdx") _,
            options(nostack),
        );
    }
}

/// Spins for `ms` milliseconds with the stack pointer at `sp`: timer interrupts
/// arrive with a user stack pointer that is not user memory.
fn spin_with_rsp(sp: u64, ms: u64) {
    let until = rt::time::rdtsc() + ms * rt::time::tsc_per_ms();
    // SAFETY: the stack pointer is restored from r12 before the block ends and
    // nothing in between touches the stack.
    unsafe {
        asm!(
            "mov r12, rsp",
            "mov rsp, {sp}",
            "2:",
            "rdtsc",
            "shl rdx, 32",
            "or rax, rdx",
            "cmp rax, {until}",
            "jb 2b",
            "mov rsp, r12",
            sp = in(reg) sp,
            until = in(reg) until,
            out("rax") _, out("rdx") _, out("r12") _,
        );
    }
}

/// One system call with the stack pointer at `sp`; returns the error code.
fn syscall_with_rsp(sp: u64) -> u64 {
    let rax: u64;
    // SAFETY: as in `spin_with_rsp`; the system call does not use the user stack.
    unsafe {
        asm!(
            "mov r12, rsp",
            "mov rsp, {sp}",
            "syscall",
            "mov rsp, r12",
            sp = in(reg) sp,
            inout("rdi") 2u64 => _,
            inout("rsi") 0u64 => _,
            inout("r10") 0u64 => _,
            out("rax") rax, out("rdx") _, out("rcx") _, out("r11") _, out("r12") _,
        );
    }
    rax
}

fn attack_flags(set: u64, what: &str) -> ! {
    let after = syscall_with_flags(set, 0);
    // IOPL cannot be raised from user mode; everything else the task set it
    // gets back.
    let kept = after & set & !IOPL;
    let iopl = (after & IOPL) >> 12;
    let mut msg = alloc::string::String::new();
    let _ = core::fmt::write(&mut msg, format_args!("{what} kept={kept:#x} iopl={iopl}"));
    rt::info!("TEST hostile.flags.{} info set={:#x} after={:#x}", what, set, after);
    rt::exit(if kept == set & !IOPL && iopl == 0 { 0 } else { 1 }, &msg)
}

fn main() {
    let attack = rt::env::value("attack").unwrap_or(0);
    rt::info!("attack {}", attack);
    match attack {
        // Nested task with a system call: an `iretq` with NT set faults in 64-bit mode.
        1 => attack_flags(NT, "nt"),
        // Every arithmetic and control flag user mode can set, and IOPL 3 (which
        // POPF at CPL 3 must ignore).
        2 => attack_flags(CF | PF | AF | ZF | SF | DF | OF | NT | AC | ID | IOPL, "all"),
        // Timer interrupts taken with DF = 1, then a fault taken with DF = 1.
        3 => {
            spin_with_df(300);
            // SAFETY: raises #UD with DF set: the fault under test; never returns.
            unsafe { asm!("std", "ud2", options(noreturn)) }
        }
        // Single-stepping into the kernel: TF set right before `syscall`.
        4 => {
            let _ = syscall_with_flags(TF, 0);
            rt::exit(1, "single-step trap never came")
        }
        // Code on the last user page: `syscall` in its last two bytes returns to
        // the first non-canonical address (the SYSRET/IRET edge).
        5 => top_page(),
        // The stack pointer at a kernel address, a non-canonical address and 0,
        // over system calls and timer interrupts.
        6 => {
            let codes = [syscall_with_rsp(KERNEL_ADDR), syscall_with_rsp(NON_CANONICAL), syscall_with_rsp(0)];
            spin_with_rsp(KERNEL_ADDR, 100);
            spin_with_rsp(NON_CANONICAL, 100);
            let timeout = Error::Timeout as u64;
            let mut msg = alloc::string::String::new();
            let _ = core::fmt::write(&mut msg, format_args!("bad rsp syscalls answered {codes:?}"));
            rt::exit(if codes.iter().all(|&c| c == timeout) { 0 } else { 1 }, &msg)
        }
        // An exception with the stack pointer at a kernel address: the CPU must
        // switch to the kernel stack, never push onto this one.
        7 => {
            // SAFETY: raises #UD with a bogus stack pointer; never returns.
            unsafe { asm!("mov rsp, {}", "ud2", in(reg) KERNEL_ADDR, options(noreturn)) }
        }
        // %gs loaded from user mode, then `swapgs` (privileged: #GP).
        8 => {
            // SAFETY: loads the user data selector into %gs (the runtime does not
            // use %gs), makes a system call, then executes `swapgs`, which faults.
            unsafe {
                asm!("mov ax, 0x23", "mov gs, ax", out("ax") _);
                let _ = syscall_with_flags(0, 0);
                asm!("swapgs", options(noreturn))
            }
        }
        // A software interrupt into the timer's vector (an IDT gate of DPL 0).
        9 => {
            // SAFETY: `int 32` from user mode must raise #GP; never returns.
            unsafe { asm!("int 32", options(noreturn)) }
        }
        // Software interrupts into an MSI vector and into the vectors that
        // share the stray stub (gates of DPL 0 too).
        23 => {
            // SAFETY: `int 48` from user mode must raise #GP; never returns.
            unsafe { asm!("int 48", options(noreturn)) }
        }
        24 => {
            // SAFETY: `int 200` from user mode must raise #GP; never returns.
            unsafe { asm!("int 200", options(noreturn)) }
        }
        // ICEBP (int1): a debug exception that skips the IDT gate's DPL check.
        20 => {
            // SAFETY: raises #DB from user mode; never returns.
            unsafe { asm!(".byte 0xf1", "ud2", options(noreturn)) }
        }
        // int3: the breakpoint gate has DPL 0 too.
        21 => {
            // SAFETY: raises #GP from user mode; never returns.
            unsafe { asm!("int3", "ud2", options(noreturn)) }
        }
        // Unmasked SSE and x87 exceptions while the kernel runs.
        10 => {
            let (mxcsr, fcw) = (0u32, 0u16);
            // SAFETY: loads control words into this thread's FPU state only.
            unsafe { asm!("ldmxcsr [{}]", "fldcw [{}]", in(reg) &mxcsr, in(reg) &fcw) };
            for i in 0..20 {
                rt::info!("fpu control words unmasked, call {}", i);
                let _ = syscall_with_flags(0, 0);
            }
            spin_with_df(0);
            ipc::sleep_ms(50);
            let (mxcsr, fcw) = (0x1f80u32, 0x37fu16);
            // SAFETY: the power-on control words again.
            unsafe { asm!("ldmxcsr [{}]", "fldcw [{}]", in(reg) &mxcsr, in(reg) &fcw) };
            rt::exit(0, "kernel ran with unmasked FPU exceptions")
        }
        // Threads started at addresses outside the user half.
        11 => thread_edges(),
        // Timeouts armed and cancelled as fast as possible: the kernel's
        // sleeper list must not grow with each one.
        12 => sleepers(),
        // One page mapped at every address of the map area in turn.
        13 => mappings(),
        // IRQ objects, threads, dataspaces, capability slots until refused.
        14 => exhaust(|f| f.create_irq().map(|i| i.0), "irq objects"),
        15 => exhaust(|f| f.create_thread(&Task::own()).map(|t| t.0.0), "threads"),
        16 => exhaust(|f| f.create_dataspace(PAGE_SIZE, false).map(|d| d.0), "dataspaces"),
        17 => cap_slots(),
        // Child tasks, each filled up to its own quota through its factory.
        18 => children(),
        // A thread at the task's maximum priority that never waits.
        19 => {
            let _ = Thread::own_main().set_priority(u8::MAX);
            loop {
                core::hint::spin_loop();
            }
        }
        // Patching code without the debugging right: its own text, and a
        // child's created with the debugging flag it cannot pass on.
        22 => debug_right(),
        _ => rt::exit(2, "unknown attack"),
    }
}

fn debug_right() -> ! {
    let own = Task::own().poke(main as fn() as usize as u64, &[0xcc]).map(|_| ());
    let spec = rt::obj::TaskSpec {
        name: "debuggee",
        event_irq: None,
        quota_pages: 64,
        max_priority: 1,
        max_threads: 1,
        may_debug: true,
    };
    let child = match Factory::own().create_task(&spec) {
        Ok(c) => c,
        Err(e) => rt::exit(1, e.as_str()),
    };
    let theirs = child.poke(0x40_0000, &[0xcc]).map(|_| ());
    let _ = child.destroy();
    let mut msg = alloc::string::String::new();
    let _ = core::fmt::write(&mut msg, format_args!("poke own text: {own:?}, poke child: {theirs:?}"));
    let refused = own == Err(Error::Denied) && theirs == Err(Error::Denied);
    rt::exit(if refused { 0 } else { 1 }, &msg)
}

fn top_page() -> ! {
    let page = CANONICAL_END - PAGE_SIZE;
    let ds = match Factory::own().create_dataspace(PAGE_SIZE, false) {
        Ok(d) => d,
        Err(e) => rt::exit(1, e.as_str()),
    };
    // Read, write, execute.
    if let Err(e) = Task::own().map(&ds, 0, page, PAGE_SIZE, MapAccess::all()) {
        let mut msg = alloc::string::String::new();
        let _ = core::fmt::write(&mut msg, format_args!("top page refused: {}", e.as_str()));
        rt::exit(0, &msg);
    }
    let at = CANONICAL_END - 2;
    // SAFETY: the page was just mapped writable; `syscall` is 0f 05.
    unsafe { core::ptr::write_volatile(at as *mut [u8; 2], [0x0f, 0x05]) };
    // SAFETY: jumps to the `syscall` (a zero-timeout receive); it returns to the
    // first non-canonical address, where this task must fault, never the kernel.
    unsafe { asm!("jmp {at}", at = in(reg) at, in("rdi") 2u64, in("rsi") 0u64, in("r10") 0u64, options(noreturn)) }
}

fn thread_edges() -> ! {
    let mut refused = 0;
    let cases = [
        (USER_END, 0x7000_0000),
        (KERNEL_ADDR, 0x7000_0000),
        (NON_CANONICAL + 0x1000, 0x7000_0000),
        (u64::MAX, 0x7000_0000),
        (rt::sys::layout::IMAGE_BASE, CANONICAL_END - 8),
        (rt::sys::layout::IMAGE_BASE, KERNEL_ADDR),
        (rt::sys::layout::IMAGE_BASE, NON_CANONICAL),
    ];
    for (ip, sp) in cases {
        let (t, _) = match Factory::own().create_thread(&Task::own()) {
            Ok(t) => t,
            Err(e) => rt::exit(1, e.as_str()),
        };
        match t.start(ip, sp, 1, 0) {
            Err(Error::BadAddress) => refused += 1,
            Err(e) => rt::exit(1, e.as_str()),
            Ok(()) => {
                rt::info!("thread started at ip {:#x} sp {:#x}", ip, sp);
            }
        }
    }
    let mut msg = alloc::string::String::new();
    let _ = core::fmt::write(&mut msg, format_args!("refused {refused} of {}", cases.len()));
    ipc::sleep_ms(100);
    rt::exit(if refused == cases.len() { 0 } else { 1 }, &msg)
}

fn sleepers() -> ! {
    let irq = Factory::own().create_irq().unwrap_or_else(|e| rt::exit(1, e.as_str()));
    let target: Irq = irq;
    let t = rt::thread::spawn(20, 16 << 10, move || {
        loop {
            // A long timeout, armed, then cancelled by the trigger below.
            let _ = ipc::receive(target.0, Timeout::Millis(1_000_000));
        }
    })
    .unwrap_or_else(|e| rt::exit(1, e.as_str()));
    if let Err(e) = irq.attach(&t.thread, 1) {
        rt::exit(1, e.as_str());
    }
    // Lower priority than the waiter: every trigger wakes it at once, it arms a
    // new timeout and blocks again, and it is blocked at (almost) every tick.
    let _ = Thread::own_main().set_priority(10);
    loop {
        let _ = irq.trigger();
    }
}

fn mappings() -> ! {
    let ds = Factory::own().create_dataspace(PAGE_SIZE, false).unwrap_or_else(|e| rt::exit(1, e.as_str()));
    let mut n = 0u64;
    let err = loop {
        match Task::own().map(&ds, 0, MAP_AREA + n * PAGE_SIZE, PAGE_SIZE, MapAccess::READ) {
            Ok(()) => n += 1,
            Err(e) => break e,
        }
    };
    let mut msg = alloc::string::String::new();
    let _ = core::fmt::write(&mut msg, format_args!("mappings={n} then {}", err.as_str()));
    rt::info!("TEST hostile.mappings.count info count={} error={}", n, err.as_str().replace(' ', "_"));
    // Stay until the runner has measured the kernel heap.
    ipc::sleep_ms(500);
    rt::exit(0, &msg)
}

fn exhaust(mut make: impl FnMut(&Factory) -> Result<CapIdx, Error>, what: &str) -> ! {
    let f = Factory::own();
    let mut n = 0u64;
    let err = loop {
        match make(&f) {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    rt::info!(
        "TEST hostile.exhaust.{} info count={} error={}",
        what.replace(' ', "_"),
        n,
        err.as_str().replace(' ', "_")
    );
    let mut msg = alloc::string::String::new();
    let _ = core::fmt::write(&mut msg, format_args!("{what}={n} then {}", err.as_str()));
    ipc::sleep_ms(500);
    rt::exit(0, &msg)
}

fn cap_slots() -> ! {
    let mut n = 0u64;
    let mut last = Error::InvalidArgument;
    for slot in 0..rt::sys::cap::CAP_SLOTS as u64 + 8 {
        match Task::own().give(rt::sys::cap::slot::LOG, CapIdx(slot as u32), rt::Rights::ALL) {
            Ok(()) => n += 1,
            Err(e) => last = e,
        }
    }
    let mut msg = alloc::string::String::new();
    let _ = core::fmt::write(&mut msg, format_args!("log copies={n}, last refusal {}", last.as_str()));
    ipc::sleep_ms(500);
    rt::exit(0, &msg)
}

/// Quota each child asks for, in pages.
const CHILD_QUOTA: u64 = 256;

fn children() -> ! {
    let mut pages = 0u64;
    let mut kids = 0u64;
    let err = 'outer: loop {
        let spec = rt::obj::TaskSpec {
            name: "greedy-child",
            event_irq: None,
            quota_pages: CHILD_QUOTA,
            max_priority: 1,
            max_threads: 1,
            may_debug: false,
        };
        let child = match Factory::own().create_task(&spec) {
            Ok(c) => c,
            Err(e) => break e,
        };
        kids += 1;
        let f = match child.factory() {
            Ok(f) => f,
            Err(e) => break e,
        };
        loop {
            match f.create_dataspace(64 * PAGE_SIZE, false) {
                Ok(_) => pages += 64,
                Err(Error::QuotaExceeded) => break,
                Err(e) => break 'outer e,
            }
        }
    };
    rt::info!(
        "TEST hostile.children.count info children={} pages={} error={}",
        kids,
        pages,
        err.as_str().replace(' ', "_")
    );
    let mut msg = alloc::string::String::new();
    let _ = core::fmt::write(&mut msg, format_args!("children={kids} pages={pages} then {}", err.as_str()));
    ipc::sleep_ms(500);
    rt::exit(0, &msg)
}
