//! DDEKit on Resurgo (being written).
#![no_std]
