// The ΔS probe handler as the DeltaSProbe construct deploys it: lambdas/probe/index.ts with its configuration and
// gold set beside it (GUARDRAILS_PROBE_DIR, a temporary folder), for suites that run the real handler in-process.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DeltaSProbe, GoldSet } from '../../lib';
import { testStack } from '../util';

/** The demo's gold set, which the demo handler answers. */
export const DEMO_GOLD_FILE = path.join(__dirname, '..', '..', 'bin', 'gold-set.jsonl');

/** The probe construct, its handler loaded from a folder of its own, and `remove()` for the suite's afterAll. */
export function deployedProbe(prefix: string, goldFile: string = DEMO_GOLD_FILE) {
  const probe = new DeltaSProbe(testStack(), 'Probe', { goldSet: GoldSet.fromFile(goldFile) });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.writeFileSync(path.join(dir, 'probe-config.json'), JSON.stringify(probe.config));
  fs.copyFileSync(goldFile, path.join(dir, 'gold-set.jsonl'));
  process.env.GUARDRAILS_PROBE_DIR = dir;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { handler } = require('../../lambdas/probe') as typeof import('../../lambdas/probe');
  return { probe, handler, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
