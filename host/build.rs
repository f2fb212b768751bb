//! Builds the first-party plugins (`plugins/`) and the test plugins
//! (`tests/plugins/`) to WebAssembly components, so that `cargo run` and
//! `cargo test` need nothing but the Rust toolchain.
//!
//! First-party plugins are embedded in the binary (the desktop's embedded
//! defaults); test plugins are laid out as plugin directories whose path the
//! tests read from `DESKHOST_TEST_PLUGINS_DIR`, except those named
//! `refused-*`, which the host must refuse to install: they go to
//! `DESKHOST_REFUSED_PLUGINS_DIR`, so that they do not spoil the others, and
//! those named `*-fixed`, later versions that tests install over a broken
//! one: they go to `DESKHOST_FIXED_PLUGINS_DIR`. The core modules the
//! components are made from stay in `DESKHOST_PLUGIN_MODULES_DIR`.
//!
//! The plugins are built by a nested `cargo build --target wasm32-wasip2` into
//! their own target directory (`target/wasm-plugins`), so the outer build's
//! lock is never contended. The wasm target is installed with rustup when
//! missing. The linker stops at the core module, which
//! `deskhost-componentize` makes the component of: first-party plugins with
//! the standard streams, environment and terminals answered inside the
//! module (a fifth or more off every call), test plugins as they are, so
//! that the tests of the host's WASI surface keep reaching the host.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());

    for watched in [
        "plugins",
        "tests/plugins",
        "sdk/src",
        "sdk/wit",
        // Frozen older versions of the WIT package, which compatibility
        // test plugins are built against.
        "sdk/wit-archive",
        "sdk/Cargo.toml",
        "Cargo.lock",
        // The plugins' link arguments (their shadow stack's size).
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=DESKHOST_PLUGIN_TARGET_DIR");

    let first_party = plugin_crates(&root.join("plugins"));
    let test_plugins = plugin_crates(&root.join("tests/plugins"));

    ensure_wasm_target();
    let target_dir = env::var_os("DESKHOST_PLUGIN_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/wasm-plugins"));
    build_plugins(&root, &target_dir, first_party.iter().chain(&test_plugins));
    let wasm_dir = target_dir.join(WASM_TARGET).join(PROFILE);

    // First-party plugins: embedded.
    let mut code = String::from(
        "/// First-party plugins embedded in the binary: (manifest, component).\n\
         pub static EMBEDDED_PLUGINS: &[(&str, &[u8])] = &[\n",
    );
    for (name, dir) in &first_party {
        let wasm = out.join(format!("{name}.wasm"));
        let component = deskhost_componentize::componentize(&core_module(&wasm_dir, name))
            .unwrap_or_else(|e| panic!("plugin {name}: {e}"));
        fs::write(&wasm, component).expect("write plugin component");
        writeln!(
            code,
            "    (include_str!({:?}), include_bytes!({:?})),",
            dir.join("plugin.toml"),
            wasm
        )
        .unwrap();
    }
    code.push_str("];\n");
    fs::write(out.join("embedded_plugins.rs"), code).unwrap();

    // Test plugins: plugin directories on disk.
    let test_dir = out.join("test-plugins");
    let refused_dir = out.join("refused-plugins");
    let fixed_dir = out.join("fixed-plugins");
    for (name, dir) in &test_plugins {
        let parent = if name.starts_with("refused-") {
            &refused_dir
        } else if name.ends_with("-fixed") {
            &fixed_dir
        } else {
            &test_dir
        };
        let dest = parent.join(name);
        fs::create_dir_all(&dest).unwrap();
        fs::copy(dir.join("plugin.toml"), dest.join("plugin.toml")).unwrap();
        let component = deskhost_componentize::encode(&core_module(&wasm_dir, name))
            .unwrap_or_else(|e| panic!("test plugin {name}: {e}"));
        fs::write(dest.join("plugin.wasm"), component).unwrap();
    }
    println!(
        "cargo:rustc-env=DESKHOST_TEST_PLUGINS_DIR={}",
        test_dir.display()
    );
    println!(
        "cargo:rustc-env=DESKHOST_REFUSED_PLUGINS_DIR={}",
        refused_dir.display()
    );
    println!(
        "cargo:rustc-env=DESKHOST_FIXED_PLUGINS_DIR={}",
        fixed_dir.display()
    );
    println!(
        "cargo:rustc-env=DESKHOST_PLUGIN_MODULES_DIR={}",
        wasm_dir.display()
    );
}

/// Crates directly under `dir` that have a `plugin.toml`, as (name, path).
/// The crate name is the directory name.
fn plugin_crates(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut crates: Vec<(String, PathBuf)> = fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("plugin.toml").is_file() && p.join("Cargo.toml").is_file())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    crates.sort();
    crates
}

/// The core module the nested build linked for crate `crate_name`.
fn core_module(wasm_dir: &Path, crate_name: &str) -> Vec<u8> {
    let path = wasm_dir.join(format!("{}.wasm", crate_name.replace('-', "_")));
    fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn ensure_wasm_target() {
    let sysroot = Command::new(env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = &sysroot
        && sysroot.join("lib/rustlib").join(WASM_TARGET).is_dir()
    {
        return;
    }
    println!("cargo:warning=installing the {WASM_TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
        .expect(
            "run rustup: install the wasm32-wasip2 target with `rustup target add wasm32-wasip2`",
        );
    assert!(status.success(), "`rustup target add {WASM_TARGET}` failed");
}

fn build_plugins<'a>(
    root: &Path,
    target_dir: &Path,
    crates: impl Iterator<Item = &'a (String, PathBuf)>,
) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "--target", WASM_TARGET, "--profile", PROFILE])
        .arg("--config")
        .arg(deskhost_componentize::cargo_config())
        .arg("--target-dir")
        .arg(target_dir);
    for (name, _) in crates {
        cmd.args(["-p", name]);
    }
    // The outer build's settings must not leak into the nested one (clippy's
    // wrapper, host rustflags, the package being built); its jobserver may.
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let keep = key == "CARGO_HOME" || key == "CARGO_MAKEFLAGS" || key == "CARGO_NET_OFFLINE";
        if (key.starts_with("CARGO_") && !keep)
            || matches!(
                key.as_ref(),
                "RUSTC_WORKSPACE_WRAPPER" | "RUSTC_WRAPPER" | "RUSTFLAGS" | "RUSTDOCFLAGS"
            )
        {
            cmd.env_remove(key.as_ref());
        }
    }
    let output = cmd.output().expect("run cargo to build the plugins");
    if !output.status.success() {
        panic!(
            "building the plugins failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
