use super::*;

fn agent(id: &str, name: &str, state: AgentState, since: u64) -> Agent {
    Agent {
        id: id.into(),
        name: name.into(),
        team_id: "sales".into(),
        state,
        state_since: since,
        idle_reason: (state == AgentState::Idle).then(|| "Break".to_string()),
        active_contacts: u32::from(matches!(state, AgentState::Engaged | AgentState::WrapUp)),
    }
}

fn agents() -> Vec<Agent> {
    vec![
        agent("a1", "Zoe", AgentState::Available, 3_000),
        agent("a2", "Bob", AgentState::Idle, 2_000),
        agent("a3", "Cleo", AgentState::Engaged, 1_000),
        agent("a4", "Dan", AgentState::Rona, 4_000),
        agent("a5", "Eve", AgentState::Offline, 500),
        agent("a6", "Al", AgentState::WrapUp, 5_000),
    ]
}

fn default_settings() -> Settings {
    deskhost_sdk::testing::default_settings::<TeamPerformance>()
}

fn options() -> Options {
    let mut o = Options::from_settings(&default_settings(), None, None).unwrap();
    o.idle_reason = Some("Break".into());
    o.scope = "team Sales".into();
    o
}

fn table(v: &View) -> &Table {
    v.blocks
        .iter()
        .find_map(|b| match b {
            Block::Table(t) => Some(t),
            _ => None,
        })
        .expect("a table")
}

fn names(t: &Table) -> Vec<&str> {
    t.rows
        .iter()
        .map(|r| match &r[0] {
            Cell::Text(s) => s.as_str(),
            _ => panic!("name cell"),
        })
        .collect()
}

fn action(cell: &Cell) -> Option<&str> {
    match cell {
        Cell::Button(b) => Some(b.action.as_str()),
        _ => None,
    }
}

#[test]
fn metadata_matches_manifest_and_settings() {
    assert_eq!(TeamPerformance::metadata().id, ID);
    deskhost_sdk::testing::assert_manifest_matches::<TeamPerformance>(include_str!(
        "../plugin.toml"
    ));
    let s = default_settings();
    assert_eq!(s.sort, "state");
    assert_eq!(s.state_filter, "all");
    assert_eq!(s.max_rows, 50);
    assert!(s.allow_state_change && s.teams.is_empty());
}

#[test]
fn default_view_has_controls_and_sorted_table_without_offline() {
    let v = view(&agents(), &options());
    assert!(
        matches!(&v.blocks[0], Block::Select(s) if s.name == "state_filter" && s.selected.as_deref() == Some("all"))
    );
    assert!(
        matches!(&v.blocks[1], Block::Select(s) if s.name == "sort" && s.selected.as_deref() == Some("state"))
    );
    assert!(matches!(&v.blocks[2], Block::Buttons(b) if b[0].action == "apply"));
    let t = table(&v);
    assert_eq!(t.caption.as_deref(), Some("Agents of team Sales"));
    assert_eq!(t.columns.len(), 5);
    // RONA, idle, available, engaged, wrap-up; offline left out.
    assert_eq!(names(t), ["Dan", "Bob", "Zoe", "Cleo", "Al"]);
    assert!(matches!(&t.rows[0][1], Cell::Badge(b) if b.label == "RONA" && b.tone == Tone::Danger));
    assert!(matches!(t.rows[0][2], Cell::Since(4_000)));
    assert!(matches!(&t.rows[1][3], Cell::Text(s) if s == "Break"));
    assert!(matches!(&t.rows[3][3], Cell::Text(s) if s == "1 contact"));
}

#[test]
fn row_buttons_follow_state() {
    let v = view(&agents(), &options());
    let t = table(&v);
    let actions: Vec<Option<&str>> = t.rows.iter().map(|r| action(&r[4])).collect();
    assert_eq!(
        actions,
        [
            Some("available:a4"),
            Some("available:a2"),
            Some("idle:a1"),
            None,
            None
        ]
    );
    assert!(matches!(&t.rows[3][4], Cell::Text(s) if s == "—"));
}

#[test]
fn no_set_idle_without_idle_reason() {
    let mut o = options();
    o.idle_reason = None;
    let v = view(&agents(), &o);
    let t = table(&v);
    assert!(action(&t.rows[2][4]).is_none());
}

