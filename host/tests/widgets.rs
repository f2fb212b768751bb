//! The six first-party widgets against the seeded contact-center simulator:
//! each renders real figures, refuses bad settings, and fails clearly
//! without its data grant.

use std::path::Path;
use std::sync::Arc;

use deskhost::app;
use deskhost::config::HostConfig;
use deskhost::contact_center::{AgentState, ContactCenter, Simulator};
use deskhost::layout::{self, ValidateOptions};
use deskhost::plugin::Catalog;
use deskhost::runtime::{Call, CallError, Plugins, Runtime, Services, setting_to_wit, types};
use deskhost::store::SqliteStore;

/// 2026-11-26 10:00 UTC: a busy weekday morning.
const START: u64 = 1_795_687_200_000;

struct Fixture {
    sim: Arc<Simulator>,
    rt: Runtime,
    plugins: Plugins,
}

fn fixture() -> Fixture {
    let sim = Arc::new(Simulator::demo(42, START));
    sim.advance_to(START + 15 * 60 * 1000);
    let config = HostConfig {
        data_dir: Path::new(env!("CARGO_TARGET_TMPDIR")).join("widgets-data"),
        ..HostConfig::default()
    };
    let rt = app::runtime(
        &config,
        Services::without_sign_in(Arc::new(SqliteStore::in_memory().unwrap()), sim.clone()),
    )
    .unwrap();
    let (plugins, errors) = app::install_plugins(&rt, &config);
    assert!(errors.is_empty(), "{errors:?}");
    Fixture { sim, rt, plugins }
}

fn context(role: types::Role, user: &str, team: Option<&str>) -> types::Context {
    types::Context {
        user_id: user.into(),
        display_name: "Lee Lead".into(),
        role,
        team: team.map(String::from),
        locale: "en-US".into(),
        time_zone: "Europe/Paris".into(),
    }
}

impl Fixture {
    /// Renders `plugin` with its default settings overridden by `settings`.
    fn call(
        &self,
        plugin: &str,
        settings: &[(&str, deskhost::plugin::SettingValue)],
        grants: &[&str],
        ctx: &types::Context,
        action: Option<types::Action>,
    ) -> Result<types::View, CallError> {
        let p = self
            .plugins
            .get(plugin, &semver::Version::new(0, 1, 0))
            .unwrap();
        let mut all: Vec<types::Setting> = Vec::new();
        for spec in &p.info.settings {
            let value = settings
                .iter()
                .find(|(n, _)| *n == spec.name)
                .map(|(_, v)| v.clone())
                .or_else(|| spec.default.clone());
            if let Some(v) = value {
                all.push(setting_to_wit(&spec.name, &v));
            }
        }
        let call = Call {
            widget: plugin,
            grants: grants.iter().map(|g| g.to_string()).collect(),
            limits: self.rt.default_call_limits(),
            context: ctx,
            settings: &all,
        };
        match action {
            Some(a) => self.rt.on_action(p, &call, &a),
            None => self.rt.render(p, &call),
        }
    }
}

fn stats(view: &types::View) -> Vec<&types::Stat> {
    view.blocks
        .iter()
        .flat_map(|b| match b {
            types::Block::Stats(s) => s.iter().collect::<Vec<_>>(),
            types::Block::Stat(s) => vec![s],
            _ => Vec::new(),
        })
        .collect()
}

fn tables(view: &types::View) -> Vec<&types::Table> {
    view.blocks
        .iter()
        .filter_map(|b| match b {
            types::Block::Table(t) => Some(t),
            _ => None,
        })
        .collect()
}

const CC: &[&str] = &["contact-center"];

#[test]
fn kpi_tiles_show_the_centers_figures_with_trends() {
    let f = fixture();
    let ctx = context(types::Role::Supervisor, "dev-supervisor", None);
    let view = f.call("kpi-tiles", &[], CC, &ctx, None).unwrap();
    let today = f.sim.team_stats("").unwrap().today;
    let s = stats(&view);
    let handled = s
        .iter()
        .find(|s| s.label == "Handled")
        .expect("a Handled stat");
    assert_eq!(handled.value, today.handled.to_string());
    assert!(handled.trend.as_ref().is_some_and(|t| t.higher_is_better));
    let abandoned = s.iter().find(|s| s.label == "Abandoned").unwrap();
    assert_eq!(abandoned.value, today.abandoned.to_string());
    assert!(
        abandoned
            .trend
            .as_ref()
            .is_some_and(|t| !t.higher_is_better)
    );
}

