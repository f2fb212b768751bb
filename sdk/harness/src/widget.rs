//! A widget's built component and manifest: built from its crate with a
//! nested cargo, or read from files.

use std::collections::HashMap;
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use deskhost::runtime::manifest::Manifest;

use crate::error::Error;
use crate::harness::{HarnessBuilder, default_cache_dir};

/// The target plugins are built for.
const WASM_TARGET: &str = "wasm32-wasip2";
/// The cargo profile deskhost builds its plugins with, used when the
/// plugin's workspace defines it (else `release`).
const PLUGIN_PROFILE: &str = "plugin";
/// Overrides the nested build's target directory, as for deskhost's
/// `build.rs`.
const TARGET_DIR_VAR: &str = "DESKHOST_PLUGIN_TARGET_DIR";

/// A widget plugin's component and `plugin.toml`, ready to run in a
/// [`Harness`](crate::Harness) ([`Widget::harness`]). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Widget {
    manifest: Arc<Manifest>,
    manifest_text: Arc<str>,
    wasm: Arc<[u8]>,
    component_path: PathBuf,
    manifest_path: PathBuf,
    cache_dir: PathBuf,
}

impl Widget {
    /// Builds the plugin crate at `crate_dir` (its `Cargo.toml` and
    /// `plugin.toml` are there) for `wasm32-wasip2` and reads the result.
    ///
    /// The build is a nested `cargo build --target wasm32-wasip2` with the
    /// workspace's `plugin` profile if it has one (deskhost's does), else
    /// `--release`, into `target/wasm-plugins` under the crate's workspace
    /// root (or `$DESKHOST_PLUGIN_TARGET_DIR`): the directory deskhost's
    /// `build.rs` builds the first-party plugins into, so their tests find
    /// them built, and never the directory of the `cargo test` running
    /// this, whose lock it holds. Each crate is built once per process.
    ///
    /// The linker stops at the core module, and the component is made from
    /// it as deskhost's own plugins are (`deskhost-componentize`: the
    /// standard streams, environment and terminals, which the host answers
    /// with nothing, answered the same way inside the module), next to it
    /// as `NAME.component.wasm`.
    pub fn build(crate_dir: impl AsRef<Path>) -> Result<Widget, Error> {
        static BUILT: OnceLock<Mutex<HashMap<PathBuf, Widget>>> = OnceLock::new();
        let crate_dir = crate_dir.as_ref();
        let crate_dir = crate_dir
            .canonicalize()
            .map_err(|e| Error::Build(format!("{}: {e}", crate_dir.display())))?;
        // Held during the build: one nested cargo at a time per process.
        let mut built = BUILT
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(w) = built.get(&crate_dir) {
            return Ok(w.clone());
        }
        let root = workspace_root(&crate_dir)?;
        let target_dir = env::var_os(TARGET_DIR_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target").join("wasm-plugins"));
        let component = componentize(&cargo_build(&crate_dir, &root, &target_dir)?)?;
        let mut widget = Widget::load(&component, crate_dir.join("plugin.toml"))?;
        widget.cache_dir = target_dir.join("harness-cache");
        built.insert(crate_dir, widget.clone());
        Ok(widget)
    }

    /// Reads a built component and its `plugin.toml` (the manifest's
    /// `component` entry is not used: `component` is the file).
    pub fn load(component: impl AsRef<Path>, manifest: impl AsRef<Path>) -> Result<Widget, Error> {
        let (component, manifest_path) = (component.as_ref(), manifest.as_ref());
        let manifest_text = std::fs::read_to_string(manifest_path)
            .map_err(|e| Error::Build(format!("cannot read {}: {e}", manifest_path.display())))?;
        let parsed = Manifest::parse(&manifest_text, &manifest_path.display().to_string())
            .map_err(Error::Load)?;
        let wasm = std::fs::read(component)
            .map_err(|e| Error::Build(format!("cannot read {}: {e}", component.display())))?;
        Ok(Widget {
            manifest: Arc::new(parsed),
            manifest_text: manifest_text.into(),
            wasm: wasm.into(),
            component_path: component.to_path_buf(),
            manifest_path: manifest_path.to_path_buf(),
            cache_dir: default_cache_dir(),
        })
    }

    /// Starts setting up a harness for this widget.
    pub fn harness(&self) -> HarnessBuilder {
        HarnessBuilder::new(self.clone())
    }

    /// The plugin id, from `plugin.toml`.
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// The parsed `plugin.toml`.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The text of `plugin.toml`.
    pub fn manifest_text(&self) -> &str {
        &self.manifest_text
    }

    /// Where `plugin.toml` is.
    pub fn manifest_path(&self) -> &Path {
        &self.manifest_path
    }

    /// The component's bytes.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }

    /// Where the component is.
    pub fn component_path(&self) -> &Path {
        &self.component_path
    }

    /// Where compiled native code of the component is cached between
    /// harnesses and test runs.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        Some(self.cache_dir.clone())
    }