#[test]
fn buttons_hidden_when_state_change_not_allowed() {
    let mut o = options();
    o.allow_state_change = false;
    let v = view(&agents(), &o);
    let t = table(&v);
    assert_eq!(t.columns.len(), 4);
    assert!(t.rows.iter().all(|r| r.len() == 4));
}

#[test]
fn sorts_by_name_and_time_in_state() {
    let mut o = options();
    o.sort = Sort::Name;
    assert_eq!(
        names(table(&view(&agents(), &o))),
        ["Al", "Bob", "Cleo", "Dan", "Zoe"]
    );
    o.sort = Sort::TimeInState;
    assert_eq!(
        names(table(&view(&agents(), &o))),
        ["Cleo", "Bob", "Zoe", "Dan", "Al"]
    );
}

#[test]
fn submitted_filter_and_sort_override_settings() {
    let o = Options::from_settings(&default_settings(), Some("idle"), Some("name")).unwrap();
    assert_eq!(o.filter, Filter(Some(AgentState::Idle)));
    assert_eq!(o.sort, Sort::Name);
    let bad = Options::from_settings(&default_settings(), Some("lunch"), None).unwrap_err();
    assert!(bad.message.contains("state_filter"), "{}", bad.message);
}

#[test]
fn filter_keeps_one_state() {
    let mut o = options();
    o.filter = Filter(Some(AgentState::Idle));
    let v = view(&agents(), &o);
    let t = table(&v);
    assert_eq!(names(t), ["Bob"]);
    assert_eq!(t.caption.as_deref(), Some("Idle agents of team Sales"));
}

#[test]
fn empty_state_keeps_controls() {
    let mut o = options();
    o.filter = Filter(Some(AgentState::WrapUp));
    let v = view(&agents()[..2], &o);
    assert!(matches!(&v.blocks[0], Block::Select(_)));
    assert!(matches!(v.blocks.last(), Some(Block::Empty(e)) if e.title == "No agents"));
    let v = view(&[], &options());
    assert!(matches!(v.blocks.last(), Some(Block::Empty(_))));
}

#[test]
fn max_rows_truncates_with_note() {
    let mut o = options();
    o.max_rows = 2;
    let v = view(&agents(), &o);
    assert_eq!(table(&v).rows.len(), 2);
    assert!(matches!(v.blocks.last(), Some(Block::Text(s)) if s.contains("2 of 5")));
}

#[test]
fn validates_max_rows() {
    let mut s = default_settings();
    s.max_rows = 0;
    let e = Options::from_settings(&s, None, None).unwrap_err();
    assert!(e.message.starts_with("setting `max_rows` must"));
}

#[test]
fn teams_default_to_viewer_then_all() {
    assert_eq!(resolve_teams(&[], Some("sales")), ["sales"]);
    assert!(resolve_teams(&[], None).is_empty());
    assert_eq!(resolve_teams(&["b".into()], Some("sales")), ["b"]);
    assert_eq!(describe_teams(&[]), "all teams");
    assert_eq!(describe_teams(&["A".into(), "B".into()]), "teams A, B");
}

#[test]
fn parses_actions() {
    assert_eq!(parse_action("apply").unwrap(), Command::Apply);
    assert_eq!(
        parse_action("available:a1").unwrap(),
        Command::Available("a1".into())
    );
    assert_eq!(
        parse_action("idle:a:b").unwrap(),
        Command::Idle("a:b".into())
    );
    assert!(parse_action("idle:").is_err());
    assert!(parse_action("offline:a1").is_err());
    assert!(parse_action("nonsense").is_err());
}

#[test]
fn checks_state_changes() {
    let a = agents();
    assert!(check_change(&a, "a2", AgentState::Available).is_ok());
    assert!(check_change(&a, "a4", AgentState::Available).is_ok());
    assert!(check_change(&a, "a1", AgentState::Idle).is_ok());
    assert!(check_change(&a, "a3", AgentState::Available).is_err());
    assert!(check_change(&a, "a1", AgentState::Available).is_err());
    assert!(check_change(&a, "zz", AgentState::Idle).is_err());
}
