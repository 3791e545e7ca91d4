//! PMIx client over `libpmix.so.2`, loaded at run time with `dlopen` so that machines
//! without libpmix still build and run every other bootstrap.
//!
//! Used under `srun --mpi=pmix` and Open MPI's `mpirun` (PMIx is the only thing it
//! offers). Rank comes from `PMIx_Init`, the size from `PMIX_JOB_SIZE` ("pmix.job.size")
//! on the namespace's wildcard rank, locality from `PMIX_NODEID` of every rank. Puts are
//! `PMIX_GLOBAL` strings, the barrier is `PMIx_Commit` + `PMIx_Fence` over the whole
//! namespace with `PMIX_COLLECT_DATA`.
//!
//! The structures below mirror PMIx 4.x (`pmix_common.h`), whose ABI is stable across 3.x
//! to 5.x: `pmix_proc_t` is 260 bytes (nspace `char[256]`, `uint32_t` rank), `pmix_value_t`
//! 32 (a `uint16_t` type, the data union at offset 8), `pmix_info_t` 552 (key `char[512]`,
//! `uint32_t` flags, the value at offset 520). Measured with `offsetof` against 4.2.2.
use super::Kvs;
use crate::error::{Error, Result};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::time::Duration;

const LIBS: &[&str] = &["libpmix.so.2", "libpmix.so"];
const NSLEN: usize = 256;
const KEYLEN: usize = 512;
const PMIX_SUCCESS: c_int = 0;
const PMIX_ERR_NOT_FOUND: c_int = -46;
const PMIX_RANK_WILDCARD: u32 = u32::MAX - 1;
const PMIX_GLOBAL: u8 = 3;
const PMIX_BOOL: u16 = 1;
const PMIX_STRING: u16 = 3;
const PMIX_SIZE: u16 = 4;
const PMIX_INT: u16 = 6;
const PMIX_INT32: u16 = 9;
const PMIX_INT64: u16 = 10;
const PMIX_UINT: u16 = 11;
const PMIX_UINT16: u16 = 13;
const PMIX_UINT32: u16 = 14;
const PMIX_UINT64: u16 = 15;

#[repr(C)]
#[derive(Clone, Copy)]
struct Proc {
    nspace: [c_char; NSLEN],
    rank: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Value {
    typ: u16,
    _pad: [u8; 6],
    data: [u64; 3],
}

#[repr(C)]
struct Info {
    key: [c_char; KEYLEN],
    flags: u32,
    _pad: u32,
    value: Value,
}

const _: () = assert!(std::mem::size_of::<Proc>() == 260);
const _: () = assert!(std::mem::size_of::<Value>() == 32);
const _: () = assert!(std::mem::size_of::<Info>() == 552);

type InitFn = unsafe extern "C" fn(*mut Proc, *mut Info, usize) -> c_int;
type FinalizeFn = unsafe extern "C" fn(*const Info, usize) -> c_int;
type PutFn = unsafe extern "C" fn(u8, *const c_char, *mut Value) -> c_int;
type CommitFn = unsafe extern "C" fn() -> c_int;
type FenceFn = unsafe extern "C" fn(*const Proc, usize, *const Info, usize) -> c_int;
type GetFn =
    unsafe extern "C" fn(*const Proc, *const c_char, *const Info, usize, *mut *mut Value) -> c_int;
type AbortFn = unsafe extern "C" fn(c_int, *const c_char, *mut Proc, usize) -> c_int;
type ValueDestructFn = unsafe extern "C" fn(*mut Value);
type ErrorStringFn = unsafe extern "C" fn(c_int) -> *const c_char;

struct Api {
    init: InitFn,
    finalize: FinalizeFn,
    put: PutFn,
    commit: CommitFn,
    fence: FenceFn,
    get: GetFn,
    abort: AbortFn,
    value_destruct: Option<ValueDestructFn>,
    error_string: Option<ErrorStringFn>,
}

fn perr(msg: String) -> Error {
    Error::Bootstrap {
        protocol: "pmix",
        msg,
    }
}

fn dlerror() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated string valid until the next dl call.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        // SAFETY: non-null, NUL-terminated (see above).
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

impl Api {
    /// Loads libpmix. The library is never unloaded (PMIx leaves progress threads behind).
    fn load() -> Result<Self> {
        let mut errs = Vec::new();
        let mut handle = std::ptr::null_mut();
        for lib in LIBS {
            let name = CString::new(*lib).expect("no NUL");
            // SAFETY: dlopen with a valid C string; RTLD_GLOBAL lets PMIx's own plugins
            // resolve its symbols.
            handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
            if !handle.is_null() {
                break;
            }
            errs.push(dlerror());
        }
        if handle.is_null() {
            return Err(perr(format!(
                "cannot load libpmix ({}); install libpmix2 (Debian: apt-get install libpmix2) or choose another bootstrap with RSHMEM_BOOTSTRAP",
                errs.join("; ")
            )));
        }
        let sym = |name: &str| -> *mut c_void {
            let c = CString::new(name).expect("no NUL");
            // SAFETY: `handle` is a live dlopen handle, `c` a valid C string.
            unsafe { libc::dlsym(handle, c.as_ptr()) }
        };
        macro_rules! need {
            ($name:literal, $t:ty) => {{
                let p = sym($name);
                if p.is_null() {
                    return Err(perr(format!("libpmix lacks the symbol {}", $name)));
                }
                // SAFETY: the symbol has this C signature in every PMIx since 2.0.
                unsafe { std::mem::transmute::<*mut c_void, $t>(p) }
            }};
        }
        let opt = |name: &str| {
            let p = sym(name);
            (!p.is_null()).then_some(p)
        };
        Ok(Self {
            init: need!("PMIx_Init", InitFn),
            finalize: need!("PMIx_Finalize", FinalizeFn),
            put: need!("PMIx_Put", PutFn),
            commit: need!("PMIx_Commit", CommitFn),
            fence: need!("PMIx_Fence", FenceFn),
            get: need!("PMIx_Get", GetFn),
            abort: need!("PMIx_Abort", AbortFn),
            // SAFETY: as above, optional symbols with their documented signatures.
            value_destruct: opt("PMIx_Value_destruct")
                .map(|p| unsafe { std::mem::transmute::<*mut c_void, ValueDestructFn>(p) }),
            // SAFETY: as above.
            error_string: opt("PMIx_Error_string")
                .map(|p| unsafe { std::mem::transmute::<*mut c_void, ErrorStringFn>(p) }),
        })
    }

