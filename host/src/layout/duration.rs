//! Duration strings in layout files (`"250ms"`, `"2s"`, `"1m 30s"`),
//! parsed with `humantime`.

use std::time::Duration;

/// Parses a human duration such as `250ms`, `30s` or `1m 30s`.
pub fn parse(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim()).map_err(|e| e.to_string())
}

/// Formats a duration the way admins write it (`250ms`, `2s`).
pub fn format(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1m 30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
        assert!(parse("fast").is_err());
        assert!(parse("10").is_err());
        assert_eq!(format(Duration::from_millis(250)), "250ms");
    }
}