    /// Caches compiled code in `dir` instead.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = dir.into();
        self
    }
}

/// A `cargo` command with the environment of the process running it (a
/// `cargo test`) cleared of what must not leak into a nested build, as
/// deskhost's `build.rs` clears it: the same flags give the same
/// fingerprints, so what one built the other reuses.
fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in env::vars_os() {
        let key = key.to_string_lossy();
        let keep = key == "CARGO_HOME" || key == "CARGO_NET_OFFLINE";
        if (key.starts_with("CARGO_") && !keep)
            || matches!(
                key.as_ref(),
                "RUSTC_WORKSPACE_WRAPPER" | "RUSTC_WRAPPER" | "RUSTFLAGS" | "RUSTDOCFLAGS"
            )
        {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<std::process::Output, Error> {
    let output = cmd
        .output()
        .map_err(|e| Error::Build(format!("cannot run cargo to {what}: {e}")))?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let hint = if stderr.contains("target may not be installed") {
        format!("\nhint: install the target with `rustup target add {WASM_TARGET}`")
    } else {
        String::new()
    };
    Err(Error::Build(format!(
        "cargo failed to {what}:\n{stderr}{hint}"
    )))
}

/// The root directory of the workspace `crate_dir` belongs to.
fn workspace_root(crate_dir: &Path) -> Result<PathBuf, Error> {
    let mut cmd = cargo();
    cmd.current_dir(crate_dir)
        .args(["locate-project", "--workspace", "--message-format", "plain"]);
    let out = run(cmd, "find the workspace")?;
    let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    manifest
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::Build(format!("odd workspace manifest {}", manifest.display())))
}

/// Whether the workspace at `root` defines profile `plugin`.
fn has_plugin_profile(root: &Path) -> bool {
    std::fs::read_to_string(root.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| t.get("profile")?.get(PLUGIN_PROFILE).cloned())
        .is_some()
}

/// Makes the component of the core module the nested build linked at
/// `module`, as deskhost's `build.rs` makes the first-party plugins' (the
/// standard streams, environment and terminals answered inside it), and
/// writes it next to it as `NAME.component.wasm`; returns its path.
fn componentize(module: &Path) -> Result<PathBuf, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::Build(format!("{}: {e}", module.display()));
    let bytes = std::fs::read(module).map_err(|e| fail(&e))?;
    let component = deskhost_componentize::componentize(&bytes).map_err(|e| fail(&e))?;
    let path = module.with_extension("component.wasm");
    // Another test process may be writing the same crate's component.
    let partial = module.with_extension(format!("component.wasm.{}", std::process::id()));
    std::fs::write(&partial, component).map_err(|e| fail(&e))?;
    std::fs::rename(&partial, &path).map_err(|e| fail(&e))?;
    Ok(path)
}

/// Builds the crate at `crate_dir`; returns its linked core module.
fn cargo_build(crate_dir: &Path, root: &Path, target_dir: &Path) -> Result<PathBuf, Error> {
    let manifest = crate_dir.join("Cargo.toml");
    let mut cmd = cargo();
    cmd.current_dir(crate_dir)
        .args([
            "build",
            "--target",
            WASM_TARGET,
            "--message-format",
            "json-render-diagnostics",
        ])
        .arg("--config")
        .arg(deskhost_componentize::cargo_config())
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target_dir);
    if has_plugin_profile(root) {
        cmd.args(["--profile", PLUGIN_PROFILE]);
    } else {
        cmd.arg("--release");
    }
    let out = run(cmd, &format!("build {}", crate_dir.display()))?;
    // The cdylib artifact of the package whose manifest is `manifest`.
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["manifest_path"]
                .as_str()
                .is_some_and(|p| Path::new(p) == manifest)
        })
        .filter_map(|m| m["filenames"].as_array().cloned())
        .flatten()
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| {
            Error::Build(format!(
                "building {} produced no .wasm module: is it a `cdylib` \
                 (`[lib] crate-type = [\"cdylib\"]`)?",
                crate_dir.display()
            ))
        })
}
