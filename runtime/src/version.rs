//! Versions: rshmem's own and the OpenSHMEM specification's it implements (a leaf module:
//! the runtime's info printing and the C API read them).

/// Version of rshmem (the workspace version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Major version of the OpenSHMEM specification implemented.
pub const SPEC_MAJOR: u32 = 1;
/// Minor version of the OpenSHMEM specification implemented.
pub const SPEC_MINOR: u32 = 6;
