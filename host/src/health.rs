//! Widget health: consecutive sandbox failures (traps, timeouts, memory or
//! stack overflows) per widget instance, and quarantine with exponential
//! back-off for a widget that keeps failing, so one broken plugin cannot
//! keep burning CPU on every page load. A quarantined widget is tried
//! again when its back-off ends; a success clears it, a failure doubles
//! the back-off. A reload (a fixed plugin installed) starts afresh.
//!
//! Errors a widget returns itself (bad settings, a missing grant, data it
//! cannot find for this viewer) are answers, not crashes, and do not count.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive failures that put a widget in quarantine.
pub const THRESHOLD: u32 = 3;
/// The first back-off.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(10);
/// The longest back-off.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
struct State {
    consecutive: u32,
    backoff: Duration,
    until: Option<Instant>,
    last_tracking_id: String,
}

/// Whether a widget may be called now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Call it.
    Allow,
    /// In quarantine: do not call it.
    Paused {
        /// Time left before the next try.
        retry_in: Duration,
        /// Tracking ID of the failure that caused the quarantine.
        tracking_id: String,
    },
}

/// Health of every widget instance of one desktop.
#[derive(Debug, Default)]
pub struct Health {
    widgets: Mutex<HashMap<String, State>>,
}

impl Health {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, State>> {
        self.widgets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether widget `key` may be called now.
    pub fn gate(&self, key: &str) -> Gate {
        self.gate_at(key, Instant::now())
    }

    fn gate_at(&self, key: &str, now: Instant) -> Gate {
        match self.lock().get(key) {
            Some(State {
                until: Some(until),
                last_tracking_id,
                ..
            }) if *until > now => Gate::Paused {
                retry_in: *until - now,
                tracking_id: last_tracking_id.clone(),
            },
            _ => Gate::Allow,
        }
    }

    /// Records a successful call: the widget is healthy again.
    pub fn success(&self, key: &str) {
        let mut widgets = self.lock();
        if let Some(s) = widgets.remove(key)
            && s.until.is_some()
        {
            tracing::info!(widget = key, "widget recovered; quarantine lifted");
        }
    }

    /// Records a sandbox failure. Returns the back-off when this failure
    /// (re)starts a quarantine.
    pub fn failure(&self, key: &str, tracking_id: &str) -> Option<Duration> {
        self.failure_at(key, tracking_id, Instant::now())
    }

    fn failure_at(&self, key: &str, tracking_id: &str, now: Instant) -> Option<Duration> {
        let mut widgets = self.lock();
        let s = widgets.entry(key.to_owned()).or_default();
        s.consecutive += 1;
        s.last_tracking_id = tracking_id.to_owned();
        if s.consecutive < THRESHOLD {
            return None;
        }
        s.backoff = if s.backoff.is_zero() {
            FIRST_BACKOFF
        } else {
            (s.backoff * 2).min(MAX_BACKOFF)
        };
        s.until = Some(now + s.backoff);
        metrics::counter!("deskhost_quarantines_total", "widget" => key.to_owned()).increment(1);
        tracing::warn!(
            widget = key,
            failures = s.consecutive,
            backoff_s = s.backoff.as_secs(),
            tracking_id,
            "widget quarantined after repeated failures"
        );
        Some(s.backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarantines_after_repeated_failures_and_backs_off() {
        let h = Health::default();
        let t0 = Instant::now();
        assert_eq!(h.failure_at("w", "a", t0), None);
        assert_eq!(h.failure_at("w", "b", t0), None);
        assert_eq!(h.gate_at("w", t0), Gate::Allow);
        assert_eq!(h.failure_at("w", "c", t0), Some(FIRST_BACKOFF));
        assert_eq!(
            h.gate_at("w", t0 + Duration::from_secs(1)),
            Gate::Paused {
                retry_in: FIRST_BACKOFF - Duration::from_secs(1),
                tracking_id: "c".into()
            }
        );
        // After the back-off, one try; failing again doubles it.
        let later = t0 + FIRST_BACKOFF;
        assert_eq!(h.gate_at("w", later), Gate::Allow);
        assert_eq!(h.failure_at("w", "d", later), Some(FIRST_BACKOFF * 2));
        // Other widgets are not affected.
        assert_eq!(h.gate_at("other", later), Gate::Allow);
    }

    #[test]
    fn back_off_is_capped_and_success_clears_it() {
        let h = Health::default();
        let t = Instant::now();
        let mut last = None;
        for i in 0..20 {
            last = h.failure_at("w", &i.to_string(), t);
        }
        assert_eq!(last, Some(MAX_BACKOFF));
        h.success("w");
        assert_eq!(h.gate_at("w", t), Gate::Allow);
        assert_eq!(h.failure_at("w", "x", t), None);
    }
}
