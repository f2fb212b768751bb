//! `deskhost new KIND NAME`: a new plugin crate from a template, ready to
//! build, test and serve with `deskhost dev`.
//!
//! The templates are the files under `host/templates/new/<kind>/`,
//! embedded in the binary. Each kind gets `Cargo.toml`, `plugin.toml`, a
//! small but working `src/lib.rs` with its native unit tests, a
//! `README.md`, a `.gitignore` and a `build.rs` that links the component
//! with a 64 KiB stack (as the first-party plugins are, by the
//! workspace's `.cargo/config.toml`); a widget also gets the
//! `dev-layout.toml` that `deskhost dev` serves. Placeholders in the
//! templates: `{{name}}` (the plugin id, which is also the crate name),
//! `{{crate}}` (the library name: `-` becomes `_`), `{{title}}` (`my-widget`
//! becomes "My widget"), `{{type}}` (`MyWidget`) and `{{sdk}}` (the SDK's
//! path, as a TOML string).
//!
//! The crate is a workspace of its own (an empty `[workspace]` table), so
//! it never joins a workspace it is created in, and depends on
//! `deskhost-sdk` by path: the SDK this binary was built from, or the one
//! given with `--sdk`. When the SDK sits in a deskhost checkout, the
//! checkout's `Cargo.lock` seeds the crate's, so that it builds with the
//! dependency versions deskhost is tested with (a fresh resolution could
//! pick a newer, incompatible `wit-bindgen`).

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::plugin::PluginKind;

/// The kinds of plugin `deskhost new` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A home-page widget.
    Widget,
    /// Decides who may sign in.
    IdentityProvider,
    /// Checks station credentials at sign-in.
    StationProvider,
    /// Connects users to a collaboration tool (OAuth 2.0 / OpenID Connect).
    CollaborationAuth,
}

impl From<Kind> for PluginKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Widget => PluginKind::Widget,
            Kind::IdentityProvider => PluginKind::IdentityProvider,
            Kind::StationProvider => PluginKind::StationProvider,
            Kind::CollaborationAuth => PluginKind::CollaborationAuth,
        }
    }
}

macro_rules! template {
    ($kind:literal, $file:literal) => {
        include_str!(concat!("../templates/new/", $kind, "/", $file))
    };
}

/// The `.gitignore` of every kind.
const GITIGNORE: &str = include_str!("../templates/new/gitignore");
/// The `build.rs` of every kind: links the component with a small stack.
const BUILD_RS: &str = include_str!("../templates/new/build.rs");

impl Kind {
    /// Its templates: (path in the new crate, text).
    pub fn templates(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Widget => &[
                ("Cargo.toml", template!("widget", "Cargo.toml.tmpl")),
                ("plugin.toml", template!("widget", "plugin.toml")),
                ("src/lib.rs", template!("widget", "src/lib.rs")),
                ("README.md", template!("widget", "README.md")),
                ("dev-layout.toml", template!("widget", "dev-layout.toml")),
                ("build.rs", BUILD_RS),
                (".gitignore", GITIGNORE),
            ],
            Kind::IdentityProvider => &[
                (
                    "Cargo.toml",
                    template!("identity-provider", "Cargo.toml.tmpl"),
                ),
                ("plugin.toml", template!("identity-provider", "plugin.toml")),
                ("src/lib.rs", template!("identity-provider", "src/lib.rs")),
                ("README.md", template!("identity-provider", "README.md")),
                ("build.rs", BUILD_RS),
                (".gitignore", GITIGNORE),
            ],
            Kind::StationProvider => &[
                (
                    "Cargo.toml",
                    template!("station-provider", "Cargo.toml.tmpl"),
                ),
                ("plugin.toml", template!("station-provider", "plugin.toml")),
                ("src/lib.rs", template!("station-provider", "src/lib.rs")),
                ("README.md", template!("station-provider", "README.md")),
                ("build.rs", BUILD_RS),
                (".gitignore", GITIGNORE),
            ],
            Kind::CollaborationAuth => &[
                (
                    "Cargo.toml",
                    template!("collaboration-auth", "Cargo.toml.tmpl"),
                ),
                (
                    "plugin.toml",
                    template!("collaboration-auth", "plugin.toml"),
                ),
                ("src/lib.rs", template!("collaboration-auth", "src/lib.rs")),
                ("README.md", template!("collaboration-auth", "README.md")),
                ("build.rs", BUILD_RS),
                (".gitignore", GITIGNORE),
            ],
        }
    }

    /// Its name on the command line and in `plugin.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Widget => "widget",
            Kind::IdentityProvider => "identity-provider",
            Kind::StationProvider => "station-provider",
            Kind::CollaborationAuth => "collaboration-auth",
        }
    }
}

