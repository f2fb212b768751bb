use super::*;
use deskhost_sdk::{Setting, parse_settings};

fn queue(id: &str, waiting: u32, longest: u32, level: f64) -> Queue {
    Queue {
        id: id.into(),
        name: id.to_uppercase(),
        team_ids: vec!["t".into()],
        waiting,
        longest_wait_seconds: longest,
        service_level: level,
        service_level_goal: 0.8,
        target_seconds: 20,
    }
}

fn default_settings() -> Settings {
    deskhost_sdk::testing::default_settings::<QueueStats>()
}

fn gauges(v: &View) -> Vec<&Progress> {
    v.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Progress(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn alerts(v: &View) -> Vec<&Alert> {
    v.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Alert(a) => Some(a),
            _ => None,
        })
        .collect()
}

#[test]
fn metadata_matches_manifest_and_settings() {
    deskhost_sdk::testing::assert_manifest_matches::<QueueStats>(include_str!("../plugin.toml"));
    let o = Options::from_settings(&default_settings()).unwrap();
    assert_eq!(
        o,
        Options {
            queues: vec![],
            goal_percent: None,
            max_wait_alert_seconds: Some(120)
        }
    );
}

#[test]
fn integer_goal_from_layout_is_accepted() {
    let s: Settings = parse_settings(vec![
        Setting {
            name: "queues".into(),
            value: SettingValue::TextList(vec![]),
        },
        Setting {
            name: "service_level_goal".into(),
            value: SettingValue::Integer(85),
        },
        Setting {
            name: "max_wait_alert_seconds".into(),
            value: SettingValue::Integer(60),
        },
    ])
    .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(Options::from_settings(&s).unwrap().goal_percent, Some(85.0));
}

#[test]
fn validates_settings() {
    let mut s = default_settings();
    s.service_level_goal = 120.0;
    let e = Options::from_settings(&s).unwrap_err();
    assert!(e.message.starts_with("setting `service_level_goal` must"));
    let mut s = default_settings();
    s.max_wait_alert_seconds = -5;
    let e = Options::from_settings(&s).unwrap_err();
    assert!(
        e.message
            .starts_with("setting `max_wait_alert_seconds` must")
    );
}

#[test]
fn formats_waits() {
    assert_eq!(format_wait(0), "0:00");
    assert_eq!(format_wait(65), "1:05");
    assert_eq!(format_wait(3_725), "62:05");
}

#[test]
fn tones_against_goal() {
    assert_eq!(service_level_tone(80.0, 80.0), Tone::Success);
    assert_eq!(service_level_tone(72.0, 80.0), Tone::Warning);
    assert_eq!(service_level_tone(70.0, 80.0), Tone::Warning);
    assert_eq!(service_level_tone(69.9, 80.0), Tone::Danger);
}

#[test]
fn table_and_gauges_use_queue_goal_by_default() {
    let qs = [queue("sales", 3, 45, 0.85), queue("support", 7, 200, 0.6)];
    let v = view(&qs, &Options::from_settings(&default_settings()).unwrap());
    let Some(Block::Table(t)) = v.blocks.iter().find(|b| matches!(b, Block::Table(_))) else {
        panic!("a table")
    };
    assert!(t.caption.is_some());
    assert_eq!(t.rows.len(), 2);
    assert!(matches!(t.rows[0][1], Cell::Number(n) if n == 3.0));
    assert!(matches!(&t.rows[0][2], Cell::Text(s) if s == "0:45"));
    assert!(
        matches!(&t.rows[1][2], Cell::Badge(b) if b.label == "3:20" && b.tone == Tone::Warning)
    );
    assert!(matches!(&t.rows[0][3], Cell::Badge(b) if b.label == "85% (goal 80%)"));
    let g = gauges(&v);
    assert_eq!(g.len(), 2);
    assert!(matches!(g[0].style, ProgressStyle::Gauge));
    assert_eq!(g[0].target, Some(80.0));
    assert_eq!(g[0].tone, Tone::Success);
    assert_eq!(g[1].tone, Tone::Danger);
    let a = alerts(&v);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].tone, Tone::Warning);
    assert!(a[0].message.contains("3:20"));
}

#[test]
fn goal_setting_overrides_and_filter_keeps_order() {
    let qs = [queue("sales", 3, 45, 0.85), queue("support", 7, 20, 0.6)];
    let o = Options {
        queues: vec!["support".into(), "sales".into()],
        goal_percent: Some(90.0),
        max_wait_alert_seconds: None,
    };
    let v = view(&qs, &o);
    let g = gauges(&v);
    assert!(g[0].label.starts_with("SUPPORT"));
    assert_eq!(g[1].target, Some(90.0));
    assert_eq!(g[1].tone, Tone::Warning);
    assert!(alerts(&v).is_empty());
}

#[test]
fn no_alert_at_exactly_the_threshold_or_when_off() {
    let qs = [queue("sales", 1, 120, 0.9)];
    let mut o = Options::from_settings(&default_settings()).unwrap();
    assert!(alerts(&view(&qs, &o)).is_empty());
    o.max_wait_alert_seconds = None;
    let qs = [queue("sales", 1, 10_000, 0.9)];
    assert!(alerts(&view(&qs, &o)).is_empty());
}

#[test]
fn unknown_queue_warns_and_empty_state() {
    let o = Options {
        queues: vec!["nope".into()],
        goal_percent: None,
        max_wait_alert_seconds: Some(120),
    };
    let v = view(&[queue("sales", 0, 0, 1.0)], &o);
    assert!(matches!(&v.blocks[0], Block::Alert(a) if a.message.contains("`nope`")));
    assert!(matches!(v.blocks.last(), Some(Block::Empty(e)) if e.title == "No queues"));
    let v = view(&[], &Options::from_settings(&default_settings()).unwrap());
    assert!(matches!(&v.blocks[..], [Block::Empty(_)]));
}
