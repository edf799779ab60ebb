// Validates every Istio manifest under deploy/istio against Istio's published
// CRD schemas, as packaged by npm `@kubernetes-models/istio` (installed by
// scripts/setup.sh; NODE_PATH from env.sh finds it).
//
// Usage: node scripts/validate-istio.mjs [KEY=VALUE ...]
//   Each KEY=VALUE fills the placeholder @KEY@ in the manifests first (the
//   kit leaves the image digest to the operator, for instance).
// Prints one line per resource; exits 1 if any is refused or unknown.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ISTIO_DIR = path.join(ROOT, 'deploy', 'istio');

/** An npm package from NODE_PATH (ESM `import` ignores NODE_PATH). */
function load(name) {
  for (const dir of (process.env.NODE_PATH ?? '').split(path.delimiter).filter(Boolean)) {
    try {
      return createRequire(path.join(path.resolve(dir), 'noop.js'))(name);
    } catch (error) {
      if (error.code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new Error(`npm package ${name} not found under NODE_PATH: source env.sh after scripts/setup.sh`);
}

const yaml = load('js-yaml');

/** The model class for a resource's apiVersion and kind, from the CRD package. */
async function modelFor({ apiVersion, kind }) {
  if (!/^[a-z0-9.]+\/v[a-z0-9]+$/.test(String(apiVersion))) return undefined;
  for (const dir of (process.env.NODE_PATH ?? '').split(path.delimiter).filter(Boolean)) {
    // The package is ESM only, exporting `import` entries: import the file.
    const file = path.join(path.resolve(dir), '@kubernetes-models', 'istio', apiVersion, 'index.js');
    if (existsSync(file)) return (await import(pathToFileURL(file)))[kind];
  }
  return undefined;
}

const fill = Object.fromEntries(process.argv.slice(2).map((arg) => arg.split(/=(.*)/s).slice(0, 2)));
let failures = 0;
let checked = 0;
for (const name of readdirSync(ISTIO_DIR).filter((n) => /\.ya?ml$/.test(n)).sort()) {
  let text = readFileSync(path.join(ISTIO_DIR, name), 'utf8');
  for (const [key, value] of Object.entries(fill)) text = text.replaceAll(`@${key}@`, value);
  const left = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n').match(/@[A-Z_]+@/);
  for (const doc of yaml.loadAll(text).filter(Boolean)) {
    const what = `deploy/istio/${name}: ${doc.kind} ${doc.metadata?.name ?? '?'}`;
    checked += 1;
    try {
      if (left) throw new Error(`placeholder ${left[0]} is not filled in`);
      const Model = await modelFor(doc);
      if (!Model) throw new Error(`no Istio CRD schema for ${doc.apiVersion} ${doc.kind}`);
      new Model(doc).validate();
      console.log(`ok   ${what} (Istio CRD schema)`);
    } catch (error) {
      failures += 1;
      console.log(`FAIL ${what} (Istio CRD schema)\n     ${String(error.message ?? error).replaceAll('\n', '\n     ')}`);
    }
  }
}
if (checked === 0) {
  console.log(`FAIL no manifest found under ${ISTIO_DIR}`);
  process.exit(1);
}
process.exit(failures ? 1 : 0);
