//! The docs' examples work, and their links lead somewhere.
//!
//! Every fenced `toml` block in `docs/*.md` says what it is in its info
//! string, and is checked the way the host reads such a file:
//!
//! - `toml layout`: a complete layout file. `deskhost::layout::check`
//!   against the embedded first-party plugins, with the default host
//!   limits and the simulator's teams: no error, no warning.
//! - `toml layout-overlay`: a team overlay (`extends = "global"`). Checked
//!   on its own, then composed onto `layouts/demo.toml` with
//!   `layout::compose::compose`: no error, no warning.
//! - `toml host-config`: a complete host config file.
//!   `HostConfig::from_file` reads it.
//! - `toml plugin-manifest`: a `plugin.toml`. `Manifest::parse` accepts it.
//! - `toml invalid-layout`: a layout shown for its errors. The check (and,
//!   for an overlay, the composition) reports at least one.
//! - `toml fragment`: part of a file, shown for a few keys. Valid TOML.
//!
//! A layout block may add `warnings` to its info string when the doc shows
//! warnings on purpose (and says so); it must then have some. A `toml`
//! block that says nothing else fails: every example is either checked or
//! declared a fragment. A failure names the file and the line of the
//! block; a layout's diagnostics point at lines of the doc.
//!
//! Every relative link in `docs/*.md` and `README.md` must lead to a file
//! that exists and, for a `#fragment` into a Markdown file, to one of its
//! headings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use deskhost::app;
use deskhost::config::HostConfig;
use deskhost::contact_center::Simulator;
use deskhost::layout::{self, Diagnostic, Layout, Severity, ValidateOptions};
use deskhost::runtime::manifest::Manifest;
use deskhost::runtime::{Plugins, Runtime, Services};
use deskhost::store::SqliteStore;

/// The guides that must exist.
const GUIDES: &[&str] = &[
    "docs/widget-guide.md",
    "docs/admin-guide.md",
    "docs/operator-guide.md",
    "docs/supervisor-quickstart.md",
];

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// The Markdown files under `docs/`, as paths relative to the root.
fn doc_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    files.sort();
    files
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

// ---- Markdown ---------------------------------------------------------------

/// A fenced code block.
#[derive(Debug)]
struct Fence {
    /// 1-based line of the opening fence.
    line: usize,
    /// The info string's words (`toml`, `layout`, ...).
    info: Vec<String>,
    /// The lines between the fences.
    body: String,
}

impl Fence {
    /// The body with a newline for each line above it, so that line
    /// numbers in it are the doc's.
    fn padded(&self) -> String {
        format!("{}{}", "\n".repeat(self.line), self.body)
    }
}

/// The run of backticks a fence line starts with (up to three spaces in).
fn fence_marker(line: &str) -> Option<(usize, &str)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let ticks = rest.len() - rest.trim_start_matches('`').len();
    (ticks >= 3).then(|| (ticks, &rest[ticks..]))
}

/// The fenced code blocks of `text`, and for every line whether it is
/// inside one (fences included).
fn fences(text: &str) -> (Vec<Fence>, Vec<bool>) {
    let mut out = Vec::new();
    let mut in_code = Vec::new();
    let mut open: Option<(usize, usize, Vec<String>, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut open {
            None => match fence_marker(line) {
                Some((ticks, info)) => {
                    let info = info.split_whitespace().map(str::to_owned).collect();
                    open = Some((i + 1, ticks, info, String::new()));
                    in_code.push(true);
                }
                None => in_code.push(false),
            },
            Some((start, ticks, info, body)) => {
                in_code.push(true);
                match fence_marker(line) {
                    Some((n, rest)) if n >= *ticks && rest.trim().is_empty() => {
                        out.push(Fence {
                            line: *start,
                            info: std::mem::take(info),
                            body: std::mem::take(body),
                        });
                        open = None;
                    }
                    _ => {
                        body.push_str(line);
                        body.push('\n');
                    }
                }
            }
        }
    }
    if let Some((line, _, info, body)) = open {
        out.push(Fence { line, info, body });
    }
    (out, in_code)
}

