//! Calendar functions (`year`, `month`, `hour`, …) on Unix seconds, in UTC.

use crate::query::promql::Function;

/// The calendar part `function` asks for, of the time `seconds` since the epoch.
pub fn date_part(function: Function, seconds: f64) -> f64 {
    if seconds.is_nan() || seconds.is_infinite() {
        return f64::NAN;
    }
    // Go converts with int64(f): truncation toward zero.
    let seconds = seconds as i64;
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let value = match function {
        Function::Year => year,
        Function::Month => month,
        Function::DayOfMonth => day,
        Function::DayOfWeek => (days + 4).rem_euclid(7),
        Function::DayOfYear => days - days_from_civil(year, 1, 1) + 1,
        Function::DaysInMonth => days_in_month(year, month),
        Function::Hour => second_of_day / 3600,
        Function::Minute => second_of_day % 3600 / 60,
        _ => return f64::NAN,
    };
    value as f64
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Year, month (1-12), day (1-31) of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // 2024-02-29T13:45:00Z
        let t = 1_709_214_300.0;
        assert_eq!(date_part(Function::Year, t), 2024.0);
        assert_eq!(date_part(Function::Month, t), 2.0);
        assert_eq!(date_part(Function::DayOfMonth, t), 29.0);
        assert_eq!(date_part(Function::DaysInMonth, t), 29.0);
        assert_eq!(date_part(Function::DayOfYear, t), 60.0);
        assert_eq!(date_part(Function::DayOfWeek, t), 4.0);
        assert_eq!(date_part(Function::Hour, t), 13.0);
        assert_eq!(date_part(Function::Minute, t), 45.0);
        assert_eq!(date_part(Function::DayOfWeek, 0.0), 4.0);
    }
}