#[test]
fn agent_states_count_every_signed_in_agent() {
    let f = fixture();
    let ctx = context(types::Role::Supervisor, "dev-supervisor", None);
    let view = f.call("agent-states", &[], CC, &ctx, None).unwrap();
    let signed_in = f
        .sim
        .agents(&[])
        .unwrap()
        .iter()
        .filter(|a| a.state != AgentState::Offline)
        .count();
    let total: usize = stats(&view)
        .iter()
        .map(|s| s.value.parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, signed_in);
    assert!(
        view.blocks
            .iter()
            .any(|b| matches!(b, types::Block::Chart(c) if c.kind == types::ChartKind::Bar))
    );
}

#[test]
fn queue_stats_show_every_queue_with_a_service_level_gauge() {
    let f = fixture();
    let ctx = context(types::Role::Supervisor, "dev-supervisor", None);
    let view = f.call("queue-stats", &[], CC, &ctx, None).unwrap();
    let queues = f.sim.queues().unwrap();
    let t = tables(&view);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].rows.len(), queues.len());
    let gauges = view
        .blocks
        .iter()
        .filter(|b| matches!(b, types::Block::Progress(p) if p.style == types::ProgressStyle::Gauge && p.target.is_some()))
        .count();
    assert_eq!(gauges, queues.len());
}

#[test]
fn team_performance_lists_the_viewers_team_and_changes_state() {
    let f = fixture();
    let ctx = context(types::Role::Supervisor, "dev-supervisor", Some("sales"));
    let view = f
        .call(
            "team-performance",
            &[],
            &["contact-center", "agent-control"],
            &ctx,
            None,
        )
        .unwrap();
    let sales = f.sim.agents(&["sales".into()]).unwrap();
    let t = tables(&view);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].rows.len(), sales.len());
    assert!(t[0].caption.is_some());
    // Make an idle agent available through the row's action.
    let Some(agent) = sales
        .iter()
        .find(|a| a.state == AgentState::Idle && a.user_id.is_none())
    else {
        panic!("no idle agent in sales: {sales:?}");
    };
    let action = types::Action {
        id: format!("available:{}", agent.id),
        values: Vec::new(),
    };
    let grants = &["contact-center", "agent-control"];
    f.call("team-performance", &[], grants, &ctx, Some(action))
        .unwrap();
    let after = f.sim.agents(&["sales".into()]).unwrap();
    let changed = after.iter().find(|a| a.id == agent.id).unwrap();
    assert_eq!(changed.state, AgentState::Available);
    // Without agent-control the reverse is refused, naming the grant.
    let action = types::Action {
        id: format!("idle:{}", agent.id),
        values: Vec::new(),
    };
    let e = f
        .call("team-performance", &[], CC, &ctx, Some(action))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("capability `agent-control` is not granted"),
        "{e}"
    );
}

#[test]
fn announcements_and_welcome_need_no_grant() {
    let f = fixture();
    let ctx = context(
        types::Role::SupervisorAgent,
        "lead@example.com",
        Some("sales"),
    );
    let msg = deskhost::plugin::SettingValue::TextList(vec!["Team meeting at 3".into()]);
    let view = f
        .call("announcements", &[("messages", msg)], &[], &ctx, None)
        .unwrap();
    assert!(format!("{view:?}").contains("Team meeting at 3"));
    let view = f.call("welcome", &[], &[], &ctx, None).unwrap();
    assert!(format!("{view:?}").contains("Lee Lead"), "{view:?}");
}

#[test]
fn a_data_widget_without_its_grant_names_the_grant() {
    let f = fixture();
    let ctx = context(types::Role::Supervisor, "dev-supervisor", None);
    for plugin in [
        "kpi-tiles",
        "agent-states",
        "queue-stats",
        "team-performance",
    ] {
        let e = f.call(plugin, &[], &[], &ctx, None).unwrap_err();
        assert!(matches!(e, CallError::Widget(_)), "{plugin}: {e:?}");
        assert!(
            e.to_string()
                .contains("capability `contact-center` is not granted to plugin"),
            "{plugin}: {e}"
        );
    }
}

#[test]
fn widget_settings_are_validated_in_layouts() {
    let f = fixture();
    let layout_text = r#"title = "t"
[[supervisor.home.widgets]]
id = "a"
plugin = "team-performance"
column = 1
row = 1
settings = { sort = "fastest", max_rows = "ten" }

[[supervisor.home.widgets]]
id = "b"
plugin = "queue-stats"
column = 1
row = 20
settings = { service_level_goal = "high", queue = ["x"] }

[[supervisor.home.widgets]]
id = "c"
plugin = "announcements"
column = 1
row = 40
settings = { tone = "purple" }
"#;
    let checked = layout::check(
        Path::new("t.toml"),
        layout_text,
        &f.plugins,
        &ValidateOptions::default(),
    );
    let messages: Vec<String> = checked
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{} {}",
                d.line_col(layout_text).0,
                d.line_col(layout_text).1,
                d.message
            )
        })
        .collect();
    let all = messages.join("\n");
    assert!(
        all.contains("7:21 `fastest` is not an allowed value for setting `sort`"),
        "{all}"
    );
    assert!(all.contains("fastest"), "{all}");
    assert!(all.contains("max_rows"), "{all}");
    assert!(all.contains("service_level_goal"), "{all}");
    assert!(all.contains("unknown setting `queue`"), "{all}");
    assert!(all.contains("purple"), "{all}");
    assert_eq!(checked.diagnostics.len(), 5, "{all}");
    assert!(f.plugins.ids().len() >= 7);
}