/// What `deskhost new` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The kind of plugin.
    pub kind: Kind,
    /// Plugin id and crate name.
    pub name: String,
    /// Where to create it (default `./NAME`).
    pub dir: Option<PathBuf>,
    /// The `deskhost-sdk` crate to depend on (default: the one this binary
    /// was built from).
    pub sdk: Option<PathBuf>,
}

/// Why no crate was created.
#[derive(Debug, Error)]
pub enum Error {
    /// The arguments cannot be used (a bad name, an existing directory, no
    /// SDK); exit status 2.
    #[error("{0}")]
    Usage(String),
    /// Writing the crate failed; exit status 1.
    #[error("cannot write {path}: {source}")]
    Write {
        /// What could not be written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// The exit status, as `check` has them: 2 unusable arguments, 1 failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::Write { .. } => 1,
        }
    }
}

/// A crate that was created.
#[derive(Debug, Clone)]
pub struct Created {
    /// Its directory.
    pub dir: PathBuf,
    /// The files written, relative to `dir`.
    pub files: Vec<String>,
    /// The SDK it depends on.
    pub sdk: PathBuf,
}

/// Names that are valid by the rules but cannot be a crate of this kind:
/// crates the templates depend on, crates of the standard library, and
/// Rust keywords (a library name must be an identifier).
const RESERVED: &[&str] = &[
    "deskhost-sdk",
    "deskhost",
    "serde",
    "argon2",
    "sha2",
    "base64",
    "subtle",
    "getrandom",
    "std",
    "core",
    "alloc",
    "test",
    "proc-macro",
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
];

/// Checks a plugin name: lowercase ASCII letters, digits and hyphens,
/// starting with a letter, no hyphen at the end or twice in a row, at most
/// 64 characters, and not a reserved name.
pub fn validate_name(name: &str) -> Result<(), String> {
    let well_formed = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !well_formed {
        return Err(format!(
            "invalid plugin name `{name}`: use lowercase letters, digits and hyphens, starting with a letter \
             and not ending with a hyphen (at most 64 characters), such as `queue-alerts`"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "`{name}` cannot be a plugin name: it is a Rust keyword or the name of a crate the plugin \
             depends on; pick another, such as `{name}-widget`"
        ));
    }
    Ok(())
}

/// `my-widget` → `My widget`.
pub fn title(name: &str) -> String {
    let words = name.replace('-', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `my-widget` → `MyWidget`.
pub fn type_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The SDK next to the sources this binary was built from.
pub fn builtin_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk")
}

/// Whether `dir` holds the `deskhost-sdk` crate.
fn is_sdk(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| {
            t.get("package")?
                .get("name")?
                .as_str()
                .map(|n| n == "deskhost-sdk")
        })
        .unwrap_or(false)
}

/// The SDK to depend on, as an absolute path.
fn find_sdk(given: Option<&Path>) -> Result<PathBuf, Error> {
    let (path, how) = match given {
        Some(p) => (p.to_path_buf(), "given with --sdk"),
        None => (builtin_sdk(), "where this deskhost binary was built from"),
    };
    if !is_sdk(&path) {
        return Err(Error::Usage(match given {
            Some(_) => format!(
                "{} ({how}) is not the deskhost SDK: it should be the `sdk` directory of a deskhost \
                 checkout, whose Cargo.toml names the package `deskhost-sdk`",
                path.display()
            ),
            None => format!(
                "the deskhost SDK is not at {} ({how}); pass --sdk PATH, the `sdk` directory of a \
                 deskhost checkout",
                path.display()
            ),
        }));
    }
    std::fs::canonicalize(&path).map_err(|e| {
        Error::Usage(format!(
            "cannot resolve the SDK path {}: {e}",
            path.display()
        ))
    })
}

/// A path as a TOML string (basic string, escaped).
fn toml_string(path: &Path) -> String {
    toml::Value::String(path.to_string_lossy().into_owned()).to_string()
}

/// Fills the placeholders of a template.
pub fn render(template: &str, name: &str, sdk: &Path) -> String {
    template
        .replace("{{name}}", name)
        .replace("{{crate}}", &name.replace('-', "_"))
        .replace("{{title}}", &title(name))
        .replace("{{type}}", &type_name(name))
        .replace("{{sdk}}", &toml_string(sdk))
}

