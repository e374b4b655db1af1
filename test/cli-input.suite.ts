// Bad input to `cdk-rollout-guardrails rehearse` gets one clear line naming the file or the option, and exit code 2:
// a missing cloud assembly, a stack with no guarded alias, an unknown scenario, a malformed scenario file, an
// unknown option. Also the template reading the CLI rests on (intrinsics, definitions).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { main } from '../cli/src/main';
import { objectLiteralAt, readMachine } from '../cli/src/definition';
import { parseRehearse } from '../cli/src/options';
import { behaviourAt, BUILT_IN_SCENARIOS } from '../cli/src/scenarios';
import { normalQuantile, simulateWindow } from '../cli/src/simulate';
import { evaluate } from '../cli/src/metric-math';
import { modelAlarms } from '../cli/src/alarms';
import { rehearseStaged } from '../cli/src/staged';
import { DEFAULT_SHADOW_PROMOTION } from '../packages/runtime/src/contract/shadow-promotion';
import { GuardedAliasInfo } from '../cli/src/discover';
import { resolveString } from '../cli/src/tokens';
import { tempDir } from './helpers/temp-dir';

const temp = tempDir('cli-input-');
afterAll(() => temp.remove());

/** A hand-written cloud assembly: one stack, `resources` its template's. */
function assembly(name: string, resources: Record<string, unknown>): string {
  const dir = path.join(temp.dir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '48.0.0',
    artifacts: { Plain: { type: 'aws:cloudformation:stack', environment: 'aws://unknown-account/unknown-region', properties: { templateFile: 'Plain.template.json' } } },
  }));
  fs.writeFileSync(path.join(dir, 'Plain.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

async function cli(...args: string[]): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => { errors.push(line); });
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return { code: await main(args), stderr: errors.join('\n') };
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
}

describe('bad input', () => {
  const plain = assembly('plain', { Fn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } } });

  test('a missing cloud assembly names --app and says to synth first', async () => {
    const missing = path.join(temp.dir, 'nowhere');
    expect(await cli('rehearse', '--app', missing)).toEqual({ code: 2, stderr: `cdk-rollout-guardrails: --app ${missing}: no such directory; run 'cdk synth' first (it writes cdk.out), or pass --app <cloud assembly directory>` });
    expect((await cli('rehearse', '--app', temp.dir)).stderr).toMatch(/not a cloud assembly \(no manifest\.json in it\)/);
  });

  test('a stack with no guarded alias names the stack', async () => {
    expect(await cli('rehearse', '--app', plain, '--stack', 'Plain')).toEqual({
      code: 2, stderr: 'cdk-rollout-guardrails: --stack Plain: no guarded alias found (an AWS::Lambda::Alias with a CodeDeployLambdaAliasUpdate update policy) in stack(s) Plain',
    });
    expect((await cli('rehearse', '--app', plain, '--stack', 'Shop')).stderr).toBe(`cdk-rollout-guardrails: --stack Shop: no such stack in ${plain} (stacks: Plain)`);
  });

  test('an unknown scenario lists the built-in ones', async () => {
    expect(await cli('rehearse', '--app', plain, '--scenario', 'meteor')).toEqual({
      code: 2, stderr: 'cdk-rollout-guardrails: --scenario meteor: unknown scenario; built in: good, error-spike, latency-regression, delta-s-drift, cold-start, low-traffic, breach-after-switch, hung-aws-call, or a JSON file (see docs/guides/cli.md)',
    });
  });

  test('a malformed scenario file names the file and every bad field at once', async () => {
    const bad = path.join(temp.dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ name: 'two words', timeline: [{ at: -1, errorRate: 3, latency: { p50Ms: 90, p95Ms: 40 }, colour: 'red' }] }));
    expect((await cli('rehearse', '--app', plain, '--scenario', bad)).stderr).toBe([
      `cdk-rollout-guardrails: --scenario ${bad}: malformed scenario file:`,
      '  - "name" must be a word (letters, digits, - _ .), got "two words"',
      '  - "timeline[0].at" must be seconds ≥ 0, got -1',
      '  - "timeline[0].errorRate" must be between 0 and 1, got 3',
      '  - "timeline[0].latency" must be { "p50Ms": n, "p95Ms": n } with 0 < p50Ms ≤ p95Ms, got {"p50Ms":90,"p95Ms":40}',
      '  - "timeline[0]" has unknown field(s) "colour"',
    ].join('\n'));
    const notJson = path.join(temp.dir, 'not.json');
    fs.writeFileSync(notJson, '{ "name": ');
    expect((await cli('rehearse', '--app', plain, '--scenario', notJson)).stderr).toMatch(new RegExp(`--scenario ${notJson}: not valid JSON`));
    expect((await cli('rehearse', '--scenario', path.join(temp.dir, 'gone.json'))).stderr).toMatch(/gone\.json: no such file$/);
  });

  test('unknown options and commands, and bad --expect are refused', async () => {
    expect((await cli('rehearse', '--verbose')).stderr).toMatch(/^cdk-rollout-guardrails: unknown option '--verbose'\n\nusage: /);
    expect((await cli('deploy')).stderr).toMatch(/unknown command 'deploy'/);
    expect((await cli('status')).stderr).toMatch(/status: missing target <stack>\/<alias>/);
    expect((await cli('rehearse', '--expect', 'good=ship')).stderr).toMatch(/--expect good=ship: each entry must be <scenario>=promote or <scenario>=rollback, got 'good=ship'/);
    expect((await cli('rehearse', '--app', plain, '--expect', 'meteor=rollback')).stderr).toMatch(/--expect names scenario\(s\) not being rehearsed: meteor/);
    expect((await cli('rehearse', '--app')).stderr).toMatch(/--app needs a value/);
  });
});

