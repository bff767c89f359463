//! Exercises DDEKit in a task of its own, through its C ABI (the functions
//! the Linux shim calls): threads, locks (contended, FIFO hand-off, lazily
//! created), semaphores, condition variables, timers (order, early wake-up,
//! deletion), sleep accuracy against the tick count, DMA memory and pgtab
//! (checked page by page against the kernel's own translation), slabs,
//! initcalls, and calls with bad arguments that must be refused, not crash.
//!
//! Interrupts come from the CMOS real-time clock (line 8, which the manifest
//! grants directly, with its ports): handler thread and thread_init, held
//! interrupts while disabled (nesting), a disable that waits for a running
//! handler, sharing rules, detach.
//!
//! Each check prints `TEST ddekit.<name> ok|FAIL key=value ...`; the last line
//! is `TEST ddekit done`. PCI and resources need the io server and a device:
//! only their refusal without one is checked here.
#![no_std]
#![no_main]

use core::ffi::{c_char, c_int, c_void};
use core::ptr::{null, null_mut};
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use ddekit::initcall::{DdekitInitcall, ddekit_do_initcalls};
use ddekit::interrupt::*;
use ddekit::memory::*;
use ddekit::pci::*;
use ddekit::pgtab::*;
use ddekit::print::*;
use ddekit::resource::*;
use ddekit::sync::*;
use ddekit::thread::*;
use ddekit::time::*;
use ddekit::timer::*;
use rt::obj::Task;

rt::entry!(main);

macro_rules! check {
    ($name:expr, $cond:expr, $($detail:tt)*) => {{
        let ok: bool = $cond;
        if ok {
            rt::info!("TEST ddekit.{} ok {}", $name, format_args!($($detail)*));
        } else {
            rt::error!("TEST ddekit.{} FAIL {}", $name, format_args!($($detail)*));
        }
        ok
    }};
}

const R: Ordering = Ordering::SeqCst;

/// A list printed as `a,b,c` (one field of a TEST line, no spaces).
struct List<'a, T>(&'a [T]);

impl<T: core::fmt::Display> core::fmt::Display for List<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, x) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{x}")?;
        }
        Ok(())
    }
}

fn jiffies() -> u64 {
    ddekit_jiffies()
}

fn c(s: &'static [u8]) -> *const c_char {
    s.as_ptr() as *const c_char
}

/// A semaphore the test threads report to.
fn sem(value: c_int) -> *mut DdekitSem {
    ddekit_sem_init(value)
}

fn spawn(f: extern "C" fn(*mut c_void), arg: usize, name: &'static [u8]) -> *mut DdekitThread {
    // SAFETY: `name` is NUL-terminated; `f` takes any argument.
    unsafe { ddekit_thread_create(Some(as_callback(f)), arg as *mut c_void, c(name)) }
}

fn as_callback(f: extern "C" fn(*mut c_void)) -> unsafe extern "C" fn(*mut c_void) {
    f
}

fn main() {
    threads();
    locks_contended();
    lock_fifo();
    lock_static();
    semaphores();
    condvars();
    timers();
    timer_early_wakeup();
    sleeps();
    memory();
    contiguous();
    slabs();
    misuse();
    initcalls();
    print();
    interrupts();
    no_device();
    rt::info!("TEST ddekit done");
}

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------

// The stack pointer at entry of a C function: 8 bytes off a 16-byte boundary
// when its caller's stack was aligned as the ABI requires.
core::arch::global_asm!(".global ddekit_test_entry_rsp", "ddekit_test_entry_rsp:", "mov rax, rsp", "ret");

unsafe extern "C" {
    fn ddekit_test_entry_rsp() -> u64;
}

static CHILD_SELF: AtomicPtr<DdekitThread> = AtomicPtr::new(null_mut());
static CHILD_STACK_ALIGNED: AtomicBool = AtomicBool::new(false);
static CHILD_DATA: AtomicUsize = AtomicUsize::new(0);
static REPORT: AtomicPtr<DdekitSem> = AtomicPtr::new(null_mut());

extern "C" fn child(arg: *mut c_void) {
    // SAFETY: the assembly only reads the stack pointer.
    CHILD_STACK_ALIGNED.store(unsafe { ddekit_test_entry_rsp() } % 16 == 8, R);
    ddekit_thread_set_my_data(arg);
    CHILD_SELF.store(ddekit_thread_myself(), R);
    CHILD_DATA.store(ddekit_thread_get_my_data() as usize, R);
    ddekit_sem_up(REPORT.load(R));
}

fn name_of(t: *mut DdekitThread) -> &'static str {
    let p = ddekit_thread_get_name(t);
    if p.is_null() {
        return "(null)";
    }
    let mut len = 0;
    // SAFETY: DDEKit returns a NUL-terminated name valid for the task's life.
    while unsafe { p.add(len).read_volatile() } != 0 {
        len += 1;
    }
    // SAFETY: the bytes before the NUL.
    core::str::from_utf8(unsafe { core::slice::from_raw_parts(p as *const u8, len) }).unwrap_or("?")
}

