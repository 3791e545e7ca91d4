//! The PMI-1 ("simple" protocol) server side: wire codec and request handling.

pub mod server;
pub mod wire;

pub use server::{Connection, PeState, PmiServer, ServerEvent};
pub use wire::{Message, ParseError};
