//! Socket client for netd (being written).
#![no_std]
