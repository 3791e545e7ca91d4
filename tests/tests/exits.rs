//! Exit, heap and lock behaviours (`src/bin/exits.rs`): clear_lock of a lock this PE does
//! not hold, shmem_align beyond 2 MiB, a PE that exits 0 without finalize while others wait.
use rshmem_tests::harness::job;
use std::collections::BTreeMap;

const EXITS: &str = env!("CARGO_BIN_EXE_exits");

#[test]
fn clear_lock_of_an_unheld_lock_is_an_error() {
    let r = job(EXITS, 4).arg("clear-unheld").run();
    r.assert_all_ok("exits", 4);
    let lines = r.values("CLEAR ");
    assert_eq!(lines.len(), 2 * 4, "two errors per PE\n{r}");
    for l in &lines {
        assert!(
            l.contains("shmem_clear_lock") && l.contains("does not hold this lock"),
            "{l}"
        );
    }
}

/// `malloc(64, 1 << k)` for k = 0..=30 with a 3 GiB heap (block k lands at offset 1 << k): aligned on every PE, at the
/// same offset everywhere (the program checks a put into its neighbour's block), and an
/// alignment beyond the heap is an error naming it.
fn align(np: usize) {
    let r = job(EXITS, np)
        .args(["align", "30"])
        .env("SHMEM_SYMMETRIC_SIZE", "3G")
        .timeout_secs(60)
        .run();
    r.assert_all_ok("exits", np);
    let mut by_k: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for l in r.values("ALIGN ") {
        let f: Vec<&str> = l.split_whitespace().collect();
        // PE <me> k <k> offset <off>
        let k: u32 = f[3].parse().unwrap();
        let off = usize::from_str_radix(f[5].trim_start_matches("0x"), 16).unwrap();
        assert_eq!(off % (1 << k), 0, "{l}");
        by_k.entry(k).or_default().push(f[5].to_string());
    }
    assert_eq!(by_k.len(), 31, "\n{r}");
    for (k, offs) in &by_k {
        assert_eq!(offs.len(), np, "k {k}\n{r}");
        assert!(
            offs.iter().all(|o| o == &offs[0]),
            "k {k}: offsets {offs:?}"
        );
    }
    let big = r.values("BIGALIGN ");
    assert_eq!(big.len(), np, "\n{r}");
    for l in &big {
        assert!(
            l.contains("alignment 8589934592") && l.contains("larger than the symmetric heap"),
            "{l}"
        );
    }
}

#[test]
fn shmem_align_up_to_1_gib_2_pes() {
    align(2);
}

#[test]
fn shmem_align_up_to_1_gib_4_pes() {
    align(4);
}
