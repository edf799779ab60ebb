//! 10,000 requests through real workerd running the Worker: the Envoy flood
//! (`envoy_flood.rs`) scaled down, since a Worker request costs more. Every
//! valid request must get exactly its answer (the same as from Envoy), no
//! request may get a 500, and workerd must log no trap (see
//! [`e2e::flood::assert_flood`]).
//!
//! Memory is not checked here: workerd's resident size keeps growing for
//! some 40,000 requests of this mix (about 120 MB to 260 MB, levelling off
//! there) as V8 sizes its heaps, so a 5% rule after a short warm-up would
//! fail for reasons that are not the Worker's.
//!
//! Needs workerd (`scripts/setup.sh`) and the built Worker
//! (`scripts/build-wasm.sh worker`); fails, never skips, without them.

use e2e::flood::{self, Flood};
use e2e::proxy::Runtime;

#[test]
fn a_flood_of_valid_and_hostile_requests_gets_right_answers_and_no_crash() {
    flood::assert_flood(
        Runtime::Workerd,
        Flood {
            total: 10_000,
            threads: 4,
            memory: None,
        },
    );
}
