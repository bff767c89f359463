//! A hostile task on Fiasco.OC, started as a child of the reincarnation
//! server and by ned (`tests/fiasco.rs`): it tries to take more than its
//! manifest gives it, through the capabilities every L4Re application finds
//! in its environment, and says what it got. It asks its memory allocator
//! for a scheduler of its own making (moe's root allocator makes them, of
//! any priority range), takes physically contiguous memory a MiB at a time
//! until it is refused, makes kernel threads through its factory until it
//! is refused, and then runs its first thread at Fiasco.OC's highest
//! priority through its scheduler and spins. A supervisor (or ned) that
//! handed it its own factory, allocator and scheduler would lose the
//! system's memory and then the CPU to it; with bounded ones of its own it
//! is refused early and spins at its own level, where the server's runaway
//! watch restarts the child. On Resurgo's kernel the kernel's own quotas and
//! priority limit apply: it only spins there.
#![no_std]
#![no_main]

rt::entry!(main);

fn main() {
    overreach();
    loop {
        core::hint::spin_loop();
    }
}

rt::fiasco_only! {
    extern crate alloc;

    use rt::sys::fiasco::syscall::call;
    use rt::sys::fiasco::{Cap, msg, proto};
    use rt::{CapIdx, Error, MsgTag};

    /// Fiasco.OC's highest priority.
    const TOP: u64 = 255;
    /// How much it asks for at most (far more than any manifest gives).
    const MAX_MIB: u32 = 2048;

    /// A create call on `on` whose new capability lands in a fresh slot (an
    /// error label in the answer is the error).
    fn create(on: u64, fill: impl FnOnce(&mut [u64]) -> MsgTag) -> Result<CapIdx, Error> {
        let slot = rt::cap::alloc().ok_or(Error::QuotaExceeded)?;
        rt::ipc::set_receive_slot(slot);
        let tag = rt::ipc::compose(fill);
        call(Cap(on), tag).map(|_| slot)
    }

    fn overreach() {
        let env = rt::platform::fiasco::l4re_env();
        match create(env.mem_alloc, |m| msg::factory_create_scheduler(m, TOP, TOP - 1)) {
            Ok(_) => rt::info!("overreach: a scheduler of its own making: made"),
            Err(e) => rt::info!("overreach: a scheduler of its own making: refused ({e})"),
        }
        let mut mib = 0;
        let why = loop {
            if mib == MAX_MIB {
                break "no more asked".into();
            }
            match rt::mem::alloc_dataspace(1 << 20, true) {
                Ok(_) => mib += 1,
                Err(e) => break alloc::format!("{e}"),
            }
        };
        rt::info!("overreach: memory: {mib} MiB taken, then {why}");
        let mut threads = 0;
        let why = loop {
            match create(env.factory, |m| msg::factory_create(m, proto::THREAD)) {
                Ok(_) => threads += 1,
                Err(e) => break e,
            }
        };
        rt::info!("overreach: kernel objects: {threads} threads made, then {why}");
        let main = Cap(env.main_thread);
        let raised = call(Cap(env.scheduler), rt::ipc::compose(|m| msg::scheduler_run_thread(m, main, TOP)));
        match raised {
            Ok(_) => rt::info!("overreach: priority {TOP} asked, the scheduler said yes; spinning"),
            Err(e) => rt::info!("overreach: priority {TOP} refused ({e}); spinning"),
        }
    }
}

rt::resurgo_only! {
    fn overreach() {}
}
