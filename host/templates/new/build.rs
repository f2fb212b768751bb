//! Links the WebAssembly component with a 64 KiB shadow stack instead of
//! Rust's default 1 MiB. The host resets a plugin's memory after every
//! call; the default stack makes the starting memory 1.1 MiB instead of
//! about 128 KiB, and each call about twice as slow (deskhost's
//! BENCHMARKS.md). Only locals whose address is taken live on this stack.
//! A plugin that overflows it traps with an out-of-bounds memory access,
//! and its tile shows the error.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("wasm") {
        println!("cargo::rustc-link-arg-cdylib=-zstack-size=65536");
    }
}
