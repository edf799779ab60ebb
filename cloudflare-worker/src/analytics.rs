//! Decision counters in Workers Analytics Engine.
//!
//! When the Worker has an Analytics Engine binding named `CORS_ANALYTICS`
//! (`[[analytics_engine_datasets]]` in wrangler.toml), every decision is
//! written as one data point: blobs `[policy, outcome, mode]` and doubles
//! `[1]`. Summing `_sample_interval * double1` grouped by the
//! blobs gives the counts Envoy keeps as counters (the dataset samples, and
//! `_sample_interval` says by how much). Without the binding nothing is
//! written.

use crate::binding;
use filter_core::{Outcome, Policy};
use wasm_bindgen::prelude::wasm_bindgen;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::{console_error, Env};

/// The binding's name.
pub const BINDING: &str = "CORS_ANALYTICS";

#[wasm_bindgen]
extern "C" {
    /// An Analytics Engine dataset binding.
    type AnalyticsEngineDataset;
    #[wasm_bindgen(method, catch, js_name = writeDataPoint)]
    fn write_data_point(this: &AnalyticsEngineDataset, point: &JsValue) -> Result<(), JsValue>;
}

/// Whether the Worker has the binding.
pub fn bound(env: &Env) -> bool {
    let dataset = binding(env, BINDING);
    !(dataset.is_undefined() || dataset.is_null())
}

/// Writes one data point for a decision. The write is fire-and-forget in the
/// runtime; a failure is logged and never changes the answer.
pub fn record(env: &Env, policy: &Policy, outcome: Outcome, mode: &str) {
    let point = serde_json::json!({
        "blobs": [policy.name(), outcome.as_str(), mode],
        "doubles": [1],
    });
    let written = worker::js_sys::JSON::parse(&point.to_string()).and_then(|point| {
        let dataset: AnalyticsEngineDataset = binding(env, BINDING).unchecked_into();
        dataset.write_data_point(&point)
    });
    if let Err(error) = written {
        console_error!("{BINDING}.writeDataPoint failed: {error:?}");
    }
}
