//! Environment variables (OpenSHMEM's `SHMEM_*`, the deprecated `SMA_*` spellings, and
//! rshmem's own `RSHMEM_*`): the table and its readers are `rshmem_transport::env`,
//! re-exported here (the transport is the lowest crate that reads settings); this module
//! adds the size syntax ([`parse_size`]), the typed [`Config`] read at init, and the
//! readers that return [`Error`].
use crate::error::{Error, Result};
pub use rshmem_transport::env::*;

/// [`Config::symmetric_size`] when no variable sets it. The runtime then sizes the heap
/// from the machine instead (`rshmem::heap::default_size`: RAM, /dev/shm, PEs per node).
///
/// ```
/// assert_eq!(rshmem::env::DEFAULT_SYMMETRIC_SIZE, 512 << 20);
/// ```
pub const DEFAULT_SYMMETRIC_SIZE: usize = 512 << 20;

/// Settings taken from the environment.
///
/// ```
/// let cfg = rshmem::env::Config::from_env().expect("valid environment");
/// assert!(cfg.symmetric_size > 0);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Symmetric heap size in bytes (`SHMEM_SYMMETRIC_SIZE`).
    pub symmetric_size: usize,
    /// Costly argument checks (`SHMEM_DEBUG`).
    pub debug: bool,
    /// Print the configuration at init (`SHMEM_INFO`).
    pub info: bool,
    /// Print the library version at init (`SHMEM_VERSION`).
    pub version: bool,
}

impl Config {
    /// Reads the environment. An unusable value is an [`Error::InvalidEnv`].
    pub fn from_env() -> Result<Self> {
        let symmetric_size = match text_and_name(&SHMEM_SYMMETRIC_SIZE) {
            // The name the value was found under (`SMA_SYMMETRIC_SIZE` if only that is set).
            Some((v, name)) => parse_size(name, &v)?,
            None => DEFAULT_SYMMETRIC_SIZE,
        };
        // Checked here, at init, so that a bad value is refused before the bootstrap uses it.
        bootstrap_timeout()?;
        Ok(Self {
            symmetric_size,
            debug: flag(&SHMEM_DEBUG),
            info: flag(&SHMEM_INFO),
            version: flag(&SHMEM_VERSION),
        })
    }
}

/// Default of `RSHMEM_BOOTSTRAP_TIMEOUT` (seconds).
pub const DEFAULT_BOOTSTRAP_TIMEOUT: f64 = 60.0;

/// `RSHMEM_BOOTSTRAP_TIMEOUT`: seconds from 0.001 to 1000000, default
/// [`DEFAULT_BOOTSTRAP_TIMEOUT`]; anything else (`inf`, `1e99`, `abc`, `-5`, `0`) is an
/// [`Error::InvalidEnv`] naming the variable, the value and the accepted range.
pub fn bootstrap_timeout() -> Result<std::time::Duration> {
    let secs = real(&RSHMEM_BOOTSTRAP_TIMEOUT).map_err(invalid)?;
    Ok(std::time::Duration::from_secs_f64(
        secs.unwrap_or(DEFAULT_BOOTSTRAP_TIMEOUT),
    ))
}

/// Reads a numeric variable with the one parser of numeric variables
/// ([`rshmem_transport::env::parse_number`]): `Ok(None)` when unset or empty, a value in
/// `min..=max`, or [`Error::InvalidEnv`].
pub fn number<T: rshmem_transport::env::Number>(
    var: &'static str,
    min: T,
    max: T,
) -> Result<Option<T>> {
    rshmem_transport::env::number(var, min, max).map_err(invalid)
}

/// An unusable value as an [`Error::InvalidEnv`] (the same words as [`EnvError`]'s).
pub fn invalid(e: EnvError) -> Error {
    Error::InvalidEnv {
        var: e.var,
        value: e.value,
        reason: format!("expected {} (or unset for the default)", e.accepted),
    }
}

