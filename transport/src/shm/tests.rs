//! Unit tests of the shared-memory transport.

use super::*;
use crate::{AmoOp, Endpoint, RemoteAddr};

fn unique(tag: &str) -> String {
    format!("/rshmem-test-{}-{}-{tag}", std::process::id(), line!())
}

#[test]
fn create_aligned_places_base_plus_skew_on_the_alignment() {
    for (align, skew) in [
        (1usize << 30, SEGMENT_ALIGN),
        (1 << 34, 0),
        (4 << 20, 2 << 20),
    ] {
        let mut a = ShmRegion::create_aligned(&unique("al"), 8 << 20, align, skew).unwrap();
        let base = a.base() as usize;
        assert_eq!(
            (base + skew) % align,
            0,
            "align {align} skew {skew}: {base:#x}"
        );
        assert_eq!(base % SEGMENT_ALIGN, 0);
        // SAFETY: inside the 8 MiB mapping.
        unsafe { *a.base().add(skew) = 7 };
        a.unlink();
    }
}

#[test]
fn create_attach_share_and_unlink() {
    let name = unique("a");
    let mut a = ShmRegion::create(&name, 1 << 20).unwrap();
    let b = ShmRegion::attach(&name, 1 << 20).unwrap();
    assert_ne!(a.base(), b.base());
    assert_eq!(a.base() as usize % SEGMENT_ALIGN, 0);
    assert_eq!(b.base() as usize % SEGMENT_ALIGN, 0);
    let ep = ShmEndpoint;
    let data = *b"hello";
    // SAFETY: both mappings are 1 MiB long.
    unsafe { ep.put(RemoteAddr::local(b.base() as usize + 100), data.as_ptr(), 5) };
    let mut out = [0u8; 5];
    // SAFETY: as above.
    unsafe {
        ep.get(
            out.as_mut_ptr(),
            RemoteAddr::local(a.base() as usize + 100),
            5,
        )
    };
    assert_eq!(&out, b"hello");
    // SAFETY: aligned words inside the mappings.
    let old = unsafe {
        ep.amo::<u64>(
            RemoteAddr::local(b.base() as usize + 8),
            AmoOp::FetchAdd,
            3,
            0,
        )
    };
    assert_eq!(old, 0);
    // SAFETY: as above.
    let now =
        unsafe { ep.amo::<u64>(RemoteAddr::local(a.base() as usize + 8), AmoOp::Fetch, 0, 0) };
    assert_eq!(now, 3);
    a.unlink();
    assert!(!std::path::Path::new(&format!("/dev/shm{name}")).exists());
    // still mapped and usable after unlink
    // SAFETY: as above.
    let cas = unsafe {
        ep.amo::<u32>(
            RemoteAddr::local(a.base() as usize + 16),
            AmoOp::CompareSwap,
            9,
            0,
        )
    };
    assert_eq!(cas, 0);
}

