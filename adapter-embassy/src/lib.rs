//! picoauth over embassy-net (being written).
#![no_std]
#![forbid(unsafe_code)]
