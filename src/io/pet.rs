//! Disaggregation of daily interannual PET into sub-daily steps (smash's `_read_pet`, spec §8).
//!
//! `pet(step k) = PET_day · ratio[(k + offset) mod (86400/dt)]` in `f32`, where `offset` is the number of
//! steps from 00:00 to the end of the first step, and `PET_day` is the file of the day of a **leap year**
//! (2020) with the same day-of-year as the step end: in other years, dates after 28 February use the
//! previous calendar day's file.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use super::IoError;
use crate::time::TimeAxis;

/// smash's hourly PET weights (`RATIO_PET_HOURLY`, float32): `RATIO_PET_HOURLY[h]` is the share of the
/// daily PET given to the hourly step that ends at `h`:00. They sum to 1.
pub const RATIO_PET_HOURLY: [f32; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.035, 0.062, 0.079, 0.097, 0.11, 0.117, 0.117, 0.11, 0.097, 0.079, 0.062,
    0.035, 0.0, 0.0, 0.0, 0.0, 0.0,
];

/// The per-step ratios of one day for step `dt` \[s\]: `86400/dt` values.
///
/// For dt ≤ 1 h each hourly weight is repeated and divided by the number of steps per hour; for
/// dt > 1 h consecutive weights are summed in order, in `f32`.
///
/// # Errors
/// [`IoError::UnsupportedTimeStep`] unless dt divides one hour or is a whole number of hours dividing a day.
pub fn pet_ratios(dt: i64) -> Result<Vec<f32>, IoError> {
    if dt > 0 && dt <= 3600 && 3600 % dt == 0 {
        let per_hour = (3600 / dt) as usize;
        let div = per_hour as f32;
        Ok(RATIO_PET_HOURLY.iter().flat_map(|&r| std::iter::repeat_n(r / div, per_hour)).collect())
    } else if dt > 3600 && dt % 3600 == 0 && 86_400 % dt == 0 {
        Ok(RATIO_PET_HOURLY.chunks_exact((dt / 3600) as usize).map(numpy_sum).collect())
    } else {
        Err(IoError::UnsupportedTimeStep {
            dt,
            reason: "daily interannual PET needs a step that divides one hour, or a whole number of hours \
                     that divides one day"
                .into(),
        })
    }
}

/// `np.sum(R.reshape(-1, g), axis=1)` for one group: numpy accumulates the few columns one by one, in
/// `f32` (checked bit for bit for every supported step in the tests).
fn numpy_sum(a: &[f32]) -> f32 {
    a.iter().fold(0.0, |s, &v| s + v)
}

/// Steps from 00:00 to the end of the first step (smash truncates a fractional count).
pub fn step_offset(time: &TimeAxis) -> usize {
    let first = time.step_end(0);
    let since_midnight = (first - first.date().and_hms_opt(0, 0, 0).unwrap()).num_seconds();
    (since_midnight as f64 / time.dt as f64) as usize
}

/// The day of the leap year 2020 with day-of-year `doy` (1-based).
pub fn leap_day(doy: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2020, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap() + Duration::days(doy as i64 - 1)
}

/// Day-of-year (1-based) of each step end.
pub fn step_days(time: &TimeAxis) -> Vec<u32> {
    (0..time.ntime).map(|k| time.step_end(k).ordinal()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_datetime;

    /// float32 bits printed by numpy for smash's ratios (`np.repeat(R, h)/h` or `np.sum(R.reshape(-1, g), 1)`).
    #[test]
    fn ratios_match_numpy_bits() {
        let bits = |dt| pet_ratios(dt).unwrap().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(86_400), [0x3f80_0000]);
        assert_eq!(bits(43_200), [0x3ec4_1894, 0x3f1d_f3b6]);
        assert_eq!(bits(21_600), [0, 0x3ec4_1894, 0x3f14_fdf3, 0x3d0f_5c29]);
        assert_eq!(bits(14_400), [0, 0x3d0f_5c29, 0x3eb2_2d0e, 0x3ee1_cac0, 0x3e34_3958, 0]);
        assert_eq!(bits(10_800), [0, 0, 0x3dc6_a7f0, 0x3e92_6e98, 0x3eb0_20c4, 0x3e73_b646, 0x3d0f_5c29, 0]);
        assert_eq!(bits(7_200)[3..7], [0x3d0f_5c29, 0x3e10_624e, 0x3e53_f7cf, 0x3e6f_9db2]);
        assert_eq!(bits(3_600)[7..10], [0x3d0f_5c29, 0x3d7d_f3b6, 0x3da1_cac1]);
        assert_eq!(bits(1_800)[14..17], [0x3c8f_5c29, 0x3c8f_5c29, 0x3cfd_f3b6]);
        assert_eq!(bits(900)[28..30], [0x3c0f_5c29, 0x3c0f_5c29]);
        assert_eq!(pet_ratios(900).unwrap().len(), 96);
        assert!(pet_ratios(5_400).is_err());
        assert!(pet_ratios(2_400).is_err());
    }

    #[test]
    fn leap_calendar_and_offset() {
        // 2014-09-15 is day 258; day 258 of 2020 is 09-14 (the quirk of spec §8).
        let axis = TimeAxis { start: parse_datetime("2014-09-15 00:00").unwrap(), dt: 3600, ntime: 24 };
        assert_eq!(step_days(&axis)[0], 258);
        assert_eq!(step_days(&axis)[23], 259); // 2014-09-16 00:00 ends step 23
        assert_eq!(leap_day(258), parse_datetime("2020-09-14").unwrap());
        assert_eq!(step_offset(&axis), 1);
        let daily = TimeAxis { start: parse_datetime("2012-08-01").unwrap(), dt: 86_400, ntime: 3 };
        assert_eq!(step_offset(&daily), 0);
    }
}
