//! The environment: every variable rshmem reads as a setting is one entry of [`VARS`]
//! (name, deprecated spelling, default, description, [`Parser`]), read only through this
//! module ([`text`], [`flag`], [`int`], [`real`]); `SHMEM_INFO=1` and `rshmem-info` print
//! the table. The runtime re-exports it as `rshmem::env` (with the size parser,
//! `rshmem::env::parse_size`, and the typed `Config`). Variables a launcher sets for its
//! processes (PMI, PMIx, Slurm, Open MPI, rshmemrun's own) are protocol inputs, not
//! settings: they are listed in [`LAUNCHER_PROVIDED`] and read by the bootstrap directly.
//!
//! Numbers have one parser ([`parse_number`]): a value is used only when it is a number of
//! the expected kind within the accepted range; anything else (`abc`, `-5`, `0` where 0 is
//! not allowed, `inf`, `nan`, `1e99`) is an error that names the variable, the value and
//! what is accepted. An unset or empty variable means the default.
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

/// Reads variable `var` by name: `Ok(None)` when unset or empty, else [`parse_number`].
/// `var` must be in [`VARS`] (the table test checks); [`int`] and [`real`] read an entry
/// with its own range.
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

// ---- The table ------------------------------------------------------------------------

/// How a variable's value is parsed (what [`int`], [`real`], [`flag`] expect; the other
/// kinds are checked by their one reader, named in the entry's documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Parser {
    /// On unless unset, empty, `0`, `no`, `false` or `off` (any case): [`flag`].
    Flag,
    /// An integer in `min..=max`: [`int`].
    Int {
        /// Smallest accepted value.
        min: u64,
        /// Largest accepted value.
        max: u64,
    },
    /// A finite number in `min..=max`: [`real`].
    Real {
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
    },
    /// A size with an optional k/m/g/t suffix (`rshmem::env::parse_size`).
    Size,
    /// One of a few words ([`text`]; the reader checks it and names the choices).
    Choice(&'static [&'static str]),
    /// Free text ([`text`]; the reader checks it).
    Text,
}

/// One environment variable: what `rshmem-info` and `SHMEM_INFO=1` print, and how it is
/// read (every read of a setting goes through this module with its entry).
///
/// ```
/// use rshmem_transport::env;
/// let v = &env::RSHMEM_VERBS_TIMEOUT;
/// println!("{} (default {}): {}", v.name, v.default, v.doc);
/// assert!(env::VARS.iter().any(|w| w.name == v.name));
/// ```
#[derive(Debug, PartialEq)]
pub struct Var {
    /// Name.
    pub name: &'static str,
    /// The deprecated spelling read when `name` is unset (`SMA_*` for `SHMEM_*`).
    pub alias: Option<&'static str>,
    /// Default, as text.
    pub default: &'static str,
    /// One-line description.
    pub doc: &'static str,
    /// How the value is parsed.
    pub parser: Parser,
}