/// `line` without its inline code spans.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('`') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let ticks = after.len() - after.trim_start_matches('`').len();
        let marker = &after[..ticks];
        let inner = &after[ticks..];
        match inner.find(marker) {
            Some(end) => rest = &inner[end + ticks..],
            None => {
                // An unclosed run is text.
                out.push_str(marker);
                rest = inner;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Link targets of `text` outside code, with their lines: inline links
/// (`[text](target)`, images too) and reference definitions
/// (`[label]: target`).
fn links(text: &str) -> Vec<(usize, String)> {
    let (_, in_code) = fences(text);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if in_code[i] {
            continue;
        }
        // A reference definition starts its line (up to three spaces in).
        let trimmed = line.trim_start_matches(' ');
        if line.len() - trimmed.len() <= 3
            && trimmed.starts_with('[')
            && let Some(close) = trimmed.find("]:")
            && !trimmed[..close].contains(['`', ']'])
        {
            if let Some(target) = trimmed[close + 2..].split_whitespace().next() {
                out.push((i + 1, target.trim_matches(['<', '>']).to_owned()));
            }
            continue;
        }
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let target = match after.strip_prefix('<') {
                Some(inner) => inner.split('>').next().unwrap_or(""),
                None => after
                    .split(|c: char| c == ')' || c.is_whitespace())
                    .next()
                    .unwrap_or(""),
            };
            out.push((i + 1, target.to_owned()));
            rest = after;
        }
    }
    out
}

/// GitHub's anchor for a heading's text.
fn slug(heading: &str) -> String {
    // Inline code keeps its text in the anchor, without the backticks.
    heading
        .replace('`', "")
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of the headings of a Markdown text.
fn anchors(text: &str) -> Vec<String> {
    let (_, in_code) = fences(text);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if in_code[i] || !line.starts_with('#') {
            continue;
        }
        let heading = line.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading.trim().trim_end_matches('#').trim());
        let n = seen.entry(base.clone()).or_insert(0);
        out.push(if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        });
        *n += 1;
    }
    out
}

/// What is wrong with the relative links of the Markdown file `rel`
/// (relative to the root), whose text is `text`.
fn broken_links(rel: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let dir = root().join(rel).parent().expect("a file").to_path_buf();
    for (line, target) in links(text) {
        if target.is_empty()
            || target.contains("://")
            || target.starts_with("mailto:")
            || target.starts_with("tel:")
        {
            continue;
        }
        let (path, fragment) = match target.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (target.as_str(), None),
        };
        let path = path.split('?').next().unwrap_or("");
        let file = if path.is_empty() {
            root().join(rel)
        } else {
            dir.join(path)
        };
        if !file.exists() {
            out.push(format!(
                "{rel}:{line}: the link `{target}` leads to {}, which does not exist",
                file.display()
            ));
            continue;
        }
        if let Some(fragment) = fragment
            && file.extension().is_some_and(|e| e == "md")
        {
            let other = std::fs::read_to_string(&file).unwrap_or_default();
            if !anchors(&other).iter().any(|a| a == fragment) {
                out.push(format!(
                    "{rel}:{line}: the link `{target}` names no heading of {}",
                    file.display()
                ));
            }
        }
    }
    out
}

// ---- the host's side ------------------------------------------------------

/// The embedded first-party plugins and the checking options of a host
/// with the default config (its limits, the simulator's teams).
struct Host {
    plugins: Plugins,
    opts: ValidateOptions,
    /// `layouts/demo.toml`: its text and checked layout.
    demo: (String, Layout),
    _runtime: Runtime,
}

fn host() -> Host {
    let config = HostConfig {
        data_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs-data"),
        ..HostConfig::default()
    };
    let sim = Arc::new(Simulator::new(config.simulator_seed, deskhost::now_ms()));
    let runtime = app::runtime(
        &config,
        Services::without_sign_in(Arc::new(SqliteStore::in_memory().unwrap()), sim.clone()),
    )
    .unwrap();
    let (plugins, errors) = app::install_plugins(&runtime, &config);
    assert!(errors.is_empty(), "{errors:?}");
    let opts = app::validate_options_for(&config, &*sim);
    let text = read("layouts/demo.toml");
    let checked = layout::check(Path::new("layouts/demo.toml"), &text, &plugins, &opts);
    let demo = checked.layout.expect("layouts/demo.toml is valid");
    Host {
        plugins,
        opts,
        demo: (text, demo),
        _runtime: runtime,
    }
}

