//! The reincarnation server's client side: its protocols and policy types
//! (from `reincarnation-core`) and calls to its `svc` endpoint, for the shell,
//! httpd and tests.
#![no_std]

extern crate alloc;

pub mod client;

pub use reincarnation_core::{policy, proto, symbols};