macro_rules! vars {
    ($($(#[$m:meta])* $id:ident $(| $alias:ident)? = $default:literal, $parser:expr, $doc:literal;)*) => {
        $(
            $(#[$m])*
            #[doc = concat!("`", stringify!($id), "`: ", $doc, " (default: ", $default, ").")]
            pub const $id: Var = Var {
                name: stringify!($id),
                alias: vars!(@alias $($alias)?),
                default: $default,
                doc: $doc,
                parser: $parser,
            };
        )*
        /// Every variable rshmem reads as a setting, with defaults and descriptions (what
        /// `SHMEM_INFO=1` and `rshmem-info` print).
        ///
        /// ```
        /// assert!(rshmem_transport::env::VARS.iter().any(|v| v.name == "SHMEM_SYMMETRIC_SIZE"));
        /// ```
        pub const VARS: &[Var] = &[$($id),*];
    };
    (@alias) => { None };
    (@alias $a:ident) => { Some(stringify!($a)) };
}

vars! {
    SHMEM_SYMMETRIC_SIZE | SMA_SYMMETRIC_SIZE = "machine", Parser::Size,
        "symmetric heap size per PE (k/K/m/M/g/G/t/T suffixes; decimals allowed); unset: min(RAM, /dev/shm) / PEs per node, a power of two (rshmem::heap::default_size)";
    SHMEM_DEBUG | SMA_DEBUG = "0", Parser::Flag,
        "1: check that collective calls get the same arguments on every PE";
    SHMEM_INFO | SMA_INFO = "0", Parser::Flag,
        "1: print every variable with its value at init (PE 0)";
    SHMEM_VERSION | SMA_VERSION = "0", Parser::Flag,
        "1: print the library and specification version at init (PE 0)";
    RSHMEM_BOOTSTRAP_TIMEOUT = "60", Parser::Real { min: 0.001, max: 1e6 },
        "seconds allowed for connecting to the launcher and the bootstrap handshake (0.001 to 1000000)";
    RSHMEM_BOOTSTRAP = "auto", Parser::Choice(&["auto", "pmix", "pmi2", "pmi1", "pmi", "mpi", "singleton"]),
        "force the bootstrap: pmix, pmi2, pmi1, mpi (feature mpi) or singleton";
    RSHMEM_TRANSPORT = "auto", Parser::Choice(&["auto", "shm", "verbs", "rdma", "ibv", "tcp"]),
        "auto (shm within a node; verbs between nodes if every PE has RDMA, else tcp), shm, verbs or tcp (every peer)";
    RSHMEM_TCP_IF = "(route to launcher)", Parser::Text,
        "TCP transport: interface name or IP address to listen on (default: the address that reaches the launcher, else the first non-loopback one)";
    RSHMEM_TCP_CONGESTION = "auto", Parser::Text,
        "TCP transport: congestion control of its connections; auto: cubic (else reno) when the system's paces (bbr), else the system's; system; or a name the kernel allows";
    RSHMEM_DEVICE = "(first active)", Parser::Text,
        "RDMA device and port, name[:port]";
    RSHMEM_GID_INDEX = "(RoCE v2 IPv4)", Parser::Int { min: 0, max: 65535 },
        "GID table index instead of the RoCE v2 IPv4-mapped GID";
    RSHMEM_VERBS_SIGNAL_EVERY = "16", Parser::Int { min: 1, max: 1 << 16 },
        "verbs: signal at least every N work requests (1 = every one)";
    RSHMEM_VERBS_INLINE = "(device max)", Parser::Int { min: 0, max: 1 << 20 },
        "verbs: largest inline put in bytes (0 disables inline)";
    RSHMEM_VERBS_QUIET = "write", Parser::Choice(&["write", "read"]),
        "verbs: quiet flushes with a zero-length write, or `read`";
    RSHMEM_VERBS_POST_LIST = "16", Parser::Int { min: 1, max: 1024 },
        "verbs: small put_nbi requests posted as one list (1 = off; at most a quarter of the queue)";
    RSHMEM_VERBS_CONNECT = "auto", Parser::Choice(&["auto", "demand", "mesh"]),
        "verbs: connect to a peer on first use through rdma_cm (`demand`; needs an IPv4 RoCE GID), or to every peer at init (`mesh`); auto: demand when the GID is IPv4";
    RSHMEM_VERBS_TIMEOUT = "18", Parser::Int { min: 1, max: 31 },
        "verbs ACK timeout exponent 1..31: 4.096 us * 2^N per try (18 = 1.07 s)";
    RSHMEM_BARRIER_ALGORITHM = "auto", Parser::Choice(&["dissemination"]),
        "barrier algorithm: dissemination";
    RSHMEM_BCAST_ALGORITHM = "auto", Parser::Choice(&["binomial", "scatter-allgather"]),
        "broadcast algorithm: binomial, scatter-allgather";
    RSHMEM_REDUCE_ALGORITHM = "auto", Parser::Choice(&["recursive-doubling", "ring", "rabenseifner"]),
        "reduction algorithm: recursive-doubling, ring, rabenseifner";
    RSHMEM_COLLECT_ALGORITHM = "auto", Parser::Choice(&["recursive-doubling", "ring"]),
        "collect algorithm: ring, recursive-doubling";
    RSHMEM_ALLTOALL_ALGORITHM = "auto", Parser::Choice(&["pairwise"]),
        "alltoall algorithm: pairwise";
}

/// Variables set by a launcher for the processes it starts: protocol inputs, not settings.
/// They are read directly by the bootstrap (and the launcher), are not in [`VARS`], and
/// are never printed by `SHMEM_INFO` or `rshmem-info` (`RSHMEM_PMI_SECRET` in particular).
/// A trailing `*` is a prefix.
pub const LAUNCHER_PROVIDED: &[&str] = &[
    "PMI_FD",
    "PMI_PORT",
    "PMI_ID",
    "PMI_RANK",
    "PMI_SIZE",
    "PMI_JOBID",
    "PMIX_*",
    "SLURM_*",
    "OMPI_*",
    "RSHMEM_PMI_SECRET",
    "RSHMEM_LAUNCHER",
    "RSHMEM_LAUNCHER_JANITOR",
];

/// Whether `name` is in [`LAUNCHER_PROVIDED`].
///
/// ```
/// use rshmem_transport::env::is_launcher_provided;
/// assert!(is_launcher_provided("RSHMEM_PMI_SECRET") && is_launcher_provided("PMIX_RANK"));
/// assert!(!is_launcher_provided("RSHMEM_TRANSPORT"));
/// ```
pub fn is_launcher_provided(name: &str) -> bool {
    LAUNCHER_PROVIDED.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *p,
    })
}

/// The table entry named `name` (or whose deprecated spelling is `name`).
pub fn lookup(name: &str) -> Option<&'static Var> {
    VARS.iter()
        .find(|v| v.name == name || v.alias == Some(name))
}

