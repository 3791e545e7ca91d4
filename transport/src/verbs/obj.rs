//! RAII owners of the libibverbs objects: device list, context, protection domain,
//! completion queue, queue pair, memory region (and the anonymous mapping of the bounce
//! buffer). This is the only file of the transport that calls `ibv_*`.
//!
//! Each owner frees its object in `Drop` and holds an `Arc` of what the object depends on
//! (a QP keeps its PD and CQ alive, a PD and a CQ their context, an MR its PD), so objects
//! can be dropped in any order and never outlive their parents. What an owner cannot
//! guarantee is stated on its constructor: an [`Mr`] must not outlive the memory it
//! registers. The hot-path calls ([`Qp::post_send`], [`Cq::poll`], [`Mr::lkey`]) are
//! `#[inline]` one-liners over the raw pointer: no reference count is touched per operation.
//!
//! Self-contained (std, libc and rdma-sys only) so that the Soft-RoCE probe
//! (scripts/verbs-vm/probe) can include it with `#[path]`.
#![allow(dead_code)] // the probe and the transport use different subsets

use rdma_sys::*;
use std::ffi::CStr;
use std::io;
use std::mem::{size_of, zeroed};
use std::os::raw::{c_int, c_void};
use std::ptr::null_mut;
use std::sync::Arc;

fn errno() -> io::Error {
    io::Error::last_os_error()
}

extern "C" {
    /// The exported function behind verbs.h's inline `ibv_query_gid_ex` (IBVERBS_1.11).
    /// rdma-sys 0.3's bindgen allowlist (`ibv_.*`) drops leading-underscore symbols
    /// (see docs/verbs-vm.md).
    fn _ibv_query_gid_ex(
        context: *mut ibv_context,
        port_num: u32,
        gid_index: u32,
        entry: *mut ibv_gid_entry,
        flags: u32,
        entry_size: usize,
    ) -> c_int;
}

/// The list of RDMA devices (`ibv_get_device_list`), freed on drop.
pub struct DeviceList {
    list: *mut *mut ibv_device,
    n: usize,
}

impl DeviceList {
    /// Lists the devices; `Err` (errno) when libibverbs cannot list at all.
    pub fn get() -> io::Result<Self> {
        let mut n: c_int = 0;
        // SAFETY: `n` is a valid out-pointer; a non-null result is freed in `Drop`.
        let list = unsafe { ibv_get_device_list(&mut n) };
        if list.is_null() {
            return Err(errno());
        }
        Ok(Self {
            list,
            n: n.max(0) as usize,
        })
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there is no device.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Name of device `i` (`< len()`).
    pub fn name(&self, i: usize) -> String {
        assert!(i < self.n);
        // SAFETY: `i < n` entries of the live list; the name is a C string owned by the
        // device, copied out here.
        unsafe {
            CStr::from_ptr(ibv_get_device_name(*self.list.add(i)))
                .to_string_lossy()
                .into_owned()
        }
    }

    /// Opens device `i` (`< len()`).
    pub fn open(&self, i: usize) -> io::Result<Arc<Context>> {
        assert!(i < self.n);
        // SAFETY: entry `i` of the live list; a context stays valid after the list is freed.
        let ctx = unsafe { ibv_open_device(*self.list.add(i)) };
        if ctx.is_null() {
            return Err(errno());
        }
        Ok(Arc::new(Context { ctx }))
    }
}

impl Drop for DeviceList {
    fn drop(&mut self) {
        // SAFETY: the list came from ibv_get_device_list and is freed once.
        unsafe { ibv_free_device_list(self.list) }
    }
}

/// An open device (`ibv_context`), closed on drop (after every PD and CQ made from it,
/// which hold it).
pub struct Context {
    ctx: *mut ibv_context,
}

impl Context {
    /// The raw context (for calls not wrapped here).
    pub fn as_ptr(&self) -> *mut ibv_context {
        self.ctx
    }

    /// `ibv_query_device`.
    pub fn query_device(&self) -> io::Result<ibv_device_attr> {
        // SAFETY: a plain C struct, all-zero is valid; the context is live.
        let mut da: ibv_device_attr = unsafe { zeroed() };
        // SAFETY: live context, `da` is a valid out-pointer.
        match unsafe { ibv_query_device(self.ctx, &mut da) } {
            0 => Ok(da),
            _ => Err(errno()),
        }
    }

    /// `ibv_query_port` (the exported compat symbol, which fills the classic fields:
    /// state, MTUs, lid, link layer); `None` when it fails (errno says why).
    pub fn query_port(&self, port: u8) -> Option<ibv_port_attr> {
        // SAFETY: a plain C struct, all-zero is valid.
        let mut a: ibv_port_attr = unsafe { zeroed() };
        // SAFETY: live context; `ibv_port_attr` starts with the compat struct's layout.
        let rc = unsafe {
            ibv_query_port(
                self.ctx,
                port,
                &mut a as *mut ibv_port_attr as *mut _compat_ibv_port_attr,
            )
        };
        (rc == 0).then_some(a)
    }

