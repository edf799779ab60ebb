//! `Access-Control-Max-Age`: how long a browser may keep a preflight answer.

use crate::error::{FieldPath, Problem, Report};
use serde_json::Number;

/// Browsers cap it lower; the Fetch Standard sets no limit, so this bounds
/// typos, not browsers.
const MAX_SECONDS: u32 = 86400;

/// Checks `max_age`: a whole number of seconds up to a day, however it was
/// written (`3600`, or `3600.0` as Istio passes every number).
pub(crate) fn compile(value: Option<&Number>, report: &mut Report) -> Option<Option<u32>> {
    let Some(number) = value else {
        return Some(None);
    };
    let seconds = match (number.as_u64(), number.as_f64()) {
        (Some(whole), _) => u32::try_from(whole).ok(),
        // `as` saturates, and the round trip keeps only whole values; -0.0 is 0.
        (None, Some(float)) if (0.0..=f64::from(MAX_SECONDS)).contains(&float) => {
            let whole = float as u32;
            (f64::from(whole) == float).then_some(whole)
        }
        _ => None,
    };
    match seconds.filter(|s| *s <= MAX_SECONDS) {
        Some(seconds) => Some(Some(seconds)),
        None => {
            report.problem(
                FieldPath::field("max_age"),
                Some(number),
                Problem::MaxAgeOutOfRange,
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_seconds_however_written() {
        let cases = [
            ("3600", Some(3600)),
            ("3600.0", Some(3600)),
            ("3.6e3", Some(3600)),
            ("360000e-2", Some(3600)),
            ("0", Some(0)),
            ("-0", Some(0)),
            ("-0.0", Some(0)),
            ("86400", Some(86400)),
            ("86401", None),
            ("1.5", None),
            ("-1", None),
            ("1e-1", None),
            ("99999999999999999999999", None),
        ];
        for (text, expected) in cases {
            let number: Number = serde_json::from_str(text).unwrap();
            let mut report = Report::default();
            assert_eq!(
                compile(Some(&number), &mut report),
                expected.map(Some),
                "{text}"
            );
            assert_eq!(
                report.errors.len(),
                usize::from(expected.is_none()),
                "{text}"
            );
        }
    }
}