/// How many blocks of each kind were checked.
#[derive(Debug, Default)]
struct Counts {
    layouts: usize,
    overlays: usize,
    host_configs: usize,
    manifests: usize,
    invalid: usize,
    fragments: usize,
}

/// Checks a layout block: its diagnostics (the composition's too, for an
/// overlay), and the layout when it is valid.
fn layout_diagnostics(
    host: &Host,
    file: &str,
    text: &str,
    overlay: bool,
) -> (Vec<Diagnostic>, Option<Layout>) {
    let checked = layout::check(Path::new(file), text, &host.plugins, &host.opts);
    let mut diags = checked.diagnostics.clone();
    if let (true, Some(l)) = (overlay, &checked.layout) {
        let mut layouts = vec![host.demo.1.clone(), l.clone()];
        for (i, d) in layout::compose::compose(&mut layouts) {
            assert_eq!(i, 1, "the composition found fault with demo.toml: {d:?}");
            diags.push(d);
        }
    }
    (diags, checked.layout)
}

/// Checks the `toml` blocks of one Markdown file; returns the failures.
fn check_blocks(host: &Host, file: &str, text: &str, counts: &mut Counts) -> Vec<String> {
    let mut failures = Vec::new();
    let (blocks, _) = fences(text);
    for block in blocks
        .iter()
        .filter(|b| b.info.first().is_some_and(|l| l == "toml"))
    {
        let at = format!("{file}:{}", block.line);
        let kind = block.info.get(1).map(String::as_str).unwrap_or("");
        let allow_warnings = block.info.iter().any(|w| w == "warnings");
        let padded = block.padded();
        match kind {
            "layout" | "layout-overlay" => {
                let overlay = kind == "layout-overlay";
                let (diags, layout) = layout_diagnostics(host, file, &padded, overlay);
                let errors = diags.iter().any(|d| d.severity == Severity::Error);
                let warnings = diags.iter().any(|d| d.severity == Severity::Warning);
                if errors || (warnings && !allow_warnings) {
                    failures.push(format!(
                        "{at}: this `{kind}` block is not valid:\n{}",
                        layout::render_text(&diags, file, &padded, false)
                    ));
                } else if allow_warnings && !warnings {
                    failures.push(format!(
                        "{at}: this `{kind}` block says `warnings` but has none; remove the word"
                    ));
                }
                match (&layout, overlay) {
                    (Some(l), false) if l.extends.is_some() => failures.push(format!(
                        "{at}: this layout extends the global layout: mark it `toml layout-overlay`"
                    )),
                    (Some(l), true) if l.extends.is_none() => failures.push(format!(
                        "{at}: this overlay has no `extends = \"global\"`: mark it `toml layout`"
                    )),
                    _ => {}
                }
                if overlay {
                    counts.overlays += 1;
                } else {
                    counts.layouts += 1;
                }
            }
            "invalid-layout" => {
                let (diags, layout) = layout_diagnostics(host, file, &padded, false);
                let mut errors = diags.iter().any(|d| d.severity == Severity::Error);
                if let Some(l) = layout.filter(|l| l.extends.is_some()) {
                    let mut layouts = vec![host.demo.1.clone(), l];
                    errors |= layout::compose::compose(&mut layouts)
                        .iter()
                        .any(|(_, d)| d.severity == Severity::Error);
                }
                if !errors {
                    failures.push(format!(
                        "{at}: this `invalid-layout` block is valid: fix the example or its info string"
                    ));
                }
                counts.invalid += 1;
            }
            "host-config" => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("deskhost.toml");
                std::fs::write(&path, &padded).unwrap();
                if let Err(e) = HostConfig::from_file(&path) {
                    failures.push(format!(
                        "{at}: this `host-config` block is not valid host config (lines are the doc's): {e}"
                    ));
                }
                counts.host_configs += 1;
            }
            "plugin-manifest" => {
                if let Err(e) = Manifest::parse(&padded, &at) {
                    failures.push(format!(
                        "{at}: this `plugin-manifest` block is refused: {e}"
                    ));
                }
                counts.manifests += 1;
            }
            "fragment" => {
                if let Err(e) = padded.parse::<toml::Table>() {
                    failures.push(format!(
                        "{at}: this `fragment` block is not valid TOML (lines are the doc's): {e}"
                    ));
                }
                counts.fragments += 1;
            }
            other => failures.push(format!(
                "{at}: a `toml` block must say what it is (`toml layout`, `toml layout-overlay`, \
                 `toml host-config`, `toml plugin-manifest`, `toml invalid-layout` or \
                 `toml fragment`), not `{}`",
                if other.is_empty() { "nothing" } else { other }
            )),
        }
    }
    failures
}