fn threads() {
    let me = ddekit_thread_myself();
    let main_name = name_of(me);
    REPORT.store(sem(0), R);
    let t = spawn(child, 0x1234, b"worker\0");
    let waited = ddekit_sem_down_timed(REPORT.load(R), 2000);
    let prio_main = rt::obj::Thread::own_main().info().map(|i| i.priority).unwrap_or(0);
    check!(
        "threads",
        !t.is_null()
            && waited == 0
            && CHILD_SELF.load(R) == t
            && CHILD_DATA.load(R) == 0x1234
            && ddekit_thread_get_data(t) as usize == 0x1234
            && name_of(t) == "worker"
            && main_name == "main"
            && ddekit_thread_myself() == me
            && CHILD_STACK_ALIGNED.load(R),
        "name={} main={} data={:#x} main_priority={} stack_aligned={}",
        name_of(t),
        main_name,
        CHILD_DATA.load(R),
        prio_main,
        CHILD_STACK_ALIGNED.load(R)
    );
}

// ---------------------------------------------------------------------------
// Locks
// ---------------------------------------------------------------------------

static LOCK: AtomicPtr<DdekitLock> = AtomicPtr::new(null_mut());
static COUNTER: AtomicU64 = AtomicU64::new(0);
static INSIDE: AtomicU32 = AtomicU32::new(0);
static OVERLAPS: AtomicU32 = AtomicU32::new(0);
static BAD_OWNER: AtomicU32 = AtomicU32::new(0);
static BUSY_SEEN: AtomicU32 = AtomicU32::new(0);
const ROUNDS: u64 = 3000;

extern "C" fn contender(_: *mut c_void) {
    let l = LOCK.as_ptr();
    for i in 0..ROUNDS {
        // SAFETY: `l` points to an initialised ddekit_lock_t.
        unsafe {
            if ddekit_lock_try_lock(l) != 0 {
                BUSY_SEEN.fetch_add(1, R);
                ddekit_lock_lock(l);
            }
            if ddekit_lock_owner(l) != ddekit_thread_myself() {
                BAD_OWNER.fetch_add(1, R);
            }
            if INSIDE.fetch_add(1, R) != 0 {
                OVERLAPS.fetch_add(1, R);
            }
            // A read-modify-write that a second thread inside would break.
            let v = COUNTER.load(R);
            if i % 16 == 0 {
                ddekit_yield();
            }
            COUNTER.store(v + 1, R);
            INSIDE.fetch_sub(1, R);
            ddekit_lock_unlock(l);
        }
        if i % 7 == 0 {
            ddekit_yield();
        }
    }
    ddekit_sem_up(REPORT.load(R));
}

fn locks_contended() {
    let l = LOCK.as_ptr();
    // SAFETY: `l` points to a ddekit_lock_t.
    unsafe { ddekit_lock_init(l) };
    let t0 = jiffies();
    let a = spawn(contender, 0, b"contender-a\0");
    let b = spawn(contender, 1, b"contender-b\0");
    let done = ddekit_sem_down_timed(REPORT.load(R), 20_000) == 0 && ddekit_sem_down_timed(REPORT.load(R), 20_000) == 0;
    // SAFETY: as above.
    let owner_after = unsafe { ddekit_lock_owner(l) };
    check!(
        "lock",
        !a.is_null()
            && !b.is_null()
            && done
            && COUNTER.load(R) == 2 * ROUNDS
            && OVERLAPS.load(R) == 0
            && BAD_OWNER.load(R) == 0
            && BUSY_SEEN.load(R) > 0
            && owner_after.is_null(),
        "count={} overlaps={} bad_owner={} contended={} ms={}",
        COUNTER.load(R),
        OVERLAPS.load(R),
        BAD_OWNER.load(R),
        BUSY_SEEN.load(R),
        jiffies() - t0
    );
}

static FIFO_LOCK: AtomicPtr<DdekitLock> = AtomicPtr::new(null_mut());
static ORDER: [AtomicUsize; 4] = [const { AtomicUsize::new(99) }; 4];
static ORDER_N: AtomicUsize = AtomicUsize::new(0);

extern "C" fn queuer(arg: *mut c_void) {
    let l = FIFO_LOCK.as_ptr();
    // SAFETY: `l` points to an initialised ddekit_lock_t.
    unsafe { ddekit_lock_lock(l) };
    let n = ORDER_N.fetch_add(1, R);
    ORDER[n.min(3)].store(arg as usize, R);
    // SAFETY: as above.
    unsafe { ddekit_lock_unlock(l) };
    ddekit_sem_up(REPORT.load(R));
}