describe('reading the template', () => {
  test('options: several scenarios after one --scenario, commas, = forms, repeated --expect', () => {
    expect(parseRehearse(['--scenario', 'good', 'error-spike,cold-start', '--expect=good=promote', '--expect', 'cold-start=rollback', '--app=out'])).toMatchObject({
      app: 'out', scenarios: ['good', 'error-spike', 'cold-start'], expect: { good: 'promote', 'cold-start': 'rollback' },
    });
  });

  test('intrinsics resolve to readable names, never to an invented deployed value', () => {
    expect(resolveString({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':x:', { 'Fn::GetAtt': ['Probe1', 'Arn'] }, '/', { Ref: 'Group2' }]] })).toBe('arn:aws:x:Probe1.Arn/Group2');
    expect(resolveString({ 'Fn::Sub': ['${A}-${B.Arn}-${AWS::Region}', { A: { Ref: 'Thing' } }] })).toBe('Thing-B.Arn-rehearsal-region');
    expect(resolveString({ 'Fn::ImportValue': 'x' })).toBe('<unresolved Fn::ImportValue>');
  });

  test('a definition\'s $lookup tables are read, braces inside strings ignored', () => {
    expect(objectLiteralAt('x {"a":"}{","b":{"c":1}} y', 2)).toBe('{"a":"}{","b":{"c":1}}');
    const machine = readMachine('M', {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: { DefinitionString: { 'Fn::Join': ['', ['{"StartAt":"Init","States":{"Init":{"Type":"Pass","Output":{"config":"{% $lookup({\\"', { Ref: 'App' }, '/', { Ref: 'Group' }, '\\":{\\"holdSeconds\\":60}}, $states.input.configKey) %}"}}}}']] } },
    }, 'T.template.json');
    expect(machine.configs).toEqual({ 'App/Group': { holdSeconds: 60 } });
  });
});

describe('metric math (register CW-3, CW-8)', () => {
  const GATE = 'IF(IF(FILL(ci, 0) >= 100, FILL(ce, 0) / FILL(ci, 0), 0) > 0.01, 4, 0) + IF(FILL(control, 0) > 0 AND FILL(canary, 0) / FILL(control, 0) > 1.1, 2, 0)';
  test('evaluates the gate alarm\'s shape: FILL for missing datapoints, IF, AND, comparisons as 1 or 0', () => {
    expect(evaluate(GATE, { ci: 120, ce: 4, canary: 50, control: 40 })).toBe(6);
    expect(evaluate(GATE, { ci: 99, ce: 50, canary: undefined, control: 40 })).toBe(0);
    expect(evaluate('a / b', { a: 1, b: 0 })).toBeUndefined();
    expect(evaluate('IF(a > 1, 5)', { a: 0 })).toBeUndefined();
    expect(evaluate('-a * (2 + 3) >= -10 OR 0', { a: 2 })).toBe(1);
  });

  test('refuses a function it does not model, rather than guessing: such an alarm is not modelled (it reads OK, marked assumed)', () => {
    expect(() => evaluate('METRICS()', {})).toThrow('metric math: the function METRICS is not modelled');
    const metric = (id: string, name: string) => ({ Id: id, ReturnData: false, MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: name, Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'Fn' } }] }, Stat: 'Sum' } });
    const alarm = (expression: string) => ({ Type: 'AWS::CloudWatch::Alarm', Properties: { ComparisonOperator: 'GreaterThanThreshold', Threshold: 0.05, EvaluationPeriods: 1, Metrics: [{ Id: 'e', Expression: expression }, metric('i', 'Invocations'), metric('x', 'Errors')] } });
    const alias = {
      logicalId: 'Alias', functionLogicalId: 'Fn', alarmNames: ['Plain', 'Anomaly', 'Probe'],
      stack: { resources: { Alias: { Type: 'AWS::Lambda::Alias', Properties: {} }, Plain: alarm('x / i'), Anomaly: alarm('ANOMALY_DETECTION_BAND(x)'), Probe: { Type: 'AWS::CloudWatch::Alarm', Properties: { Namespace: 'CdkRolloutGuardrails/Probe', MetricName: 'DeltaSMedian', ComparisonOperator: 'GreaterThanThreshold', Threshold: 0.45 } } } },
    } as unknown as GuardedAliasInfo;
    const { modelled, notModelled } = modelAlarms(alias);
    expect(notModelled).toEqual(['Anomaly', 'Probe']);
    const minute = (errors: number) => ({ canary: { invocations: 100, errors }, control: { invocations: 0, errors: 0 } });
    expect(modelled.map((a) => [a.name, a.state([minute(5)]), a.state([minute(6)])])).toEqual([['Plain', 'OK', 'ALARM']]);
  });
});

