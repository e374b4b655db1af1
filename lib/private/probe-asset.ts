import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { findPackageRoot } from './assets';

/**
 * The probe function's code: the prebundled handler (assets/probe/index.js) with the probe's configuration
 * and gold set beside it, staged in a folder named after the hash of all three, so that the same probe
 * always gives the same asset and a changed gold set gives a new one (and a new version of the probe).
 */
export function probeCode(configJson: string, goldSetJsonl: string): lambda.Code {
  const bundled = path.join(findPackageRoot(), 'assets', 'probe', 'index.js');
  if (!fs.existsSync(bundled)) {
    throw new Error(`cdk-rollout-guardrails: the bundled handler 'probe' is missing at ${path.dirname(bundled)}; run 'npm run bundle' (or 'npm run build') in the package first`);
  }
  const handler = fs.readFileSync(bundled);
  const hash = crypto.createHash('sha256').update(handler).update('\0').update(configJson).update('\0').update(goldSetJsonl).digest('hex');
  const dir = path.join(os.tmpdir(), 'cdk-rollout-guardrails-probe', hash.slice(0, 32));
  if (!fs.existsSync(path.join(dir, 'index.js'))) {
    // Staged under a temporary name and renamed, so that two synths at once never see half a folder.
    const staging = `${dir}.${process.pid}.${Date.now()}`;
    fs.mkdirSync(staging, { recursive: true });
    fs.writeFileSync(path.join(staging, 'probe-config.json'), configJson);
    fs.writeFileSync(path.join(staging, 'gold-set.jsonl'), goldSetJsonl);
    fs.writeFileSync(path.join(staging, 'index.js'), handler);
    try {
      fs.renameSync(staging, dir);
    } catch {
      fs.rmSync(staging, { recursive: true, force: true });
    }
  }
  return lambda.Code.fromAsset(dir);
}
