//! Every collective on every team shape, checked against a sequential reference.
//!
//! Teams: world; strided (start 1, stride 2); reversed world (stride -1); stride -2 from
//! the top; zero stride (size 1); a split of the reversed team (stride 2); the rows and the
//! columns of a 2-D split with xrange 2. Per team and per type (i32, u64, f64, and complex
//! f64 for sum/prod) and per size: broadcast (root rotating), fcollect, collect (sizes
//! differing per member, zero included), alltoall, every supported reduction, inclusive and
//! exclusive sum scans. Every PE computes what every member contributed (the data is a
//! function of world PE, index and round) and compares. Values of floating types are
//! small dyadic numbers, so sums and products are exact whatever the order.
//!
//! `rshmemrun -n N coll_check [SIZES [TEAMS [TYPES]]]`   (SIZES: comma-separated element counts,
//! default `0,1,1000,17000`; 17000 elements of 4 or 8 bytes cross the 64 KiB broadcast
//! crossover, of 8 bytes the 128 KiB reduce one;
//! TEAMS: comma-separated team names as printed, default `all`; TYPES: `all` adds i8, i16,
//! i64, u8, u16, u32 and f32).
use rshmem::{Complex, Op, Pod, Reducible, Shmem, SymVec, Team};
use rshmem_tests::pe;
use std::fmt::Debug;
use std::time::Instant;

const PROG: &str = "coll_check";

trait Elem: Pod + Reducible + Debug {
    const NAME: &'static str;
    fn gen(pe: usize, i: usize, round: usize) -> Self;
}

impl Elem for i32 {
    const NAME: &'static str = "i32";
    fn gen(pe: usize, i: usize, round: usize) -> Self {
        pe::word(pe, 0, round, i) as i32
    }
}

impl Elem for u64 {
    const NAME: &'static str = "u64";
    fn gen(pe: usize, i: usize, round: usize) -> Self {
        pe::word(pe, 1, round, i)
    }
}

/// The other integer types (`TYPES` = `all`): words of the same generator, truncated.
macro_rules! int_elem {
    ($($t:ty, $stream:expr;)*) => {$(
        impl Elem for $t {
            const NAME: &'static str = stringify!($t);
            fn gen(pe: usize, i: usize, round: usize) -> Self {
                pe::word(pe, $stream, round, i) as $t
            }
        }
    )*};
}
int_elem! {
    i8, 4;
    i16, 5;
    i64, 6;
    u8, 7;
    u16, 8;
    u32, 9;
}

impl Elem for f32 {
    const NAME: &'static str = "f32";
    fn gen(pe: usize, i: usize, round: usize) -> Self {
        DYADIC[(pe::word(pe, 10, round, i) % 6) as usize] as f32
    }
}

const DYADIC: [f64; 6] = [-2.0, -1.0, 0.5, 1.0, 2.0, 3.0];

impl Elem for f64 {
    const NAME: &'static str = "f64";
    fn gen(pe: usize, i: usize, round: usize) -> Self {
        DYADIC[(pe::word(pe, 2, round, i) % 6) as usize]
    }
}

/// Everything one team needs to know for the references.
struct Ctx<'s> {
    shmem: &'s Shmem,
    /// World PEs of the members, in team order.
    members: Vec<usize>,
    name: String,
    round: usize,
}

impl Ctx<'_> {
    fn me_world(&self) -> usize {
        self.shmem.my_pe()
    }
    fn fail(&self, what: &str, detail: String) -> ! {
        panic!(
            "PE {}: team {} round {}: {what}: {detail}",
            self.me_world(),
            self.name,
            self.round
        )
    }
    fn check<T: PartialEq + Debug>(&self, what: &str, got: &[T], want: &[T]) {
        if got.len() != want.len() {
            self.fail(
                what,
                format!("{} elements, expected {}", got.len(), want.len()),
            );
        }
        if let Some(i) = got.iter().zip(want).position(|(a, b)| a != b) {
            self.fail(
                what,
                format!(
                    "element {i} of {} is {:?}, expected {:?}",
                    got.len(),
                    got[i],
                    want[i]
                ),
            );
        }
    }
}

