//! init
#![no_std]
#![no_main]

rt::entry!(main);

fn main() {
    rt::info!("hello from init, env name {}", rt::env::name());
    let k = rt::obj::KernelCap(rt::env::require_cap("kernel"));
    let s = k.stats().unwrap();
    rt::info!("free frames {} of {}", s.free_frames, s.total_frames);
    let r = rt::mem::alloc(1 << 20, true).unwrap();
    rt::info!("dma region at {:#x} phys {:#x}", r.addr, r.phys);
    r.free();
    let s2 = k.stats().unwrap();
    rt::info!("free frames after {}", s2.free_frames);
    k.shutdown(0);
}
