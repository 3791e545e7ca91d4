//! The one parser of numeric environment variables (`RSHMEM_*`, `SHMEM_*`): a value is
//! used only when it is a number of the expected kind within the accepted range; anything
//! else (`abc`, `-5`, `0` where 0 is not allowed, `inf`, `nan`, `1e99`) is an error that
//! names the variable, the value and what is accepted. An unset or empty variable means the
//! default. The variables themselves are listed in `rshmem::env::VARS` (what `rshmem-info`
//! and `SHMEM_INFO=1` print); the runtime's sizes (`SHMEM_SYMMETRIC_SIZE`) have their own
//! syntax and parser (`rshmem::env::parse_size`).
use std::fmt::Display;
use std::str::FromStr;

/// An unusable value of an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvError {
    /// The variable.
    pub var: &'static str,
    /// Its value, as set.
    pub value: String,
    /// What is accepted, e.g. `an integer from 1 to 31`.
    pub accepted: String,
}

impl Display for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid {}={:?}: expected {} (or unset for the default)",
            self.var, self.value, self.accepted
        )
    }
}

impl std::error::Error for EnvError {}

/// Number types the parser accepts: integers (decimal digits only) and `f64` (finite).
pub trait Number: FromStr + PartialOrd + Display + Copy {
    /// `integer` or `number`, for the message.
    const KIND: &'static str;
}

macro_rules! ints {
    ($($t:ty),*) => {$(impl Number for $t { const KIND: &'static str = "an integer"; })*};
}
ints!(u8, u16, u32, u64, usize, i32, i64);
impl Number for f64 {
    const KIND: &'static str = "a number";
}

/// Parses `value` of variable `var` as a `T` in `min..=max` (surrounding blanks allowed).
///
/// ```
/// use rshmem_transport::env::parse_number;
/// assert_eq!(parse_number::<u32>("RSHMEM_VERBS_POST_LIST", " 16 ", 1, 64), Ok(16));
/// let e = parse_number::<f64>("RSHMEM_BOOTSTRAP_TIMEOUT", "inf", 0.001, 1e6).unwrap_err();
/// assert!(e.to_string().contains("RSHMEM_BOOTSTRAP_TIMEOUT=\"inf\""));
/// ```
pub fn parse_number<T: Number>(
    var: &'static str,
    value: &str,
    min: T,
    max: T,
) -> Result<T, EnvError> {
    let bad = || EnvError {
        var,
        value: value.to_string(),
        accepted: format!("{} from {min} to {max}", T::KIND),
    };
    let v = value.trim();
    // f64's parser also takes "inf", "NaN", "infinity": only digits, sign, '.', 'e' here.
    if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) {
        return Err(bad());
    }
    let n: T = v.parse().map_err(|_| bad())?;
    // `!(a <= b)` rather than `a > b`: a NaN is outside every range.
    if !(min <= n && n <= max) {
        return Err(bad());
    }
    Ok(n)
}

/// Reads variable `var`: `Ok(None)` when unset or empty, else [`parse_number`].
pub fn number<T: Number>(var: &'static str, min: T, max: T) -> Result<Option<T>, EnvError> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => parse_number(var, &v, min, max).map(Some),
        Ok(_) => Ok(None),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(EnvError {
            var,
            value: v.to_string_lossy().into_owned(),
            accepted: format!("{} from {min} to {max}", T::KIND),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_use_naming_variable_value_and_range() {
        for bad in [
            "inf", "-inf", "NaN", "1e99", "abc", "-5", "0", "", " ", "1s", "0x10",
        ] {
            let e = parse_number::<f64>("RSHMEM_BOOTSTRAP_TIMEOUT", bad, 0.001, 1e6).unwrap_err();
            let m = e.to_string();
            assert!(
                m.contains(&format!("RSHMEM_BOOTSTRAP_TIMEOUT={bad:?}"))
                    && m.contains("from 0.001 to 1000000"),
                "{bad}: {m}"
            );
        }
        for bad in [
            "abc",
            "-5",
            "0",
            "1.5",
            "65",
            "99999999999999999999999",
            "1e3",
        ] {
            let m = parse_number::<u32>("RSHMEM_VERBS_POST_LIST", bad, 1, 64)
                .unwrap_err()
                .to_string();
            assert!(
                m.contains("RSHMEM_VERBS_POST_LIST") && m.contains("an integer from 1 to 64"),
                "{bad}: {m}"
            );
        }
    }

    #[test]
    fn accepts_numbers_in_range() {
        assert_eq!(parse_number::<f64>("X", "2.5", 0.001, 1e6), Ok(2.5));
        assert_eq!(parse_number::<f64>("X", "1e3", 0.001, 1e6), Ok(1000.0));
        assert_eq!(parse_number::<f64>("X", " 60\n", 0.001, 1e6), Ok(60.0));
        assert_eq!(parse_number::<u8>("X", "31", 1, 31), Ok(31));
        assert_eq!(parse_number::<u64>("X", "0", 0, 10), Ok(0));
    }
}
