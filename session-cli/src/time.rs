//! Sealed timestamps (u32 Unix seconds) as people read them.

/// `secs` as an RFC 3339 UTC timestamp, `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(secs: u32) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01: counted in 400-year eras from
/// 0000-03-01, so that the leap day falls at the end of each year.
fn civil_from_days(days: u32) -> (u32, u32, u32) {
    // Days from 0000-03-01 to 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March.
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u32::from(month <= 2);
    (year, month, day)
}

/// How long before or after `now` the time `then` is: `3h 2m ago`, `in 5m 10s`.
pub(crate) fn relative(then: u32, now: u32) -> String {
    let (secs, future) = if then > now {
        (then - now, true)
    } else {
        (now - then, false)
    };
    let units = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")];
    let first = units
        .iter()
        .position(|&(size, _)| secs >= size)
        .unwrap_or(units.len() - 1);
    let (size, unit) = units[first];
    let mut span = format!("{}{unit}", secs / size);
    if let Some((next, next_unit)) = units.get(first + 1) {
        span.push_str(&format!(" {}{next_unit}", secs % size / next));
    }
    if future {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_763_800_000), "2025-11-22T08:26:40Z");
        assert_eq!(rfc3339(u32::MAX), "2106-02-07T06:28:15Z");
    }

    #[test]
    fn relative_shows_two_units() {
        assert_eq!(relative(100, 100), "0s ago");
        assert_eq!(relative(100, 145), "45s ago");
        assert_eq!(relative(0, 3 * 3600 + 2 * 60 + 5), "3h 2m ago");
        assert_eq!(relative(0, 2 * 86_400 + 7), "2d 0h ago");
        assert_eq!(relative(400, 100), "in 5m 0s");
    }
}
