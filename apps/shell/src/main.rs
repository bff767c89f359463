//! The guest shell: reads lines from the serial console (COM1's receive side,
//! interrupt line 4) and passes `svc` commands to the reincarnation server.
//!
//! ```text
//! svc list
//! svc restart|kill|down|up NAME
//! svc crash-irq|hang-irq|crash NAME     (fault injection)
//! ```
//!
//! The kernel keeps writing to COM1; this task only reads the receive buffer
//! and enables the receive interrupt, so the two never fight over the UART.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use reincarnation::client;
use reincarnation::proto::{control, svc};
use rt::Timeout;
use rt::obj::{Irq, Thread};

rt::entry!(main);

const COM1: u16 = 0x3f8;

fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: the manifest grants this task COM1's ports.
    unsafe { core::arch::asm!("in al, dx", in("dx") port, out("al") v, options(nomem, nostack)) };
    v
}

fn outb(port: u16, v: u8) {
    // SAFETY: as in `inb`.
    unsafe { core::arch::asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack)) };
}

fn main() {
    let irq = Irq(rt::env::require_cap("irq.4"));
    irq.attach(&Thread::own_main(), 4).expect("attach to COM1's line");
    // Interrupt on received data; keep the line's OUT2 gate open.
    outb(COM1 + 1, 0x01);
    outb(COM1 + 4, inb(COM1 + 4) | 0x08);
    rt::info!("type `svc list` or `help`");
    let mut line = String::new();
    loop {
        let _ = irq.wait(Timeout::Millis(1000));
        while inb(COM1 + 5) & 1 != 0 {
            match inb(COM1) {
                b'\r' | b'\n' => {
                    if !line.trim().is_empty() {
                        run(line.trim());
                    }
                    line.clear();
                }
                8 | 0x7f => {
                    line.pop();
                }
                c if (0x20..0x7f).contains(&c) && line.len() < 200 => line.push(c as char),
                _ => {}
            }
        }
        let _ = irq.unmask();
    }
}

fn run(cmd: &str) {
    let mut words = cmd.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("svc"), Some("list"), None) => list(),
        (Some("svc"), Some(op), Some(name)) => {
            let (code, arg) = match op {
                "restart" => (svc::RESTART, 0),
                "kill" => (svc::KILL, 0),
                "down" => (svc::DOWN, 0),
                "up" => (svc::UP, 0),
                "crash-irq" => (svc::INJECT, control::INJECT_CRASH_IRQ),
                "hang-irq" => (svc::INJECT, control::INJECT_HANG_IRQ),
                "crash" => (svc::INJECT, control::INJECT_CRASH_NOW),
                _ => return help(),
            };
            let Some(rs) = rt::env::cap("reincarnation.svc") else { return rt::info!("no reincarnation server") };
            match client::command(rs, code, name, arg) {
                Ok(()) => rt::info!("svc {} {}: done", op, name),
                Err(svc::ERR_UNKNOWN) => rt::info!("svc {}: no service `{}`", op, name),
                Err(_) => rt::info!("svc {} {}: refused in its current state", op, name),
            }
        }
        _ => help(),
    }
}

fn list() {
    let Some(rs) = rt::env::cap("reincarnation.svc") else { return rt::info!("no reincarnation server") };
    rt::info!("{:<16} {:<10} {:>11} {:>8}  last fault", "driver", "state", "incarnation", "restarts");
    for s in client::list(rs) {
        rt::info!("{:<16} {:<10} {:>11} {:>8}  {}", s.name, s.state.name(), s.incarnation, s.restarts, s.last_cause);
    }
}

fn help() {
    rt::info!("svc list | svc restart|kill|down|up NAME | svc crash-irq|hang-irq|crash NAME");
}