    fn status(&self, rc: c_int) -> String {
        if let Some(f) = self.error_string {
            // SAFETY: PMIx_Error_string returns a static NUL-terminated string.
            let s = unsafe { f(rc) };
            if !s.is_null() {
                // SAFETY: non-null static string.
                let t = unsafe { CStr::from_ptr(s) }.to_string_lossy();
                return format!("{t} ({rc})");
            }
        }
        format!("status {rc}")
    }
}

/// Whether libpmix can be loaded with every symbol the client needs (without connecting
/// to a server): `Ok` with the library's version string (`PMIx_Get_version`), else why
/// not. For `rshmem-info`; loads the library like [`Pmix::init`] would.
pub fn probe() -> Result<String> {
    Api::load()?;
    let mut errs = Vec::new();
    for lib in LIBS {
        let name = CString::new(*lib).expect("no NUL");
        // SAFETY: dlopen of a library `Api::load` has just loaded (a reference count).
        let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_GLOBAL) };
        if handle.is_null() {
            errs.push(dlerror());
            continue;
        }
        let sym = CString::new("PMIx_Get_version").expect("no NUL");
        // SAFETY: live handle, valid C string.
        let p = unsafe { libc::dlsym(handle, sym.as_ptr()) };
        if p.is_null() {
            return Ok(format!("{lib}, version unknown"));
        }
        // SAFETY: `const char *PMIx_Get_version(void)` in every PMIx.
        let f = unsafe {
            std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> *const c_char>(p)
        };
        // SAFETY: returns a static NUL-terminated string (or NULL).
        let v = unsafe { f() };
        let v = if v.is_null() {
            "version unknown".into()
        } else {
            // SAFETY: non-null static string.
            unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned()
        };
        return Ok(format!("{lib}, {v}"));
    }
    Err(perr(errs.join("; ")))
}

/// A PMIx client.
pub struct Pmix {
    api: Api,
    me: Proc,
    rank: usize,
    size: usize,
    nspace: String,
    finalized: bool,
}

// SAFETY: the PMIx client library is thread-safe; this handle only holds plain data and
// function pointers, and the runtime uses it from one thread at a time (behind a mutex).
unsafe impl Send for Pmix {}

/// A decoded PMIx value (the types rshmem reads).
enum Got {
    Str(String),
    Num(u64),
    Other(u16),
}