    /// `ibv_query_gid`: the raw GID at `index`.
    pub fn query_gid(&self, port: u8, index: u32) -> io::Result<[u8; 16]> {
        // SAFETY: a plain C union, all-zero is valid.
        let mut g: ibv_gid = unsafe { zeroed() };
        // SAFETY: live context, `g` is a valid out-pointer.
        match unsafe { ibv_query_gid(self.ctx, port, index as c_int, &mut g) } {
            // SAFETY: every bit pattern of the union is a valid byte array.
            0 => Ok(unsafe { g.raw }),
            _ => Err(errno()),
        }
    }

    /// `ibv_query_gid_ex`: the GID table entry at `index` (with its type); `None` for an
    /// empty slot (ENODATA) or an error.
    pub fn gid_entry(&self, port: u8, index: u32) -> Option<ibv_gid_entry> {
        // SAFETY: a plain C struct, all-zero is valid.
        let mut e: ibv_gid_entry = unsafe { zeroed() };
        // SAFETY: live context; `e` is a valid out-pointer of the size passed.
        let rc = unsafe {
            _ibv_query_gid_ex(
                self.ctx,
                port as u32,
                index,
                &mut e,
                0,
                size_of::<ibv_gid_entry>(),
            )
        };
        (rc == 0).then_some(e)
    }
}

impl Drop for Context {
    fn drop(&mut self) {
        // SAFETY: opened by ibv_open_device; every child object holds an Arc of this
        // context, so none is left.
        unsafe { ibv_close_device(self.ctx) };
    }
}

/// A protection domain, deallocated on drop (it keeps its context alive).
pub struct Pd {
    pd: *mut ibv_pd,
    _ctx: Arc<Context>,
}

impl Pd {
    /// The raw object (for calls not wrapped here); valid while `self` lives.
    pub fn as_ptr(&self) -> *mut ibv_pd {
        self.pd
    }

    /// `ibv_alloc_pd`.
    pub fn alloc(ctx: &Arc<Context>) -> io::Result<Arc<Self>> {
        // SAFETY: live context.
        let pd = unsafe { ibv_alloc_pd(ctx.ctx) };
        if pd.is_null() {
            return Err(errno());
        }
        Ok(Arc::new(Self {
            pd,
            _ctx: ctx.clone(),
        }))
    }
}

impl Drop for Pd {
    fn drop(&mut self) {
        // SAFETY: allocated by ibv_alloc_pd; QPs and MRs hold an Arc of this PD, so none
        // is left.
        unsafe { ibv_dealloc_pd(self.pd) };
    }
}

/// A completion queue, destroyed on drop (it keeps its context alive).
pub struct Cq {
    cq: *mut ibv_cq,
    _ctx: Arc<Context>,
}

impl Cq {
    /// The raw object (for calls not wrapped here); valid while `self` lives.
    pub fn as_ptr(&self) -> *mut ibv_cq {
        self.cq
    }

    /// `ibv_create_cq` with `cqe` entries, no channel.
    pub fn create(ctx: &Arc<Context>, cqe: c_int) -> io::Result<Arc<Self>> {
        // SAFETY: live context; no completion channel or context pointer.
        let cq = unsafe { ibv_create_cq(ctx.ctx, cqe, null_mut(), null_mut(), 0) };
        if cq.is_null() {
            return Err(errno());
        }
        Ok(Arc::new(Self {
            cq,
            _ctx: ctx.clone(),
        }))
    }

    /// `ibv_poll_cq` into `wc`: the number of completions written, negative on error.
    #[inline]
    pub fn poll(&self, wc: &mut [ibv_wc]) -> c_int {
        // SAFETY: live CQ; `wc` holds `wc.len()` writable entries.
        unsafe {
            ibv_poll_cq(
                self.cq,
                wc.len().min(c_int::MAX as usize) as c_int,
                wc.as_mut_ptr(),
            )
        }
    }
}

impl Drop for Cq {
    fn drop(&mut self) {
        // SAFETY: created by ibv_create_cq; QPs hold an Arc of this CQ, so none uses it.
        unsafe { ibv_destroy_cq(self.cq) };
    }
}

/// A queue pair, destroyed on drop (it keeps its PD and CQ alive).
pub struct Qp {
    qp: *mut ibv_qp,
    _pd: Arc<Pd>,
    _cq: Arc<Cq>,
}

impl Qp {
    /// The raw object (for calls not wrapped here); valid while `self` lives.
    pub fn as_ptr(&self) -> *mut ibv_qp {
        self.qp
    }

    /// `ibv_create_qp` with `init` (its `send_cq`/`recv_cq` are set to `cq` here). On
    /// success `init.cap` holds what the device granted.
    pub fn create(pd: &Arc<Pd>, cq: &Arc<Cq>, init: &mut ibv_qp_init_attr) -> io::Result<Self> {
        init.send_cq = cq.cq;
        init.recv_cq = cq.cq;
        // SAFETY: live PD and CQ; `init` is a valid, initialized attribute struct.
        let qp = unsafe { ibv_create_qp(pd.pd, init) };
        if qp.is_null() {
            return Err(errno());
        }
        Ok(Self {
            qp,
            _pd: pd.clone(),
            _cq: cq.clone(),
        })
    }

