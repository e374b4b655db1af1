// `cdk-rollout-guardrails rehearse` on the example app's cloud assembly, synthesized here as `npm run synth` builds
// it: one test per scenario outcome of its default staged rollout, and the bundled bin as a user runs it.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { rehearse } from '../cli/src/main';
import { parseRehearse } from '../cli/src/options';
import { ScenarioResult } from '../cli/src/result';
import { synthDemo, tempDir } from './helpers/cli-assemblies';

const temp = tempDir('cli-demo-');
let app: string;
let results: ScenarioResult[];
let output: string[];

beforeAll(async () => {
  app = synthDemo(path.join(temp.dir, 'cdk.out'));
  output = [];
  ({ results } = await rehearse(parseRehearse(['--app', app]), (line) => output.push(line)));
}, 180_000);
afterAll(() => temp.remove());

const result = (name: string) => results.find((r) => r.scenario.name === name)!;

describe('rehearse on the example app', () => {
  test('reads the default staged rollout from the assembly: steps, bake, gates, warm-up and the probe\'s gold set', () => {
    expect(output).toContain('  steps 1 → 5 → 25 → 50 → 100 %, bake 300 s, roll back after 2 failures at a step, recheck 60 s, no data: pass below 10 invocations');
    expect(output.join('\n')).toMatch(/warm-up: 2 provisioned, 2 pings, READY within 120 s/);
    expect(output.join('\n')).toMatch(/ΔS probe ProbeFunction\w+: 54 gold questions × 2 seeds/);
    // every default scenario but the blue-green one
    expect(results.map((r) => r.scenario.name)).toEqual(['good', 'error-spike', 'latency-regression', 'delta-s-drift', 'cold-start', 'low-traffic', 'hung-aws-call']);
  });

  test('good reaches 100 % through every step', () => {
    expect(result('good')).toMatchObject({ outcome: 'promote', ending: 'reached 100 %', maxWeight: 100 });
    expect(result('good').timeline.map((e) => e.weight).filter((w, i, all) => w !== all[i - 1])).toEqual([0, 1, 5, 25, 50, 100]);
  });

  test('error-spike is rolled back at 1 % by the error-rate gates, and traffic is off a second after the decision', () => {
    const r = result('error-spike');
    expect(r).toMatchObject({ outcome: 'rollback', ending: 'rolled back at 1 % (check before 5 %)', maxWeight: 1 });
    const decisive = r.timeline.filter((e) => e.gates).pop()!;
    expect(decisive.gates!.filter((g) => g.passed === false).map((g) => g.name).sort()).toEqual(['maxErrorRate', 'maxErrorRateDelta']);
    expect(r.trafficOffAt! - r.detectedAt!).toBe(1);
    // the breach starts when users first reach the new version (after the warm gate and the first probe)
    expect(r.breachAt).toBe(62);
  });

  test('latency-regression passes the probe\'s latency judge but is rolled back at 1 % by the live p95 gate', () => {
    const r = result('latency-regression');
    expect(r.ending).toBe('rolled back at 1 % (check before 5 %)');
    const decisive = r.timeline.filter((e) => e.gates).pop()!;
    expect(decisive.gates!.filter((g) => g.passed === false).map((g) => g.name)).toEqual(['maxP95Ratio']);
    expect(decisive.gates!.find((g) => g.name === 'probe')!.passed).toBe(true);
  });

  test('the gate alarm is evaluated from the simulated traffic; the probe\'s ΔS and the cold-start alarms are marked assumed', () => {
    const check = result('good').timeline.find((e) => e.gates?.some((g) => g.name.startsWith('alarm:')))!;
    expect(check.assumed).toEqual([expect.stringMatching(/^alarm:AnswerProbeDeltaS/), expect.stringMatching(/^alarm:AnswerColdStartShare/)]);
    expect(output.join('\n')).toMatch(/alarm:AnswerGatesAlarm\w+ +OK vs OK +\(evaluated from the simulated traffic\)/);
  });

  test('delta-s-drift is stopped by the ΔS probe before any user traffic', () => {
    const r = result('delta-s-drift');
    expect(r).toMatchObject({ outcome: 'rollback', maxWeight: 0, ending: 'rolled back before any traffic (check before 1 %)' });
    expect(r.timeline.some((e) => /maxDeltaSDrift/.test(e.text))).toBe(true);
  });

  test('cold-start is stopped by the warm gate: provisioned concurrency FAILED, nobody served', () => {
    const r = result('cold-start');
    expect(r).toMatchObject({ outcome: 'rollback', maxWeight: 0, ending: 'stopped by the warm gate, before any traffic' });
    expect(r.timeline[0].text).toMatch(/FAILED after 60 s: FUNCTION_ERROR_INIT_FAILURE/);
  });

  test('low-traffic reaches 100 %, with the metric gates not judged at 1 % (3 invocations in its 300 s bake, fewer than 10) and said so', () => {
    const r = result('low-traffic');
    expect(r.ending).toBe('reached 100 %');
    const notJudged = r.timeline.flatMap((e) => e.gates ?? []).filter((g) => g.passed === null && g.name === 'metrics');
    expect(notJudged[0]).toMatchObject({ measured: 3, threshold: 10 });
  });

  test('hung-aws-call: the gate\'s read times out three times (30 s each, the Retry\'s 5 and 10 s between) and the catch resets routing', () => {
    const r = result('hung-aws-call');
    expect(r).toMatchObject({ outcome: 'rollback', ending: 'rolled back at 1 % (machine error)' });
    expect(r.detectedAt! - r.breachAt!).toBe(30 + 5 + 30 + 10 + 30);
    expect(r.timeline.some((e) => /3 attempts of 30 s \(the function's Timeout 30 s\).*ResetRoutingOnError/.test(e.text))).toBe(true);
  });

  test('ends with the summary table, the model\'s limits and its assumed figures', () => {
    const text = output.join('\n');
    expect(text).toMatch(/\| RolloutGuardrailsDemo\/Answer \| error-spike +\| rolled back at 1 % \(check before 5 %\) +\| rollback +\| 480 s +\| 481 s +\| none +\| as expected \|/);
    expect(text).toMatch(/CloudWatch alarms: those on the alias's AWS\/Lambda metrics \(the gate alarm, yours on the same metrics\) are evaluated/);
    expect(text).toMatch(/real metric delay \(register LAM-6\)/);
    expect(text).toMatch(/Assumed figures \(\*\):\n {2}- a probe run takes 60 s/);
    expect(text).toMatch(/every scenario ended as expected \(7\)$/);
  });
});

describe('the bundled bin (dist/cli/main.js)', () => {
  beforeAll(() => {
    const built = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'bundle-cli.mjs')], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
  }, 60_000);
  const bin = (...args: string[]) => spawnSync(process.execPath, [path.join(__dirname, '..', 'dist', 'cli', 'main.js'), ...args], { encoding: 'utf8' });

  test('exits 0 when every scenario ends as expected, in a few seconds', () => {
    const run = bin('rehearse', '--app', app, '--quiet', '--scenario', 'good', 'error-spike');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/every scenario ended as expected \(2\)/);
  });

  test('exits 1 when a scenario does not end as --expect declares, naming it', () => {
    const run = bin('rehearse', '--app', app, '--quiet', '--scenario', 'good,delta-s-drift', '--expect', 'delta-s-drift=promote');
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/1 of 2 scenario\(s\) did not end as expected: delta-s-drift on RolloutGuardrailsDemo\/Answer\/Alias/);
  });
});