/// The raw value of `var` and the name it was found under (`var.name`, else its
/// deprecated spelling); `None` when neither is set (or is not valid UTF-8).
pub fn text_and_name(var: &Var) -> Option<(String, &'static str)> {
    std::iter::once(var.name)
        .chain(var.alias)
        .find_map(|n| std::env::var(n).ok().map(|v| (v, n)))
}

/// The raw value of `var` (see [`text_and_name`]).
pub fn text(var: &Var) -> Option<String> {
    text_and_name(var).map(|(v, _)| v)
}

/// Whether `var` (or its deprecated spelling) is set at all, even empty or not UTF-8.
pub fn is_set(var: &Var) -> bool {
    std::iter::once(var.name)
        .chain(var.alias)
        .any(|n| std::env::var_os(n).is_some())
}

/// The value of `name` for a reader that names variables by string (the collectives'
/// `Overrides::from_lookup`): its table entry's [`text`]. A name that is not in [`VARS`]
/// reads as unset (and fails the table test in debug builds).
pub fn text_by_name(name: &str) -> Option<String> {
    let v = lookup(name);
    debug_assert!(v.is_some(), "{name} is not in rshmem_transport::env::VARS");
    v.and_then(text)
}

/// A [`Parser::Flag`] variable: on unless unset, empty, `0`, `no`, `false` or `off`.
pub fn flag(var: &Var) -> bool {
    debug_assert_eq!(var.parser, Parser::Flag, "{}", var.name);
    text(var).is_some_and(|v| {
        let v = v.trim().to_ascii_lowercase();
        !(v.is_empty() || v == "0" || v == "no" || v == "false" || v == "off")
    })
}

/// A [`Parser::Int`] variable: `Ok(None)` when unset or empty, else [`parse_number`] with
/// the entry's range.
pub fn int(var: &Var) -> Result<Option<u64>, EnvError> {
    match var.parser {
        Parser::Int { min, max } => number(var.name, min, max),
        _ => panic!("{} is not an integer variable", var.name),
    }
}

/// A [`Parser::Real`] variable: `Ok(None)` when unset or empty, else [`parse_number`] with
/// the entry's range.
pub fn real(var: &Var) -> Result<Option<f64>, EnvError> {
    match var.parser {
        Parser::Real { min, max } => number(var.name, min, max),
        _ => panic!("{} is not a numeric variable", var.name),
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
    fn the_table_is_complete_and_consistent() {
        for (i, v) in VARS.iter().enumerate() {
            assert!(
                v.name.starts_with("SHMEM_") || v.name.starts_with("RSHMEM_"),
                "{}",
                v.name
            );
            assert!(!v.doc.is_empty() && !v.default.is_empty(), "{}", v.name);
            assert!(!is_launcher_provided(v.name), "{} is a setting", v.name);
            assert!(
                VARS[..i].iter().all(|w| w.name != v.name),
                "{} twice",
                v.name
            );
            if let Some(a) = v.alias {
                assert_eq!(v.name.strip_prefix("SHMEM_"), a.strip_prefix("SMA_"));
            }
            assert_eq!(lookup(v.name), Some(v));
            match v.parser {
                Parser::Int { min, max } => assert!(min <= max, "{}", v.name),
                Parser::Real { min, max } => assert!(min <= max, "{}", v.name),
                _ => {}
            }
        }
        assert_eq!(lookup("SMA_DEBUG"), Some(&SHMEM_DEBUG));
        assert_eq!(lookup("NO_SUCH_VARIABLE"), None);
    }

    #[test]
    fn int_and_real_use_the_entry_range_and_keep_the_message() {
        // The messages users see for the variables now read through the table.
        let e = parse_number::<u64>("RSHMEM_VERBS_TIMEOUT", "32", 1, 31).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid RSHMEM_VERBS_TIMEOUT=\"32\": expected an integer from 1 to 31 (or unset for the default)"
        );
        assert_eq!(RSHMEM_VERBS_TIMEOUT.parser, Parser::Int { min: 1, max: 31 });
        assert_eq!(
            RSHMEM_BOOTSTRAP_TIMEOUT.parser,
            Parser::Real {
                min: 0.001,
                max: 1e6
            }
        );
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