/// Buffers big enough for every collective of the run, allocated by every PE.
struct Bufs<'s, T> {
    src: SymVec<'s, T>,
    dest: SymVec<'s, T>,
}

fn alloc<T: Elem>(shmem: &Shmem, max_n: usize) -> Bufs<'_, T> {
    let cap = max_n * shmem.n_pes() + 1;
    Bufs {
        src: shmem.alloc_slice::<T>(cap).unwrap(),
        dest: shmem.alloc_slice::<T>(cap).unwrap(),
    }
}

fn fill<T: Elem>(v: &SymVec<'_, T>, f: impl Fn(usize) -> T, len: usize) {
    let data: Vec<T> = (0..len).map(f).collect();
    v.write_slice(0, &data).unwrap();
}

/// Garbage in `dest[..len]`, so stale results show.
fn poison<T: Elem>(v: &SymVec<'_, T>, len: usize) {
    fill(v, |i| T::gen(999, i, 999), len);
}

fn reference_reduce<T: Elem>(c: &Ctx, op: Op, n: usize) -> Vec<T> {
    let mut acc: Vec<T> = (0..n).map(|i| T::gen(c.members[0], i, c.round)).collect();
    for &m in &c.members[1..] {
        let other: Vec<T> = (0..n).map(|i| T::gen(m, i, c.round)).collect();
        T::combine(op, &mut acc, &other);
    }
    acc
}

fn run_type<T: Elem>(c: &mut Ctx, t: &Team, b: &Bufs<'_, T>, n: usize) {
    let size = t.n_pes();
    let me = t.my_pe();
    let mw = c.me_world();
    assert_eq!(c.members[me], mw, "team numbering");
    let what = |w: &str| format!("{w}<{}> n={n}", T::NAME);

    // broadcast, root rotating; sentinel after n must survive
    c.round += 1;
    let root = c.round % size;
    fill(&b.src, |i| T::gen(mw, i, c.round), n);
    poison(&b.dest, n + 1);
    t.sync();
    t.broadcast(&b.dest, &b.src, n, root).unwrap();
    let want: Vec<T> = (0..n)
        .map(|i| T::gen(c.members[root], i, c.round))
        .collect();
    c.check(&what("broadcast"), &b.dest.to_vec()[..n], &want);
    c.check(
        &what("broadcast sentinel"),
        &[b.dest.read(n).unwrap()],
        &[T::gen(999, n, 999)],
    );
    t.sync();

    // fcollect
    c.round += 1;
    fill(&b.src, |i| T::gen(mw, i, c.round), n);
    t.sync();
    t.fcollect(&b.dest, &b.src, n).unwrap();
    let want: Vec<T> = c
        .members
        .iter()
        .flat_map(|&m| (0..n).map(move |i| (m, i)))
        .map(|(m, i)| T::gen(m, i, c.round))
        .collect();
    c.check(&what("fcollect"), &b.dest.to_vec()[..n * size], &want);
    t.sync();

    // collect: member j contributes (n * (j + 1)) / size elements (0 for some)
    c.round += 1;
    let cnt = |j: usize| n * (j + 1) / size;
    fill(&b.src, |i| T::gen(mw, i, c.round), cnt(me));
    t.sync();
    let total = t.collect(&b.dest, &b.src, cnt(me)).unwrap();
    let want: Vec<T> = c
        .members
        .iter()
        .enumerate()
        .flat_map(|(j, &m)| (0..cnt(j)).map(move |i| (m, i)))
        .map(|(m, i)| T::gen(m, i, c.round))
        .collect();
    assert_eq!(total, want.len());
    c.check(&what("collect"), &b.dest.to_vec()[..total], &want);
    t.sync();

    // alltoall: block j of member m's src is gen(m * 64 + j)
    c.round += 1;
    fill(
        &b.src,
        |k| T::gen(mw * 64 + k / n.max(1), k, c.round),
        n * size,
    );
    t.sync();
    t.alltoall(&b.dest, &b.src, n).unwrap();
    let want: Vec<T> = c
        .members
        .iter()
        .flat_map(|&m| (me * n..(me + 1) * n).map(move |k| (m, k)))
        .map(|(m, k)| T::gen(m * 64 + me, k, c.round))
        .collect();
    c.check(&what("alltoall"), &b.dest.to_vec()[..n * size], &want);
    t.sync();

    // reductions (every supported op; in place every other op)
    for (k, op) in Op::ALL.into_iter().enumerate() {
        if !T::supports(op) {
            assert!(t.reduce(op, &b.dest, &b.src, n).is_err());
            continue;
        }
        c.round += 1;
        fill(&b.src, |i| T::gen(mw, i, c.round), n);
        t.sync();
        let dest = if k % 2 == 0 { &b.dest } else { &b.src };
        t.reduce(op, dest, &b.src, n).unwrap();
        let want = reference_reduce::<T>(c, op, n);
        c.check(&what(&format!("reduce {op:?}")), &dest.to_vec()[..n], &want);
        t.sync();
    }

    // scans
    for inclusive in [true, false] {
        c.round += 1;
        fill(&b.src, |i| T::gen(mw, i, c.round), n);
        t.sync();
        if inclusive {
            t.sum_inscan(&b.dest, &b.src, n).unwrap();
        } else {
            t.sum_exscan(&b.dest, &b.src, n).unwrap();
        }
        let upto = if inclusive { me + 1 } else { me };
        let mut want = vec![T::default(); n];
        for &m in &c.members[..upto] {
            let other: Vec<T> = (0..n).map(|i| T::gen(m, i, c.round)).collect();
            T::combine(Op::Sum, &mut want, &other);
        }
        let w = if inclusive {
            "sum_inscan"
        } else {
            "sum_exscan"
        };
        c.check(&what(w), &b.dest.to_vec()[..n], &want);
        t.sync();
    }
}

