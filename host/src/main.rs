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

    /// Print the JSON Schema of layout files (for editors: taplo, Even
    /// Better TOML). The shipped one is `layouts/layout.schema.json`.
    Schema,
    /// Print the layout a user of this role and team gets: their team's
    /// layout or the global one, with only the widgets they can see.
    Resolve {
        /// `supervisor`, `supervisor-agent` or `agent`.
        #[arg(long)]
        role: deskhost::layout::Role,
        /// The user's team.
        #[arg(long)]
        team: Option<String>,
        /// Layout files (default: the configured layouts, or the embedded ones).
        paths: Vec<PathBuf>,
    },
    /// Create a plugin crate from a template: it builds, passes its tests
    /// and runs under `deskhost dev`.
    /// Exit status: 0 created, 1 failure, 2 unusable arguments.
    New {
        /// The kind of plugin.
        kind: deskhost::scaffold::Kind,
        /// Plugin id and crate name: lowercase letters, digits and hyphens.
        name: String,
        /// Where to create it (default: ./NAME); must not exist or be empty.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The deskhost-sdk crate to depend on (default: the SDK this
        /// binary was built from).
        #[arg(long, value_name = "PATH")]
        sdk: Option<PathBuf>,
    },
    /// Develop plugins: build each crate, serve the desktop with them, and
    /// rebuild on save. Exit status: 1 failure, 2 unusable arguments.
    Dev {
        /// Plugin crate directories (default: the current directory).
        crates: Vec<PathBuf>,
        /// Address to listen on.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
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
        Command::Serve { .. } | Command::Dev { .. } => "info",
        Command::Check { .. } | Command::Schema | Command::Resolve { .. } | Command::New { .. } => {
            "warn"
        }
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
        Command::Schema => {
            print_out(&serde_json::to_string_pretty(&layout::layout_schema()).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Command::Resolve { role, team, paths } => resolve(&config, role, team, paths),
        Command::New {
            kind,
            name,
            dir,
            sdk,
        } => {
            use deskhost::scaffold;
            let opts = scaffold::Options {
                kind,
                name,
                dir,
                sdk,
            };
            match scaffold::create(&opts) {
                Ok(created) => {
                    print_out(&scaffold::summary(kind, &opts.name, &created));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(e.exit_code())
                }
            }
        }
        Command::Dev { crates, listen } => {
            let mut config = config;
            if let Some(l) = listen {
                config.listen = l;
            }
            let opts = deskhost::dev::Options {
                crates,
                target_dir: None,
            };
            match deskhost::dev::run(config, &opts) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(e.exit_code())
                }
            }
        }
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
            let scope = match (teams.is_empty(), d.layout().extends.is_some()) {
                (true, _) => "global".to_string(),
                (false, false) => format!("teams: {}", teams.join(", ")),
                (false, true) => {
                    format!("teams: {}; overlay on the global layout", teams.join(", "))
                }
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
        let identity = &config.auth.identity;
        println!(
            "  sign-in: {} (identity), {} (station credentials)",
            identity.plugin, config.auth.station.plugin
        );
        if let Some(help) = config.demo_sign_in() {
            println!("{help}");
        }
        match &config.mail.smtp {
            None => println!(
                "  mail:    written to {} (reset codes)",
                config
                    .mail
                    .outbox
                    .clone()
                    .unwrap_or_else(|| config.data_dir.join("outbox"))
                    .display()
            ),
            Some(smtp) => println!("  mail:    SMTP via {}:{}", smtp.host, smtp.port),
        }
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        deskhost::web::serve(listener, deskhost::web::AppState::new(host), shutdown).await?;
        Ok(())
    })
}

/// The contact center `check` and `resolve` know the teams of.
fn simulator(config: &HostConfig) -> deskhost::contact_center::Simulator {
    deskhost::contact_center::Simulator::new(config.simulator_seed, deskhost::now_ms())
}

/// Plugins installed for `check` and `resolve`: described, never rendered,
/// so the simulator behind them is not started.
fn catalog(config: &HostConfig) -> Result<deskhost::runtime::Plugins, String> {
    let kv = SqliteStore::in_memory().map_err(|e| e.to_string())?;
    let services = deskhost::runtime::Services::without_sign_in(
        std::sync::Arc::new(kv),
        std::sync::Arc::new(simulator(config)),
    );
    let runtime = app::runtime(config, services).map_err(|e| format!("{e:#}"))?;
    let (plugins, errors) = app::install_plugins(&runtime, config);
    for e in &errors {
        eprintln!("warning: plugin not installed: {e}");
    }
    Ok(plugins)
}

/// The layouts named on the command line (or configured), and the
/// installed plugins to check them against; exit status 2 when the plugins
/// cannot be loaded at all.
fn prepare(
    config: &HostConfig,
    paths: Vec<PathBuf>,
) -> Result<(Vec<LayoutSource>, deskhost::runtime::Plugins), ExitCode> {
    let sources = if paths.is_empty() {
        LayoutSource::from_config(config)
    } else {
        paths.into_iter().map(LayoutSource::File).collect()
    };
    let plugins = catalog(config).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    Ok((sources, plugins))
}