    /// The QP number.
    pub fn num(&self) -> u32 {
        // SAFETY: live QP; `qp_num` is set at creation and never changes.
        unsafe { (*self.qp).qp_num }
    }

    /// `ibv_modify_qp`; `Err` carries the return code as an OS error.
    pub fn modify(&self, attr: &mut ibv_qp_attr, mask: ibv_qp_attr_mask) -> io::Result<()> {
        // SAFETY: live QP; `attr` is initialized for the fields `mask` names.
        match unsafe { ibv_modify_qp(self.qp, attr, mask.0 as c_int) } {
            0 => Ok(()),
            rc => Err(io::Error::from_raw_os_error(rc)),
        }
    }

    /// `ibv_post_send` of the list starting at `wr`; on failure returns the code and sets
    /// `bad` to the first request not posted.
    ///
    /// # Safety
    /// `wr` must head a list of initialized requests linked by `next` (null-terminated),
    /// whose SGEs point at memory valid now (inline data is copied by the post) or at
    /// registered memory that stays valid until the request completes.
    #[inline]
    pub unsafe fn post_send(&self, wr: *mut ibv_send_wr, bad: &mut *mut ibv_send_wr) -> c_int {
        // SAFETY: live QP; the list is the caller's contract.
        unsafe { ibv_post_send(self.qp, wr, bad) }
    }
}

impl Drop for Qp {
    fn drop(&mut self) {
        // SAFETY: created by ibv_create_qp and destroyed once; its PD and CQ are alive
        // (held by this owner).
        unsafe { ibv_destroy_qp(self.qp) };
    }
}

/// The access rights every region gets: local write, remote read, write and atomics.
pub fn full_access() -> ibv_access_flags {
    ibv_access_flags::IBV_ACCESS_LOCAL_WRITE
        | ibv_access_flags::IBV_ACCESS_REMOTE_WRITE
        | ibv_access_flags::IBV_ACCESS_REMOTE_READ
        | ibv_access_flags::IBV_ACCESS_REMOTE_ATOMIC
}

/// A registered memory region, deregistered on drop (it keeps its PD alive). The keys are
/// read once at registration.
pub struct Mr {
    mr: *mut ibv_mr,
    lkey: u32,
    rkey: u32,
    _pd: Arc<Pd>,
}

impl Mr {
    /// `ibv_reg_mr` of `[addr, addr+len)` with `access`; `Err` is errno.
    ///
    /// # Safety
    /// The range must be mapped and stay mapped for the life of the returned region.
    pub unsafe fn reg(
        pd: &Arc<Pd>,
        addr: usize,
        len: usize,
        access: ibv_access_flags,
    ) -> io::Result<Self> {
        // SAFETY: live PD; the range is mapped (caller).
        let mr = unsafe { ibv_reg_mr(pd.pd, addr as *mut c_void, len, access.0 as c_int) };
        if mr.is_null() {
            return Err(errno());
        }
        // SAFETY: a live MR just returned by ibv_reg_mr.
        let (lkey, rkey) = unsafe { ((*mr).lkey, (*mr).rkey) };
        Ok(Self {
            mr,
            lkey,
            rkey,
            _pd: pd.clone(),
        })
    }

    /// Local key.
    #[inline(always)]
    pub fn lkey(&self) -> u32 {
        self.lkey
    }

    /// Remote key.
    #[inline(always)]
    pub fn rkey(&self) -> u32 {
        self.rkey
    }
}

impl Drop for Mr {
    fn drop(&mut self) {
        // SAFETY: registered by ibv_reg_mr and deregistered once; its PD is alive (held).
        unsafe { ibv_dereg_mr(self.mr) };
    }
}

/// A private anonymous read/write mapping (the bounce buffer), unmapped on drop. An
/// [`Mr`] over it must be dropped first (declare it before the mapping in a struct).
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    /// `mmap` of `len` zeroed bytes.
    pub fn anonymous(len: usize) -> io::Result<Self> {
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(errno());
        }
        Ok(Self {
            ptr: p as *mut u8,
            len,
        })
    }

    /// Start of the mapping.
    #[inline(always)]
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping of `len` bytes, unmapped once.
        unsafe { libc::munmap(self.ptr as *mut c_void, self.len) };
    }
}

/// The text of a completion status (`ibv_wc_status_str`).
pub fn wc_status_str(s: ibv_wc_status::Type) -> String {
    // SAFETY: ibv_wc_status_str returns a static C string for any value.
    unsafe { CStr::from_ptr(ibv_wc_status_str(s)) }
        .to_string_lossy()
        .into_owned()
}

// SAFETY (Send/Sync for every owner): libibverbs objects may be used from any thread (the
// library locks internally where it must); the owners hold no thread-affine state, and
// `&self` methods only pass the pointer to libibverbs.
macro_rules! thread_safe {
    ($($t:ty),*) => {$(
        // SAFETY: see the comment above the macro.
        unsafe impl Send for $t {}
        // SAFETY: see the comment above the macro.
        unsafe impl Sync for $t {}
    )*};
}
thread_safe!(Context, Pd, Cq, Qp, Mr);
