// npm run bench:cli: how long `npx cdk-rollout-guardrails rehearse` takes on the example app's default staged
// rollout with every default scenario, the figure issue #16 bounds at 10 s. The example app is synthesized into a
// temporary folder (not timed), then the bundled CLI (dist/cli/main.js, as the package ships it) runs on it as a
// user would: a fresh Node.js process, its start and the assembly's reading included. Median of 5 runs, the slowest shown too.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { synthDemo, tempDir } from '../test/helpers/cli-assemblies';

const TARGET_SECONDS = 10;
const RUNS = 5;

function main(): void {
  const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
  const temp = tempDir('bench-cli-');
  try {
    const started = Date.now();
    const app = synthDemo(path.join(temp.dir, 'cdk.out'));
    console.log(`synthesized the example app in ${((Date.now() - started) / 1000).toFixed(1)} s (not counted)`);
    const times: number[] = [];
    let summary = '';
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      const run = spawnSync(process.execPath, [cli, 'rehearse', '--app', app, '--quiet'], { encoding: 'utf8' });
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      if (run.status !== 0) throw new Error(`the rehearsal exited ${run.status}:\n${run.stdout}\n${run.stderr}`);
      summary = run.stdout.split('\n').filter((l) => l.startsWith('|')).join('\n');
    }
    const median = [...times].sort((a, b) => a - b)[Math.floor(RUNS / 2)];
    console.log(summary);
    console.log(`\nrehearse, example app (default staged rollout), all default scenarios: ${median.toFixed(2)} s (median of ${RUNS}: ${times.map((t) => t.toFixed(2)).join(', ')} s); target < ${TARGET_SECONDS} s: ${median < TARGET_SECONDS ? 'met' : 'MISSED'}`);
    if (median >= TARGET_SECONDS) process.exitCode = 1;
  } finally {
    temp.remove();
  }
}

main();