fn resolve(
    config: &HostConfig,
    role: deskhost::layout::Role,
    team: Option<String>,
    paths: Vec<PathBuf>,
) -> ExitCode {
    let (sources, plugins) = match prepare(config, paths) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let mut layouts = Vec::new();
    let mut texts = Vec::new();
    let opts = app::validate_options_for(config, &simulator(config));
    for source in &sources {
        match app::load_layout(source, &plugins, &opts, &[]) {
            Ok(l) => layouts.push(l),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
        texts.push(source.read().map(|(_, t)| t).unwrap_or_default());
    }
    if let Err(report) = app::compose_layouts(&mut layouts, &texts) {
        eprint!("{report}");
        return ExitCode::from(1);
    }
    // As at sign-in: a supervisor has no team, so gets the global layout.
    let team = match (role, team) {
        (deskhost::layout::Role::Supervisor, Some(t)) => {
            eprintln!(
                "note: supervisors sign in without a team, so `--team {t}` does not apply: this is the global layout"
            );
            None
        }
        (_, t) => t,
    };
    let chosen = team
        .as_ref()
        .and_then(|t| layouts.iter().find(|l| l.teams.contains(t)))
        .or_else(|| layouts.iter().find(|l| l.teams.is_empty()));
    let Some(layout) = chosen else {
        eprintln!("error: no global layout (one without `teams`) to fall back to");
        return ExitCode::from(1);
    };
    let pages: Vec<serde_json::Value> = layout
        .roles
        .get(&role)
        .map(|desk| {
            desk.all_pages()
                .map(|p| {
                    let widgets: Vec<&deskhost::layout::Widget> = p
                        .widgets
                        .iter()
                        .filter(|w| w.visible.allows(role, team.as_deref()))
                        .collect();
                    serde_json::json!({"id": p.id, "title": p.title, "widgets": widgets})
                })
                .collect()
        })
        .unwrap_or_default();
    let out = serde_json::json!({
        "layout": layout.path.display().to_string(),
        "title": layout.title,
        "role": role,
        "team": team,
        "limits": layout.limits,
        "plugins": layout.plugins,
        "pages": pages,
    });
    print_out(&serde_json::to_string_pretty(&out).unwrap_or_default());
    ExitCode::SUCCESS
}

/// The configured global layout (or the embedded one), if it is valid.
fn configured_global(
    config: &HostConfig,
    plugins: &deskhost::runtime::Plugins,
    opts: &layout::ValidateOptions,
) -> Option<layout::Layout> {
    LayoutSource::from_config(config).iter().find_map(|source| {
        let (name, text) = source.read().ok()?;
        let checked = layout::check(std::path::Path::new(&name), &text, plugins, opts);
        checked.layout.filter(|l| l.teams.is_empty())
    })
}

/// Writes a document and a newline to stdout. A closed pipe (`| head`) is
/// not an error worth a panic.
fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
}

fn check(config: &HostConfig, paths: Vec<PathBuf>, format: Format) -> ExitCode {
    let (sources, plugins) = match prepare(config, paths) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let opts = app::validate_options_for(config, &simulator(config));
    let mut errors = false;
    let mut json = Vec::new();
    let mut files = Vec::new();
    for source in &sources {
        let (name, text) = match source.read() {
            Ok(x) => x,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", source.name());
                return ExitCode::from(2);
            }
        };
        let checked = layout::check(std::path::Path::new(&name), &text, &plugins, &opts);
        files.push((name, text, checked));
    }
    // Overlays are composed onto the global layout when every file is
    // valid on its own; what that finds belongs to the overlay's file.
    // An overlay checked without its global layout is composed onto the
    // configured (or embedded) global one, which is not reported on.
    if files.iter().all(|(_, _, c)| c.layout.is_some()) {
        let mut layouts: Vec<layout::Layout> = files
            .iter()
            .filter_map(|(_, _, c)| c.layout.clone())
            .collect();
        let has_global = layouts.iter().any(|l| l.teams.is_empty());
        if !has_global && layouts.iter().any(|l| l.extends.is_some()) {
            layouts.extend(configured_global(config, &plugins, &opts));
        }
        for (i, d) in layout::compose::compose(&mut layouts) {
            files[i].2.diagnostics.push(d);
        }
    }
    for (name, text, checked) in &files {
        let (name, text) = (name.as_str(), text.as_str());
        errors |= checked.has_errors();
        match format {
            Format::Text => {
                if checked.diagnostics.is_empty() {
                    print_out(&format!("{name}: ok"));
                } else {
                    use std::io::IsTerminal;
                    let report = layout::render_text(
                        &checked.diagnostics,
                        name,
                        text,
                        std::io::stdout().is_terminal(),
                    );
                    print_out(report.trim_end_matches('\n'));
                }
            }
            Format::Json => json.push(serde_json::json!({
                "path": name,
                "valid": !checked.has_errors(),
                "diagnostics": layout::render_json(&checked.diagnostics, name, text),
            })),
        }
    }
    if let Format::Json = format {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    }
    if errors {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