/// The demo layout's global desktop over the fixture's static simulator
/// (no ticker: the data moves only when a test advances it).
fn demo_desktop() -> (Arc<Simulator>, deskhost::desktop::Desktop) {
    let f = fixture();
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../layouts/demo.toml"))
            .unwrap();
    let checked = layout::check(
        Path::new("demo.toml"),
        &text,
        &f.plugins,
        &ValidateOptions::default(),
    );
    let Fixture { sim, rt, plugins } = f;
    let desktop = deskhost::desktop::Desktop::new(
        checked.layout.unwrap(),
        Arc::new(plugins),
        Arc::new(rt),
        sim.clone(),
        deskhost::desktop::Changes::default(),
        &Default::default(),
    );
    (sim, desktop)
}

fn supervisor(team: Option<&str>) -> deskhost::desktop::Viewer {
    deskhost::desktop::Viewer {
        user_id: "dev-supervisor".into(),
        display_name: "Dana Supervisor".into(),
        role: deskhost::layout::Role::Supervisor,
        team: team.map(String::from),
        locale: "en-US".into(),
        time_zone: "UTC".into(),
    }
}

#[test]
fn a_users_change_reaches_every_widget_at_once() {
    let (sim, desktop) = demo_desktop();
    let viewer = supervisor(Some("sales"));
    let idle_count = |page: &deskhost::desktop::AssembledPage| -> usize {
        let tile = page.tiles.iter().find(|t| t.widget.id == "states").unwrap();
        let view = tile.result.as_ref().unwrap();
        stats(view)
            .iter()
            .find(|s| s.label == "Idle")
            .unwrap()
            .value
            .parse()
            .unwrap()
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(async {
        let before = desktop.page(&viewer, "home").await.unwrap();
        let idle = sim
            .agents(&["sales".into()])
            .unwrap()
            .into_iter()
            .find(|a| a.state == AgentState::Idle && a.user_id.is_none())
            .unwrap();
        let action = types::Action {
            id: format!("available:{}", idle.id),
            values: Vec::new(),
        };
        let tile = desktop.tile(&viewer, "team", Some(action)).await.unwrap();
        assert!(tile.result.is_ok(), "{:?}", tile.result);
        // The agent-states widget has a 5 s refresh interval, yet its next
        // view already counts one idle agent fewer.
        let after = desktop.page(&viewer, "home").await.unwrap();
        assert_eq!(idle_count(&after), idle_count(&before) - 1);
    });
}

#[test]
fn a_data_change_makes_cached_views_stale() {
    let (sim, desktop) = demo_desktop();
    let viewer = supervisor(None);
    let shown = |page: &deskhost::desktop::AssembledPage| -> Vec<(String, String)> {
        let tile = page.tiles.iter().find(|t| t.widget.id == "states").unwrap();
        stats(tile.result.as_ref().unwrap())
            .iter()
            .map(|s| (s.label.clone(), s.value.clone()))
            .collect()
    };
    let actual = || -> Vec<(String, String)> {
        let agents = sim.agents(&[]).unwrap();
        [
            ("Available", AgentState::Available),
            ("Idle", AgentState::Idle),
            ("Engaged", AgentState::Engaged),
            ("Wrap-up", AgentState::WrapUp),
            ("RONA", AgentState::Rona),
        ]
        .iter()
        .map(|(l, s)| {
            (
                l.to_string(),
                agents.iter().filter(|a| a.state == *s).count().to_string(),
            )
        })
        .collect()
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(async {
        let before = desktop.page(&viewer, "home").await.unwrap();
        assert_eq!(shown(&before), actual());
        // Half an hour of the contact center passes: agents change state.
        sim.advance_to(START + 45 * 60 * 1000);
        let after = desktop.page(&viewer, "home").await.unwrap();
        assert_eq!(
            shown(&after),
            actual(),
            "the cached view outlived a data change"
        );
        assert_ne!(shown(&before), shown(&after));
    });
}