fn lock_fifo() {
    let l = FIFO_LOCK.as_ptr();
    // SAFETY: `l` points to a ddekit_lock_t.
    unsafe {
        ddekit_lock_init(l);
        ddekit_lock_lock(l);
    }
    // Each thread runs (and queues on the lock) while the main thread sleeps.
    for k in 0..4 {
        spawn(queuer, k, b"queuer\0");
        ddekit_thread_msleep(5);
    }
    // SAFETY: as above.
    let busy = unsafe { ddekit_lock_try_lock(l) };
    // SAFETY: as above.
    unsafe { ddekit_lock_unlock(l) };
    let mut done = true;
    for _ in 0..4 {
        done &= ddekit_sem_down_timed(REPORT.load(R), 2000) == 0;
    }
    let order: [usize; 4] = core::array::from_fn(|i| ORDER[i].load(R));
    check!("lock_fifo", done && busy == -1 && order == [0, 1, 2, 3], "order={}", List(&order));
}

/// A lock that nobody initialised (a zeroed Linux spinlock): created on first
/// use.
static STATIC_LOCK: AtomicPtr<DdekitLock> = AtomicPtr::new(null_mut());

fn lock_static() {
    let l = STATIC_LOCK.as_ptr();
    // SAFETY: `l` points to a (NULL) ddekit_lock_t.
    let (owned, busy, freed) = unsafe {
        ddekit_lock_lock(l);
        let owned = ddekit_lock_owner(l) == ddekit_thread_myself();
        let busy = ddekit_lock_try_lock(l);
        ddekit_lock_unlock(l);
        let freed = ddekit_lock_owner(l).is_null();
        ddekit_lock_deinit(l);
        (owned, busy, freed)
    };
    check!("lock_static", owned && busy == -1 && freed && STATIC_LOCK.load(R).is_null(), "created_on_first_use=true");
}

// ---------------------------------------------------------------------------
// Semaphores
// ---------------------------------------------------------------------------

static SEM: AtomicPtr<DdekitSem> = AtomicPtr::new(null_mut());

extern "C" fn producer(_: *mut c_void) {
    for i in 0..200 {
        ddekit_sem_up(SEM.load(R));
        if i % 10 == 0 {
            ddekit_yield();
        }
    }
}

extern "C" fn late_up(_: *mut c_void) {
    ddekit_thread_msleep(20);
    ddekit_sem_up(SEM.load(R));
}

fn semaphores() {
    let s = sem(0);
    SEM.store(s, R);
    let t0 = jiffies();
    let timed_out = ddekit_sem_down_timed(s, 50);
    let waited = jiffies() - t0;
    let try_empty = ddekit_sem_down_try(s);

    spawn(producer, 0, b"producer\0");
    let mut got = 0;
    for _ in 0..200 {
        if ddekit_sem_down_timed(s, 5000) == 0 {
            got += 1;
        }
    }
    let try_after = ddekit_sem_down_try(s);

    let t1 = jiffies();
    spawn(late_up, 0, b"late-up\0");
    let woken = ddekit_sem_down_timed(s, 5000);
    let wake_ms = jiffies() - t1;

    let counting = sem(3);
    let three = (0..3).all(|_| ddekit_sem_down_try(counting) == 0) && ddekit_sem_down_try(counting) == -1;
    ddekit_sem_deinit(counting);
    check!(
        "sem",
        timed_out == -1
            && (50..=60).contains(&waited)
            && try_empty == -1
            && got == 200
            && try_after == -1
            && woken == 0
            && (20..500).contains(&wake_ms)
            && three,
        "timeout_ms={} handed={} wake_ms={}",
        waited,
        got,
        wake_ms
    );
}

// ---------------------------------------------------------------------------
// Condition variables
// ---------------------------------------------------------------------------

static CV: AtomicPtr<DdekitCondvar> = AtomicPtr::new(null_mut());
static CV_LOCK: AtomicPtr<DdekitLock> = AtomicPtr::new(null_mut());
static FLAG: AtomicBool = AtomicBool::new(false);
static WOKEN: AtomicU32 = AtomicU32::new(0);
static HELD_AFTER: AtomicU32 = AtomicU32::new(0);
static SIGNALLED: AtomicU32 = AtomicU32::new(0);

extern "C" fn cv_waiter(_: *mut c_void) {
    let l = CV_LOCK.as_ptr();
    // SAFETY: `l` points to an initialised ddekit_lock_t.
    unsafe {
        ddekit_lock_lock(l);
        while !FLAG.load(R) {
            ddekit_condvar_wait(CV.load(R), l);
        }
        if ddekit_lock_owner(l) == ddekit_thread_myself() {
            HELD_AFTER.fetch_add(1, R);
        }
        WOKEN.fetch_add(1, R);
        ddekit_lock_unlock(l);
    }
    ddekit_sem_up(REPORT.load(R));
}

extern "C" fn cv_timed_waiter(_: *mut c_void) {
    let l = CV_LOCK.as_ptr();
    // SAFETY: as above.
    unsafe {
        ddekit_lock_lock(l);
        if ddekit_condvar_wait_timed(CV.load(R), l, 5000) == 0 {
            SIGNALLED.fetch_add(1, R);
        }
        ddekit_lock_unlock(l);
    }
    ddekit_sem_up(REPORT.load(R));
}

