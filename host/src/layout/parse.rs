//! Walks the spanned TOML tree of a layout file by hand, checking every
//! key and value against the layout format and the installed plugins, and
//! builds the typed [`Layout`]. Every problem becomes a [`Diagnostic`] with
//! the span of the offending key, value or table; checking carries on
//! after each so that one run reports them all.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use semver::VersionReq;
use toml::Spanned;
use toml::de::{DeArray, DeString, DeTable, DeValue};

use super::ValidateOptions;
use super::compose;
use super::diag::{Diagnostic, did_you_mean, line_col, list};
use super::duration;
use super::model::{
    Extends, GRID_COLUMNS, Layout, Limits, MAX_HEIGHT, MAX_ROW, Page, PluginConfig, Role, RoleDesk,
    Sections, Visibility, Widget,
};
use crate::plugin::{CAPABILITIES, Catalog, PluginInfo, SettingKind, SettingSpec, SettingValue};

type Val<'a> = Spanned<DeValue<'a>>;
type Key<'a> = Spanned<DeString<'a>>;

/// Keys allowed at the top level.
pub const ROOT_KEYS: &[&str] = &[
    "title",
    "logo",
    "teams",
    "extends",
    "required_collaboration",
    "limits",
    "plugins",
    "all",
    "supervisor",
    "supervisor-agent",
    "agent",
];
/// Keys allowed in `[limits]` and a widget's `limits`.
pub const LIMITS_KEYS: &[&str] = &["timeout", "memory_mib"];
/// Keys allowed in `[plugins.ID]`.
pub const PLUGIN_KEYS: &[&str] = &["grants"];
/// Keys allowed in a role section and in `[all]`.
pub const ROLE_KEYS: &[&str] = &["home", "pages", "remove"];
/// Keys allowed in a role's `home` table.
pub const HOME_KEYS: &[&str] = &["title", "widgets"];
/// Keys allowed in an entry of a role's `pages`.
pub const PAGE_KEYS: &[&str] = &["id", "title", "widgets"];
/// Keys allowed in a widget.
pub const WIDGET_KEYS: &[&str] = &[
    "id",
    "plugin",
    "version",
    "title",
    "column",
    "row",
    "width",
    "height",
    "refresh_interval",
    "settings",
    "visible",
    "limits",
];
/// Keys allowed in a widget's `visible` table.
pub const VISIBLE_KEYS: &[&str] = &["roles", "teams"];

/// A table being checked, with its span and its key path.
struct Tbl<'a> {
    t: &'a DeTable<'a>,
    span: Range<usize>,
    path: String,
}

impl<'a> Tbl<'a> {
    fn entry(&self, name: &str) -> Option<(&'a Key<'a>, &'a Val<'a>)> {
        self.t.iter().find(|(k, _)| k.get_ref().as_ref() == name)
    }
    fn get(&self, name: &str) -> Option<&'a Val<'a>> {
        self.entry(name).map(|(_, v)| v)
    }
    fn child(&self, name: &str) -> String {
        join(&self.path, name)
    }
}

/// A widget's place on its page, kept to detect overlaps.
struct Placed {
    id: String,
    line: usize,
    column: u8,
    row: u16,
    width: u8,
    height: u16,
}

impl Placed {
    fn cells(&self) -> compose::Cells {
        (self.column, self.width, self.row, self.height)
    }
    fn overlaps(&self, o: &Placed) -> bool {
        compose::cells_overlap(self.cells(), o.cells())
    }
    fn describe(&self) -> String {
        compose::describe_cells(self.cells())
    }
}

/// Ids already used within one role.
#[derive(Default)]
struct RoleIds {
    /// The role whose section this is.
    role: Option<Role>,
    widgets: HashMap<String, usize>,
    pages: HashMap<String, usize>,
}

/// The checker: the source, what it is checked against, and the
/// diagnostics found so far.
pub(super) struct Checker<'s> {
    source: &'s str,
    catalog: &'s dyn Catalog,
    opts: &'s ValidateOptions,
    /// Everything found so far, in discovery order.
    pub(super) diags: Vec<Diagnostic>,
}

/// A key as it appears in a key path: bare when possible, else quoted.
fn seg(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        seg(key)
    } else {
        format!("{path}.{}", seg(key))
    }
}

/// "a string", "an integer", ... for a TOML type name.
fn a(type_str: &str) -> String {
    match type_str.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {type_str}"),
        _ => format!("a {type_str}"),
    }
}

/// Widget and page ids: `[a-z0-9][a-z0-9-]*`.
fn valid_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn int_value(v: &DeValue<'_>) -> Option<i64> {
    match v {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
        _ => None,
    }
}

impl<'s> Checker<'s> {
    /// A checker with no diagnostics yet.
    pub(super) fn new(
        source: &'s str,
        catalog: &'s dyn Catalog,
        opts: &'s ValidateOptions,
    ) -> Self {
        Self {
            source,
            catalog,
            opts,
            diags: Vec::new(),
        }
    }

    fn line(&self, offset: usize) -> usize {
        line_col(self.source, offset).0
    }

    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    // ---- generic helpers -------------------------------------------------

