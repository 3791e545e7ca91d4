//! The PMI wire format, shared by `rshmemrun`'s PMI-1 server (crate `rshmem-launcher`) and
//! the runtime's PMI-1 and PMI-2 clients (crate `rshmem`): one codec, one set of rules.
//!
//! - [`Message`]: one `key=value` codec for both framings. PMI-1 ("simple" PMI) sends one
//!   message per line, tokens separated by spaces (`cmd=put kvsname=K key=k value=v\n`);
//!   PMI-2 sends a 6-character length and then `cmd=NAME;key=value;...;` ([`pmi2`]).
//! - [`LineReader`]: the bounded PMI-1 line reader.
//! - [`hex_encode`] / [`hex_decode`]: binary values travel hex-encoded (PMI values must be
//!   printable and carry no separator).
//! - [`ProcessMapping`]: `PMI_process_mapping`, which the launcher formats and the runtime
//!   parses.
//!
//! # The one parsing rule
//!
//! A message is a sequence of tokens (PMI-1: separated by one or more spaces or tabs;
//! PMI-2: by `;`), empty tokens are skipped, each token is split at its **first** `=` (a
//! value may contain `=`, a key may not be empty), and the **first token must be
//! `cmd=NAME`** with a non-empty name; a second `cmd=` is an error. Both real servers read
//! the command from the first token (Slurm's `pmi2` plugin refuses a request that does not
//! begin with `cmd=`; Hydra takes the command from the first token) and every client and
//! server we know writes it first, so a line with `cmd=` elsewhere is not PMI and is
//! refused (rshmemrun's server used to accept it anywhere, the runtime only first). Values
//! are never escaped: PMI-1 values hold no space, tab or newline, PMI-2 values no `;`
//! (neither Slurm nor Hydra honours `;;`).

mod hexval;
pub mod line;
pub mod mapping;
pub mod message;
pub mod pmi2;

pub use hexval::{hex_decode, hex_encode};
pub use line::{Line, LineReader, MAX_LINE_LEN};
pub use mapping::{parse_process_mapping, Block, ProcessMapping};
pub use message::{format_line, sanitize_value, Message, ParseError};