fn condvars() {
    let cv = ddekit_condvar_init();
    CV.store(cv, R);
    let l = CV_LOCK.as_ptr();
    // SAFETY: `l` points to a ddekit_lock_t.
    unsafe { ddekit_lock_init(l) };

    // Time-out: -1, lock held again.
    let t0 = jiffies();
    // SAFETY: as above.
    let (timeout, held) = unsafe {
        ddekit_lock_lock(l);
        let r = ddekit_condvar_wait_timed(cv, l, 30);
        let held = ddekit_lock_owner(l) == ddekit_thread_myself();
        ddekit_lock_unlock(l);
        (r, held)
    };
    let timeout_ms = jiffies() - t0;

    // Broadcast wakes all three waiters, each with the lock.
    for _ in 0..3 {
        spawn(cv_waiter, 0, b"cv-waiter\0");
    }
    ddekit_thread_msleep(10);
    let before = WOKEN.load(R);
    // SAFETY: as above.
    unsafe {
        ddekit_lock_lock(l);
        FLAG.store(true, R);
        ddekit_condvar_broadcast(cv);
        ddekit_lock_unlock(l);
    }
    let mut done = (0..3).all(|_| ddekit_sem_down_timed(REPORT.load(R), 2000) == 0);

    // Signal wakes a timed waiter before its time-out.
    spawn(cv_timed_waiter, 0, b"cv-timed\0");
    ddekit_thread_msleep(10);
    // SAFETY: as above.
    unsafe {
        ddekit_lock_lock(l);
        ddekit_condvar_signal(cv);
        ddekit_lock_unlock(l);
    }
    done &= ddekit_sem_down_timed(REPORT.load(R), 2000) == 0;
    ddekit_condvar_deinit(cv);
    check!(
        "condvar",
        timeout == -1
            && held
            && timeout_ms >= 30
            && before == 0
            && done
            && WOKEN.load(R) == 3
            && HELD_AFTER.load(R) == 3
            && SIGNALLED.load(R) == 1,
        "timeout_ms={} broadcast_woke={} signalled={}",
        timeout_ms,
        WOKEN.load(R),
        SIGNALLED.load(R)
    );
}

// ---------------------------------------------------------------------------
// Timers
// ---------------------------------------------------------------------------

static FIRED_AT: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
static FIRE_ORDER: [AtomicUsize; 8] = [const { AtomicUsize::new(99) }; 8];
static FIRE_N: AtomicUsize = AtomicUsize::new(0);
static ON_TIMER_THREAD: AtomicU32 = AtomicU32::new(0);

extern "C" fn tick(arg: *mut c_void) {
    let i = arg as usize;
    FIRED_AT[i].store(jiffies(), R);
    let n = FIRE_N.fetch_add(1, R);
    FIRE_ORDER[n.min(7)].store(i, R);
    if name_of(ddekit_thread_myself()) == "ddekit-timer" {
        ON_TIMER_THREAD.fetch_add(1, R);
    }
}

fn add_timer(i: usize, expires: u64) -> c_int {
    ddekit_add_timer(Some(as_callback(tick)), i as *mut c_void, expires)
}

fn timers() {
    let now = jiffies();
    let a = add_timer(0, now + 30);
    let b = add_timer(1, now + 10);
    let c = add_timer(2, now + 20);
    let d = add_timer(3, now + 15);
    let pending = ddekit_timer_pending(a) == 1 && ddekit_timer_pending(d) == 1;
    let deleted = ddekit_del_timer(d) == 0 && ddekit_del_timer(d) == -1 && ddekit_timer_pending(d) == 0;
    ddekit_thread_msleep(60);
    let order: [usize; 3] = core::array::from_fn(|i| FIRE_ORDER[i].load(R));
    let late: [u64; 3] = core::array::from_fn(|i| FIRED_AT[i].load(R).saturating_sub(now));
    let ids_distinct = a != b && b != c && a != c && a >= 0 && b >= 0 && c >= 0;
    check!(
        "timer",
        ids_distinct
            && pending
            && deleted
            && order == [1, 2, 0]
            && FIRE_N.load(R) == 3
            && FIRED_AT[3].load(R) == 0
            && late[0] >= 30
            && late[1] >= 10
            && late[2] >= 20
            && late.iter().zip([30, 10, 20]).all(|(l, e)| *l <= e + 3)
            && ON_TIMER_THREAD.load(R) == 3
            && ddekit_timer_pending(a) == 0
            && ddekit_del_timer(a) == -1,
        "order={} fired_after_ms={} deleted_fired={}",
        List(&order),
        List(&late),
        FIRED_AT[3].load(R) != 0
    );
}

/// A timer added while the timer thread sleeps until a later one must wake it.
fn timer_early_wakeup() {
    let now = jiffies();
    let far = add_timer(4, now + 500);
    ddekit_thread_msleep(10);
    let t1 = jiffies();
    add_timer(5, t1 + 10);
    ddekit_thread_msleep(40);
    let fired = FIRED_AT[5].load(R).saturating_sub(t1);
    let cancelled = ddekit_del_timer(far) == 0;
    check!(
        "timer_wakeup",
        (10..=13).contains(&fired) && cancelled && FIRED_AT[4].load(R) == 0,
        "fired_after_ms={}",
        fired
    );
}