    /// Reports every key of `tbl` not in `known`.
    fn keys(&mut self, tbl: &Tbl<'_>, known: &[&str]) {
        for (k, _) in tbl.t.iter() {
            let name = k.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let msg = if tbl.path.is_empty() {
                format!("unknown top-level key `{name}`")
            } else {
                format!("unknown key `{name}` in `{}`", tbl.path)
            };
            let help = did_you_mean(name, known.iter().copied())
                .unwrap_or_else(|| format!("expected one of {}", list(known)));
            self.push(
                Diagnostic::error(msg, tbl.child(name), k.span(), "unknown key").with_help(help),
            );
        }
    }

    /// The value of required key `name`, reporting it if missing.
    fn required<'a>(&mut self, tbl: &Tbl<'a>, name: &str) -> Option<&'a Val<'a>> {
        let v = tbl.get(name);
        if v.is_none() {
            let msg = if tbl.path.is_empty() {
                format!("missing required top-level key `{name}`")
            } else {
                format!("missing required key `{name}` in `{}`", tbl.path)
            };
            self.push(Diagnostic::error(
                msg,
                tbl.child(name),
                tbl.span.clone(),
                format!("`{name}` is missing here"),
            ));
        }
        v
    }

    fn type_err(&mut self, v: &Val<'_>, path: &str, expected: &str) {
        let found = a(v.get_ref().type_str());
        self.push(Diagnostic::error(
            format!("expected {expected}, found {found}"),
            path,
            v.span(),
            format!("expected {expected}"),
        ));
    }

    fn str<'a>(&mut self, v: &'a Val<'a>, path: &str) -> Option<&'a str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => {
                self.type_err(v, path, "a string");
                None
            }
        }
    }

    fn table<'a>(&mut self, v: &'a Val<'a>, path: &str) -> Option<Tbl<'a>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(Tbl {
                t,
                span: v.span(),
                path: path.to_string(),
            }),
            _ => {
                self.type_err(v, path, "a table");
                None
            }
        }
    }

    fn array<'a>(&mut self, v: &'a Val<'a>, path: &str, expected: &str) -> Option<&'a DeArray<'a>> {
        match v.get_ref() {
            DeValue::Array(arr) => Some(arr),
            _ => {
                self.type_err(v, path, expected);
                None
            }
        }
    }

    /// An integer in `lo..=hi`.
    fn int_in(&mut self, v: &Val<'_>, path: &str, name: &str, lo: i64, hi: i64) -> Option<i64> {
        let DeValue::Integer(_) = v.get_ref() else {
            self.type_err(v, path, "an integer");
            return None;
        };
        match int_value(v.get_ref()) {
            Some(n) if (lo..=hi).contains(&n) => Some(n),
            n => {
                let shown =
                    n.map_or_else(|| "a number out of range".to_string(), |n| n.to_string());
                self.push(Diagnostic::error(
                    format!("`{name}` must be between {lo} and {hi}, found {shown}"),
                    path,
                    v.span(),
                    format!("expected {lo}..={hi}"),
                ));
                None
            }
        }
    }

    /// A duration string.
    fn duration(&mut self, v: &Val<'_>, path: &str) -> Option<Duration> {
        let DeValue::String(s) = v.get_ref() else {
            self.type_err(v, path, "a duration string");
            if let Some(d) = self.diags.last_mut() {
                d.help = Some("write durations as strings, e.g. \"250ms\" or \"30s\"".into());
            }
            return None;
        };
        match duration::parse(s) {
            Ok(d) => Some(d),
            Err(e) => {
                self.push(
                    Diagnostic::error(
                        format!("invalid duration `{s}`: {e}"),
                        path,
                        v.span(),
                        "not a duration",
                    )
                    .with_help("write durations like \"250ms\", \"2s\" or \"1m 30s\""),
                );
                None
            }
        }
    }

    /// An array of strings, each with its span.
    fn strings<'a>(&mut self, v: &'a Val<'a>, path: &str) -> Option<Vec<(&'a str, Range<usize>)>> {
        let arr = self.array(v, path, "an array of strings")?;
        let mut out = Vec::new();
        let mut ok = true;
        for (i, item) in arr.iter().enumerate() {
            match item.get_ref() {
                DeValue::String(s) => out.push((s.as_ref(), item.span())),
                _ => {
                    self.type_err(item, &format!("{path}[{i}]"), "a string");
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    // ---- the document ----------------------------------------------------

    /// Checks the whole document; `Some` if it could be built (callers must
    /// still discard it when any error was reported).
    pub(super) fn layout(
        &mut self,
        path: &Path,
        root: &DeTable<'_>,
        span: Range<usize>,
    ) -> Option<Layout> {
        let root = Tbl {
            t: root,
            span,
            path: String::new(),
        };
        self.keys(&root, ROOT_KEYS);

        let extends = root.get("extends").and_then(|v| {
            let name = self.str(v, "extends")?;
            if name != "global" {
                self.push(
                    Diagnostic::error(
                        format!("unknown layout `{name}` in `extends`"),
                        "extends",
                        v.span(),
                        "not a layout this can extend",
                    )
                    .with_help(
                        "write `extends = \"global\"` to build on the global layout, \
                         or leave `extends` out to replace it",
                    ),
                );
                return None;
            }
            Some(Extends {
                name: name.to_string(),
                span: v.span(),
            })
        });
        // An overlay may keep the global layout's title.
        let title = if extends.is_some() && root.get("title").is_none() {
            Some(String::new())
        } else {
            self.required(&root, "title")
                .and_then(|v| self.str(v, "title"))
                .map(str::to_string)
        };
        let logo = root
            .get("logo")
            .and_then(|v| self.str(v, "logo"))
            .map(str::to_string);
        let teams: Vec<String> = root
            .get("teams")
            .and_then(|v| self.strings(v, "teams"))
            .map(|l| {
                for (i, (t, span)) in l.iter().enumerate() {
                    self.known_team(t, &format!("teams[{i}]"), span.clone());
                }
                l.into_iter().map(|(t, _)| t.to_string()).collect()
            })
            .unwrap_or_default();
        if !teams.is_empty()
            && let Some((k, _)) = root.entry(Role::Supervisor.as_str())
        {
            self.push(
                Diagnostic::warning(
                    "no one sees this section: supervisors sign in without a team, so they always get the global layout",
                    "supervisor",
                    k.span(),
                    "section of a team layout",
                )
                .with_help(
                    "put supervisor tiles in the global layout; a team layout serves the \
                     `supervisor-agent` and `agent` users of its teams",
                ),
            );
        }
        if let (Some(e), true) = (&extends, teams.is_empty()) {
            self.push(
                Diagnostic::error(
                    "only a team layout can extend the global layout",
                    "extends",
                    e.span.clone(),
                    "this layout names no team",
                )
                .with_help("add `teams = [\"...\"]` naming the teams this overlay is for"),
            );
        }
        let required_collaboration: Vec<String> = root
            .get("required_collaboration")
            .and_then(|v| self.strings(v, "required_collaboration"))
            .map(|l| l.into_iter().map(|(t, _)| t.to_string()).collect())
            .unwrap_or_default();
        let limits = root
            .get("limits")
            .and_then(|v| self.table(v, "limits"))
            .map(|t| self.limits(&t))
            .unwrap_or_default();
        let plugins = root
            .get("plugins")
            .and_then(|v| self.table(v, "plugins"))
            .map(|t| self.plugins(&t))
            .unwrap_or_default();

        let mut sections = Sections::default();
        let mut sections_ok = true;
        if let Some((_, v)) = root.entry("all") {
            match self.section("all", None, v, &limits) {
                Some(desk) => sections.all = Some(desk),
                None => sections_ok = false,
            }
        }
        for role in Role::ALL {
            if let Some((_, v)) = root.entry(role.as_str()) {
                match self.section(role.as_str(), Some(role), v, &limits) {
                    Some(desk) => {
                        sections.roles.insert(role, desk);
                    }
                    None => sections_ok = false,
                }
            }
        }
        if !sections_ok {
            return None;
        }

        // Each role's desk: `[all]`, then the role's own section over it.
        // An overlay's desks are composed with the global layout instead
        // (see `compose`), which reports what its layers get wrong.
        let mut roles = BTreeMap::new();
        for role in Role::ALL {
            if extends.is_some() {
                break;
            }
            let layers: Vec<&RoleDesk> = sections
                .all
                .iter()
                .chain(sections.roles.get(&role))
                .collect();
            if layers.is_empty() {
                continue;
            }
            let (desk, diags) = compose::merge(None, &layers);
            self.diags.extend(diags);
            if desk.all_pages().all(|p| p.widgets.is_empty()) {
                let (path, span) = match root.entry(role.as_str()) {
                    Some((k, _)) => (seg(role.as_str()), k.span()),
                    None => (
                        "all".to_string(),
                        root.entry("all").map_or(0..0, |(k, _)| k.span()),
                    ),
                };
                self.push(Diagnostic::warning(
                    format!("role `{role}` has no widgets"),
                    path,
                    span,
                    "no widgets in this role",
                ));
            }
            roles.insert(role, desk);
        }

        Some(Layout {
            path: path.to_path_buf(),
            title: title?,
            logo,
            teams,
            extends,
            required_collaboration,
            limits,
            plugins,
            roles,
            sections,
        })
    }

    /// Warns when `team` is not a team of the contact center (when the
    /// checker knows its teams).
    fn known_team(&mut self, team: &str, path: &str, span: Range<usize>) {
        let Some(known) = &self.opts.known_teams else {
            return;
        };
        if known.iter().any(|t| t == team) {
            return;
        }
        let help = did_you_mean(team, known.iter().map(String::as_str))
            .unwrap_or_else(|| format!("the contact center's teams are {}", list(known)));
        self.push(
            Diagnostic::warning(
                format!("no team `{team}` in the contact center"),
                path,
                span,
                "unknown team",
            )
            .with_help(help),
        );
    }

    /// `[limits]` or a widget's `limits`.
    fn limits(&mut self, tbl: &Tbl<'_>) -> Limits {
        self.keys(tbl, LIMITS_KEYS);
        let mut limits = Limits::default();
        if let Some(v) = tbl.get("timeout") {
            let path = tbl.child("timeout");
            if let Some(d) = self.duration(v, &path) {
                let max = self.opts.max_timeout;
                if d.is_zero() {
                    self.push(Diagnostic::error(
                        "`timeout` must be greater than zero",
                        path,
                        v.span(),
                        "zero timeout",
                    ));
                } else if d > max {
                    self.push(Diagnostic::error(
                        format!(
                            "`timeout` of {} exceeds the maximum of {}",
                            duration::format(d),
                            duration::format(max)
                        ),
                        path,
                        v.span(),
                        format!("at most {}", duration::format(max)),
                    ));
                } else {
                    limits.timeout = Some(d);
                }
            }
        }
        if let Some(v) = tbl.get("memory_mib") {
            let max = i64::try_from(self.opts.max_memory_mib).unwrap_or(i64::MAX);
            if let Some(n) = self.int_in(v, &tbl.child("memory_mib"), "memory_mib", 1, max) {
                limits.memory_mib = Some(n as u64);
            }
        }
        limits
    }

    /// `[plugins]`: admin configuration per plugin id.
    fn plugins(&mut self, tbl: &Tbl<'_>) -> BTreeMap<String, PluginConfig> {
        let mut out = BTreeMap::new();
        let known_caps: Vec<&str> = CAPABILITIES.iter().map(|(n, _)| *n).collect();
        for (k, v) in tbl.t.iter() {
            let id = k.get_ref().as_ref();
            let path = tbl.child(id);
            if self.catalog.versions(id).is_empty() {
                let ids = self.catalog.ids();
                self.push(
                    Diagnostic::warning(
                        format!("`[plugins.{id}]` configures `{id}`, which is not installed"),
                        path.clone(),
                        k.span(),
                        "not an installed plugin",
                    )
                    .with_help_opt(did_you_mean(id, ids.iter().copied())),
                );
            }
            let Some(t) = self.table(v, &path) else {
                continue;
            };
            self.keys(&t, PLUGIN_KEYS);
            let mut grants = Vec::new();
            if let Some(gv) = t.get("grants") {
                let gpath = t.child("grants");
                for (i, (g, span)) in self
                    .strings(gv, &gpath)
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                {
                    if known_caps.contains(&g) {
                        grants.push(g.to_string());
                    } else {
                        let known = CAPABILITIES
                            .iter()
                            .map(|(n, doc)| format!("`{n}` ({doc})"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        let mut d = Diagnostic::error(
                            format!("unknown capability `{g}`"),
                            format!("{gpath}[{i}]"),
                            span,
                            "not a capability",
                        )
                        .with_note(format!("known capabilities: {known}"));
                        d.help = did_you_mean(g, known_caps.iter().copied());
                        self.push(d);
                    }
                }
            }
            out.insert(id.to_string(), PluginConfig { grants });
        }
        out
    }

    /// One role section (`role` is `None` for `[all]`).
    fn section(
        &mut self,
        name: &str,
        role: Option<Role>,
        v: &Val<'_>,
        limits: &Limits,
    ) -> Option<RoleDesk> {
        let path = seg(name);
        let tbl = self.table(v, &path)?;
        self.keys(&tbl, ROLE_KEYS);
        let mut ids = RoleIds {
            role,
            ..RoleIds::default()
        };
        let mut ok = true;

        let mut remove = Vec::new();
        if let Some(rv) = tbl.get("remove") {
            let rpath = tbl.child("remove");
            match self.strings(rv, &rpath) {
                Some(items) => {
                    for (i, (id, span)) in items.into_iter().enumerate() {
                        if valid_id(id) {
                            remove.push((id.to_string(), span));
                        } else {
                            self.push(bad_id("widget", id, &format!("{rpath}[{i}]"), span));
                            ok = false;
                        }
                    }
                }
                None => ok = false,
            }
        }

        let home = match tbl.get("home") {
            Some(hv) => self.page(hv, &tbl.child("home"), true, &mut ids, limits),
            None => Some(Page {
                id: "home".into(),
                title: "Home".into(),
                widgets: Vec::new(),
                title_given: false,
            }),
        };
        ok &= home.is_some();

        let mut pages = Vec::new();
        if let Some(pv) = tbl.get("pages") {
            let ppath = tbl.child("pages");
            if let Some(arr) = self.array(pv, &ppath, "an array of tables") {
                for (i, item) in arr.iter().enumerate() {
                    match self.page(item, &format!("{ppath}[{i}]"), false, &mut ids, limits) {
                        Some(p) => pages.push(p),
                        None => ok = false,
                    }
                }
            } else if let Some(d) = self.diags.last_mut() {
                d.help = Some(format!("write each page as `[[{ppath}]]`"));
            }
        }

        ok.then(|| RoleDesk {
            home: home.expect("checked above"),
            pages,
            remove,
        })
    }

    /// The home page or one entry of `pages`.
    fn page(
        &mut self,
        v: &Val<'_>,
        path: &str,
        is_home: bool,
        ids: &mut RoleIds,
        limits: &Limits,
    ) -> Option<Page> {
        let tbl = self.table(v, path)?;
        self.keys(&tbl, if is_home { HOME_KEYS } else { PAGE_KEYS });
        let mut ok = true;

        let id = if is_home {
            Some("home".to_string())
        } else {
            let id = self
                .required(&tbl, "id")
                .and_then(|iv| self.str(iv, &tbl.child("id")).map(|s| (s, iv.span())));
            match id {
                Some((s, span)) => self.page_id(s, span, &tbl.child("id"), ids),
                None => None,
            }
        };

        let title_given = tbl.get("title").is_some();
        let title = if is_home {
            match tbl.get("title") {
                Some(tv) => self.str(tv, &tbl.child("title")).map(str::to_string),
                None => Some("Home".to_string()),
            }
        } else {
            self.required(&tbl, "title")
                .and_then(|tv| self.str(tv, &tbl.child("title")))
                .map(str::to_string)
        };

        let mut widgets = Vec::new();
        if let Some(wv) = tbl.get("widgets") {
            let wpath = tbl.child("widgets");
            if let Some(arr) = self.array(wv, &wpath, "an array of tables") {
                let mut placed = Vec::new();
                for (i, item) in arr.iter().enumerate() {
                    let ipath = format!("{wpath}[{i}]");
                    match self.widget(item, &ipath, ids, &mut placed, limits) {
                        Some(w) => widgets.push(w),
                        None => ok = false,
                    }
                }
            } else if let Some(d) = self.diags.last_mut() {
                d.help = Some(format!("write each widget as `[[{wpath}]]`"));
            }
        }

        if !ok {
            return None;
        }
        Some(Page {
            id: id?,
            title: title?,
            widgets,
            title_given,
        })
    }

    fn page_id(
        &mut self,
        s: &str,
        span: Range<usize>,
        path: &str,
        ids: &mut RoleIds,
    ) -> Option<String> {
        if !valid_id(s) {
            self.push(bad_id("page", s, path, span));
            return None;
        }
        if s == "home" {
            self.push(
                Diagnostic::error(
                    "page id `home` is reserved for the home page",
                    path,
                    span,
                    "reserved id",
                )
                .with_help("put home-page widgets under `home`, or pick another page id"),
            );
            return None;
        }
        let line = self.line(span.start);
        if let Some(first) = ids.pages.get(s) {
            self.push(
                Diagnostic::error(
                    format!("duplicate page id `{s}`"),
                    path,
                    span,
                    "duplicate id",
                )
                .with_note(format!("page `{s}` is first defined at line {first}")),
            );
            return None;
        }
        ids.pages.insert(s.to_string(), line);
        Some(s.to_string())
    }

    fn widget_id(
        &mut self,
        s: &str,
        span: Range<usize>,
        path: &str,
        ids: &mut RoleIds,
    ) -> Option<String> {
        if !valid_id(s) {
            self.push(bad_id("widget", s, path, span));
            return None;
        }
        let line = self.line(span.start);
        if let Some(first) = ids.widgets.get(s) {
            self.push(
                Diagnostic::error(
                    format!("duplicate widget id `{s}`"),
                    path,
                    span,
                    "duplicate id",
                )
                .with_note(format!("widget `{s}` is first defined at line {first}"))
                .with_help("widget ids must be unique within a role, across all its pages"),
            );
            return None;
        }
        ids.widgets.insert(s.to_string(), line);
        Some(s.to_string())
    }

    /// The plugin a widget names, resolved against the catalog.
    fn resolve_plugin(
        &mut self,
        tbl: &Tbl<'_>,
        plugin: Option<(&str, Range<usize>)>,
    ) -> (Option<VersionReq>, Option<&'s PluginInfo>) {
        let req = match tbl.get("version") {
            None => Some(VersionReq::STAR),
            Some(v) => {
                let path = tbl.child("version");
                self.str(v, &path).and_then(|s| match VersionReq::parse(s) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                format!("invalid version requirement `{s}`: {e}"),
                                path,
                                v.span(),
                                "not a semver requirement",
                            )
                            .with_help("write a requirement like \"^0.1\", \"~1.2.0\" or \"*\""),
                        );
                        None
                    }
                })
            }
        };
        let Some((id, span)) = plugin else {
            return (req, None);
        };
        let catalog = self.catalog;
        let versions = catalog.versions(id);
        if versions.is_empty() {
            let ids = catalog.ids();
            let help = did_you_mean(id, ids.iter().copied()).unwrap_or_else(|| {
                if ids.is_empty() {
                    "no plugins are installed".to_string()
                } else {
                    format!("installed plugins: {}", list(&ids))
                }
            });
            self.push(
                Diagnostic::error(
                    format!("unknown plugin `{id}`"),
                    tbl.child("plugin"),
                    span,
                    "not an installed plugin",
                )
                .with_help(help),
            );
            return (req, None);
        }
        let Some(r) = &req else {
            return (req, None);
        };
        match catalog.resolve(id, r) {
            Some(info) if info.kind != crate::plugin::PluginKind::Widget => {
                self.push(
                    Diagnostic::error(
                        format!("plugin `{id}` is {}, not a widget", info.kind.article()),
                        tbl.child("plugin"),
                        span,
                        "not a widget",
                    )
                    .with_help(
                        "sign-in plugins are chosen in the host config, under [auth.identity] \
                         and [auth.station]",
                    ),
                );
                (req, None)
            }
            Some(info) => (req, Some(info)),
            None => {
                let mut installed: Vec<_> = versions.iter().map(|p| &p.version).collect();
                installed.sort();
                let installed = installed
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                let (path, vspan) = match tbl.entry("version") {
                    Some((_, v)) => (tbl.child("version"), v.span()),
                    None => (tbl.child("plugin"), span),
                };
                self.push(Diagnostic::error(
                    format!(
                        "no installed version of `{id}` matches `{r}` (installed: {installed})"
                    ),
                    path,
                    vspan,
                    "no matching version",
                ));
                (req, None)
            }
        }
    }

    /// One widget.
    fn widget(
        &mut self,
        v: &Val<'_>,
        path: &str,
        ids: &mut RoleIds,
        placed: &mut Vec<Placed>,
        layout_limits: &Limits,
    ) -> Option<Widget> {
        let tbl = self.table(v, path)?;
        self.keys(&tbl, WIDGET_KEYS);

        let id = self
            .required(&tbl, "id")
            .and_then(|iv| self.str(iv, &tbl.child("id")).map(|s| (s, iv.span())))
            .and_then(|(s, span)| self.widget_id(s, span, &tbl.child("id"), ids));

        let plugin = self
            .required(&tbl, "plugin")
            .and_then(|pv| self.str(pv, &tbl.child("plugin")).map(|s| (s, pv.span())));
        let (version_req, info) = self.resolve_plugin(&tbl, plugin.clone());

        let title = match tbl.get("title") {
            Some(tv) => self.str(tv, &tbl.child("title")).map(str::to_string),
            None => info.map(|i| i.name.clone()),
        };

        let cols = i64::from(GRID_COLUMNS);
        let column_v = self.required(&tbl, "column");
        let column =
            column_v.and_then(|cv| self.int_in(cv, &tbl.child("column"), "column", 1, cols));
        let row_v = self.required(&tbl, "row");
        let row =
            row_v.and_then(|rv| self.int_in(rv, &tbl.child("row"), "row", 1, i64::from(MAX_ROW)));
        let width_v = tbl.get("width");
        let width = match width_v {
            Some(wv) => self.int_in(wv, &tbl.child("width"), "width", 1, cols),
            None => info.map(|i| i64::from(i.default_width)),
        };
        let height_v = tbl.get("height");
        let height = match height_v {
            Some(hv) => self.int_in(hv, &tbl.child("height"), "height", 1, i64::from(MAX_HEIGHT)),
            None => info.map(|i| i64::from(i.default_height)),
        };

        let mut geometry_ok = true;
        if let (Some(c), Some(w), Some(cv)) = (column, width, column_v)
            && c + w - 1 > cols
        {
            geometry_ok = false;
            let (kpath, span, whence) = match width_v {
                Some(wv) => (tbl.child("width"), wv.span(), ""),
                None => (
                    tbl.child("column"),
                    cv.span(),
                    " (the plugin's default width)",
                ),
            };
            self.push(
                Diagnostic::error(
                    format!(
                        "tile runs past column {cols}: column {c} + width {w}{whence} ends at column {}",
                        c + w - 1
                    ),
                    kpath,
                    span,
                    "off the grid",
                )
                .with_help(format!("use a column of at most {} or a smaller width", cols - w + 1)),
            );
        }
        let max_row = i64::from(MAX_ROW);
        if let (Some(r), Some(h), Some(rv)) = (row, height, row_v)
            && r + h - 1 > max_row
        {
            geometry_ok = false;
            let (kpath, span) = match height_v {
                Some(hv) => (tbl.child("height"), hv.span()),
                None => (tbl.child("row"), rv.span()),
            };
            self.push(Diagnostic::error(
                format!(
                    "tile runs past row {max_row}: row {r} + height {h} ends at row {}",
                    r + h - 1
                ),
                kpath,
                span,
                "off the grid",
            ));
        }

        let refresh = match tbl.get("refresh_interval") {
            Some(rv) => {
                let rpath = tbl.child("refresh_interval");
                match self.duration(rv, &rpath) {
                    Some(d) if d.is_zero() => Some(None),
                    Some(d) => {
                        if d < Duration::from_secs(1) {
                            self.push(
                                Diagnostic::warning(
                                    format!(
                                        "refresh interval of {} is under one second",
                                        duration::format(d)
                                    ),
                                    rpath,
                                    rv.span(),
                                    "very frequent refresh",
                                )
                                .with_help("use at least \"1s\", or \"0s\" to never refresh"),
                            );
                        }
                        Some(Some(d))
                    }
                    None => None,
                }
            }
            None => info.map(|i| {
                (i.refresh_seconds > 0).then(|| Duration::from_secs(u64::from(i.refresh_seconds)))
            }),
        };

        let settings = self.settings(&tbl, info);

        let visible = match tbl.get("visible") {
            Some(vv) => self
                .table(vv, &tbl.child("visible"))
                .and_then(|t| self.visible(&t)),
            None => Some(Visibility::default()),
        };
        if let (
            Some(Visibility {
                roles: Some(roles), ..
            }),
            Some(role),
        ) = (&visible, ids.role)
            && !roles.contains(&role)
        {
            let span = tbl.get("visible").map_or(tbl.span.clone(), |v| v.span());
            self.push(
                Diagnostic::warning(
                    format!(
                        "no one will see this widget: it is in the `{role}` section but `visible.roles` leaves out `{role}`"
                    ),
                    tbl.child("visible"),
                    span,
                    "excludes its own role",
                )
                .with_help(format!("add \"{role}\" to `roles`, or move the widget to the section of a role it lists")),
            );
        }

        let limits = match tbl.get("limits") {
            Some(lv) => self
                .table(lv, &tbl.child("limits"))
                .map(|t| self.limits(&t).or(layout_limits)),
            None => Some(layout_limits.clone()),
        };

        // Overlaps with earlier tiles on the same page.
        if let (true, Some(c), Some(r), Some(w), Some(h)) =
            (geometry_ok, column, row, width, height)
            && (1..=cols).contains(&w)
            && (1..=i64::from(MAX_HEIGHT)).contains(&h)
        {
            let me = Placed {
                id: id.clone().unwrap_or_else(|| "?".into()),
                line: self.line(tbl.span.start),
                column: c as u8,
                row: r as u16,
                width: w as u8,
                height: h as u16,
            };
            if let Some(other) = placed.iter().find(|p| p.overlaps(&me)) {
                self.push(
                    Diagnostic::error(
                        format!("widget `{}` overlaps widget `{}`", me.id, other.id),
                        path,
                        tbl.span.clone(),
                        format!("this tile covers {}", me.describe()),
                    )
                    .with_note(format!(
                        "`{}` (line {}) covers {}",
                        other.id,
                        other.line,
                        other.describe()
                    )),
                );
            }
            placed.push(me);
        }

        let info = info?;
        Some(Widget {
            id: id?,
            plugin: info.id.clone(),
            version_req: version_req?,
            version: info.version.clone(),
            title: title?,
            column: u8::try_from(column?).ok()?,
            row: u16::try_from(row?).ok()?,
            width: u8::try_from(width?).ok()?,
            height: u16::try_from(height?).ok()?,
            refresh: refresh?,
            settings: settings?,
            visible: visible?,
            limits: limits?,
            line: self.line(tbl.span.start),
            span: tbl.span.clone(),
        })
    }

    /// A widget's `visible` table.
    fn visible(&mut self, tbl: &Tbl<'_>) -> Option<Visibility> {
        self.keys(tbl, VISIBLE_KEYS);
        let mut ok = true;
        let mut vis = Visibility::default();
        if let Some(rv) = tbl.get("roles") {
            let rpath = tbl.child("roles");
            match self.strings(rv, &rpath) {
                Some(items) => {
                    let mut roles = Vec::new();
                    for (i, (s, span)) in items.into_iter().enumerate() {
                        match s.parse::<Role>() {
                            Ok(r) => roles.push(r),
                            Err(_) => {
                                ok = false;
                                let names = Role::ALL.map(Role::as_str);
                                self.push(
                                    Diagnostic::error(
                                        format!("unknown role `{s}`"),
                                        format!("{rpath}[{i}]"),
                                        span,
                                        "not a role",
                                    )
                                    .with_help(
                                        did_you_mean(s, names).unwrap_or_else(|| {
                                            format!("roles are {}", list(names))
                                        }),
                                    ),
                                );
                            }
                        }
                    }
                    vis.roles = Some(roles);
                }
                None => ok = false,
            }
        }
        if let Some(tv) = tbl.get("teams") {
            match self.strings(tv, &tbl.child("teams")) {
                Some(items) => {
                    let tpath = tbl.child("teams");
                    for (i, (t, span)) in items.iter().enumerate() {
                        self.known_team(t, &format!("{tpath}[{i}]"), span.clone());
                    }
                    vis.teams = Some(items.into_iter().map(|(s, _)| s.to_string()).collect())
                }
                None => ok = false,
            }
        }
        ok.then_some(vis)
    }

    /// A widget's `settings`, checked against the plugin's specs, with
    /// defaults filled in spec order. `None` if any setting is wrong or the
    /// plugin is unknown.
    fn settings(
        &mut self,
        wtbl: &Tbl<'_>,
        info: Option<&PluginInfo>,
    ) -> Option<Vec<(String, SettingValue)>> {
        let spath = wtbl.child("settings");
        let tbl = match wtbl.get("settings") {
            Some(v) => Some(self.table(v, &spath)?),
            None => None,
        };
        let info = info?;
        let mut ok = true;
        let mut given: HashMap<&str, SettingValue> = HashMap::new();
        // Written, even if wrongly: not reported as missing.
        let mut written: Vec<&str> = Vec::new();
        if let Some(tbl) = &tbl {
            for (k, v) in tbl.t.iter() {
                let name = k.get_ref().as_ref();
                let path = tbl.child(name);
                let Some(spec) = info.settings.iter().find(|s| s.name == name) else {
                    ok = false;
                    let help = did_you_mean(name, info.settings.iter().map(|s| s.name.as_str()))
                        .unwrap_or_else(|| {
                            if info.settings.is_empty() {
                                format!("`{}` takes no settings", info.id)
                            } else {
                                format!(
                                    "`{}` accepts {}",
                                    info.id,
                                    list(info.settings.iter().map(|s| &s.name))
                                )
                            }
                        });
                    self.push(
                        Diagnostic::error(
                            format!("unknown setting `{name}` for plugin `{}`", info.id),
                            path,
                            k.span(),
                            "unknown setting",
                        )
                        .with_help(help),
                    );
                    continue;
                };
                written.push(name);
                match self.setting_value(spec, v, &path) {
                    Some(val) => {
                        given.insert(name, val);
                    }
                    None => ok = false,
                }
            }
        }

        let mut out = Vec::new();
        for spec in &info.settings {
            if let Some(v) = given.remove(spec.name.as_str()) {
                out.push((spec.name.clone(), v));
            } else if written.contains(&spec.name.as_str()) {
                // Already reported as invalid.
            } else if spec.required {
                ok = false;
                let span = tbl.as_ref().map_or(wtbl.span.clone(), |t| t.span.clone());
                let example = match (spec.kind, spec.choices.first()) {
                    (SettingKind::Text, Some(c)) => format!("{c:?}"),
                    (SettingKind::Text, None) => "\"...\"".into(),
                    (SettingKind::Integer, _) => "1".into(),
                    (SettingKind::Number, _) => "1.0".into(),
                    (SettingKind::Boolean, _) => "true".into(),
                    (SettingKind::TextList, _) => "[\"...\"]".into(),
                };
                let mut d = Diagnostic::error(
                    format!(
                        "missing required setting `{}` for plugin `{}`",
                        spec.name, info.id
                    ),
                    join(&spath, &spec.name),
                    span,
                    format!("`{}` is required", spec.name),
                )
                .with_help(format!(
                    "add `{} = {example}` to the widget's `settings` ({})",
                    spec.name, spec.kind
                ));
                if !spec.choices.is_empty() {
                    d = d.with_note(format!("allowed values: {}", list(&spec.choices)));
                }
                if !spec.doc.is_empty() {
                    d = d.with_note(format!("`{}`: {}", spec.name, spec.doc));
                }
                self.push(d);
            } else if let Some(def) = &spec.default {
                out.push((spec.name.clone(), def.clone()));
            }
        }
        ok.then_some(out)
    }

    /// One setting value, converted to the kind its spec wants.
    fn setting_value(
        &mut self,
        spec: &SettingSpec,
        v: &Val<'_>,
        path: &str,
    ) -> Option<SettingValue> {
        let mismatch = |this: &mut Self| {
            this.push(Diagnostic::error(
                format!(
                    "setting `{}` expects {}, found {}",
                    spec.name,
                    spec.kind,
                    a(v.get_ref().type_str())
                ),
                path,
                v.span(),
                format!("expected {}", spec.kind),
            ));
            None
        };
        let value = match (spec.kind, v.get_ref()) {
            (SettingKind::Text, DeValue::String(s)) => {
                if !self.choice_ok(spec, s, v.span(), path) {
                    return None;
                }
                SettingValue::Text(s.to_string())
            }
            (SettingKind::Integer, DeValue::Integer(_)) => match int_value(v.get_ref()) {
                Some(n) => SettingValue::Integer(n),
                None => {
                    self.push(Diagnostic::error(
                        format!(
                            "setting `{}` is out of range for a 64-bit integer",
                            spec.name
                        ),
                        path,
                        v.span(),
                        "too large",
                    ));
                    return None;
                }
            },
            (SettingKind::Number, DeValue::Integer(_)) => {
                SettingValue::Number(int_value(v.get_ref())? as f64)
            }
            (SettingKind::Number, DeValue::Float(f)) => {
                SettingValue::Number(f.as_str().parse().ok()?)
            }
            (SettingKind::Boolean, DeValue::Boolean(b)) => SettingValue::Boolean(*b),
            (SettingKind::TextList, DeValue::Array(arr)) => {
                let mut items = Vec::new();
                let mut ok = true;
                for (i, item) in arr.iter().enumerate() {
                    let ipath = format!("{path}[{i}]");
                    match item.get_ref() {
                        DeValue::String(s) => {
                            ok &= self.choice_ok(spec, s, item.span(), &ipath);
                            items.push(s.to_string());
                        }
                        other => {
                            ok = false;
                            self.push(Diagnostic::error(
                                format!(
                                    "setting `{}` expects an array of strings, found {} in it",
                                    spec.name,
                                    a(other.type_str())
                                ),
                                ipath,
                                item.span(),
                                "expected a string",
                            ));
                        }
                    }
                }
                if !ok {
                    return None;
                }
                SettingValue::TextList(items)
            }
            _ => return mismatch(self),
        };
        Some(value)
    }

    /// Whether `s` is among the spec's choices (any value if none),
    /// reporting it if not.
    fn choice_ok(&mut self, spec: &SettingSpec, s: &str, span: Range<usize>, path: &str) -> bool {
        if spec.choices.is_empty() || spec.choices.iter().any(|c| c == s) {
            return true;
        }
        self.push(
            Diagnostic::error(
                format!("`{s}` is not an allowed value for setting `{}`", spec.name),
                path,
                span,
                "not an allowed value",
            )
            .with_note(format!("allowed values: {}", list(&spec.choices)))
            .with_help_opt(did_you_mean(s, spec.choices.iter().map(String::as_str))),
        );
        false
    }
}

fn bad_id(what: &str, s: &str, path: &str, span: Range<usize>) -> Diagnostic {
    Diagnostic::error(format!("invalid {what} id `{s}`"), path, span, "invalid id").with_help(
        "ids start with a lowercase letter or digit, followed by lowercase letters, digits or `-`",
    )
}
