//! The PMI-1 ("simple" protocol) server side: request handling. The wire codec (messages,
//! the bounded line reader, `PMI_process_mapping`) is the crate `rshmem-pmi`, shared with
//! the runtime's PMI clients.

pub mod server;

pub use rshmem_pmi::{Message, ParseError, ProcessMapping};
pub use server::{Connection, PeState, PmiServer, ServerEvent};