// ---------------------------------------------------------------------------
// Sleeps and delays
// ---------------------------------------------------------------------------

fn sleeps() {
    let mut ok = true;
    let asked = [1u64, 2, 5, 10, 20, 50];
    let mut took = [0u64; 6];
    for (slot, &ms) in took.iter_mut().zip(&asked) {
        let t0 = jiffies();
        ddekit_thread_msleep(ms);
        let dt = jiffies() - t0;
        ok &= dt >= ms && dt <= ms + 2;
        *slot = dt;
    }
    let t0 = ddekit_clock_ns();
    ddekit_udelay(200);
    let udelay_ns = ddekit_clock_ns() - t0;
    let t0 = ddekit_clock_ns();
    ddekit_thread_usleep(100);
    let usleep_ns = ddekit_clock_ns() - t0;
    let t0 = ddekit_clock_ns();
    ddekit_ndelay(5000);
    let ndelay_ns = ddekit_clock_ns() - t0;
    let t0 = jiffies();
    ddekit_thread_usleep(3000);
    let usleep_long = jiffies() - t0;
    ok &= udelay_ns >= 200_000 && usleep_ns >= 100_000 && ndelay_ns >= 5000 && (3..=5).contains(&usleep_long);
    check!(
        "sleep",
        ok,
        "msleep_ms={} ticks={} udelay200_ns={} usleep100_ns={} ndelay5000_ns={} usleep3000_ticks={}",
        List(&asked),
        List(&took),
        udelay_ns,
        usleep_ns,
        ndelay_ns,
        usleep_long
    );
}

// ---------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------

/// Checks every page of `[p, p + len)` against the kernel's translation and
/// the pgtab round trip.
fn dma_ok(p: *mut c_void, len: u64) -> bool {
    let phys = ddekit_pgtab_get_physaddr(p);
    if phys == 0 || ddekit_pgtab_get_virtaddr(phys) != p as u64 {
        return false;
    }
    let start = p as u64;
    let mut page = start & !0xfff;
    while page < start + len {
        let off = page.max(start) - start;
        let ours = ddekit_pgtab_get_physaddr((start + off) as *const c_void);
        let kernel = Task::own().virt_to_phys(page).map(|k| k + (start + off) % 4096);
        if kernel != Ok(ours) || ours != phys + off {
            rt::error!("page {:#x}: ddekit {:#x}, kernel {:?}", page, ours, kernel);
            return false;
        }
        page += 4096;
    }
    true
}

/// Fills and checks the memory (it must be really there and not overlap).
fn fill(p: *mut c_void, len: usize, seed: u8) -> bool {
    // SAFETY: `p` is a fresh allocation of at least `len` bytes.
    let m = unsafe { core::slice::from_raw_parts_mut(p as *mut u8, len) };
    for (i, b) in m.iter_mut().enumerate() {
        *b = seed.wrapping_add(i as u8);
    }
    m.iter().enumerate().all(|(i, &b)| b == seed.wrapping_add(i as u8))
}

fn memory() {
    let sizes = [1usize, 16, 24, 100, 1500, 2048, 3000, 10_000, 100_000];
    let mut ptrs = [null_mut(); 9];
    let mut ok = true;
    for (i, (&size, p)) in sizes.iter().zip(ptrs.iter_mut()).enumerate() {
        *p = ddekit_simple_malloc(size);
        ok &= !p.is_null() && (*p as u64).is_multiple_of(16) && fill(*p, size, i as u8) && dma_ok(*p, size as u64);
    }
    // Nothing was overwritten by a later allocation.
    for (i, (&size, &p)) in sizes.iter().zip(ptrs.iter()).enumerate() {
        // SAFETY: allocated above with this size.
        let m = unsafe { core::slice::from_raw_parts(p as *const u8, size) };
        ok &= m.iter().enumerate().all(|(k, &b)| b == (i as u8).wrapping_add(k as u8));
    }
    for p in ptrs {
        ddekit_simple_free(p);
    }
    // Freed memory is reused.
    let again = ddekit_simple_malloc(24);
    let reused = again == ptrs[2];
    ddekit_simple_free(again);

    let large = ddekit_large_malloc(5 * 4096 + 1);
    ok &= !large.is_null()
        && (large as u64).is_multiple_of(4096)
        && fill(large, 5 * 4096 + 1, 7)
        && dma_ok(large, 6 * 4096);
    ddekit_large_free(large);

    // Beyond the first region: the pool grows, still contiguous.
    let big = ddekit_large_malloc(3 << 20);
    ok &= !big.is_null() && dma_ok(big, 3 << 20) && fill(big, 3 << 20, 9);
    ddekit_large_free(big);

    // Many small objects from several threads' worth of sizes.
    let mut many = [null_mut(); 300];
    for (i, p) in many.iter_mut().enumerate() {
        *p = ddekit_simple_malloc(8 + (i * 37) % 1900);
        ok &= !p.is_null();
    }
    let distinct = (1..many.len()).all(|i| many[i] != many[i - 1]);
    for p in many.iter().step_by(2) {
        ddekit_simple_free(*p);
    }
    for p in many.iter().skip(1).step_by(2) {
        ddekit_simple_free(*p);
    }
    check!("memory", ok && reused && distinct, "sizes={} reused={} phys_checked_by_kernel=true", sizes.len(), reused);
}

