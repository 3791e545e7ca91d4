//! CPU binding of PEs, computed with hwloc in the launcher and applied in the
//! child (before `exec`) with `sched_setaffinity`.

use std::fmt;

use crate::cli::BindTo;

/// Where one PE is bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Kind of object (`Core` or `Numa`).
    pub kind: BindTo,
    /// Logical index of the core / NUMA node.
    pub index: usize,
    /// OS CPU numbers in the object's cpuset.
    pub cpus: Vec<usize>,
}

impl Binding {
    /// A `cpu_set_t` with exactly [`cpus`](Self::cpus) set (CPUs beyond
    /// `CPU_SETSIZE` are ignored).
    pub fn cpu_set(&self) -> libc::cpu_set_t {
        // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &c in &self.cpus {
            if c < libc::CPU_SETSIZE as usize {
                // SAFETY: c is within the set's capacity.
                unsafe { libc::CPU_SET(c, &mut set) };
            }
        }
        set
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            BindTo::Core => "core",
            BindTo::Numa => "NUMA node",
            BindTo::None => "nothing",
        };
        write!(f, "{what} {} (cpus {})", self.index, cpu_list(&self.cpus))
    }
}

/// Formats CPU numbers as a compact list, e.g. `0-3,8,10-11`.
pub fn cpu_list(cpus: &[usize]) -> String {
    let mut v = cpus.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut out = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        let mut end = start;
        while i + 1 < v.len() && v[i + 1] == end + 1 {
            i += 1;
            end = v[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

/// The machine's bindable objects as seen by hwloc.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// cpuset of every core, in logical order.
    pub cores: Vec<Vec<usize>>,
    /// cpuset of every NUMA node, in logical order.
    pub numa_nodes: Vec<Vec<usize>>,
}

impl Layout {
    /// Discovers the topology with hwloc.
    pub fn discover() -> Result<Layout, String> {
        use hwlocality::object::types::ObjectType;
        use hwlocality::Topology;

        let topo = Topology::new().map_err(|e| format!("hwloc topology discovery failed: {e}"))?;
        let collect = |ty: ObjectType| -> Vec<Vec<usize>> {
            topo.objects_with_type(ty)
                .filter_map(|o| o.cpuset())
                .map(|cs| cs.iter_set().map(usize::from).collect::<Vec<_>>())
                .filter(|v: &Vec<usize>| !v.is_empty())
                .collect()
        };
        let cores = collect(ObjectType::Core);
        let numa_nodes = collect(ObjectType::NUMANode);
        if cores.is_empty() {
            return Err("hwloc reported no cores".into());
        }
        Ok(Layout { cores, numa_nodes })
    }

    /// Number of cores.
    pub fn ncores(&self) -> usize {
        self.cores.len()
    }

    /// Binding of PE `pe` under `policy` (None for `BindTo::None` or when the
    /// machine has no object of the requested kind).
    pub fn binding_for(&self, pe: usize, policy: BindTo) -> Option<Binding> {
        let objs = match policy {
            BindTo::Core => &self.cores,
            BindTo::Numa => &self.numa_nodes,
            BindTo::None => return None,
        };
        if objs.is_empty() {
            return None;
        }
        let index = pe % objs.len();
        Some(Binding {
            kind: policy,
            index,
            cpus: objs[index].clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_list_format() {
        assert_eq!(cpu_list(&[]), "");
        assert_eq!(cpu_list(&[0]), "0");
        assert_eq!(cpu_list(&[3, 0, 1, 2, 8, 10, 11]), "0-3,8,10-11");
    }

    #[test]
    fn round_robin() {
        let l = Layout {
            cores: vec![vec![0, 4], vec![1, 5], vec![2, 6]],
            numa_nodes: vec![vec![0, 1, 2, 4, 5, 6]],
        };
        let b = l.binding_for(4, BindTo::Core).unwrap();
        assert_eq!(b.index, 1);
        assert_eq!(b.to_string(), "core 1 (cpus 1,5)");
        let b = l.binding_for(2, BindTo::Numa).unwrap();
        assert_eq!(b.to_string(), "NUMA node 0 (cpus 0-2,4-6)");
        assert_eq!(l.binding_for(0, BindTo::None), None);
        let set = l.binding_for(0, BindTo::Core).unwrap().cpu_set();
        // SAFETY: reading a plain cpu_set_t.
        unsafe {
            assert!(libc::CPU_ISSET(0, &set));
            assert!(libc::CPU_ISSET(4, &set));
            assert!(!libc::CPU_ISSET(1, &set));
        }
    }

    #[test]
    fn discover_real_machine() {
        // hwloc may legitimately fail in odd sandboxes; only check consistency.
        if let Ok(l) = Layout::discover() {
            assert!(l.ncores() >= 1);
            assert!(l.cores.iter().all(|c| !c.is_empty()));
        }
    }
}
