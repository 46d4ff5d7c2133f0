//! Quantities written on the command line and in `flin.toml` (cli.md §2): durations such
//! as `30s`, `500ms`, `5m`, `2h`.

use std::time::Duration;

/// Parses `<whole number><unit>` with unit `ms`, `s`, `m` or `h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let amount: u64 = number.parse().map_err(|_| {
        format!("`{text}` is not a duration: write a whole number and a unit, like `30s`")
    })?;
    let millis_per_unit = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "" => {
            return Err(format!(
                "`{text}` needs a unit: ms, s, m or h (like `{text}s`)"
            ));
        }
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use ms, s, m or h"
            ));
        }
    };
    amount
        .checked_mul(millis_per_unit)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is too long a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        assert!(parse_duration("30").is_err_and(|e| e.contains("needs a unit")));
        assert!(parse_duration("s").is_err_and(|e| e.contains("whole number")));
        assert!(parse_duration("3d").is_err_and(|e| e.contains("unknown unit `d`")));
        assert!(parse_duration("99999999999999999999h").is_err());
    }
}
