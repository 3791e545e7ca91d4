//! `PMI_process_mapping`: which node each rank runs on, as
//! `(vector,(first_node,node_count,ranks_per_node),...)`.
//!
//! Each block places `ranks_per_node` consecutive ranks on each of `node_count` nodes
//! starting at `first_node`; the whole vector **repeats** until every rank has a node:
//! Hydra writes `(vector,(0,1,1))` for any single-node job, Slurm `(vector,(0,1,N))`.
//! `rshmemrun` writes one `(node,1,count)` block per run of consecutive ranks on one node
//! ([`ProcessMapping::from_placement`]), which needs no repetition.

use std::fmt;

/// One `(first_node,node_count,ranks_per_node)` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    /// Node of the block's first rank.
    pub first_node: usize,
    /// Number of consecutive nodes the block covers (at least 1).
    pub nodes: usize,
    /// Consecutive ranks on each of them (at least 1).
    pub ranks_per_node: usize,
}

/// A parsed or to-be-formatted `PMI_process_mapping` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessMapping {
    /// The blocks, in order (never empty in a mapping that parsed).
    pub blocks: Vec<Block>,
}

impl ProcessMapping {
    /// Every one of `size` ranks on node 0: `(vector,(0,1,size))`.
    pub fn single_node(size: usize) -> Self {
        ProcessMapping {
            blocks: vec![Block {
                first_node: 0,
                nodes: 1,
                ranks_per_node: size,
            }],
        }
    }

    /// The mapping of a placement (the node of each rank): one `(node,1,count)` block per
    /// run of consecutive ranks on the same node.
    pub fn from_placement(placement: &[usize]) -> Self {
        let mut blocks = Vec::new();
        let mut i = 0;
        while i < placement.len() {
            let mut j = i;
            while j < placement.len() && placement[j] == placement[i] {
                j += 1;
            }
            blocks.push(Block {
                first_node: placement[i],
                nodes: 1,
                ranks_per_node: j - i,
            });
            i = j;
        }
        ProcessMapping { blocks }
    }

    /// Parses a value; `None` when it is not a vector of blocks with non-zero counts.
    /// Blanks around the value and its numbers are allowed.
    pub fn parse(value: &str) -> Option<Self> {
        let inner = value.trim().strip_prefix("(vector")?.strip_suffix(')')?;
        let mut blocks = Vec::new();
        for part in inner.split('(').skip(1) {
            let nums: Vec<usize> = part
                .trim_end_matches([')', ',', ' '])
                .split(',')
                .map(|n| n.trim().parse().ok())
                .collect::<Option<_>>()?;
            if nums.len() != 3 || nums[1] == 0 || nums[2] == 0 {
                return None;
            }
            blocks.push(Block {
                first_node: nums[0],
                nodes: nums[1],
                ranks_per_node: nums[2],
            });
        }
        if blocks.is_empty() {
            return None;
        }
        Some(ProcessMapping { blocks })
    }

    /// The node of each of `size` ranks, repeating the vector as needed; `None` when the
    /// mapping is empty or a node number would pass `usize::MAX`.
    pub fn nodes(&self, size: usize) -> Option<Vec<usize>> {
        if self.blocks.is_empty() {
            return None;
        }
        let mut nodes = Vec::with_capacity(size);
        'outer: loop {
            for b in &self.blocks {
                if b.nodes == 0 || b.ranks_per_node == 0 {
                    return None;
                }
                for n in 0..b.nodes {
                    for _ in 0..b.ranks_per_node {
                        if nodes.len() == size {
                            break 'outer;
                        }
                        // A node number past usize::MAX: not a mapping (no overflow panic).
                        nodes.push(b.first_node.checked_add(n)?);
                    }
                }
            }
            if size == 0 {
                break;
            }
        }
        Some(nodes)
    }
}

impl fmt::Display for ProcessMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(vector")?;
        for b in &self.blocks {
            write!(f, ",({},{},{})", b.first_node, b.nodes, b.ranks_per_node)?;
        }
        f.write_str(")")
    }
}

/// Node of each of `size` ranks from a `PMI_process_mapping` value (see the module docs).
pub fn parse_process_mapping(value: &str, size: usize) -> Option<Vec<usize>> {
    ProcessMapping::parse(value)?.nodes(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_mappings() {
        assert_eq!(
            parse_process_mapping("(vector,(0,1,1))", 3),
            Some(vec![0, 0, 0])
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,1,4))", 4),
            Some(vec![0, 0, 0, 0])
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,2,2))", 4),
            Some(vec![0, 0, 1, 1])
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,2,1))", 4),
            Some(vec![0, 1, 0, 1])
        );
        assert_eq!(
            parse_process_mapping("(vector,(0,2,2),(2,1,1))", 5),
            Some(vec![0, 0, 1, 1, 2])
        );
        assert_eq!(
            parse_process_mapping(" (vector, (0, 2, 1)) ", 2),
            Some(vec![0, 1])
        );
        assert_eq!(parse_process_mapping("(vector,(0,0,1))", 2), None);
        assert_eq!(parse_process_mapping("garbage", 2), None);
        assert_eq!(parse_process_mapping("(vector)", 2), None);
    }

    #[test]
    fn formats_placements() {
        assert_eq!(
            ProcessMapping::from_placement(&[0, 0, 1, 1]).to_string(),
            "(vector,(0,1,2),(1,1,2))"
        );
        assert_eq!(
            ProcessMapping::from_placement(&[0, 1, 0]).to_string(),
            "(vector,(0,1,1),(1,1,1),(0,1,1))"
        );
        assert_eq!(
            ProcessMapping::single_node(4).to_string(),
            "(vector,(0,1,4))"
        );
        assert_eq!(ProcessMapping::from_placement(&[]).to_string(), "(vector)");
    }

    #[test]
    fn node_overflow_is_refused() {
        assert_eq!(
            parse_process_mapping("(vector,(18446744073709551615,2,1))", 2),
            None
        );
        assert_eq!(
            parse_process_mapping("(vector,(18446744073709551614,2,1))", 2),
            Some(vec![usize::MAX - 1, usize::MAX])
        );
    }
}
