//! The reincarnation server's logic and protocols, apart from its task, so
//! that they are tested on the host.
//!
//! The server is the parent of every driver task. It restarts drivers by the
//! policy here: the first failure restarts at once; a driver that keeps failing
//! right after it starts backs off exponentially (capped); past a limit it is
//! held down, so a crash-looping driver can never starve the rest of the system.
//! Also here: the service records, symbol lookup for fault addresses, and the
//! message formats of the `svc` endpoint (operators, httpd, netd's complaints)
//! and of the `control` endpoint every supervised driver serves (heartbeat,
//! fault injection).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod policy;
pub mod proto;
pub mod symbols;
