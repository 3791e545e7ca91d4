//! The few libibverbs symbols that `rdma-sys` 0.3 does not bind (see docs/verbs-vm.md).
use rdma_sys::{ibv_context, ibv_gid_entry};
use std::os::raw::c_int;

extern "C" {
    /// The exported function behind verbs.h's inline `ibv_query_gid_ex` (IBVERBS_1.11).
    /// rdma-sys's bindgen allowlist (`ibv_.*`) drops leading-underscore symbols.
    pub fn _ibv_query_gid_ex(
        context: *mut ibv_context,
        port_num: u32,
        gid_index: u32,
        entry: *mut ibv_gid_entry,
        flags: u32,
        entry_size: usize,
    ) -> c_int;
}