fn contiguous() {
    // 64 KiB aligned (physically), below 4 GiB.
    let a = ddekit_contig_malloc(64 << 10, 0, 0xffff_ffff, 64 << 10, 0);
    let pa = ddekit_pgtab_get_physaddr(a);
    let aligned =
        !a.is_null() && pa.is_multiple_of(64 << 10) && pa + (64 << 10) - 1 <= 0xffff_ffff && dma_ok(a, 64 << 10);
    // 12 KiB that must not cross a 16 KiB boundary.
    let mut no_cross = true;
    let mut bs = [null_mut(); 8];
    for b in bs.iter_mut() {
        *b = ddekit_contig_malloc(12 << 10, 0, 0, 0, 16 << 10);
        let p = ddekit_pgtab_get_physaddr(*b);
        no_cross &= !b.is_null() && p / (16 << 10) == (p + (12 << 10) - 1) / (16 << 10) && dma_ok(*b, 12 << 10);
    }
    // 1 MiB aligned to 1 MiB: more than the pool's usual alignment.
    let m = ddekit_contig_malloc(1 << 20, 0, 0, 1 << 20, 0);
    let pm = ddekit_pgtab_get_physaddr(m);
    let mb = !m.is_null() && pm.is_multiple_of(1 << 20) && dma_ok(m, 1 << 20);
    // Impossible: larger than its boundary; below a limit under all RAM.
    let impossible = ddekit_contig_malloc(32 << 10, 0, 0, 0, 16 << 10).is_null()
        && ddekit_contig_malloc(4096, 0, 0x1000, 0, 0).is_null();
    ddekit_contig_free(a, 64 << 10);
    for b in bs {
        ddekit_contig_free(b, 12 << 10);
    }
    ddekit_contig_free(m, 1 << 20);
    check!(
        "contig",
        aligned && no_cross && mb && impossible,
        "phys_64k={:#x} phys_1m={:#x} impossible_refused={}",
        pa,
        pm,
        impossible
    );
}

fn slabs() {
    let s = ddekit_slab_init(48, 1);
    let mut objs = [null_mut(); 20];
    let mut ok = !s.is_null();
    for (i, o) in objs.iter_mut().enumerate() {
        *o = ddekit_slab_alloc(s);
        ok &= !o.is_null() && (*o as u64).is_multiple_of(16) && fill(*o, 48, i as u8) && dma_ok(*o, 48);
    }
    ok &= (1..objs.len()).all(|i| objs[..i].iter().all(|&o| o != objs[i]));
    for o in objs {
        ddekit_slab_free(s, o);
    }
    ddekit_slab_destroy(s);
    check!("slab", ok, "objects={}", objs.len());
}

// ---------------------------------------------------------------------------
// Misuse
// ---------------------------------------------------------------------------

fn misuse() {
    let on_stack = 0u64;
    let stack = &on_stack as *const u64 as *mut c_void;
    // Frees of memory that is not the pool's, twice, or inside an object.
    ddekit_simple_free(stack);
    let p = ddekit_simple_malloc(64);
    ddekit_simple_free(p);
    ddekit_simple_free(p);
    let q = ddekit_large_malloc(8192);
    // SAFETY: the address is only passed, never dereferenced by the test.
    ddekit_large_free(unsafe { (q as *mut u8).add(4096) } as *mut c_void);
    ddekit_large_free(q);
    ddekit_contig_free(null_mut(), 0);
    // Handles that are not objects of their kind.
    ddekit_sem_up(stack as *mut DdekitSem);
    ddekit_sem_up(null_mut());
    ddekit_condvar_signal(p as *mut DdekitCondvar);
    let bad_sem = ddekit_sem_down_try(null_mut());
    let bad_name = ddekit_thread_get_name(stack as *mut DdekitThread).is_null();
    let bad_slab = ddekit_slab_alloc(null_mut()).is_null();
    let mut never: *mut DdekitLock = null_mut();
    // SAFETY: `never` is a ddekit_lock_t (NULL: never initialised).
    unsafe {
        ddekit_lock_unlock(&mut never);
        ddekit_lock_unlock(null_mut());
        ddekit_lock_lock(null_mut());
    }
    let bad_timer = ddekit_del_timer(-5) == -1 && ddekit_timer_pending(12345) == 0;
    let no_fn = ddekit_add_timer(None, null_mut(), 0) == -1;
    ddekit_interrupt_enable(3);
    ddekit_interrupt_disable(3);
    // SAFETY: null message pointers are allowed.
    unsafe { ddekit_print(null()) };
    let phys_unknown = ddekit_pgtab_get_physaddr(stack) == 0 && ddekit_pgtab_get_virtaddr(0x10) == 0;
    // Still alive, and the allocator still works.
    let r = ddekit_simple_malloc(64);
    let works = !r.is_null() && dma_ok(r, 64);
    ddekit_simple_free(r);
    check!(
        "misuse",
        bad_sem == -1 && bad_name && bad_slab && bad_timer && no_fn && phys_unknown && works,
        "survived=true"
    );
}

