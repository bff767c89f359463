//! The task around a legacy Linux driver (being written).
#![no_std]