#[test]
fn create_over_keeps_contents_shares_and_stays_sparse() {
    use std::os::unix::fs::MetadataExt;
    let pages = 16;
    let len = pages * PAGE;
    // SAFETY: a fresh anonymous mapping of our own.
    let addr = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    } as *mut u8;
    assert_ne!(addr as *mut libc::c_void, libc::MAP_FAILED);
    // SAFETY: all inside the mapping. Page 0 is "initialized data"; page 5 a touched
    // bss page; page 7 touched but zero; the rest never touched.
    unsafe {
        for i in 0..PAGE {
            *addr.add(i) = (i % 251) as u8 + 1;
        }
        *addr.add(5 * PAGE + 17) = 0xab;
        core::ptr::write_volatile(addr.add(7 * PAGE), 0);
    }
    let name = unique("over");
    // SAFETY: page-aligned range of our own mapping; no other thread touches it.
    let r = unsafe { ShmRegion::create_over(&name, addr, len, PAGE) }.unwrap();
    assert_eq!(r.base(), addr);
    // Only the two pages with data were written (checked before reading
    // the rest: a read fault on a tmpfs hole allocates a page) into the object.
    let blocks = std::fs::metadata(format!("/dev/shm{name}"))
        .unwrap()
        .blocks();
    assert_eq!(blocks * 512, 2 * PAGE as u64, "object should hold 2 pages");
    // SAFETY: still mapped (now by the object).
    let view = unsafe { core::slice::from_raw_parts(addr, len) };
    assert!((0..PAGE).all(|i| view[i] == (i % 251) as u8 + 1));
    assert_eq!(view[5 * PAGE + 17], 0xab);
    assert_eq!(view.iter().filter(|&&b| b != 0).count(), PAGE + 1);
    // Another mapping of the object sees our stores and we see its stores.
    let other = ShmRegion::attach(&name, len).unwrap();
    // SAFETY: both mappings are live and `len` long.
    unsafe {
        assert_eq!(*other.base().add(5 * PAGE + 17), 0xab);
        *addr.add(9 * PAGE) = 7;
        assert_eq!(core::ptr::read_volatile(other.base().add(9 * PAGE)), 7);
        *other.base().add(3) = 99;
        assert_eq!(core::ptr::read_volatile(addr.add(3)), 99);
    }
    drop(other);
    drop(r);
    assert!(!std::path::Path::new(&format!("/dev/shm{name}")).exists());
    // Dropping the region kept the mapping: the memory is still there.
    // SAFETY: still mapped; then unmapped by us, its owner.
    unsafe {
        assert_eq!(core::ptr::read_volatile(addr.add(5 * PAGE + 17)), 0xab);
        libc::munmap(addr as *mut libc::c_void, len);
    }
    // SAFETY: misaligned on purpose; rejected before anything is touched.
    let bad = unsafe { ShmRegion::create_over(&unique("bad"), addr.wrapping_add(1), PAGE, 0) };
    assert!(matches!(bad, Err(ShmError::BadRange { .. })));
}

#[test]
fn create_is_exclusive_and_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let name = unique("b");
    let r = ShmRegion::create(&name, 4096).unwrap();
    let meta = std::fs::metadata(format!("/dev/shm{name}")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let e = ShmRegion::create(&name, 4096).unwrap_err();
    assert!(e.to_string().contains("shm_open"), "{e}");
    drop(r);
    assert!(!std::path::Path::new(&format!("/dev/shm{name}")).exists());
}

/// What a PE must refuse to map as a peer's segment (issue 13, security item 2).
#[test]
fn attach_refuses_untrusted_objects() {
    use std::os::unix::fs::PermissionsExt;
    let len = 1 << 16;
    let path = |n: &str| format!("/dev/shm{n}");
    let expect_refused = |name: &str, why: &str| {
        let e = ShmRegion::attach(name, len).unwrap_err();
        let m = e.to_string();
        assert!(m.contains(&format!("/dev/shm{name}")), "{m}");
        assert!(m.contains(why), "expected {why:?} in: {m}");
    };
    // A genuine object is accepted.
    let name = unique("ok");
    let _ok = ShmRegion::create(&name, len).unwrap();
    drop(ShmRegion::attach(&name, len).unwrap());
    // Readable or writable by others.
    let name = unique("mode");
    let r = ShmRegion::create(&name, len).unwrap();
    std::fs::set_permissions(path(&name), std::fs::Permissions::from_mode(0o666)).unwrap();
    expect_refused(&name, "its mode is 0666");
    std::fs::set_permissions(path(&name), std::fs::Permissions::from_mode(0o640)).unwrap();
    expect_refused(&name, "its mode is 0640");
    drop(r);
    // Not the size the peer published (smaller: a SIGBUS waiting to happen; larger).
    let name = unique("size");
    let r = ShmRegion::create(&name, len / 2).unwrap();
    expect_refused(&name, &format!("it has {} bytes", len / 2));
    drop(r);
    let name = unique("size2");
    let r = ShmRegion::create(&name, 2 * len).unwrap();
    expect_refused(&name, &format!("it has {} bytes", 2 * len));
    drop(r);
    // A symbolic link to a file of the right size and mode: not followed.
    let target = std::env::temp_dir().join(format!("rshmem-link-target-{}", std::process::id()));
    std::fs::write(&target, vec![0u8; len]).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let name = unique("link");
    std::os::unix::fs::symlink(&target, path(&name)).unwrap();
    let e = ShmRegion::attach(&name, len).unwrap_err().to_string();
    assert!(e.contains(&path(&name)) && e.contains("shm_open"), "{e}");
    std::fs::remove_file(path(&name)).unwrap();
    std::fs::remove_file(&target).unwrap();
    // Another user's object (needs root to make one).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let name = unique("owner");
        let r = ShmRegion::create(&name, len).unwrap();
        std::os::unix::fs::chown(path(&name), Some(65534), None).unwrap();
        expect_refused(&name, "it is owned by uid 65534");
        drop(r);
    }
}

