//! Budget periods on UTC calendar boundaries: which period a moment falls in (a tag that names
//! the counter, so a new period starts from zero without a reset job) and when it ends.

use switchyard_config::BudgetPeriod;

const DAY: u64 = 86_400;

/// The period a moment falls in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Names the counter: `d20416`, `w2917`, `m24322`, `total`.
    pub tag: String,
    /// Unix seconds when it ends (`None` for `total`).
    pub resets_at: Option<u64>,
}

/// The window of `period` containing `now` (Unix seconds).
pub fn window(period: BudgetPeriod, now: u64) -> Window {
    let day = now / DAY;
    match period {
        BudgetPeriod::Daily => Window {
            tag: format!("d{day}"),
            resets_at: Some((day + 1) * DAY),
        },
        BudgetPeriod::Weekly => {
            // 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday.
            let week = (day + 3) / 7;
            Window {
                tag: format!("w{week}"),
                resets_at: Some(((week + 1) * 7 - 3) * DAY),
            }
        }
        BudgetPeriod::Monthly => {
            let (y, m, _) = civil_from_days(day as i64);
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            Window {
                tag: format!("m{}", y * 12 + (m as i64 - 1)),
                resets_at: Some(days_from_civil(ny, nm, 1).max(0) as u64 * DAY),
            }
        }
        BudgetPeriod::Total => Window {
            tag: "total".into(),
            resets_at: None,
        },
    }
}

/// The YAML spelling.
pub fn name(period: BudgetPeriod) -> &'static str {
    match period {
        BudgetPeriod::Daily => "daily",
        BudgetPeriod::Weekly => "weekly",
        BudgetPeriod::Monthly => "monthly",
        BudgetPeriod::Total => "total",
    }
}

/// Days since 1970-01-01 → (year, month 1..=12, day 1..=31), proleptic Gregorian, using
/// 400-year eras of 146 097 days that start on March 1st (so leap days fall at era ends).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-24T10:30:00Z, a Tuesday.
    const NOW: u64 = 1_795_516_200;

    #[test]
    fn calendar_round_trips() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2026, 11, 24) as u64, NOW / DAY);
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        for d in (-1000..30_000).step_by(7) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn daily_resets_at_utc_midnight() {
        let w = window(BudgetPeriod::Daily, NOW);
        assert_eq!(
            w.resets_at,
            Some(days_from_civil(2026, 11, 25) as u64 * DAY)
        );
        assert_ne!(window(BudgetPeriod::Daily, NOW + DAY).tag, w.tag);
        assert_eq!(
            window(BudgetPeriod::Daily, w.resets_at.unwrap() - 1).tag,
            w.tag
        );
        assert_ne!(window(BudgetPeriod::Daily, w.resets_at.unwrap()).tag, w.tag);
    }

    #[test]
    fn weekly_resets_monday_utc() {
        let w = window(BudgetPeriod::Weekly, NOW);
        assert_eq!(
            w.resets_at,
            Some(days_from_civil(2026, 11, 30) as u64 * DAY)
        );
        let monday = days_from_civil(2026, 11, 23) as u64 * DAY;
        assert_eq!(window(BudgetPeriod::Weekly, monday).tag, w.tag);
        assert_ne!(window(BudgetPeriod::Weekly, monday - 1).tag, w.tag);
    }

    #[test]
    fn monthly_resets_on_the_first_including_december() {
        let w = window(BudgetPeriod::Monthly, NOW);
        assert_eq!(w.resets_at, Some(days_from_civil(2026, 12, 1) as u64 * DAY));
        let dec = days_from_civil(2026, 12, 31) as u64 * DAY + 3600;
        let w = window(BudgetPeriod::Monthly, dec);
        assert_eq!(w.resets_at, Some(days_from_civil(2027, 1, 1) as u64 * DAY));
        assert_eq!(w.tag, format!("m{}", 2026 * 12 + 11));
    }

    #[test]
    fn total_never_resets() {
        let w = window(BudgetPeriod::Total, NOW);
        assert_eq!(w.resets_at, None);
        assert_eq!(window(BudgetPeriod::Total, NOW * 2), w);
    }
}
