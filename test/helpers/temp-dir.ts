import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A temporary folder for one suite; `remove()` deletes it. (Here rather than in cli-assemblies.ts so that a suite needing only this does not load aws-cdk-lib.) */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
