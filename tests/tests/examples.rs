//! The example programs of `rshmem-examples` (hello, ring, histogram, pi) at 1, 2, 4 and 8
//! PEs, with their output checked.
use rshmem_tests::harness::{job, workspace_bin, PES};

fn hello(np: usize) {
    let r = job(workspace_bin("hello"), np).run();
    r.assert_ok();
    let mut lines: Vec<String> = r.stdout.iter().map(|(_, l)| l.clone()).collect();
    lines.sort();
    let mut want: Vec<String> = (0..np).map(|pe| format!("PE {pe} of {np}")).collect();
    want.sort();
    assert_eq!(lines, want, "\n{r}");
}

fn ring(np: usize) {
    let r = job(workspace_bin("ring"), np).arg(3).run();
    r.assert_ok();
    r.assert_stdout_contains(&[
        &format!("ring: lap 1 done, token {np}"),
        &format!("ring: lap 3 done, token {}", 3 * np),
        &format!("ring: OK, {np} PEs, 3 laps"),
    ]);
}

fn histogram(np: usize) {
    let samples = 20_000;
    let r = job(workspace_bin("histogram"), np).args([samples, 8]).run();
    r.assert_ok();
    let total = samples * np;
    r.assert_stdout_contains(&[
        &format!("histogram: {np} PEs x {samples} samples into {} bins, total {total} (expected {total})", 8 * np),
        "histogram: OK",
    ]);
}

fn pi(np: usize) {
    let darts = 200_000;
    let r = job(workspace_bin("pi"), np).arg(darts).run();
    r.assert_ok();
    let line = r.values("pi ~= ");
    assert_eq!(line.len(), 1, "\n{r}");
    let value: f64 = line[0].split_whitespace().next().unwrap().parse().unwrap();
    assert!(
        (value - std::f64::consts::PI).abs() < 0.05,
        "pi = {value}\n{r}"
    );
    assert!(
        line[0].contains(&format!("({} darts on {np} PEs", darts * np)),
        "\n{r}"
    );
}

#[test]
fn hello_1_2_4_8() {
    PES.iter().for_each(|&n| hello(n));
}

#[test]
fn ring_1_2_4_8() {
    PES.iter().for_each(|&n| ring(n));
}

#[test]
fn histogram_1_2_4_8() {
    PES.iter().for_each(|&n| histogram(n));
}

#[test]
fn pi_1_2_4_8() {
    PES.iter().for_each(|&n| pi(n));
}
