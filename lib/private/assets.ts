import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

const PACKAGE_NAME = 'cdk-rollout-guardrails';

let packageRoot: string | undefined;

/** The folder holding this package's package.json, whether running from lib/ (ts) or dist/lib/ (js). */
export function findPackageRoot(from: string = __dirname): string {
  if (packageRoot) return packageRoot;
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === PACKAGE_NAME) {
      packageRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cdk-rollout-guardrails: cannot find the package root above ${from}`);
    dir = parent;
  }
}

/**
 * The prebundled code of one of the library's handlers (lambdas/<name>/index.ts, bundled by
 * `npm run bundle` into assets/<name>/index.js).
 */
export function handlerCode(name: string): lambda.Code {
  const dir = path.join(findPackageRoot(), 'assets', name);
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(`cdk-rollout-guardrails: the bundled handler '${name}' is missing at ${dir}; run 'npm run bundle' (or 'npm run build') in the package first`);
  }
  return lambda.Code.fromAsset(dir);
}
