// Finds the tools the browser tests need and fails loudly when one is missing:
// these tests never skip.
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const SETUP_HINT = 'run scripts/setup.sh, then `source ~/.cache/cors-filter-tools/env.sh`';

/** An environment variable that must be set, or an error saying how to get it. */
export function requiredEnv(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: ${SETUP_HINT}`);
  return value;
}

/**
 * Loads an npm package installed by scripts/setup.sh. ESM `import` ignores
 * NODE_PATH, so resolve through a CommonJS `require` rooted in each NODE_PATH
 * entry in turn.
 */
export function requireTool(name) {
  const dirs = requiredEnv('NODE_PATH').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    try {
      return createRequire(path.join(path.resolve(dir), 'noop.js'))(name);
    } catch (err) {
      if (err.code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  throw new Error(`npm package ${name} not found under NODE_PATH=${dirs.join(':')}: ${SETUP_HINT}`);
}

/** The Chromium executable from $CHROMIUM_BIN, checked to exist and be executable. */
export function chromiumBinary() {
  const bin = requiredEnv('CHROMIUM_BIN');
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`CHROMIUM_BIN=${bin} is not an executable file: ${SETUP_HINT}`);
  }
  return bin;
}