/// Parses a size in OpenSHMEM syntax: a non-negative integer or decimal number with an
/// optional `k/K/m/M/g/G/t/T` suffix (powers of 1024) — e.g. `4096`, `64k`, `1.5G`.
///
/// ```
/// use rshmem::env::parse_size;
/// assert_eq!(parse_size("SHMEM_SYMMETRIC_SIZE", "1.5k").unwrap(), 1536);
/// assert!(parse_size("SHMEM_SYMMETRIC_SIZE", "lots").is_err());
/// ```
pub fn parse_size(var: &'static str, value: &str) -> Result<usize> {
    let bad = |reason: &str| Error::InvalidEnv {
        var,
        value: value.to_string(),
        reason: format!(
            "{reason}; use a positive number with an optional k, m, g or t suffix, e.g. {var}=1G"
        ),
    };
    let v = value.trim();
    let (num, mult) = match v.char_indices().last() {
        None => return Err(bad("empty value")),
        Some((i, c)) => match c.to_ascii_lowercase() {
            'k' => (&v[..i], 1u64 << 10),
            'm' => (&v[..i], 1 << 20),
            'g' => (&v[..i], 1 << 30),
            't' => (&v[..i], 1 << 40),
            c if c.is_ascii_digit() || c == '.' => (v, 1),
            _ => return Err(bad(&format!("unknown suffix {c:?}"))),
        },
    };
    if num.is_empty()
        || !num.chars().all(|c| c.is_ascii_digit() || c == '.')
        || num.matches('.').count() > 1
        || num == "."
    {
        return Err(bad("not a number"));
    }
    let bytes = if num.contains('.') {
        let f: f64 = num.parse().map_err(|_| bad("not a number"))?;
        (f * mult as f64).round()
    } else {
        let n: u64 = num.parse().map_err(|_| bad("number too large"))?;
        n.checked_mul(mult).ok_or_else(|| bad("size too large"))? as f64
    };
    if bytes < 1.0 {
        return Err(bad("size must be at least 1 byte"));
    }
    if bytes > (1u64 << 46) as f64 {
        return Err(bad("size larger than 64 TiB"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn valid_sizes() {
        let p = |s| parse_size("SHMEM_SYMMETRIC_SIZE", s).unwrap();
        assert_eq!(p("4096"), 4096);
        assert_eq!(p("1k"), 1024);
        assert_eq!(p("1K"), 1024);
        assert_eq!(p("2m"), 2 << 20);
        assert_eq!(p("512M"), 512 << 20);
        assert_eq!(p("1g"), 1 << 30);
        assert_eq!(p("1T"), 1 << 40);
        assert_eq!(p("1.5G"), 3 << 29);
        assert_eq!(p(" 64k "), 65536);
        assert_eq!(p("0.5k"), 512);
    }

    #[test]
    fn invalid_sizes_name_the_variable_and_value() {
        for bad in [
            "",
            "abc",
            "12q",
            "-5",
            "1.2.3",
            "k",
            "0",
            "0.0001k",
            "1e9",
            "99999999999999999999",
            "100000T",
        ] {
            let e = parse_size("SHMEM_SYMMETRIC_SIZE", bad)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("SHMEM_SYMMETRIC_SIZE") && e.contains(&format!("{bad:?}")),
                "{bad}: {e}"
            );
        }
    }

    /// Every `RSHMEM_*`/`SHMEM_*` variable the code reads is in [`VARS`] (what `rshmem-info`
    /// and `SHMEM_INFO=1` print), and settings are read only through the env module: in
    /// every source file of the workspace that reads the environment (`env::var`, `var_os`,
    /// `getenv`, the collectives' lookup), each string literal that is such a name must be
    /// in the table or [`LAUNCHER_PROVIDED`] (set by launchers, not settings; the PMI secret
    /// is never printed, docs/ARCHITECTURE.md "Security"), and no file but the env module
    /// reads a table variable directly (by its name as a string literal). A new variable that
    /// is read but not listed, or a setting read around the table, fails here.
    #[test]
    fn every_variable_read_is_in_the_table() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let the_module = root.join("transport/src/env.rs");
        let mut direct = Vec::new();
        let mut files = Vec::new();
        let mut dirs: Vec<_> = [
            "runtime/src",
            "transport/src",
            "collectives/src",
            "capi/src",
            "capi/include",
            "launcher/src",
        ]
        .iter()
        .map(|d| root.join(d))
        .collect();
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p
                    .extension()
                    .is_some_and(|x| x == "rs" || x == "c" || x == "h")
                {
                    files.push(p);
                }
            }
        }
        assert!(
            files.len() > 20,
            "source tree not found from {}",
            root.display()
        );
        let mut missing = Vec::new();
        let mut seen = 0;
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            if *f != the_module {
                for read in ["env::var(\"", "env::var_os(\"", "getenv(\""] {
                    for (i, _) in text.match_indices(read) {
                        let name: String = text[i + read.len()..]
                            .chars()
                            .take_while(|c| *c != '"')
                            .collect();
                        if lookup(&name).is_some() {
                            direct.push(format!("{name} ({})", f.display()));
                        }
                    }
                }
            }
            if !["env::var", "var_os", "getenv", "from_lookup"]
                .iter()
                .any(|r| text.contains(r))
            {
                continue;
            }
            for (i, _) in text.match_indices('"') {
                let rest = &text[i + 1..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let is_var = (name.starts_with("RSHMEM_") || name.starts_with("SHMEM_"))
                    && !name.ends_with('_')
                    && rest[name.len()..].starts_with('"');
                if is_var {
                    seen += 1;
                    if !VARS.iter().any(|v| v.name == name) && !is_launcher_provided(&name) {
                        missing.push(format!("{name} ({})", f.display()));
                    }
                }
            }
        }
        assert!(
            seen > 10,
            "found only {seen} variable names: is the scan broken?"
        );
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "read from the environment but not in rshmem::env::VARS (add them with a default and a description): {missing:?}"
        );
        assert!(
            direct.is_empty(),
            "settings read directly instead of through rshmem_transport::env (text, flag, int, real): {direct:?}"
        );
    }

    /// The user's list (README.md, "Environment variables") names every variable of the
    /// table (`RSHMEM_{A,B}_ALGORITHM` counts for both).
    #[test]
    fn the_readme_lists_every_variable() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
        let mut listed: Vec<String> = Vec::new();
        for (i, _) in readme.match_indices("RSHMEM_{") {
            let rest = &readme[i + "RSHMEM_{".len()..];
            let (alts, after) = rest.split_once('}').unwrap();
            let tail: String = after
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            listed.extend(alts.split(',').map(|a| format!("RSHMEM_{a}{tail}")));
        }
        let missing: Vec<&str> = VARS
            .iter()
            .map(|v| v.name)
            .filter(|n| !readme.contains(&format!("`{n}`")) && !listed.iter().any(|l| l == n))
            .collect();
        assert!(
            missing.is_empty(),
            "in rshmem::env::VARS but not in README.md's list: {missing:?}"
        );
    }

    /// The table's choices for the `RSHMEM_*_ALGORITHM` variables (what users read) are the
    /// names the collectives accept, all of them.
    #[test]
    fn algorithm_choices_in_the_table_are_what_the_collectives_accept() {
        use rshmem_collectives::Overrides;
        let algs: Vec<&Var> = VARS
            .iter()
            .filter(|v| v.name.ends_with("_ALGORITHM"))
            .collect();
        assert_eq!(algs.len(), 5);
        for v in algs {
            let Parser::Choice(names) = v.parser else {
                panic!("{} is not a choice", v.name)
            };
            for n in names {
                let o = Overrides::from_lookup(|k| (k == v.name).then(|| n.to_string()));
                assert!(o.is_ok_and(|o| o != Overrides::default()), "{}={n}", v.name);
            }
            let e = Overrides::from_lookup(|k| (k == v.name).then(|| "nonsense".to_string()))
                .unwrap_err();
            assert_eq!(e.var, v.name);
            assert_eq!(e.expected, names, "{}", v.name);
        }
    }

    #[test]
    fn bootstrap_timeout_refuses_unusable_values() {
        // The parser as `bootstrap_timeout` calls it (the environment is process-wide, so
        // the values are given directly).
        for bad in ["inf", "1e99", "abc", "-5", "0", "NaN"] {
            let e = rshmem_transport::env::parse_number::<f64>(
                "RSHMEM_BOOTSTRAP_TIMEOUT",
                bad,
                0.001,
                1e6,
            )
            .unwrap_err()
            .to_string();
            assert!(
                e.contains("RSHMEM_BOOTSTRAP_TIMEOUT") && e.contains("from 0.001 to 1000000"),
                "{e}"
            );
        }
    }

    proptest! {
        #[test]
        fn integers_with_suffixes(n in 1u64..100_000, s in 0usize..5) {
            let (suf, mult) = [("", 1u64), ("k", 1 << 10), ("M", 1 << 20), ("g", 1 << 30), ("T", 1 << 40)][s];
            prop_assert_eq!(parse_size("X", &format!("{n}{suf}")).ok(), (n * mult <= 1 << 46).then_some((n * mult) as usize));
        }
    }
}