// ---------------------------------------------------------------------------
// Initcalls
// ---------------------------------------------------------------------------

static INIT_LEVELS: [AtomicU32; 8] = [const { AtomicU32::new(0) }; 8];
static INIT_N: AtomicUsize = AtomicUsize::new(0);

fn record(level: u32) -> c_int {
    let n = INIT_N.fetch_add(1, R);
    INIT_LEVELS[n.min(7)].store(level, R);
    0
}

extern "C" fn init_level6() -> c_int {
    record(6)
}
extern "C" fn init_level1() -> c_int {
    record(1)
}
extern "C" fn init_level4_fails() -> c_int {
    record(4);
    -19
}
extern "C" fn init_level2() -> c_int {
    record(2)
}

#[used]
#[unsafe(link_section = "ddekit_initcalls")]
static INIT_A: DdekitInitcall = DdekitInitcall { level: 6, func: Some(init_level6) };
#[used]
#[unsafe(link_section = "ddekit_initcalls")]
static INIT_B: DdekitInitcall = DdekitInitcall { level: 1, func: Some(init_level1) };
#[used]
#[unsafe(link_section = "ddekit_initcalls")]
static INIT_C: DdekitInitcall = DdekitInitcall { level: 4, func: Some(init_level4_fails) };
#[used]
#[unsafe(link_section = "ddekit_initcalls")]
static INIT_D: DdekitInitcall = DdekitInitcall { level: 2, func: Some(init_level2) };

fn initcalls() {
    let failed = ddekit_do_initcalls();
    let again = ddekit_do_initcalls();
    let n = INIT_N.load(R);
    let levels: [u32; 4] = core::array::from_fn(|i| INIT_LEVELS[i].load(R));
    check!(
        "initcall",
        failed == 1 && again == 0 && n == 4 && levels == [1, 2, 4, 6],
        "levels={} failed={} entries={}",
        List(&levels),
        failed,
        ddekit::initcall::entries().len()
    );
}

// ---------------------------------------------------------------------------
// Print and the absent device
// ---------------------------------------------------------------------------

fn print() {
    // SAFETY: NUL-terminated literals.
    unsafe {
        ddekit_print_level(3, c(b"TEST ddekit.print ok \0"));
        ddekit_print(c(b"fragments=4 \0"));
        ddekit_print(c(b"joined=\0"));
        ddekit_print(c(b"yes\n\0"));
    }
}

// ---------------------------------------------------------------------------
// Interrupts, from the RTC
// ---------------------------------------------------------------------------

fn cmos_read(reg: u8) -> u8 {
    // SAFETY: ports 0x70-0x71 are granted to this task by its manifest.
    unsafe {
        core::arch::asm!("out 0x70, al", in("al") reg, options(nomem, nostack));
        let v: u8;
        core::arch::asm!("in al, 0x71", out("al") v, options(nomem, nostack));
        v
    }
}

fn cmos_write(reg: u8, value: u8) {
    // SAFETY: as in `cmos_read`.
    unsafe {
        core::arch::asm!("out 0x70, al", in("al") reg, options(nomem, nostack));
        core::arch::asm!("out 0x71, al", in("al") value, options(nomem, nostack));
    }
}

static IRQS: AtomicU32 = AtomicU32::new(0);
static IRQS_B: AtomicU32 = AtomicU32::new(0);
static INITS: AtomicU32 = AtomicU32::new(0);
static INIT_ON_IRQ_THREAD: AtomicU32 = AtomicU32::new(0);
static WRONG_THREAD: AtomicU32 = AtomicU32::new(0);
static IN_HANDLER: AtomicU32 = AtomicU32::new(0);
static SLOW: AtomicBool = AtomicBool::new(false);
static IRQ_THREAD: AtomicPtr<DdekitThread> = AtomicPtr::new(null_mut());

extern "C" fn irq_init(arg: *mut c_void) {
    INITS.fetch_add(1, R);
    if arg as usize == 0x88 && name_of(ddekit_thread_myself()) == "irq008" {
        INIT_ON_IRQ_THREAD.fetch_add(1, R);
    }
}

extern "C" fn irq_handler(_: *mut c_void) {
    IN_HANDLER.store(1, R);
    if ddekit_thread_myself() != IRQ_THREAD.load(R) {
        WRONG_THREAD.fetch_add(1, R);
    }
    // Acknowledge at the device (register C), as a driver's handler does.
    cmos_read(0x0c);
    IRQS.fetch_add(1, R);
    if SLOW.swap(false, R) {
        // A handler that blocks lets the main thread run while it is inside.
        ddekit_thread_msleep(20);
    }
    IN_HANDLER.store(0, R);
}