impl Pmix {
    /// Loads libpmix and connects to the local PMIx server (`PMIx_Init`).
    pub fn init() -> Result<Self> {
        let api = Api::load()?;
        let mut me = Proc {
            nspace: [0; NSLEN],
            rank: 0,
        };
        // SAFETY: `me` is a valid out-parameter; no info.
        let rc = unsafe { (api.init)(&mut me, std::ptr::null_mut(), 0) };
        if rc != PMIX_SUCCESS {
            let uri = std::env::vars()
                .find(|(k, _)| k.starts_with("PMIX_SERVER_URI"))
                .map(|(k, v)| format!("{k}={v}"))
                .unwrap_or_else(|| "no PMIX_SERVER_URI* variable".into());
            return Err(perr(format!(
                "PMIx_Init failed: {} (server {uri}; not started by a PMIx launcher such as srun --mpi=pmix or mpirun.openmpi?)",
                api.status(rc)
            )));
        }
        // SAFETY: PMIx_Init NUL-terminated the namespace inside the array.
        let nspace = unsafe { CStr::from_ptr(me.nspace.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let mut p = Self {
            api,
            me,
            rank: me.rank as usize,
            size: 0,
            nspace,
            finalized: false,
        };
        let wildcard = Proc {
            rank: PMIX_RANK_WILDCARD,
            ..p.me
        };
        p.size = match p.get_value(&wildcard, "pmix.job.size")? {
            Some(Got::Num(n)) if n > 0 => n as usize,
            other => {
                let what = match other {
                    None => "not found".to_string(),
                    Some(Got::Other(t)) => format!("of PMIx type {t}"),
                    Some(Got::Str(s)) => format!("the string {s:?}"),
                    Some(Got::Num(n)) => n.to_string(),
                };
                return Err(p.err(format!("PMIX_JOB_SIZE is {what}")));
            }
        };
        if p.rank >= p.size {
            return Err(p.err(format!("rank {} of {} PEs", p.rank, p.size)));
        }
        Ok(p)
    }

    fn err(&self, msg: String) -> Error {
        perr(format!("{msg} (namespace {})", self.nspace))
    }

    fn proc_of(&self, rank: u32) -> Proc {
        Proc { rank, ..self.me }
    }

    fn get_value(&self, proc_: &Proc, key: &str) -> Result<Option<Got>> {
        let k = CString::new(key).map_err(|_| self.err(format!("key {key:?} has a NUL")))?;
        let mut val: *mut Value = std::ptr::null_mut();
        // SAFETY: valid proc and key; PMIx allocates `val` on success.
        let rc = unsafe { (self.api.get)(proc_, k.as_ptr(), std::ptr::null(), 0, &mut val) };
        if rc == PMIX_ERR_NOT_FOUND {
            return Ok(None);
        }
        if rc != PMIX_SUCCESS || val.is_null() {
            return Err(self.err(format!(
                "PMIx_Get of {key:?} from rank {} failed: {}",
                proc_.rank,
                self.api.status(rc)
            )));
        }
        // SAFETY: PMIx returned a valid value; its data union starts at offset 8.
        let v = unsafe { *val };
        let data = v.data[0];
        let got = match v.typ {
            PMIX_STRING => {
                let p = data as usize as *const c_char;
                if p.is_null() {
                    Got::Str(String::new())
                } else {
                    // SAFETY: a PMIX_STRING value holds a NUL-terminated string.
                    Got::Str(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
                }
            }
            PMIX_UINT32 | PMIX_UINT | PMIX_INT | PMIX_INT32 => Got::Num(data as u32 as u64),
            PMIX_UINT16 => Got::Num(data as u16 as u64),
            PMIX_SIZE | PMIX_UINT64 | PMIX_INT64 => Got::Num(data),
            t => Got::Other(t),
        };
        // PMIX_VALUE_RELEASE: destruct the contents, free the struct (malloc'ed by PMIx).
        if let Some(d) = self.api.value_destruct {
            // SAFETY: `val` came from PMIx_Get and is released exactly once.
            unsafe {
                d(val);
                libc::free(val as *mut c_void);
            }
        }
        Ok(Some(got))
    }
}

impl Kvs for Pmix {
    fn protocol(&self) -> &'static str {
        "pmix"
    }
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn job_id(&self) -> &str {
        &self.nspace
    }
    fn maxes(&self) -> (usize, usize) {
        // PMIx keys are char[512]; values have no protocol limit, chunks stay moderate.
        (KEYLEN - 1, 16 * 1024)
    }
    fn put_raw(&mut self, key: &str, value: &str) -> Result<()> {
        let k = CString::new(key).map_err(|_| self.err(format!("key {key:?} has a NUL")))?;
        let v = CString::new(value).map_err(|_| self.err("value has a NUL".into()))?;
        let mut val = Value {
            typ: PMIX_STRING,
            _pad: [0; 6],
            data: [v.as_ptr() as usize as u64, 0, 0],
        };
        // SAFETY: PMIx_Put copies the key and the string value.
        let rc = unsafe { (self.api.put)(PMIX_GLOBAL, k.as_ptr(), &mut val) };
        if rc != PMIX_SUCCESS {
            return Err(self.err(format!(
                "PMIx_Put of {key:?} failed: {}",
                self.api.status(rc)
            )));
        }
        Ok(())
    }
    fn get_raw(&mut self, key: &str) -> Result<Option<String>> {
        // Keys are `<name>-<rank>-<chunk>`: every rank reads its peers' keys from the
        // rank that put them (PMIx scopes data by its owner).
        let owner = key
            .rsplit('-')
            .nth(1)
            .and_then(|r| r.parse::<u32>().ok())
            .filter(|r| (*r as usize) < self.size);
        let Some(owner) = owner else {
            return Ok(None);
        };
        let p = self.proc_of(owner);
        match self.get_value(&p, key)? {
            Some(Got::Str(s)) => Ok(Some(s)),
            Some(_) => Err(self.err(format!("key {key:?} is not a string"))),
            None => Ok(None),
        }
    }
    fn barrier(&mut self) -> Result<()> {
        // SAFETY: no arguments.
        let rc = unsafe { (self.api.commit)() };
        if rc != PMIX_SUCCESS {
            return Err(self.err(format!("PMIx_Commit failed: {}", self.api.status(rc))));
        }
        let mut info = Info {
            key: [0; KEYLEN],
            flags: 0,
            _pad: 0,
            value: Value {
                typ: PMIX_BOOL,
                _pad: [0; 6],
                data: [1, 0, 0],
            },
        };
        for (d, s) in info.key.iter_mut().zip(b"pmix.collect") {
            *d = *s as c_char;
        }
        let all = self.proc_of(PMIX_RANK_WILDCARD);
        // SAFETY: one proc (the whole namespace) and one info, both valid for the call.
        let rc = unsafe { (self.api.fence)(&all, 1, &info, 1) };
        if rc != PMIX_SUCCESS {
            return Err(self.err(format!("PMIx_Fence failed: {}", self.api.status(rc))));
        }
        Ok(())
    }
    fn process_mapping(&mut self) -> Option<Vec<usize>> {
        (0..self.size)
            .map(
                |r| match self.get_value(&self.proc_of(r as u32), "pmix.nodeid") {
                    Ok(Some(Got::Num(n))) => Some(n as usize),
                    _ => None,
                },
            )
            .collect()
    }
    fn abort(&mut self, code: i32) -> ! {
        let msg = CString::new(format!(
            "rshmem: PE {} aborted with status {code}",
            self.rank
        ))
        .expect("no NUL");
        // SAFETY: NULL procs = the whole namespace; the message is a valid C string.
        unsafe { (self.api.abort)(code, msg.as_ptr(), std::ptr::null_mut(), 0) };
        std::thread::sleep(Duration::from_millis(200));
        std::process::exit(code)
    }
    fn finalize(&mut self) -> Result<()> {
        if self.finalized {
            return Ok(());
        }
        self.finalized = true;
        // SAFETY: no info.
        let rc = unsafe { (self.api.finalize)(std::ptr::null(), 0) };
        if rc != PMIX_SUCCESS {
            return Err(self.err(format!("PMIx_Finalize failed: {}", self.api.status(rc))));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_layout() {
        assert_eq!(std::mem::offset_of!(Proc, rank), 256);
        assert_eq!(std::mem::offset_of!(Value, data), 8);
        assert_eq!(std::mem::offset_of!(Info, flags), 512);
        assert_eq!(std::mem::offset_of!(Info, value), 520);
    }

    /// Without a PMIx server, PMIx_Init fails cleanly (or libpmix is absent): an error
    /// naming the protocol, never a crash.
    #[test]
    fn init_without_server_is_an_error() {
        if std::env::var_os("PMIX_RANK").is_some() {
            return;
        }
        match Pmix::init() {
            Ok(_) => panic!("PMIx_Init succeeded without a server"),
            Err(e) => assert!(e.to_string().contains("pmix"), "{e}"),
        }
    }
}