#[test]
fn copy_bytes_every_skew_and_size() {
    let src: Vec<u8> = (0..(3usize << 20)).map(|i| (i * 7 + 3) as u8).collect();
    let mut dst = vec![0u8; 3 << 20];
    for &len in &[
        0usize,
        1,
        2,
        4,
        8,
        63,
        2047,
        2048,
        4096 + 5,
        100_000,
        1 << 20,
        (1 << 20) + 1,
    ] {
        for &(so, dof) in &[
            (0usize, 0usize),
            (0, 16),
            (8, 8),
            (3, 0),
            (16, 1),
            (5, 67),
            (1, 9),
        ] {
            dst.fill(0);
            // SAFETY: both ranges lie inside the vectors.
            unsafe { copy_bytes(dst.as_mut_ptr().add(dof), src.as_ptr().add(so), len) };
            assert_eq!(
                &dst[dof..dof + len],
                &src[so..so + len],
                "len {len} src+{so} dst+{dof}"
            );
            assert!(
                dst[..dof].iter().all(|&b| b == 0)
                    && dst[dof + len..dof + len + 1].iter().all(|&b| b == 0)
            );
        }
    }
    // overlapping ranges keep memmove semantics
    let mut v: Vec<u8> = (0..10_000).map(|i| i as u8).collect();
    let want: Vec<u8> = v[0..8000].to_vec();
    // SAFETY: both ranges lie inside `v`.
    unsafe { copy_bytes(v.as_mut_ptr().add(16), v.as_ptr(), 8000) };
    assert_eq!(&v[16..8016], &want[..]);
}

#[test]
fn bad_names_are_rejected() {
    assert!(matches!(
        ShmRegion::create("noslash", 10),
        Err(ShmError::BadName(_))
    ));
    assert!(matches!(
        ShmRegion::attach("/a/b", 10),
        Err(ShmError::BadName(_))
    ));
}

#[test]
fn every_amo_op() {
    let mut w = 0b1100u64;
    let t = RemoteAddr::local(&mut w as *mut u64 as usize);
    let ep = ShmEndpoint;
    // SAFETY: `w` is a live aligned u64 used only here.
    unsafe {
        assert_eq!(ep.amo::<u64>(t, AmoOp::FetchAnd, 0b1010, 0), 0b1100);
        assert_eq!(ep.amo::<u64>(t, AmoOp::FetchOr, 0b0001, 0), 0b1000);
        assert_eq!(ep.amo::<u64>(t, AmoOp::FetchXor, 0b1111, 0), 0b1001);
        assert_eq!(ep.amo::<u64>(t, AmoOp::Swap, 42, 0), 0b0110);
        assert_eq!(ep.amo::<u64>(t, AmoOp::CompareSwap, 7, 41), 42);
        assert_eq!(ep.amo::<u64>(t, AmoOp::CompareSwap, 7, 42), 42);
        assert_eq!(ep.amo::<u64>(t, AmoOp::Set, 1, 0), 7);
        assert_eq!(ep.amo::<u64>(t, AmoOp::FetchAdd, u64::MAX, 0), 1);
        assert_eq!(ep.amo::<u64>(t, AmoOp::Fetch, 0, 0), 0);
    }
}
