//! The shared vectors in `tests/vectors/`, as the `cors-vectors` crate reads
//! them for every runner, plus what only the end-to-end harness needs.

pub use cors_vectors::*;

/// Header lines from text, in the order given: what an upstream is told to
/// send, or (through [`cors_headers`]) what a client must see.
pub fn lines(list: &[(&str, &str)]) -> Vec<Header> {
    list.iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}
