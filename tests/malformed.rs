//! Malformed traffic from the network: frames that are truncated, oversized,
//! with lying lengths and wrong checksums, fragments, options, odd TCP flags,
//! DHCP and ARP garbage and random bytes, sent from the host onto the NIC's
//! wire while the default system runs (the short form of `resurgo bench
//! frames`). No task may crash, the frames must reach netd (its answers to
//! well-formed probes among them are seen on the wire), and echo, sink and the
//! status page must answer correctly afterwards.

use resurgo::bench_frames::{self, FramesOptions, NICS};
use resurgo::frames::Kind;

#[test]
fn garbage_frames_crash_nothing_and_the_services_still_answer() {
    let (model, task) = NICS[0];
    let opts = FramesOptions {
        nics: vec![(model.to_string(), task.to_string())],
        frames: 5_000,
        kinds: Vec::new(),
        seed: 0x6a7b,
        rate: bench_frames::DEFAULT_RATE,
        machine: resurgo::qemu::Machine::default(),
        progress: false,
    };
    let results = bench_frames::run(&opts).expect("building and booting the default system");
    let r = &results[0];
    assert_eq!(r.error, None, "{model}");
    assert_eq!(r.frames, 5_000);
    assert!(r.crashes.is_empty(), "{model}: tasks crashed:\n{}", r.crashes.join("\n"));
    assert!(r.probes > 0 && r.probes_answered > 0, "{model}: no probe answered: the frames never reached netd");
    assert!(
        r.echo_ok && r.sink_ok && r.status_ok,
        "{model}: echo {} sink {} status {}",
        r.echo_ok,
        r.sink_ok,
        r.status_ok
    );
    for kind in Kind::ALL {
        assert_eq!(r.by_kind.get(kind.name()), Some(&500), "{}", kind.name());
    }
}

/// QEMU's pcnet model goes deaf after a frame longer than its 4 KiB buffer
/// until the chip is initialised again. netd's receive watch notices the
/// silence, its gateway probes go unanswered, and it has the driver end
/// itself; the successor's probe initialises the device and the services
/// answer again. That restart is counted, and is not a crash.
#[test]
fn a_deaf_receive_path_is_found_and_reinitialised() {
    let (model, task) = NICS.iter().copied().find(|(m, _)| *m == "pcnet").expect("pcnet is one of the bench's NICs");
    let opts = FramesOptions {
        nics: vec![(model.to_string(), task.to_string())],
        frames: 20,
        kinds: vec![Kind::Oversized],
        seed: 0x6a7c,
        rate: 10,
        machine: resurgo::qemu::Machine::default(),
        progress: false,
    };
    let results = bench_frames::run(&opts).expect("building and booting the default system");
    let r = &results[0];
    assert_eq!(r.error, None, "{model}");
    assert!(r.crashes.is_empty(), "{model}: tasks crashed:\n{}", r.crashes.join("\n"));
    assert!(r.watchdog_resets >= 1, "netd never found the receive path deaf");
    assert!(r.echo_ok && r.sink_ok && r.status_ok, "echo {} sink {} status {}", r.echo_ok, r.sink_ok, r.status_ok);
}
