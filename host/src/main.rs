//! The `deskhost` command: serve the desktop, or check layouts.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use deskhost::app::{self, LayoutSource};
use deskhost::config::HostConfig;
use deskhost::layout;
use deskhost::store::SqliteStore;
use tracing_subscriber::EnvFilter;

/// A host for contact-center desktops built from WebAssembly widget plugins.
#[derive(Parser)]
#[command(name = "deskhost", version, about)]
struct Cli {
    /// Host config file (TOML); flags override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of installed plugins (one sub-directory per plugin); repeatable.
    #[arg(long = "plugins", global = true, value_name = "DIR")]
    plugin_dirs: Vec<PathBuf>,
    /// Data directory: SQLite store and compiled-component cache.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the desktop.
    Serve {
        /// Address to listen on.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Layout file to serve (default: the embedded demo layout).
        #[arg(long, value_name = "FILE")]
        layout: Option<PathBuf>,
    },
    /// Check layout files: every problem, with file, line and column.
    /// Exit status: 0 valid, 1 errors, 2 unusable arguments.
    Check {
        /// Layout files (default: the configured layout, or the demo layout).
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `check` is a tool for people and editors: only warnings and worse.
    let default_level = match cli.command {
        Command::Serve { .. } => "info",
        Command::Check { .. } => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = match load_config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Command::Serve { listen, layout } => {
            let mut config = config;
            if let Some(l) = listen {
                config.listen = l;
            }
            if let Some(l) = layout {
                config.layouts = vec![l];
            }
            match serve(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Check { paths, format } => check(&config, paths, format),
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<HostConfig> {
    let mut config = match &cli.config {
        Some(p) => HostConfig::from_file(p)?,
        None => HostConfig::default(),
    };
    config.plugin_dirs.extend(cli.plugin_dirs.iter().cloned());
    if let Some(d) = &cli.data_dir {
        config.data_dir = d.clone();
    }
    Ok(config)
}

fn serve(config: HostConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let sources = LayoutSource::from_config(&config);
    let host = std::sync::Arc::new(app::build(&config, &sources)?);
    let _hot_reload = match deskhost::watch::start(host.clone()) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!("hot reload is off: cannot watch the layout and plugin files: {e}");
            None
        }
    };
    let desktops = host.desktops().load_full();
    runtime.block_on(async move {
        let listener = deskhost::web::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        println!("deskhost is serving the desktop at http://{addr}/");
        for d in desktops.all() {
            let teams = &d.layout().teams;
            let scope = if teams.is_empty() {
                "global".to_string()
            } else {
                format!("teams: {}", teams.join(", "))
            };
            println!("  layout:  {} ({scope})", d.layout().path.display());
        }
        let plugins: Vec<String> = desktops
            .global()
            .plugins()
            .iter()
            .map(|p| format!("{} {}", p.info.id, p.info.version))
            .collect();
        println!("  plugins: {}", plugins.join(", "));
        println!("  data:    {}", config.data_dir.display());
        println!(
            "  Sign-in is not built yet: pick the role and team with the switch in the header."
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        deskhost::web::serve(listener, deskhost::web::AppState::new(host), shutdown).await?;
        Ok(())
    })
}

fn check(config: &HostConfig, paths: Vec<PathBuf>, format: Format) -> ExitCode {
    let sources: Vec<LayoutSource> = if paths.is_empty() {
        LayoutSource::from_config(config)
    } else {
        paths.into_iter().map(LayoutSource::File).collect()
    };
    let kv = match SqliteStore::in_memory() {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    // Plugins are only described here, never rendered: the simulator is
    // not started.
    let services = deskhost::runtime::Services {
        kv,
        contact_center: std::sync::Arc::new(deskhost::contact_center::Simulator::new(
            config.simulator_seed,
            deskhost::now_ms(),
        )),
    };
    let runtime = match app::runtime(config, services) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let (plugins, plugin_errors) = app::install_plugins(&runtime, config);
    let opts = app::validate_options(config);
    let mut errors = false;
    let mut json = Vec::new();
    for source in &sources {
        let (name, text) = match source.read() {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", source.name());
                return ExitCode::from(2);
            }
        };
        let checked = layout::check(std::path::Path::new(&name), &text, &plugins, &opts);
        errors |= checked.has_errors();
        match format {
            Format::Text => {
                if checked.diagnostics.is_empty() {
                    println!("{name}: ok");
                } else {
                    use std::io::IsTerminal;
                    print!(
                        "{}",
                        layout::render_text(
                            &checked.diagnostics,
                            &name,
                            &text,
                            std::io::stdout().is_terminal()
                        )
                    );
                }
            }
            Format::Json => json.push(serde_json::json!({
                "path": name,
                "valid": !checked.has_errors(),
                "diagnostics": layout::render_json(&checked.diagnostics, &name, &text),
            })),
        }
    }
    if let Format::Json = format {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    } else {
        for e in &plugin_errors {
            eprintln!("warning: plugin not installed: {e}");
        }
    }
    if errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