describe('the simulated traffic', () => {
  test('is the scenario\'s expected values: errors round(n × rate), p95 from the fitted distribution', () => {
    const spike = behaviourAt(BUILT_IN_SCENARIOS.find((s) => s.name === 'error-spike')!, 10);
    const { canary, control } = simulateWindow(spike, { errorRate: 0.0002, latency: { p50Ms: 40, p95Ms: 60 } }, 5, 300);
    expect(canary).toMatchObject({ invocations: 300, errors: 9 });
    expect(control).toMatchObject({ invocations: 5700, errors: 1 });
    expect(control.p95Ms).toBeCloseTo(60, 0);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6449, 4);
  });
});

describe('the CLI never reaches the constructs (npm run check:deps)', () => {
  test('a cli/ file reaching lib/ (through a handler file) or aws-cdk-lib is a problem, the handlers\' decision code is not', () => {
    const root = path.join(temp.dir, 'deps');
    const write = (file: string, text: string) => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    };
    write('lib/index.ts', 'export const strategy = 1;\n');
    write('lambdas/staged/gate.ts', 'export const plan = 1;\n');
    write('lambdas/staged/leak.ts', "import { strategy } from '../../lib';\nexport const y = strategy;\n");
    write('cli/src/ok.ts', "import { plan } from '../../lambdas/staged/gate';\nexport const z = plan;\n");
    write('cli/src/bad.ts', "import { y } from '../../lambdas/staged/leak';\nimport { App } from 'aws-cdk-lib';\nexport const w = [y, App];\n");
    const run = spawnSync(process.execPath, [path.join(__dirname, '..', 'scripts', 'dependency-graph.mjs'), root], { encoding: 'utf8' });
    const problems = run.stderr.split('\n').filter((l) => l.startsWith('cli/'));
    expect(problems).toEqual([
      'cli/src/bad.ts: the CLI reaches aws-cdk-lib (it must run without aws-cdk-lib)',
      'cli/src/bad.ts: the CLI reaches the constructs: cli/src/bad.ts -> lambdas/staged/leak.ts -> lib/index.ts',
    ]);
  });
});

describe('a staged alias with requireShadow, no probe and no warm-up (a configuration written by hand)', () => {
  test('stage 0 is taken as passed and said to be an assumption; the schedule then runs on the live gates alone', async () => {
    const schedule = {
      steps: [20, 100], bakeSeconds: 120, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass' as const, minInvocations: 10 },
      probeBudgetSeconds: 0, recheckSeconds: 60, canaryQuestions: 10, stopRules: [],
    };
    const alias = {
      strategy: 'staged', logicalId: 'Alias', functionLogicalId: 'Fn', aliasName: 'live', alarmNames: [], path: 'S/A/Alias',
      stack: { name: 'S', resources: {} }, machine: { logicalId: 'M', states: {}, configs: {} },
      config: {
        schedule, thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 }, alarmNames: [],
        shadowPromotion: { ...DEFAULT_SHADOW_PROMOTION, table: 'results', releaseId: 'rel-7' },
      },
    } as unknown as Parameters<typeof rehearseStaged>[0];
    const good = await rehearseStaged(alias, BUILT_IN_SCENARIOS.find((s) => s.name === 'good')!);
    expect(good.timeline[0].text).toBe('stage 0: has release rel-7 passed shadow? its record is not in the assembly: taken as passed (assumed)');
    expect(good.assumptions).toContain('the release passed shadow (requireShadow: its record is in DynamoDB, not in the assembly)');
    expect(good).toMatchObject({ outcome: 'promote', ending: 'reached 100 %', maxWeight: 100 });
    const spike = await rehearseStaged(alias, BUILT_IN_SCENARIOS.find((s) => s.name === 'error-spike')!);
    expect(spike).toMatchObject({ outcome: 'rollback', ending: 'rolled back at 20 % (check before 100 %)' });
  });
});
