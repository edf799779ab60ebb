// Headless Chromium against the filter as a Cloudflare Worker, under workerd
// (cloudflare-worker/build/).
import { browserSuite } from './lib/suite.mjs';

browserSuite('worker');
