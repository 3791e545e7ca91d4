//! Format then parse gives back the same thing: PMI-1 lines, PMI-2 framed bodies, process
//! mappings (the launcher formats, the runtime parses) and hex values.

use proptest::prelude::*;
use rshmem_pmi::pmi2::{format_body, frame, parse_len};
use rshmem_pmi::{hex_decode, hex_encode, Block, Message, ProcessMapping};

/// A message both framings can carry: keys without separators or `=` (and not `cmd`),
/// values without whitespace, newlines or `;`.
fn message() -> impl Strategy<Value = Message> {
    (
        "[a-z][a-z_-]{0,15}",
        proptest::collection::vec(
            (
                "[a-z_-]{1,10}".prop_filter("not cmd", |k| k != "cmd"),
                "[!-:<-~]{0,40}",
            ),
            0..8,
        ),
    )
        .prop_map(|(cmd, fields)| Message { cmd, fields })
}

proptest! {
    #[test]
    fn pmi1_lines_round_trip(m in message()) {
        prop_assert_eq!(Message::parse(&m.to_line()), Ok(m.clone()));
    }

    #[test]
    fn pmi2_bodies_round_trip(m in message()) {
        let framed = frame(&m.to_pmi2_body().unwrap()).unwrap();
        let n = parse_len(&framed.as_bytes()[..6]).unwrap();
        prop_assert_eq!(n, framed.len() - 6);
        prop_assert_eq!(Message::parse_pmi2(&framed[6..]), Ok(m));
    }

    /// PMI-2 values may hold blanks (the runtime's former PMI-2 case).
    #[test]
    fn pmi2_values_with_blanks_round_trip(cmd in "[a-z-]{1,12}", pairs in proptest::collection::vec(("[a-z_-]{1,10}".prop_filter("not cmd", |k| k != "cmd"), "[a-zA-Z0-9=,()_. -]{0,40}"), 0..6)) {
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let framed = frame(&format_body(&cmd, &refs).unwrap()).unwrap();
        let m = Message::parse_pmi2(&framed[6..]).unwrap();
        prop_assert_eq!(m.cmd, cmd);
        prop_assert_eq!(m.fields, pairs);
    }

    /// What the launcher serves for a placement, the runtime reads back as that placement.
    #[test]
    fn placements_round_trip(placement in proptest::collection::vec(0usize..6, 1..200)) {
        let s = ProcessMapping::from_placement(&placement).to_string();
        prop_assert_eq!(rshmem_pmi::parse_process_mapping(&s, placement.len()), Some(placement));
    }

    /// Any mapping (Hydra's and Slurm's repeating forms too) formats and parses to itself.
    #[test]
    fn mappings_round_trip(blocks in proptest::collection::vec((0usize..1 << 40, 1usize..64, 1usize..64), 1..8), size in 0usize..512) {
        let m = ProcessMapping {
            blocks: blocks
                .into_iter()
                .map(|(first_node, nodes, ranks_per_node)| Block { first_node, nodes, ranks_per_node })
                .collect(),
        };
        let back = ProcessMapping::parse(&m.to_string()).unwrap();
        prop_assert_eq!(back.nodes(size), m.nodes(size));
        prop_assert_eq!(back, m);
    }

    #[test]
    fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        prop_assert_eq!(hex_decode(&hex_encode(&bytes)), Some(bytes));
    }
}
