//! Where the program's global and static variables live: the main executable's writable
//! `PT_LOAD` segment (`.data` then `.bss`), found with `dl_iterate_phdr`.
//!
//! The C API makes them symmetric (OpenSHMEM requires it): at init the runtime copies this
//! range into a shared-memory object and maps the object over it in place
//! (`ShmRegion::create_over`), so the variables keep their addresses and contents while
//! peers on the node map the same object; the verbs transport registers it as a memory
//! region. Every PE runs the same executable, so a variable's offset in the range is the
//! same on every PE even when ASLR places the range differently.
//!
//! The part covered by `PT_GNU_RELRO` (made read-only after relocation) is left alone, as
//! are shared libraries' variables: only the program's own globals are symmetric.

use rshmem_transport::shm::PAGE;

/// The program's writable data, page-aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgramData {
    /// First byte (page-aligned).
    pub start: usize,
    /// Length (whole pages).
    pub len: usize,
    /// Leading bytes that hold initialized data (`.data`, page-rounded); the rest is bss.
    pub file_part: usize,
}

#[derive(Default)]
struct Found {
    seen: bool,
    /// (start, file end, memory end) of each writable PT_LOAD.
    loads: Vec<(usize, usize, usize)>,
    relro: Option<(usize, usize)>,
}

unsafe extern "C" fn first_object(
    info: *mut libc::dl_phdr_info,
    _size: libc::size_t,
    data: *mut libc::c_void,
) -> libc::c_int {
    // SAFETY: `data` is the `Found` passed to dl_iterate_phdr below; `info` and its program
    // headers are valid for the duration of the callback (dl_iterate_phdr's contract).
    unsafe {
        let found = &mut *(data as *mut Found);
        found.seen = true;
        let info = &*info;
        let bias = info.dlpi_addr as usize;
        for i in 0..info.dlpi_phnum as usize {
            let ph = &*info.dlpi_phdr.add(i);
            let start = bias + ph.p_vaddr as usize;
            if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_W != 0 {
                found.loads.push((
                    start,
                    start + ph.p_filesz as usize,
                    start + ph.p_memsz as usize,
                ));
            } else if ph.p_type == libc::PT_GNU_RELRO {
                found.relro = Some((start, start + ph.p_memsz as usize));
            }
        }
    }
    // The first object is the main program: stop there.
    1
}

/// The main program's writable data (`None` if it has none, or it lies inside RELRO).
pub fn program_data() -> Option<ProgramData> {
    let mut found = Found::default();
    // SAFETY: the callback only reads the headers and writes `found`, which outlives the
    // call.
    unsafe {
        libc::dl_iterate_phdr(
            Some(first_object),
            &mut found as *mut Found as *mut libc::c_void,
        )
    };
    let down = |a: usize| a & !(PAGE - 1);
    let up = |a: usize| (a + PAGE - 1) & !(PAGE - 1);
    // GNU ld puts RELRO at the head of the one writable segment; lld gives RELRO a writable
    // segment of its own and .data/.bss the next one. Either way: the first writable
    // segment with something left after RELRO.
    found.loads.iter().find_map(|&(seg, file_end, mem_end)| {
        let mut start = down(seg);
        if let Some((rs, re)) = found.relro {
            if rs < mem_end && up(re) > start {
                start = up(re);
            }
        }
        let end = up(mem_end);
        (end > start).then(|| ProgramData {
            start,
            len: end - start,
            file_part: up(file_end).saturating_sub(start).min(end - start),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    static mut IN_DATA: [u64; 4] = [1, 2, 3, 4];
    static mut IN_BSS: [u8; 10_000] = [0; 10_000];

    #[test]
    fn finds_this_programs_data_and_bss() {
        let d = program_data().expect("a test binary has data and bss");
        assert_eq!(d.start % PAGE, 0);
        assert_eq!(d.len % PAGE, 0);
        assert!(d.file_part <= d.len);
        let inside = |a: usize, n: usize| a >= d.start && a + n <= d.start + d.len;
        let data = core::ptr::addr_of!(IN_DATA) as usize;
        let bss = core::ptr::addr_of!(IN_BSS) as usize;
        assert!(inside(data, 32), "{data:#x} not in {d:?}");
        assert!(inside(bss, 10_000), "{bss:#x} not in {d:?}");
        assert!(
            data < d.start + d.file_part,
            "initialized data in the file part"
        );
        // A heap address is not.
        let b = Box::new(5u64);
        assert!(!inside(&*b as *const u64 as usize, 8));
    }
}