fn run_complex(c: &mut Ctx, t: &Team, b: &Bufs<'_, f64>, n: usize) {
    let mw = c.me_world();
    let part = |pe: usize, k: usize, round: usize| (pe::word(pe, 3, round, k) % 4) as f64 - 1.0;
    for op in [Op::Sum, Op::Prod] {
        c.round += 1;
        fill(&b.src, |k| part(mw, k, c.round), 2 * n);
        t.sync();
        t.reduce_complex(op, &b.dest, &b.src, n).unwrap();
        let z = |pe: usize| -> Vec<Complex<f64>> {
            (0..n)
                .map(|i| Complex {
                    re: part(pe, 2 * i, c.round),
                    im: part(pe, 2 * i + 1, c.round),
                })
                .collect()
        };
        let mut acc = z(c.members[0]);
        for &m in &c.members[1..] {
            Complex::combine(op, &mut acc, &z(m));
        }
        let want: Vec<f64> = acc.iter().flat_map(|z| [z.re, z.im]).collect();
        c.check(
            &format!("reduce_complex {op:?} n={n}"),
            &b.dest.to_vec()[..2 * n],
            &want,
        );
        t.sync();
    }
}

/// Runs everything on `team` (this PE's handle, `None` if not a member); every world PE
/// calls it (the buffers are shared by all).
fn run_team(shmem: &Shmem, name: &str, team: Option<&Team>, sizes: &[usize], bufs: &AllBufs) {
    if !bufs.teams.iter().any(|t| t == "all" || t == name) {
        return;
    }
    let start = Instant::now();
    if let Some(t) = team {
        let members: Vec<usize> = (0..t.n_pes()).map(|i| t.world_pe(i).unwrap()).collect();
        let mut c = Ctx {
            shmem,
            members,
            name: name.to_string(),
            round: 0,
        };
        for &n in sizes {
            run_type::<i32>(&mut c, t, &bufs.i, n);
            run_type::<u64>(&mut c, t, &bufs.u, n);
            run_type::<f64>(&mut c, t, &bufs.f, n);
            run_complex(&mut c, t, &bufs.f, n.min(bufs.max_n / 2));
            if let Some(x) = &bufs.extra {
                run_type::<i8>(&mut c, t, &x.i8, n);
                run_type::<i16>(&mut c, t, &x.i16, n);
                run_type::<i64>(&mut c, t, &x.i64, n);
                run_type::<u8>(&mut c, t, &x.u8, n);
                run_type::<u16>(&mut c, t, &x.u16, n);
                run_type::<u32>(&mut c, t, &x.u32, n);
                run_type::<f32>(&mut c, t, &x.f32, n);
            }
        }
        t.barrier();
    }
    shmem.barrier_all();
    if shmem.my_pe() == 0 {
        pe::say(&format!(
            "TEAM {name} {:.3} s",
            start.elapsed().as_secs_f64()
        ));
    }
}

