// `cdk-rollout-guardrails rehearse` on the example app's cloud assembly, synthesized here as `npm run synth` builds
// it: one test per scenario outcome of its default staged rollout, and the bundled bin as a user runs it.
// And on a user's stack it has not seen (formerly test/cli-user-stack.test.ts): one file, so that the two share one
// load of aws-cdk-lib.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { rehearse } from '../cli/src/main';
import { parseRehearse } from '../cli/src/options';
import { ScenarioResult } from '../cli/src/result';
import { synthDemo, tempDir, synthUserApp, USER_STACK } from './helpers/cli-assemblies';
import * as fs from 'fs';
import { ROLLBACK_TARGET_SECONDS } from '../packages/runtime/src/contract/blue-green';

describe('on the example app', () => {
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
});

describe('on a user\'s stack the CLI has not seen', () => {
  // `cdk-rollout-guardrails rehearse` on a user's stack the CLI has not seen: a staged alias (its own schedule, a
  // notifications topic, the probe), a blue-green alias (pins, the probe, a topic) and a canary alias, with a scenario
  // file of the user's own; outcomes checked against the strategy's computed worst case.
  const temp = tempDir('cli-user-');
  let app: string;
  let results: ScenarioResult[];
  let output: string[];

  async function run(...args: string[]): Promise<{ code: number; results: ScenarioResult[]; lines: string[] }> {
    const lines: string[] = [];
    const done = await rehearse(parseRehearse(['--app', app, ...args]), (line) => lines.push(line));
    return { ...done, lines };
  }

  beforeAll(async () => {
    app = synthUserApp(path.join(temp.dir, 'cdk.out'));
    ({ results, lines: output } = await run('--stack', USER_STACK, '--quiet'));
  }, 180_000);
  afterAll(() => temp.remove());

  const outcome = (alias: string, scenario: string) => results.find((r) => r.alias.path === `${USER_STACK}/${alias}/Alias` && r.scenario.name === scenario)!;

  describe('rehearse on a user\'s stack with several strategies', () => {
    test('finds each guarded alias by its construct path, with its strategy', () => {
      expect([...new Set(results.map((r) => `${r.alias.path}: ${r.alias.strategy}`))]).toEqual([
        'ShopRelease/CheckoutRelease/Alias: staged', 'ShopRelease/SearchRelease/Alias: blue-green',
        'ShopRelease/ReportsRelease/Alias: canary', 'ShopRelease/FeedRelease/Alias: linear',
      ]);
      expect(output.some((l) => l.startsWith('not rehearsed'))).toBe(false);
      expect(output).toContain('  CodeDeploy shifts 10 → 100 %, 5 min between shifts, watching the alarms ' + results.find((r) => r.alias.strategy === 'canary')!.alias.alarmNames.join(', ') + '; rolls back on ALARM');
    });

    test('the staged alias runs its own schedule (10 → 50 → 100 %, 3-minute bakes) and names each decision it would publish', () => {
      expect(output).toContain('  steps 10 → 50 → 100 %, bake 180 s, roll back after 2 failures at a step, recheck 60 s, no data: pass below 10 invocations');
      expect(outcome('CheckoutRelease', 'good')).toMatchObject({
        ending: 'reached 100 %',
        notifications: ['deployment START', 'gate-decision advance at 10 %', 'gate-decision advance at 50 %', 'gate-decision advance at 100 %', 'deployment SUCCESS'],
      });
      // At 10 % of 20 requests a second the gate alarm judges every minute (120 invocations, at least 100): ALARM after the first.
      const spike = outcome('CheckoutRelease', 'error-spike');
      expect(spike).toMatchObject({ ending: 'rolled back at 10 % (while it baked)' });
      expect(spike.detectedAt! - spike.breachAt!).toBe(60);
      expect(spike.timeline.flatMap((e) => e.gates ?? []).filter((g) => g.passed === false)).toEqual([
        expect.objectContaining({ name: expect.stringMatching(/^alarm:CheckoutReleaseGatesAlarm/), measured: 'ALARM' }),
      ]);
      expect(outcome('CheckoutRelease', 'error-spike').notifications.slice(-2)).toEqual(['gate-decision rollback at 50 %', 'deployment FAILURE']);
    });

    test('the staged alias without warm-up meets cold starts with users: rolled back at 10 % by the gate alarm\'s p95 ratio', () => {
      expect(outcome('CheckoutRelease', 'cold-start')).toMatchObject({ ending: 'rolled back at 10 % (while it baked)', maxWeight: 10 });
    });

    test('blue-green: the invariants read from the function\'s environment in the template, then the smoke probe, the switch and the hold', () => {
      const good = outcome('SearchRelease', 'good');
      expect(good).toMatchObject({ outcome: 'promote', ending: 'held 10 min, kept', notifications: ['deployment START', 'blue-green-decision passed', 'blue-green-decision held', 'deployment SUCCESS'] });
      expect(good.timeline[0].text).toBe('invariants → PASS: version new carries every pin: INDEX_HASH=idx-42');
      expect(outcome('SearchRelease', 'delta-s-drift')).toMatchObject({ ending: 'stopped before the switch (smoke probe)', maxWeight: 0 });
    });

    test('breach-after-switch (blue-green only): traffic back on the old version within the strategy\'s 2-minute worst case, counting the assumed rollback shift', () => {
      const r = outcome('SearchRelease', 'breach-after-switch');
      expect(r).toMatchObject({ outcome: 'rollback', trafficOffAssumed: true });
      expect(r.breachAt).toBe(r.timeline.find((e) => /switches the alias/.test(e.text))!.at + 360);
      expect(r.trafficOffAt! - r.breachAt!).toBeLessThanOrEqual(ROLLBACK_TARGET_SECONDS);
      expect(outcome('CheckoutRelease', 'breach-after-switch')).toBeUndefined();
    });

    test('hung-aws-call on blue-green: the watch task\'s 5 s timeout fails the hold at once', () => {
      const r = outcome('SearchRelease', 'hung-aws-call');
      expect(r.detectedAt! - r.breachAt!).toBe(5);
      expect(r.timeline.some((e) => /Watch's TimeoutSeconds 5/.test(e.text))).toBe(true);
    });

    test('a gap in the configuration shows as NOT AS EXPECTED, and the exit code says so: blue-green without warm-up keeps a cold-starting version', async () => {
      expect(outcome('SearchRelease', 'cold-start')).toMatchObject({ outcome: 'promote', expected: 'rollback' });
      expect(output.join('\n')).toMatch(/\| ShopRelease\/SearchRelease +\| cold-start +\| held 10 min, kept +\| rollback .*\| NOT AS EXPECTED \|/);
      const rerun = await run('--alias', 'SearchRelease', '--scenario', 'cold-start', '--expect', 'cold-start=promote', '--quiet');
      expect(rerun.code).toBe(0);
    });

    test('canary without a probe: CodeDeploy rolls back on the gate alarm a minute into the canary; ΔS drift goes through to 100 %, NOT AS EXPECTED', () => {
      const spike = outcome('ReportsRelease', 'error-spike');
      expect(spike).toMatchObject({ ending: 'rolled back at 10 %', trafficOffAssumed: true });
      expect([spike.detectedAt! - spike.breachAt!, spike.trafficOffAt! - spike.breachAt!]).toEqual([60, 75]);
      expect(outcome('ReportsRelease', 'delta-s-drift')).toMatchObject({ outcome: 'promote', expected: 'rollback', ending: 'reached 100 %' });
      // no hook whose read could hang
      expect(outcome('ReportsRelease', 'hung-aws-call')).toBeUndefined();
    });

    test('linear with the probe as its hooks (a custom deployment configuration, 50 % every 2 minutes)', () => {
      const good = outcome('FeedRelease', 'good');
      expect(good.timeline.map((e) => e.text.split(':')[0])).toEqual([
        'BeforeAllowTraffic', 'CodeDeploy shifts 50 % to the new version, then waits 2 min', 'alarms after 2 min at 50 % → all OK',
        'CodeDeploy shifts 100 % to the new version', 'AfterAllowTraffic',
      ]);
      expect(outcome('FeedRelease', 'delta-s-drift')).toMatchObject({ ending: 'stopped before any traffic', maxWeight: 0 });
      const hung = outcome('FeedRelease', 'hung-aws-call');
      expect(hung.timeline[0].text).toMatch(/its read of the deployment never answers; given up after 60 s, Failed reported by 85 s/);
      expect(hung).toMatchObject({ outcome: 'rollback', maxWeight: 0 });
    });

    test('staged: the AfterAllowTraffic probe at 100 % rolls back a drift that began after the last check', async () => {
      const good = outcome('CheckoutRelease', 'good');
      expect(good.timeline.map((e) => e.text).slice(-2)).toEqual(['HandBack, ReportSucceeded: CodeDeploy moves the rest of the traffic at once', 'AfterAllowTraffic: ΔS probe (54 gold questions) at 100 % → PASS']);
      const handBack = good.timeline[good.timeline.length - 2].at;
      const firstTraffic = good.timeline.find((e) => e.weight > 0)!.at;
      const file = path.join(temp.dir, 'late-drift.json');
      fs.writeFileSync(file, JSON.stringify({ name: 'late-drift', clock: 'traffic', expect: 'rollback', timeline: [{ at: 0 }, { at: handBack - firstTraffic - 1, drift: 0.6 }] }));
      const r = await run('--alias', 'CheckoutRelease', '--scenario', file, '--quiet');
      expect(r.results[0]).toMatchObject({ outcome: 'rollback', ending: 'rolled back at 100 % (AfterAllowTraffic probe)', maxWeight: 100, trafficOffAssumed: true });
      expect(r.code).toBe(0);
    });

    test('a scenario file: errors from the 5th minute of user traffic on the staged alias, rolled back at 50 %', async () => {
      const file = path.join(temp.dir, 'late-errors.json');
      fs.writeFileSync(file, JSON.stringify({
        name: 'late-errors', description: 'fine at first, then 2 % errors', clock: 'traffic', expect: 'rollback',
        timeline: [{ at: 0, errorRate: 0.0002 }, { at: 300, errorRate: 0.02, latency: { p50Ms: 40, p95Ms: 60 } }],
      }));
      const r = await run('--alias', `${USER_STACK}/CheckoutRelease`, '--scenario', file);
      expect(r.code).toBe(0);
      expect(r.results).toHaveLength(1);
      expect(r.results[0]).toMatchObject({ ending: 'rolled back at 50 % (while it baked)', maxWeight: 50 });
      expect(r.lines).toContain('[1/1] ShopRelease/CheckoutRelease/Alias · late-errors: fine at first, then 2 % errors');
    });
  });
});
