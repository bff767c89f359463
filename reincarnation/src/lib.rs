//! The reincarnation server's logic and protocols, apart from its task.
//!
//! The server (`main.rs`) is the parent of every driver task. It learns of each
//! fault and exit from the kernel, finds hung drivers by heartbeat, accepts
//! complaints and operator requests, and restarts drivers by the policy here:
//! the first failure restarts at once; a driver that keeps failing backs off
//! exponentially (capped); past a limit it is held down, so a crash-looping
//! driver can never starve the rest of the system.
//!
//! This library holds what can be tested on the host: the policy, the service
//! records, symbol lookup for fault addresses, and the message formats of the
//! `svc` endpoint (operators, httpd, netd's complaints) and of the `control`
//! endpoint every supervised driver serves (heartbeat, fault injection).
#![cfg_attr(not(test), no_std)]

extern crate alloc;

#[cfg(not(test))]
pub mod client;
pub mod policy;
pub mod proto;
pub mod symbols;
