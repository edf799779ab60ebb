// Headless Chromium against the filter in Envoy (target/envoy-filter.wasm).
import { browserSuite } from './lib/suite.mjs';

browserSuite('envoy');