/// Creates the crate `opts` asks for.
pub fn create(opts: &Options) -> Result<Created, Error> {
    validate_name(&opts.name).map_err(Error::Usage)?;
    let dir = opts
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&opts.name));
    if dir.exists() {
        let empty = dir.is_dir()
            && std::fs::read_dir(&dir)
                .map(|mut entries| entries.next().is_none())
                .unwrap_or(false);
        if !empty {
            return Err(Error::Usage(format!(
                "{} already exists and is not empty; pick another directory with --dir, or remove it",
                dir.display()
            )));
        }
    }
    let sdk = find_sdk(opts.sdk.as_deref())?;
    let write = |path: &Path, text: &str| -> Result<(), Error> {
        let failed = |source| Error::Write {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(failed)?;
        }
        std::fs::write(path, text).map_err(failed)
    };
    let mut files = Vec::new();
    for (file, template) in opts.kind.templates() {
        write(&dir.join(file), &render(template, &opts.name, &sdk))?;
        files.push(file.to_string());
    }
    // Start from the versions deskhost is tested with.
    if let Some(lock) = sdk.parent().map(|p| p.join("Cargo.lock"))
        && let Ok(text) = std::fs::read_to_string(&lock)
    {
        write(&dir.join("Cargo.lock"), &text)?;
        files.push("Cargo.lock".into());
    }
    Ok(Created { dir, files, sdk })
}

/// What `deskhost new` prints after creating a crate.
pub fn summary(kind: Kind, name: &str, created: &Created) -> String {
    let dir = created.dir.display();
    let mut out = format!(
        "Created the {} `{name}` in {dir}\n  files: {}\n  SDK:   {}\n\nNext:\n  cd {dir}\n",
        PluginKind::from(kind),
        created.files.join(", "),
        created.sdk.display()
    );
    out.push_str("  cargo test                                    # its native unit tests\n");
    out.push_str("  cargo build --target wasm32-wasip2 --release  # the component\n");
    out.push_str(match kind {
        Kind::Widget => {
            "  deskhost dev                                  # serve it (dev-layout.toml), rebuilt on save\n"
        }
        _ => {
            "  deskhost dev                                  # build and install it, rebuilt on save\n  (README.md says how to put it to use)\n"
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        for ok in ["hello", "queue-alerts", "a1", "kpi-2-tiles"] {
            assert_eq!(validate_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "Hello",
            "my_widget",
            "1abc",
            "-abc",
            "abc-",
            "a--b",
            "my widget",
            "né",
        ] {
            let e = validate_name(bad).unwrap_err();
            assert!(
                e.contains("lowercase letters, digits and hyphens"),
                "{bad}: {e}"
            );
        }
        assert!(validate_name(&"a".repeat(65)).is_err());
        let e = validate_name("deskhost-sdk").unwrap_err();
        assert!(e.contains("cannot be a plugin name"), "{e}");
        assert!(validate_name("fn").is_err());
    }

    #[test]
    fn names_become_titles_and_types() {
        assert_eq!(title("queue-alerts"), "Queue alerts");
        assert_eq!(type_name("queue-alerts"), "QueueAlerts");
        assert_eq!(type_name("kpi-2-tiles"), "Kpi2Tiles");
    }

    #[test]
    fn every_placeholder_is_filled() {
        let sdk = Path::new("/opt/desk host/sdk");
        for kind in [
            Kind::Widget,
            Kind::IdentityProvider,
            Kind::StationProvider,
            Kind::CollaborationAuth,
        ] {
            for (file, template) in kind.templates() {
                let text = render(template, "queue-alerts", sdk);
                assert!(!text.contains("{{"), "{}/{file}: {text}", kind.name());
            }
            let (_, cargo) = kind.templates()[0];
            let cargo: toml::Table = render(cargo, "queue-alerts", sdk).parse().unwrap();
            assert_eq!(cargo["package"]["name"].as_str(), Some("queue-alerts"));
            assert_eq!(
                cargo["dependencies"]["deskhost-sdk"]["path"].as_str(),
                Some("/opt/desk host/sdk")
            );
            assert!(cargo["workspace"].as_table().unwrap().is_empty());
            assert_eq!(
                cargo["lib"]["crate-type"],
                toml::Value::Array(vec!["cdylib".into(), "rlib".into()])
            );
            let (_, manifest) = kind.templates()[1];
            let manifest = render(manifest, "queue-alerts", sdk);
            let m = crate::runtime::manifest::Manifest::parse(&manifest, "t").unwrap();
            assert_eq!(m.id, "queue-alerts");
            assert_eq!(m.kind, PluginKind::from(kind));
            assert_eq!(m.version, semver::Version::new(0, 1, 0));
            assert_eq!(m.api.to_string(), "^0.1");
        }
    }
}
