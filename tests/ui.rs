//! Compile-fail snapshots of the derive's errors, and cases that must compile.
//!
//! Regenerate the snapshots with `TRYBUILD=overwrite cargo test -p session-tests --test ui`
//! and read every changed `.stderr`: they are what users see.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/*.rs");
    t.pass("ui-pass/*.rs");
}