// ---- the tests ------------------------------------------------------------

#[test]
fn every_toml_example_in_the_docs_is_what_it_says() {
    for guide in GUIDES {
        assert!(root().join(guide).is_file(), "{guide} is missing");
    }
    let host = host();
    let mut counts = Counts::default();
    let mut failures = Vec::new();
    for file in doc_files() {
        failures.extend(check_blocks(&host, &file, &read(&file), &mut counts));
    }
    assert!(
        failures.is_empty(),
        "{} example(s) in docs/ fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The extractor found the examples the guides are known to have.
    assert!(counts.layouts >= 5, "{counts:?}");
    assert!(counts.overlays >= 1, "{counts:?}");
    assert!(counts.host_configs >= 1, "{counts:?}");
    assert!(counts.manifests >= 1, "{counts:?}");
    eprintln!("checked: {counts:?}");
}

#[test]
fn every_relative_link_in_the_docs_and_the_readme_leads_somewhere() {
    let mut files = doc_files();
    files.push("README.md".into());
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let text = read(file);
        count += links(&text).len();
        failures.extend(broken_links(file, &text));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        count > 10,
        "only {count} links found: is the extractor broken?"
    );
}

/// The checker itself: a bad example is reported with its file and line.
#[test]
fn a_bad_example_is_named_by_file_and_line() {
    let host = host();
    let doc = "# Title\n\
               \n\
               ```toml layout\n\
               title = \"x\"\n\
               [[supervisor.home.widgets]]\n\
               id = \"hi\"\n\
               plugin = \"helo\"\n\
               column = 1\n\
               row = 1\n\
               ```\n\
               \n\
               ```toml\n\
               a = 1\n\
               ```\n\
               \n\
               ```toml host-config\n\
               listen = \"127.0.0.1:8080\"\n\
               [limits]\n\
               timeout_ms = 100\n\
               ```\n\
               \n\
               ```toml invalid-layout\n\
               title = \"fine\"\n\
               ```\n";
    let failures = check_blocks(&host, "docs/x.md", doc, &mut Counts::default());
    assert_eq!(failures.len(), 4, "{failures:#?}");
    assert!(failures[0].starts_with("docs/x.md:3:"), "{}", failures[0]);
    // The diagnostic points at the doc's line of `plugin = "helo"`.
    assert!(failures[0].contains("docs/x.md:7:"), "{}", failures[0]);
    assert!(
        failures[0].contains("did you mean `hello`?"),
        "{}",
        failures[0]
    );
    assert!(failures[1].starts_with("docs/x.md:12:"), "{}", failures[1]);
    assert!(
        failures[1].contains("must say what it is"),
        "{}",
        failures[1]
    );
    assert!(failures[2].starts_with("docs/x.md:16:"), "{}", failures[2]);
    assert!(failures[2].contains("line 19"), "{}", failures[2]);
    assert!(failures[3].starts_with("docs/x.md:22:"), "{}", failures[3]);
}

#[test]
fn links_and_anchors_are_read_as_github_reads_them() {
    let text = "# Hot reload: `deskhost check`\n\
                See [the guide](admin-guide.md#hot-reload) and [`x`](../README.md).\n\
                ```sh\n\
                [not](a-link.md)\n\
                ```\n\
                `[code](no.md)` [ref]: other.md\n\
                [ref]: ./ref.md\n\
                ## Hot reload\n";
    assert_eq!(
        links(text),
        [
            (2, "admin-guide.md#hot-reload".to_string()),
            (2, "../README.md".to_string()),
            (7, "./ref.md".to_string()),
        ]
    );
    assert_eq!(anchors(text), ["hot-reload-deskhost-check", "hot-reload"]);
}
