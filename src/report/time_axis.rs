//! Date ticks for the time axis: round UTC instants (hours, days, weeks, months, years) about 110 px apart.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::svg::Tick;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// A tick spacing: a fixed duration [ms] or a number of calendar months.
#[derive(Clone, Copy)]
enum Step {
    Fixed(i64, &'static str),
    Months(i32, &'static str),
}

const STEPS: [Step; 17] = [
    Step::Fixed(60_000, "%d %b %H:%M"),
    Step::Fixed(5 * 60_000, "%d %b %H:%M"),
    Step::Fixed(15 * 60_000, "%d %b %H:%M"),
    Step::Fixed(HOUR, "%d %b %H:%M"),
    Step::Fixed(3 * HOUR, "%d %b %H:%M"),
    Step::Fixed(6 * HOUR, "%d %b %H:%M"),
    Step::Fixed(12 * HOUR, "%d %b %H:%M"),
    Step::Fixed(DAY, "%Y-%m-%d"),
    Step::Fixed(2 * DAY, "%Y-%m-%d"),
    Step::Fixed(7 * DAY, "%Y-%m-%d"),
    Step::Fixed(14 * DAY, "%Y-%m-%d"),
    Step::Months(1, "%b %Y"),
    Step::Months(3, "%b %Y"),
    Step::Months(6, "%b %Y"),
    Step::Months(12, "%Y"),
    Step::Months(60, "%Y"),
    Step::Months(120, "%Y"),
];

/// Ticks at round UTC instants within `[t0, t1]` [unix ms] on an axis `width` pixels long: the finest
/// spacing whose labels fit (about 6 px per character plus 20 px between labels), labelled with dates
/// (and hours for spacings under a day).
pub(crate) fn date_ticks(t0: i64, t1: i64, width: f64) -> Vec<Tick> {
    for step in STEPS {
        let format = match step {
            Step::Fixed(_, f) | Step::Months(_, f) => f,
        };
        let label_px = 6.0 * label(0, format).map_or(12, |l| l.chars().count()) as f64 + 20.0;
        let max_ticks = ((width / label_px) as usize).max(2);
        let ticks = ticks_for(step, t0, t1);
        if ticks.len() <= max_ticks || matches!(step, Step::Months(120, _)) {
            return ticks
                .into_iter()
                .filter_map(|ms| Some(Tick { pos: ms as f64, label: label(ms, format)? }))
                .collect();
        }
    }
    Vec::new()
}

fn ticks_for(step: Step, t0: i64, t1: i64) -> Vec<i64> {
    match step {
        Step::Fixed(ms, _) => {
            // Weeks start on Mondays: 1970-01-05 was a Monday.
            let offset = if ms % (7 * DAY) == 0 { 4 * DAY } else { 0 };
            let first = (t0 - offset).div_euclid(ms) * ms + offset;
            let first = if first < t0 { first + ms } else { first };
            let count = if t1 >= first { (t1 - first) / ms + 1 } else { 0 };
            // Far too many ticks for this spacing: report just enough to reject it.
            (0..count.min(10_000)).map(|k| first + k * ms).collect()
        }
        Step::Months(m, _) => {
            let Some(start) = DateTime::<Utc>::from_timestamp_millis(t0) else { return Vec::new() };
            let mut month = start.year() * 12 + start.month0() as i32;
            month = month.div_euclid(m) * m;
            let mut out = Vec::new();
            while let Some(ms) = month_start(month) {
                if ms > t1 || out.len() >= 10_000 {
                    break;
                }
                if ms >= t0 {
                    out.push(ms);
                }
                month += m;
            }
            out
        }
    }
}

/// Unix ms of the first instant of month `month` (counted as `year × 12 + month0`).
fn month_start(month: i32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(month.div_euclid(12), month.rem_euclid(12) as u32 + 1, 1)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// `ms` as a UTC date with the strftime `format`.
pub(crate) fn label(ms: i64, format: &str) -> Option<String> {
    Some(DateTime::<Utc>::from_timestamp_millis(ms)?.format(format).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(y: i32, m: u32, d: u32, h: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, 0, 0).unwrap().and_utc().timestamp_millis()
    }

    fn labels(t0: i64, t1: i64) -> Vec<String> {
        date_ticks(t0, t1, 868.0).into_iter().map(|t| t.label).collect()
    }

    #[test]
    fn sixty_hourly_days_get_weekly_ticks() {
        let l = labels(ms(2020, 1, 1, 1), ms(2020, 3, 1, 0));
        assert_eq!(
            l,
            [
                "2020-01-06",
                "2020-01-13",
                "2020-01-20",
                "2020-01-27",
                "2020-02-03",
                "2020-02-10",
                "2020-02-17",
                "2020-02-24"
            ]
        );
    }

    #[test]
    fn two_days_get_hour_ticks() {
        let l = labels(ms(2020, 1, 1, 0), ms(2020, 1, 3, 0));
        assert_eq!(
            l,
            [
                "01 Jan 00:00",
                "01 Jan 06:00",
                "01 Jan 12:00",
                "01 Jan 18:00",
                "02 Jan 00:00",
                "02 Jan 06:00",
                "02 Jan 12:00",
                "02 Jan 18:00",
                "03 Jan 00:00"
            ]
        );
    }

    #[test]
    fn months_and_years() {
        let l = labels(ms(2001, 6, 1, 0), ms(2019, 2, 1, 0));
        assert_eq!(l, (2002..=2019).map(|y| y.to_string()).collect::<Vec<_>>());
        let l = labels(ms(1950, 6, 1, 0), ms(2019, 2, 1, 0));
        assert_eq!(
            l,
            ["1955", "1960", "1965", "1970", "1975", "1980", "1985", "1990", "1995", "2000", "2005", "2010", "2015"]
        );
        let l = labels(ms(2019, 1, 15, 0), ms(2020, 1, 1, 0));
        assert_eq!(l.len(), 12);
        assert_eq!((l[0].as_str(), l[11].as_str()), ("Feb 2019", "Jan 2020"));
        let l = labels(ms(2018, 1, 15, 0), ms(2020, 1, 1, 0));
        assert_eq!(l, ["Apr 2018", "Jul 2018", "Oct 2018", "Jan 2019", "Apr 2019", "Jul 2019", "Oct 2019", "Jan 2020"]);
    }
}
