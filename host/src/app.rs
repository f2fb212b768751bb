//! Putting a host together from its configuration: open the store, start
//! the runtime, install the plugins (embedded first-party ones and plugin
//! directories), check the layout and bind it into a [`Desktop`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;

use crate::config::HostConfig;
use crate::desktop::Desktop;
use crate::embedded::EMBEDDED_PLUGINS;
use crate::layout::{self, Layout, ValidateOptions};
use crate::runtime::{LoadError, Plugins, Runtime};
use crate::store::{KvStore, SqliteStore};

/// The demo layout shipped in the binary, used when no layout is given.
pub const DEMO_LAYOUT: &str = include_str!("../../layouts/demo.toml");
/// The name the embedded demo layout has in diagnostics.
pub const DEMO_LAYOUT_NAME: &str = "layouts/demo.toml";

/// Where a layout comes from.
#[derive(Debug, Clone)]
pub enum LayoutSource {
    /// The embedded demo layout.
    Demo,
    /// A file.
    File(PathBuf),
}

impl LayoutSource {
    /// The layout source the config asks for: its first layout, or the demo.
    pub fn from_config(config: &HostConfig) -> Self {
        config
            .layouts
            .first()
            .map(|p| LayoutSource::File(p.clone()))
            .unwrap_or(LayoutSource::Demo)
    }

    /// Reads it: (name for diagnostics, text).
    pub fn read(&self) -> std::io::Result<(String, String)> {
        match self {
            LayoutSource::Demo => Ok((DEMO_LAYOUT_NAME.into(), DEMO_LAYOUT.into())),
            LayoutSource::File(p) => Ok((p.display().to_string(), std::fs::read_to_string(p)?)),
        }
    }
}

/// Why the host could not be assembled.
#[derive(Debug, Error)]
pub enum StartError {
    /// The layout has errors; `report` holds the rendered diagnostics.
    #[error("the layout {name} has errors, so deskhost will not start:\n{report}")]
    InvalidLayout {
        /// The layout's name.
        name: String,
        /// Diagnostics, rendered.
        report: String,
    },
    /// The layout could not be read.
    #[error("cannot read layout {path}: {source}")]
    ReadLayout {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Something else (data dir, store, engine).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The validation bounds that follow from the host config.
pub fn validate_options(config: &HostConfig) -> ValidateOptions {
    ValidateOptions {
        max_timeout: config.limits.timeout,
        max_memory_mib: config.limits.memory_mib,
    }
}

/// Starts a runtime for `config`, with compiled components cached in the
/// data dir.
pub fn runtime(config: &HostConfig, kv: Arc<dyn KvStore>) -> anyhow::Result<Runtime> {
    Runtime::new(&config.limits, Some(config.data_dir.join("cache")), kv)
}

/// Installs the plugins the config asks for. Plugins that fail to load are
/// returned as errors (and logged); the rest are installed.
pub fn install_plugins(runtime: &Runtime, config: &HostConfig) -> (Plugins, Vec<LoadError>) {
    let mut plugins = Plugins::default();
    let mut errors = Vec::new();
    let mut loaded = Vec::new();
    if config.embedded_plugins {
        for (manifest, wasm) in EMBEDDED_PLUGINS {
            let origin = format!(
                "embedded:{}",
                crate::runtime::manifest::Manifest::parse(manifest, "embedded")
                    .map(|m| m.id)
                    .unwrap_or_default()
            );
            match runtime.load(manifest, wasm, &origin) {
                Ok(p) => loaded.push(p),
                Err(e) => errors.push(e),
            }
        }
    }
    for dir in &config.plugin_dirs {
        let (ok, errs) = runtime.load_dir(dir);
        loaded.extend(ok);
        errors.extend(errs);
    }
    for p in loaded {
        if let Err(e) = plugins.insert(p) {
            errors.push(e);
        }
    }
    for e in &errors {
        tracing::error!("plugin not installed: {e}");
    }
    (plugins, errors)
}

/// Reads and checks a layout against `plugins`; warnings are logged.
pub fn load_layout(
    source: &LayoutSource,
    plugins: &Plugins,
    opts: &ValidateOptions,
    plugin_errors: &[LoadError],
) -> Result<Layout, StartError> {
    let (name, text) = source.read().map_err(|e| StartError::ReadLayout {
        path: match source {
            LayoutSource::File(p) => p.clone(),
            LayoutSource::Demo => PathBuf::from(DEMO_LAYOUT_NAME),
        },
        source: e,
    })?;
    let checked = layout::check(Path::new(&name), &text, plugins, opts);
    for d in checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == layout::Severity::Warning)
    {
        let (line, col) = d.line_col(&text);
        tracing::warn!("{name}:{line}:{col}: {}", d.message);
    }
    match checked.layout {
        Some(l) => Ok(l),
        None => {
            let mut report = layout::render_text(&checked.diagnostics, &name, &text, false);
            for e in plugin_errors {
                report.push_str(&format!("note: a plugin failed to load: {e}\n"));
            }
            Err(StartError::InvalidLayout { name, report })
        }
    }
}

/// Assembles the whole host: store, runtime, plugins, layout, desktop.
pub fn build(config: &HostConfig, source: &LayoutSource) -> Result<Desktop, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let store: Arc<dyn KvStore> = Arc::new(SqliteStore::open(&config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the store in {}: {e}",
            config.data_dir.display()
        )
    })?);
    let runtime = Arc::new(runtime(config, store)?);
    let (plugins, errors) = install_plugins(&runtime, config);
    let layout = load_layout(source, &plugins, &validate_options(config), &errors)?;
    Ok(Desktop::new(
        layout,
        Arc::new(plugins),
        runtime,
        &config.grants,
    ))
}
