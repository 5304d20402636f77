//! Date, time and date-time parsing, conversion and formatting as ODK defines them.
//!
//! Numbers of days: a date is the whole number of days since 1970-01-01 (its
//! calendar day, as JavaRosa counts); a date-time is the fractional days since
//! 1970-01-01 of its wall-clock time in its own offset, so a date and the
//! date-time at midnight of that day compare equal. `decimal-date-time()` is the
//! exception the ODK spec names: days since the epoch in UTC.

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike,
};

const DAY_MS: f64 = 86_400_000.0;

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

pub fn date_to_days(d: NaiveDate) -> f64 {
    (d - epoch()).num_days() as f64
}

/// Wall-clock fractional days since the epoch.
pub fn datetime_to_days(dt: &DateTime<FixedOffset>) -> f64 {
    naive_to_days(&dt.naive_local())
}

fn naive_to_days(n: &NaiveDateTime) -> f64 {
    let since = *n - epoch().and_time(NaiveTime::MIN);
    since.num_milliseconds() as f64 / DAY_MS
}

/// Days since the epoch in UTC (the ODK `decimal-date-time`).
pub fn datetime_to_utc_days(dt: &DateTime<FixedOffset>) -> f64 {
    dt.timestamp_millis() as f64 / DAY_MS
}

/// The calendar day `days` after 1970-01-01 (fractions dropped towards the past).
pub fn days_to_date(days: f64) -> Option<NaiveDate> {
    if !days.is_finite() || days.abs() > 3_000_000.0 {
        return None;
    }
    epoch().checked_add_signed(Duration::days(days.floor() as i64))
}

/// The instant `days` (UTC) after the epoch, shown in `offset`.
pub fn utc_days_to_datetime(days: f64, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    if !days.is_finite() || days.abs() > 3_000_000.0 {
        return None;
    }
    let ms = (days * DAY_MS).round() as i64;
    DateTime::from_timestamp_millis(ms).map(|utc| utc.with_timezone(&offset))
}

pub fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// ODK's canonical date-time: `2020-01-02T03:04:05.006+07:00`.
pub fn format_datetime(dt: &DateTime<FixedOffset>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// `YYYY-MM-DD` (month and day may have one digit, as Enketo accepts).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let mut parts = s.splitn(3, '-');
    let y = parts.next()?;
    let m = parts.next()?;
    let d = parts.next()?;
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return None;
    }
    if ![y, m, d]
        .iter()
        .all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// `HH:MM[:SS[.fff]]` followed by an optional offset (`Z`, `±HH:MM`, `±HHMM`, `±HH`).
pub fn parse_time(s: &str) -> Option<(NaiveTime, Option<FixedOffset>)> {
    let split = s
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == 'Z' || c == 'z' || c == '+' || c == '-')
        .map(|(i, _)| i);
    let (clock, zone) = match split {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let time = parse_clock(clock)?;
    let offset = match zone {
        None => None,
        Some(z) => Some(parse_offset(z)?),
    };
    Some((time, offset))
}

fn parse_clock(s: &str) -> Option<NaiveTime> {
    let mut parts = s.split(':');
    let h = two_digits(parts.next()?)?;
    let m = two_digits(parts.next()?)?;
    let (sec, nanos) = match parts.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = match sec.split_once('.') {
                Some((w, f)) => (w, f),
                None => (sec, ""),
            };
            let whole = two_digits(whole)?;
            if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
                return None;
            }
            let nanos = if frac.is_empty() {
                0
            } else {
                let padded = format!("{frac:0<9}");
                padded.parse::<u32>().ok()?
            };
            (whole, nanos)
        }
    };
    if parts.next().is_some() || h > 23 || m > 59 || sec > 59 {
        return None;
    }
    NaiveTime::from_hms_nano_opt(h, m, sec, nanos)
}

fn two_digits(s: &str) -> Option<u32> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_offset(z: &str) -> Option<FixedOffset> {
    if z == "Z" || z == "z" {
        return FixedOffset::east_opt(0);
    }
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &z[1..];
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        (two_digits(h)?, two_digits(m)?)
    } else if rest.len() == 4 {
        (two_digits(&rest[..2])?, two_digits(&rest[2..])?)
    } else {
        (two_digits(rest)?, 0)
    };
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h as i32 * 3600 + m as i32 * 60))
}

/// A date-time string `YYYY-MM-DDTHH:MM[:SS[.fff]][offset]`; without an
/// offset the time is read in `default_offset`.
pub fn parse_datetime(s: &str, default_offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let (date, time) = s.split_once(['T', ' '])?;
    let date = parse_date(date)?;
    let (time, offset) = parse_time(time)?;
    let offset = offset.unwrap_or(default_offset);
    offset.from_local_datetime(&date.and_time(time)).single()
}

/// A date or date-time string as a number of days (see the module note), if it is one.
pub fn string_to_days(s: &str) -> Option<f64> {
    if s.len() < 8 || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if let Some(d) = parse_date(s) {
        return Some(date_to_days(d));
    }
    let utc = FixedOffset::east_opt(0)?;
    parse_datetime(s, utc).map(|dt| datetime_to_days(&dt))
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// `format-date`/`format-date-time` with ODK's identifiers:
/// `%Y %y %m %n %b %d %e %a %H %h %M %S %3`; unknown identifiers are kept as written.
pub fn format_with(dt: &NaiveDateTime, format: &str) -> String {
    let mut out = String::with_capacity(format.len() + 8);
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Y') => out.push_str(&format!("{:04}", dt.year())),
            Some('y') => out.push_str(&format!("{:02}", dt.year().rem_euclid(100))),
            Some('m') => out.push_str(&format!("{:02}", dt.month())),
            Some('n') => out.push_str(&dt.month().to_string()),
            Some('b') => out.push_str(MONTHS[dt.month0() as usize]),
            Some('d') => out.push_str(&format!("{:02}", dt.day())),
            Some('e') => out.push_str(&dt.day().to_string()),
            Some('a') => out.push_str(WEEKDAYS[dt.weekday().num_days_from_monday() as usize]),
            Some('H') => out.push_str(&format!("{:02}", dt.hour())),
            Some('h') => out.push_str(&dt.hour().to_string()),
            Some('M') => out.push_str(&format!("{:02}", dt.minute())),
            Some('S') => out.push_str(&format!("{:02}", dt.second())),
            Some('3') => out.push_str(&format!("{:03}", dt.nanosecond() / 1_000_000 % 1000)),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    out
}
