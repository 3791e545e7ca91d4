//! The PMI wire codec lives in the crate `rshmem-pmi` (one codec for rshmemrun's server and
//! the runtime's PMI-1 and PMI-2 clients); this module keeps its old path.

pub use rshmem_pmi::{
    format_line, hex_decode, hex_encode, parse_process_mapping, Message, ParseError, ProcessMapping,
};
