import { spawnSync } from 'child_process';
import * as path from 'path';
import { Worker } from 'worker_threads';

/** What one run of the asl-validator check gave: its exit status and what it wrote. */
export interface AslCheckRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'check-asl.mjs');

/** Runs scripts/check-asl.mjs as CI does: a node process of its own. */
export function checkAslCli(...args: string[]): AslCheckRun {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The same check (the script's checkAsl) in one worker thread for the whole suite: what a run of the script
 * writes and returns, without loading asl-validator again for each run. `close()` ends the worker.
 */
export function aslChecker(): { check: (...args: string[]) => Promise<AslCheckRun>; close: () => Promise<number> } {
  const worker = new Worker(path.join(__dirname, 'asl-check-worker.mjs'));
  const pending = new Map<number, { resolve: (run: AslCheckRun) => void; reject: (e: Error) => void }>();
  let next = 0;
  worker.on('message', ({ id, ...run }: AslCheckRun & { id: number }) => {
    pending.get(id)?.resolve(run);
    pending.delete(id);
  });
  // One listener for the worker's life (one per check piled up past Node's limit of 10 and printed a warning).
  worker.on('error', (e) => {
    for (const { reject } of pending.values()) reject(e);
    pending.clear();
  });
  return {
    check: (...args) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, args });
    }),
    close: () => worker.terminate(),
  };
}