struct AllBufs<'s> {
    i: Bufs<'s, i32>,
    u: Bufs<'s, u64>,
    f: Bufs<'s, f64>,
    max_n: usize,
    /// Team names to run (`all`: every one).
    teams: Vec<String>,
    /// The other types, with `TYPES` = `all`.
    extra: Option<Extra<'s>>,
}

struct Extra<'s> {
    i8: Bufs<'s, i8>,
    i16: Bufs<'s, i16>,
    i64: Bufs<'s, i64>,
    u8: Bufs<'s, u8>,
    u16: Bufs<'s, u16>,
    u32: Bufs<'s, u32>,
    f32: Bufs<'s, f32>,
}

fn main() {
    let shmem = pe::init(PROG);
    let sizes: Vec<usize> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "0,1,1000,17000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("SIZES: comma-separated numbers"))
        .collect();
    let max_n = sizes.iter().copied().max().unwrap_or(0).max(2);
    let bufs = AllBufs {
        i: alloc(&shmem, max_n),
        u: alloc(&shmem, max_n),
        f: alloc(&shmem, max_n),
        max_n,
        teams: std::env::args()
            .nth(2)
            .unwrap_or_else(|| "all".into())
            .split(',')
            .map(str::to_string)
            .collect(),
        extra: (std::env::args().nth(3).as_deref() == Some("all")).then(|| Extra {
            i8: alloc(&shmem, max_n),
            i16: alloc(&shmem, max_n),
            i64: alloc(&shmem, max_n),
            u8: alloc(&shmem, max_n),
            u16: alloc(&shmem, max_n),
            u32: alloc(&shmem, max_n),
            f32: alloc(&shmem, max_n),
        }),
    };
    let n = shmem.n_pes();
    let world = shmem.team_world();
    run_team(&shmem, "world", Some(&world), &sizes, &bufs);

    let start = 1.min(n - 1);
    let s2 = shmem
        .team_split_strided(&world, start, 2, (n - start).div_ceil(2))
        .unwrap();
    run_team(&shmem, "stride2", s2.as_ref(), &sizes, &bufs);

    let rev = shmem
        .team_split_strided(&world, n - 1, -1, n)
        .unwrap()
        .expect("everyone is in the reversed world");
    assert_eq!(rev.my_pe(), n - 1 - shmem.my_pe());
    run_team(&shmem, "reversed", Some(&rev), &sizes, &bufs);

    let down2 = shmem
        .team_split_strided(&world, n - 1, -2, n.div_ceil(2))
        .unwrap();
    run_team(&shmem, "stride-2", down2.as_ref(), &sizes, &bufs);

    let zero = shmem.team_split_strided(&world, n / 2, 0, 1).unwrap();
    assert_eq!(zero.is_some(), shmem.my_pe() == n / 2);
    run_team(&shmem, "stride0", zero.as_ref(), &sizes, &bufs);

    // nested: every other PE of the reversed world
    let nested = shmem.team_split_strided(&rev, 0, 2, n.div_ceil(2)).unwrap();
    if let Some(t) = &nested {
        assert_eq!(t.world_pe(0), Some(n - 1));
    }
    run_team(&shmem, "reversed/stride2", nested.as_ref(), &sizes, &bufs);

    let (row, col) = shmem.team_split_2d(&world, 2).unwrap();
    assert_eq!(row.my_pe(), shmem.my_pe() % 2.min(n));
    run_team(&shmem, "2d-rows", Some(&row), &sizes, &bufs);
    run_team(&shmem, "2d-cols", Some(&col), &sizes, &bufs);
    drop((row, col, nested, zero, down2, rev, s2));
    pe::ok(&shmem, PROG);
}
