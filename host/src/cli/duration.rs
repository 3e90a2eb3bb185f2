//! Durations on the command line, read one way for every subcommand: [`parse_duration`] for a
//! time limit (`host run --timeout`, `--start-timeout`, `host list` and `host inspect
//! --timeout`), which must be more than zero and at most a year, and [`parse_span`] for a span
//! that may be zero (`host compare --noise-floor`).

use std::time::Duration;

/// The longest time limit the host accepts (a year); longer limits are a mistake, and would
/// overflow the runner's clock arithmetic.
pub const MAX_TIME_LIMIT: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// A time limit: `500ms`, `2s`, `1m`...; more than zero, at most a year.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match read(text)? {
        duration if duration > MAX_TIME_LIMIT => Err(format!(
            "`{text}` is longer than a year, the longest time limit the host accepts; give a shorter one, or no limit"
        )),
        duration if duration.is_zero() => Err("the time limit must be more than zero".to_owned()),
        duration => Ok(duration),
    }
}

/// A span of time that may be zero: `0`, `500us`, `1ms`...
pub fn parse_span(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    read(text)
}

/// `text` as a duration in humantime's notation, or the sentence saying what to write.
fn read(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|error| {
        format!("`{text}` is not a duration ({error}); write e.g. 500ms, 2s or 1m")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_limit_is_more_than_zero_and_at_most_a_year() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("0s").unwrap_err().contains("more than zero"));
        assert!(
            parse_duration("2years")
                .unwrap_err()
                .contains("longer than a year")
        );
        assert!(
            parse_duration("soon")
                .unwrap_err()
                .contains("is not a duration")
        );
    }

    #[test]
    fn a_span_may_be_zero() {
        assert_eq!(parse_span("0"), Ok(Duration::ZERO));
        assert_eq!(parse_span("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_span("500us"), Ok(Duration::from_micros(500)));
        assert!(
            parse_span("soon")
                .unwrap_err()
                .contains("is not a duration")
        );
    }
}