extern "C" fn irq_handler_b(_: *mut c_void) {
    IRQS_B.fetch_add(1, R);
}

/// Waits until `f()` holds, at most `ms` milliseconds.
fn wait_until(ms: u64, f: impl Fn() -> bool) -> bool {
    let end = jiffies() + ms;
    while !f() {
        if jiffies() >= end {
            return false;
        }
        ddekit_thread_msleep(1);
    }
    true
}

fn interrupts() {
    let t =
        ddekit_interrupt_attach(8, 0, Some(as_callback(irq_init)), Some(as_callback(irq_handler)), 0x88 as *mut c_void);
    IRQ_THREAD.store(t, R);
    if t.is_null() {
        check!("irq", false, "attach failed");
        return;
    }
    // SAFETY: DDEKit returns thread records, valid for the task's life.
    let irq_prio = unsafe { &*t }.thread().and_then(|th| th.info().ok()).map_or(0, |i| i.priority);
    let main_prio = rt::obj::Thread::own_main().info().map_or(0, |i| i.priority);
    // Not shared: a second handler is refused.
    let refused = ddekit_interrupt_attach(8, 1, None, Some(as_callback(irq_handler_b)), null_mut()).is_null();

    // 1024 Hz periodic interrupt: rate 6 in register A, PIE in register B.
    cmos_write(0x0a, (cmos_read(0x0a) & 0xf0) | 6);
    cmos_write(0x0b, cmos_read(0x0b) | 0x40);
    cmos_read(0x0c);
    let running = wait_until(2000, || IRQS.load(R) >= 20);

    // Disabled (twice): interrupts are held, none handled.
    ddekit_interrupt_disable(8);
    ddekit_interrupt_disable_nosync(8);
    let at_disable = IRQS.load(R);
    ddekit_thread_msleep(30);
    let while_disabled = IRQS.load(R) - at_disable;
    ddekit_interrupt_enable(8);
    ddekit_thread_msleep(10);
    let after_one_enable = IRQS.load(R) - at_disable;
    // The last enable runs the held interrupt, and they flow again.
    ddekit_interrupt_enable(8);
    let resumed = wait_until(1000, || IRQS.load(R) >= at_disable + 10);

    // A disable waits for a handler that is running (here: sleeping inside).
    SLOW.store(true, R);
    let slow_started = wait_until(1000, || IN_HANDLER.load(R) == 1 && !SLOW.load(R));
    let t0 = jiffies();
    ddekit_interrupt_disable(8);
    let waited = jiffies() - t0;
    let idle_after_disable = IN_HANDLER.load(R) == 0;
    ddekit_interrupt_enable(8);

    // Detach: no more handler calls; then two shared handlers both run.
    ddekit_interrupt_detach(8);
    let at_detach = IRQS.load(R);
    ddekit_thread_msleep(20);
    let after_detach = IRQS.load(R) - at_detach;
    let a = ddekit_interrupt_attach(8, 1, None, Some(as_callback(irq_handler)), null_mut());
    let b = ddekit_interrupt_attach(8, 1, None, Some(as_callback(irq_handler_b)), null_mut());
    let shared = a == t && b == t && wait_until(1000, || IRQS_B.load(R) >= 10 && IRQS.load(R) >= at_detach + 10);
    ddekit_interrupt_detach(8);
    cmos_write(0x0b, cmos_read(0x0b) & !0x40);
    cmos_read(0x0c);

    check!(
        "irq",
        running
            && irq_prio > main_prio
            && refused
            && INITS.load(R) == 1
            && INIT_ON_IRQ_THREAD.load(R) == 1
            && WRONG_THREAD.load(R) == 0
            && while_disabled == 0
            && after_one_enable == 0
            && resumed
            && slow_started
            && waited >= 5
            && idle_after_disable
            && after_detach == 0
            && shared,
        "handled={} irq_priority={} main_priority={} held_while_disabled={} disable_waited_ms={} shared_b={}",
        IRQS.load(R),
        irq_prio,
        main_prio,
        while_disabled == 0,
        waited,
        IRQS_B.load(R)
    );
}

fn no_device() {
    let (mut bus, mut slot, mut func) = (0, 0, 0);
    // SAFETY: valid out-pointers.
    let dev = unsafe { ddekit_pci_get_device(0, &mut bus, &mut slot, &mut func) };
    extern "C" fn never(_: *mut c_void) {}
    let irq = ddekit_interrupt_attach(11, 1, None, Some(as_callback(never)), null_mut());
    let io = ddekit_request_io(0xc000, 0x100);
    let mut v = 0u64;
    // SAFETY: valid out-pointer.
    let mem = unsafe { ddekit_request_mem(0xfebf_0000, 0x1000, &mut v) };
    let busmaster = ddekit_pci_enable_busmaster();
    check!("nodevice", dev == -1 && irq.is_null() && io == -1 && mem == -1 && busmaster == -1, "all_refused=true");
}
