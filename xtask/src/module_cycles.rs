//! No module cycle inside a crate (issue 16): within each workspace crate, the top-level
//! modules of `src/` (a file `src/x.rs` or a directory `src/x/`; the crate root is one
//! more node) must not depend on each other in a circle. A dependency is a path
//! `crate::x` in the code of a module's files (comments dropped). Sub-modules of one
//! top-level module may use each other freely: they are one unit here.
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// The workspace crates whose `src/` is checked.
pub const CRATES: &[&str] = &[
    "runtime",
    "transport",
    "collectives",
    "launcher",
    "capi",
    "pmi",
    "benches",
    "tests",
    "examples",
    "xtask",
];

/// Top-level module of `rel` (a path under `src/`): `x` for `x.rs` and `x/...`; the crate
/// root (`lib.rs`, `main.rs`, `bin/...`) is `(root)`.
fn top_module(rel: &Path) -> String {
    let first = rel
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = first.trim_end_matches(".rs").to_string();
    if name == "lib" || name == "main" || name == "bin" {
        "(root)".into()
    } else {
        name
    }
}

/// The `crate::x` names a piece of Rust source refers to (line comments dropped).
pub fn crate_refs(src: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in src.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().next_back();
            let tail = &rest[i + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if before.is_none_or(|c| !(c.is_alphanumeric() || c == '_')) && !name.is_empty() {
                out.insert(name);
            }
            rest = tail;
        }
    }
    out
}

/// The module graph of one crate's `src/`: module -> modules it refers to.
pub fn graph(src_dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src_dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(src_dir).expect("under src");
                let top = top_module(rel);
                let refs = crate_refs(&fs::read_to_string(&p).unwrap_or_default());
                g.entry(top).or_default().extend(refs);
            }
        }
    }
    let nodes: BTreeSet<String> = g.keys().cloned().collect();
    for (k, v) in g.iter_mut() {
        v.retain(|m| m != k && nodes.contains(m));
    }
    g
}

/// One cycle of `g` if there is any (as the list of modules on it).
pub fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // Depth-first search with colours: 0 new, 1 on the stack, 2 done.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        colour: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        colour.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match colour.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let at = stack.iter().position(|s| s == m).expect("on the stack");
                    return Some(stack[at..].to_vec());
                }
                0 => {
                    if let Some(c) = visit(m, g, colour, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        colour.insert(n.to_string(), 2);
        None
    }
    let mut colour = BTreeMap::new();
    for n in g.keys() {
        if colour.get(n.as_str()).copied().unwrap_or(0) == 0 {
            let mut stack = Vec::new();
            if let Some(c) = visit(n, g, &mut colour, &mut stack) {
                return Some(c);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(edges: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    }

    #[test]
    fn finds_cycles_and_only_cycles() {
        assert_eq!(find_cycle(&g(&[("a", "b"), ("b", "c")])), None);
        let c = find_cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])).expect("a cycle");
        assert_eq!(c.len(), 3);
        assert!(find_cycle(&g(&[("x", "y"), ("y", "x")])).is_some());
    }

    #[test]
    fn references_ignore_comments_and_longer_names() {
        let r = crate_refs("use crate::rt::Runtime; // crate::job\nlet x = mycrate::foo;");
        assert_eq!(r.into_iter().collect::<Vec<_>>(), vec!["rt".to_string()]);
    }

    /// The rule itself: no workspace crate has a cycle among its top-level modules.
    #[test]
    fn no_crate_has_a_module_cycle() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut checked = 0;
        for krate in CRATES {
            let src = root.join(krate).join("src");
            if !src.is_dir() {
                continue;
            }
            let graph = graph(&src);
            checked += graph.len();
            assert_eq!(
                find_cycle(&graph),
                None,
                "{krate}/src: these modules depend on each other in a circle \
                 (pass a handle down instead of reaching back up)"
            );
        }
        assert!(
            checked > 50,
            "only {checked} modules found: is the scan broken?"
        );
    }
}
