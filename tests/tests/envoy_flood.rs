//! 100,000 requests through real Envoy running the module: valid requests
//! with exactly known answers interleaved with hostile ones, over several
//! kept-alive connections (see [`e2e::flood::assert_flood`]). Envoy's memory
//! must stay flat once warmed up.
//!
//! Needs Envoy (`scripts/setup.sh`) and the module (`scripts/build-wasm.sh
//! envoy`); fails, never skips, without them.

use e2e::flood::{self, Flood, Memory};
use e2e::proxy::Runtime;

#[test]
fn a_flood_of_valid_and_hostile_requests_gets_right_answers_and_leaves_memory_flat() {
    flood::assert_flood(
        Runtime::Envoy,
        Flood {
            total: 100_000,
            // Enough to keep Envoy's one worker busy on a 2-core machine.
            threads: 4,
            memory: Some(Memory {
                // Every shared hostile request, the largest ones included,
                // is sent in it.
                warm_up: 5_000,
                max_growth_percent: 5,
            }),
        },
    );
}
