//! Property test of the layout checker: no input crashes it, and every
//! diagnostic points inside the file it reports on.

use std::path::Path;

use deskhost::layout::{self, ValidateOptions};
use deskhost::plugin::{
    PluginInfo, PluginKind, SettingKind, SettingSpec, SettingValue, StaticCatalog,
};
use proptest::prelude::*;

const DEMO: &str = include_str!("../../layouts/demo.toml");

fn catalog() -> StaticCatalog {
    let ids = [
        "welcome",
        "kpi-tiles",
        "team-performance",
        "agent-states",
        "queue-stats",
        "announcements",
    ];
    StaticCatalog(
        ids.iter()
            .map(|id| PluginInfo {
                kind: PluginKind::Widget,
                id: id.to_string(),
                version: semver::Version::new(0, 1, 0),
                name: id.to_string(),
                description: String::new(),
                settings: vec![SettingSpec {
                    name: "messages".into(),
                    kind: SettingKind::TextList,
                    doc: String::new(),
                    default: Some(SettingValue::TextList(vec![])),
                    required: false,
                    choices: vec![],
                }],
                default_width: 4,
                default_height: 4,
                refresh_seconds: 5,
                capabilities: vec![],
                api: semver::VersionReq::parse("^0.1").unwrap(),
            })
            .collect(),
    )
}

fn check_invariants(src: &str) {
    let c = layout::check(
        Path::new("fuzz.toml"),
        src,
        &catalog(),
        &ValidateOptions::default(),
    );
    for d in &c.diagnostics {
        assert!(
            d.span.start <= d.span.end && d.span.end <= src.len(),
            "span {:?} outside {} bytes: {d:?}",
            d.span,
            src.len()
        );
        assert!(
            src.is_char_boundary(d.span.start) && src.is_char_boundary(d.span.end),
            "span not on a char boundary: {d:?}"
        );
        let (line, col) = d.line_col(src);
        assert!(line >= 1 && col >= 1, "{d:?}");
        assert!(!d.message.is_empty());
    }
    assert_eq!(c.layout.is_some(), !c.has_errors());
    // Rendering never panics either.
    let _ = layout::render_text(&c.diagnostics, "fuzz.toml", src, false);
    let _ = layout::render_json(&c.diagnostics, "fuzz.toml", src);
}

/// A mutation of the demo layout: a cut, an insertion of TOML-significant
/// text, or a swapped pair of lines.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Insert(usize, String),
    SwapLines(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..DEMO.len(), 0usize..40).prop_map(|(at, n)| Edit::Cut(at, n)),
        (
            0..DEMO.len(),
            "[\\[\\]{}=\",.#a-z0-9 \\n'é\\u{202E}-]{0,12}"
        )
            .prop_map(|(at, s)| Edit::Insert(at, s)),
        (0usize..200, 0usize..200).prop_map(|(a, b)| Edit::SwapLines(a, b)),
    ]
}

fn apply(src: &str, e: &Edit) -> String {
    let floor = |mut i: usize| {
        i = i.min(src.len());
        while !src.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match e {
        Edit::Cut(at, n) => {
            let (a, b) = (floor(*at), floor(at + n));
            format!("{}{}", &src[..a], &src[b..])
        }
        Edit::Insert(at, s) => {
            let a = floor(*at);
            format!("{}{s}{}", &src[..a], &src[a..])
        }
        Edit::SwapLines(a, b) => {
            let mut lines: Vec<&str> = src.lines().collect();
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mutated_layouts_never_crash_the_checker(edits in proptest::collection::vec(edit(), 1..4)) {
        let mut src = DEMO.to_string();
        for e in &edits {
            src = apply(&src, e);
        }
        check_invariants(&src);
    }

    #[test]
    fn arbitrary_text_never_crashes_the_checker(src in "\\PC{0,200}") {
        check_invariants(&src);
    }
}

#[test]
fn the_demo_layout_passes_against_this_catalog() {
    let c = layout::check(
        Path::new("demo.toml"),
        DEMO,
        &catalog(),
        &ValidateOptions::default(),
    );
    // The catalog's plugins accept only `messages`, so settings errors are
    // expected; what matters is that the fuzz starts from a parsed file.
    assert!(
        c.diagnostics.iter().all(|d| d.message.contains("setting")),
        "{:#?}",
        c.diagnostics
    );
}
