//! Integration tests live beside this crate.
