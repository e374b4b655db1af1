// Sticky cohorts in a staged rollout (issue #15 §4): what the construct synthesizes, the machine's states that
// write the cohort item instead of the alias's weights, and the gate's reading of the two aliases' traffic.
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { mockClient } from './helpers/sdk-mock';
import { GuardedAlias, RolloutStrategy, StagedRollout } from '../lib';
import { cohortTraffic } from '../lambdas/staged/cohort-traffic';
import { createGateHandler, GateEvent, planStep } from '../lambdas/staged/gate';
import { cohortStateOf, COHORT_ENV, parseCohortEnvironment } from '../packages/runtime/src/contract/cohort';
import { INITIAL_PROGRESS, StagedAliasConfig } from '../packages/runtime/src/contract/staged';
import { formatCohortRehearsal, rehearseStickyCohorts } from '../bench/rehearse-cohorts';
import { aliasConfigKey } from '../packages/runtime/src/contract/config-key';
import { oneStagedAlias, run, TaskStub } from './helpers/staged-run';
import { checkAslCli } from './helpers/asl-check';
import { RelevantControlTowerRules } from './helpers/guard-plugin';
import { disableCreationStackTraces, keepCreationStackTraces } from './helpers/synth-context';
import { FEATURE_FLAGS, TEST_ENV, testFunction, testStack, TEST_APP_PROPS } from './util';

type Json = any;

function synth() {
  const stack = testStack();
  const fn = testFunction(stack);
  const guarded = new GuardedAlias(stack, 'Guarded', { function: fn, strategy: RolloutStrategy.staged({ stickyCohorts: {} }) });
  return { stack, fn, guarded, template: Template.fromStack(stack) };
}

describe('a staged GuardedAlias with stickyCohorts', () => {
  const { stack, fn, template } = synth();
  const json = template.toJSON();
  const logicalId = (c: any) => stack.getLogicalId(c.node.defaultChild);
  const aliases = template.findResources('AWS::Lambda::Alias');
  const [liveId] = Object.entries(aliases).find(([, r]: [string, Json]) => r.Properties.Name === 'live')!;
  const [canaryId, canary] = Object.entries(aliases).find(([, r]: [string, Json]) => r.Properties.Name === 'live-canary')! as [string, Json];

  test('a canary alias on the same version, which CloudFormation updates before the live alias (whose update starts the deployment)', () => {
    expect(canary.Properties.FunctionVersion).toEqual(aliases[liveId].Properties.FunctionVersion);
    expect(aliases[liveId].DependsOn).toContain(canaryId);
    expect(canary.UpdatePolicy).toBeUndefined();
  });

  test('the gate alarm reads the canary from the canary alias, and the control as the live alias less it', () => {
    const [alarm] = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Json[];
    const metrics = alarm.Properties.Metrics.filter((m: Json) => m.MetricStat).map((m: Json) => ({ id: m.Id, dims: JSON.stringify(m.MetricStat.Metric.Dimensions) }));
    const resource = (id: string) => metrics.find((m: Json) => m.id === id)!.dims;
    expect(resource('ce')).toContain(':live-canary');
    expect(resource('ci')).toContain(':live-canary');
    expect(resource('ae')).toContain(':live"');
    expect(resource('ae')).not.toContain('canary');
  });

  test('the function learns its cohort item and canary alias from GUARDRAILS_COHORT, without naming itself (no cycle)', () => {
    const variables = json.Resources[logicalId(fn)].Properties.Environment.Variables;
    const text = variables[COHORT_ENV];
    const joined = text['Fn::Join'][1].map((p: Json) => (typeof p === 'string' ? p : 'TABLE')).join('');
    expect(parseCohortEnvironment(joined)).toEqual({ table: 'TABLE', key: expect.stringMatching(/^cohort-c8[0-9a-f]{40}$/), canaryAlias: 'live-canary', cacheSeconds: 5 });
    expect(JSON.stringify(text)).not.toContain(logicalId(fn));
  });

  test('the function may invoke the canary alias and read its own item only, through a policy it does not wait on', () => {
    const table = Object.keys(template.findResources('AWS::DynamoDB::Table'))[0];
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('CohortForward') } });
    const [policy] = Object.values(policies) as Json[];
    const key = JSON.parse(json.Resources[logicalId(fn)].Properties.Environment.Variables[COHORT_ENV]['Fn::Join'][1].map((p: Json) => (typeof p === 'string' ? p : 'T')).join('')).key;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { Ref: canaryId } },
      {
        Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: { 'Fn::GetAtt': [table, 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [key] } },
      },
    ]);
    expect(json.Resources[logicalId(fn)].DependsOn ?? []).not.toContain(Object.keys(policies)[0]);
  });

  test('the machine and the safety net may put that item only; the table is on demand with the AWS owned key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] });
    const staged = StagedRollout.of(stack);
    for (const role of [staged.stateMachine.role, staged.safetyNetFunction.role!]) {
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: Json) => p.Properties.Roles.some((r: Json) => r.Ref === logicalId(role)))
        .flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
      const puts = statements.filter((s: Json) => [s.Action].flat().includes('dynamodb:PutItem'));
      expect(puts).toHaveLength(1);
      expect(puts[0].Condition['ForAllValues:StringEquals']['dynamodb:LeadingKeys']).toHaveLength(1);
    }
    // The safety net knows the item by the alias's configuration key, to clear it after an execution that could not.
    const net = json.Resources[logicalId(staged.safetyNetFunction)].Properties.Environment.Variables.GUARDRAILS_STAGED_COHORTS;
    expect(JSON.stringify(net)).toMatch(/cohort-c8[0-9a-f]{40}/);
  });

  test('the machine writes the weight into the cohort item (OpenCohort, SetCohort, ClearCohort*) and the alias\'s configuration carries it', () => {
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as Json;
    const text = machine.Properties.DefinitionString['Fn::Join'][1].map((p: Json) => (typeof p === 'string' ? p : 'X')).join('');
    const states = JSON.parse(text).States;
    for (const name of ['OpenCohort', 'SetCohort', 'ClearCohort', 'ClearCohortOnError']) expect(states[name].Resource).toMatch(/aws-sdk:dynamodb:putItem$/);
    expect(states.SetCohort.Parameters.Item).toEqual({
      pk: { 'S.$': '$.config.cohort.key' }, weight: { 'N.$': '$.gate.cohortWeight' }, salt: { 'S.$': '$.deployment.deploymentId' },
      canary_version: { 'S.$': '$.target.targetVersion' }, deployment_id: { 'S.$': '$.deployment.deploymentId' },
    });
    expect(states.ClearCohort.Parameters.Item.weight).toEqual({ N: '0' });
    expect(states.ClearCohort.Parameters.Item.canary_version).toEqual({ 'S.$': '$.target.currentVersion' });
    expect(states.Shift.Choices[0]).toEqual({ Variable: '$.config.cohort', IsPresent: true, Next: 'SetCohort' });
    expect(states.Shift.Default).toBe('SetWeight');
    // On success the item stays at the last step until CodeDeploy's shift: nobody goes back to the old version.
    expect(states.HandBack.Next).toBe('ReportSucceeded');
    expect(text).toContain('\\"cohort\\":{\\"tableName\\":\\"X\\",\\"key\\":\\"cohort-c8');
  });
});

describe('stickyCohorts validation', () => {
  test.each([
    ['yes', 'strategy (staged) stickyCohorts must be an object { cacheTtl? }, got: "yes"'],
    [{ ttl: 5 }, 'strategy (staged) stickyCohorts.ttl must be cacheTtl (unknown key), got: "ttl"'],
    [{ cacheTtl: Duration.seconds(61) }, 'strategy (staged) stickyCohorts.cacheTtl must be whole seconds from 0 to 60, got: 1 minute 1 second'],
    [{ cacheTtl: Duration.millis(1500) }, 'strategy (staged) stickyCohorts.cacheTtl must be whole seconds from 0 to 60'],
    [{ cacheTtl: 5 }, 'strategy (staged) stickyCohorts.cacheTtl must be a Duration, got: 5'],
  ])('%p is refused at synth, naming the prop and the value', (given, message) => {
    const problems = RolloutStrategy.staged({ stickyCohorts: given as any }).validate();
    expect(problems.join('\n')).toContain(message);
  });

  test('an imported function is refused: its environment cannot name the cohort item', () => {
    const stack = testStack();
    const fn = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:imported');
    const version = lambda.Version.fromVersionArn(stack, 'V', 'arn:aws:lambda:eu-west-1:123456789012:function:imported:3');
    expect(() => new GuardedAlias(stack, 'G', { function: fn as any, version, strategy: RolloutStrategy.staged({ stickyCohorts: {} }) } as any))
      .toThrow(/stickyCohorts|lambda\.Function/);
  });
});

describe('the gate under sticky cohorts', () => {
  const NOW = Date.UTC(2026, 0, 1, 12);
  const config: StagedAliasConfig = {
    schedule: {
      steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
      probeBudgetSeconds: 60, recheckSeconds: 60, canaryQuestions: 10, stopRules: [],
    },
    thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 },
    alarmNames: [],
    cohort: { tableName: 'cohorts', key: 'cohort-abc', canaryAlias: 'live-canary' },
  };
  const event: GateEvent = {
    deployment: { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1' },
    target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
    config, deadline: NOW + 3_000_000, progress: { ...INITIAL_PROGRESS, stepIndex: 2 }, probe: { status: 'Succeeded', reasons: [] },
  };

  test('the new version is the canary alias (its throttles count as errors); the current one is the live alias less the forwards', () => {
    const results = [
      { Id: 'ci', Values: [240] }, { Id: 'ce', Values: [3] }, { Id: 'ct', Values: [10] }, { Id: 'cp', Values: [120] },
      { Id: 'li', Values: [1000] }, { Id: 'le', Values: [15] }, { Id: 'kp', Values: [100] },
    ];
    expect(cohortTraffic(results)).toEqual({
      canary: { invocations: 250, errors: 13, p95Ms: 120 },
      control: { invocations: 750, errors: 2, p95Ms: 100 },
    });
    // No forward in the window: the canary alias has no datapoint, which is no data, not zero errors.
    expect(cohortTraffic([{ Id: 'li', Values: [10] }, { Id: 'le', Values: [0] }])).toEqual({ canary: undefined, control: { invocations: 10, errors: 0, p95Ms: undefined } });
    // Datapoints that straddle a period's edge never make the current version's counts negative.
    expect(cohortTraffic([{ Id: 'ci', Values: [12] }, { Id: 'li', Values: [10] }, { Id: 'le', Values: [0] }, { Id: 'ce', Values: [1] }]).control).toMatchObject({ invocations: 0, errors: 0 });
  });

  test('reads the canary alias by Resource, and each version\'s p95 from its release telemetry; rolls back on the canary\'s errors', async () => {
    const cloudwatch = mockClient(new CloudWatchClient({}));
    const lambdaClient = new LambdaClient({});
    const lambdaMock = mockClient(lambdaClient);
    lambdaMock.on(GetFunctionConfigurationCommand, { Qualifier: '8' }).resolves({ Environment: { Variables: { RELEASE_ID: 'rel-new' } } });
    lambdaMock.on(GetFunctionConfigurationCommand, { Qualifier: '7' }).resolves({ Environment: { Variables: { RELEASE_ID: 'rel-old' } } });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'ci', Values: [250] }, { Id: 'ce', Values: [25] }, { Id: 'li', Values: [1000] }, { Id: 'le', Values: [26] },
        { Id: 'cp', Values: [100] }, { Id: 'kp', Values: [100] },
      ],
    });
    const handler = createGateHandler({ cloudwatch: cloudwatch as any, lambda: lambdaClient, now: () => NOW, log: () => undefined });
    const out = await handler({ ...event, progress: { ...event.progress, failures: 1 } });
    expect(out.decision).toBe('rollback');
    expect(out.cohortWeight).toBe('0');
    const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries!;
    const dims = (id: string) => queries.find((q) => q.Id === id)!.MetricStat!.Metric!.Dimensions;
    expect(dims('ci')).toEqual([{ Name: 'FunctionName', Value: 'answer' }, { Name: 'Resource', Value: 'answer:live-canary' }, { Name: 'ExecutedVersion', Value: '8' }]);
    expect(dims('ct')).toEqual([{ Name: 'FunctionName', Value: 'answer' }, { Name: 'Resource', Value: 'answer:live-canary' }]);
    expect(dims('li')).toEqual([{ Name: 'FunctionName', Value: 'answer' }, { Name: 'Resource', Value: 'answer:live' }, { Name: 'ExecutedVersion', Value: '7' }]);
    expect(dims('kp')).toEqual([{ Name: 'FunctionName', Value: 'answer' }, { Name: 'ReleaseId', Value: 'rel-old' }, { Name: 'Revision', Value: '7' }]);
    expect(queries.map((q) => q.Id)).not.toContain('hcl');
  });

  test('a shift carries the step\'s weight as DynamoDB number text for the cohort item; without sticky cohorts it is absent', () => {
    const check = { ...event, progress: { ...INITIAL_PROGRESS, stepIndex: 1 } };
    const traffic = { invocations: 500, errors: 0, p95Ms: 100 };
    const out = planStep(check, { alarms: [], canary: traffic, control: { ...traffic, invocations: 5000 }, now: NOW });
    expect(out).toMatchObject({ next: 'shift', weight: 5, cohortWeight: '5' });
    expect(planStep({ ...check, config: { ...config, cohort: undefined } }, { alarms: [], canary: traffic, control: traffic, now: NOW }).cohortWeight).toBeUndefined();
  });
});

describe('the cohort item', () => {
  test('its state, or why it has none', () => {
    const item = { pk: { S: 'cohort-abc' }, weight: { N: '25' }, salt: { S: 'd-1' }, canary_version: { S: '8' }, deployment_id: { S: 'd-1' } };
    expect(cohortStateOf(item)).toEqual({ weight: 25, salt: 'd-1', canaryVersion: '8', deploymentId: 'd-1' });
    expect(cohortStateOf(undefined)).toMatch(/no cohort item/);
    expect(cohortStateOf({ ...item, weight: { N: '101' } })).toMatch(/weight is not a number from 0 to 100/);
    expect(cohortStateOf({ ...item, canary_version: undefined })).toMatch(/names no canary version/);
  });

  test('GUARDRAILS_COHORT, checked, naming what is wrong', () => {
    expect(() => parseCohortEnvironment('{')).toThrow('GUARDRAILS_COHORT is not JSON: {');
    expect(() => parseCohortEnvironment('{"table":"t","key":"","canaryAlias":"a","cacheSeconds":5}')).toThrow('GUARDRAILS_COHORT.key must be a non-empty string, got: ""');
    expect(() => parseCohortEnvironment('{"table":"t","key":"k","canaryAlias":"a","cacheSeconds":-1}')).toThrow('GUARDRAILS_COHORT.cacheSeconds must be a number of seconds (0 or more), got: -1');
  });
});

// `npm run rehearse`'s sticky-cohorts part (issue #15): the cohorts hold across the steps, with the measured shares,
// through the real gate planner and the runtime's forwarder in both versions.
test('sticky-cohorts: each step\'s users on the new version within ±1 point of its weight, nobody served by both or moved back; alias weights mix users', async () => {
  const result = await rehearseStickyCohorts({ users: 20_000, requestsPerUser: 2 });
  expect(result.pinnedAtZero).toBe('8');
  expect(result.rows.map((r) => r.weight)).toEqual([1, 5, 25, 50]);
  for (const row of result.rows) {
    expect(Math.abs(row.share - row.weight)).toBeLessThanOrEqual(1);
    expect(row.mixed).toBe(0);
    expect(row.flippedBack).toBe(0);
  }
  // A draw per request serves a user both versions with probability 1 - w² - (1-w)²: 9.5 % of users at 5 %, 50 % at 50 %.
  expect(result.rows[1].aliasMixed).toBeGreaterThan(7);
  expect(result.rows[3].aliasMixed).toBeGreaterThan(45);
  expect(result.movedBackBeforeShift).toBe(0);
  expect(result.afterShift).toEqual({ onNew: 100, forwards: 0 });
  // Only the cohort's requests are forwarded (and the pinned one): about (1 + 5 + 25 + 50) % of two requests per user per
  // step, and one request of each of the last cohort's users between the report and CodeDeploy's shift.
  expect(result.forwards).toBeGreaterThan((0.79 * 2 + 0.49) * 20_000);
  expect(result.forwards).toBeLessThan((0.83 * 2 + 0.51) * 20_000);
  expect(formatCohortRehearsal(result).join('\n')).toMatch(/pinned synthetic request at 0 % .*served by version 8/);
});

describe('the staged machine with sticky cohorts, run (the definition itself, the real gate planner)', () => {
  const { machine } = oneStagedAlias(RolloutStrategy.staged({ steps: [5, 50, 100], stickyCohorts: {} }));
  const INPUT = {
    deployment: { deploymentId: 'd-STICKY1', lifecycleEventHookExecutionId: 'hook-1' },
    target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
    configKey: aliasConfigKey('App', 'Group'), deadline: 58 * 60_000,
  };
  const healthy = { canary: { invocations: 1000, errors: 0, p95Ms: 100 }, control: { invocations: 9000, errors: 1, p95Ms: 100 } };
  const failing = { ...healthy, canary: { invocations: 1000, errors: 100, p95Ms: 100 } };
  const stub = (options: { failAt?: number; throwOn?: string } = {}): TaskStub => {
    let checks = 0;
    return (state, resource, params, clock) => {
      if (state === options.throwOn) throw Object.assign(new Error(`${state} failed`), { name: 'DynamoDB.InternalServerErrorException' });
      if (resource === 'GATE_FUNCTION') {
        const failing_ = params.progress.phase === 'check' && ++checks >= (options.failAt ?? Infinity);
        return planStep(params, { alarms: [], ...(failing_ ? failing : healthy), now: clock });
      }
      return {};
    };
  };
  const puts = (r: Awaited<ReturnType<typeof run>>) => r.calls.filter((c) => c.resource.endsWith('dynamodb:putItem'))
    .map((c) => [c.state, c.params.Item.weight.N ?? c.params.Item.weight, c.params.Item.canary_version.S, c.params.Item.salt.S, c.params.TableName]);
  const routing = (r: Awaited<ReturnType<typeof run>>) => r.calls.filter((c) => c.resource.endsWith('lambda:updateAlias')).map((c) => c.params.RoutingConfig.AdditionalVersionWeights);

  test('a good release: the item opens at 0 %, takes each step\'s weight, and stays at the last until CodeDeploy\'s shift; the alias is never weighted', async () => {
    const result = await run(machine, INPUT, stub());
    expect(result).toMatchObject({ end: 'Succeed', endState: 'Succeeded' });
    const table = puts(result)[0][4];
    expect(table).toMatch(/^StagedRolloutCohortTable/);
    expect(puts(result)).toEqual([
      ['OpenCohort', '0', '8', 'd-STICKY1', table], ['SetCohort', '5', '8', 'd-STICKY1', table], ['SetCohort', '50', '8', 'd-STICKY1', table],
    ]);
    expect(routing(result)).toEqual([{}]); // the hand-back's, on an alias that had none
    expect(result.visited).toContain('ReportSucceeded');
  });

  test('a release the gates refuse at 50 %: the item back at 0 % on the current version, then Failed', async () => {
    const result = await run(machine, INPUT, stub({ failAt: 3 }));
    expect(result).toMatchObject({ end: 'Fail', endState: 'RolledBack' });
    expect(puts(result).map(([state, weight, version]) => `${state} ${weight} ${version}`)).toEqual(['OpenCohort 0 8', 'SetCohort 5 8', 'SetCohort 50 8', 'ClearCohort 0 7']);
    expect(result.visited.slice(-6)).toEqual(['ResetRouting', 'ClearCohort?', 'ClearCohort', 'PublishRollback', 'ReportFailed', 'RolledBack']);
  });

  test('a put that fails after its retries: routing reset, the item cleared, Failed reported', async () => {
    const result = await run(machine, INPUT, stub({ throwOn: 'SetCohort' }));
    expect(result).toMatchObject({ end: 'Fail', endState: 'Errored' });
    expect(result.visited.slice(-5)).toEqual(['ResetRoutingOnError', 'ClearCohortOnError?', 'ClearCohortOnError', 'ReportFailedOnError', 'Errored']);
    // The failed attempt is recorded as a call too.
    expect(puts(result).map(([state, weight, version]) => `${state} ${weight} ${version}`)).toEqual(['OpenCohort 0 8', 'SetCohort 5 8', 'ClearCohortOnError 0 7']);
  });
});

const CHECK_GUARD = path.join(__dirname, '..', 'scripts', 'check-guard-report.mjs');

describe('a stack with a sticky staged alias, before the judges nobody here wrote (cdk-nag, cfn-guard, asl-validator)', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cohort-judges-'));
  let report: any;
  beforeAll(() => {
    // scripts/check-guard-report.mjs tells a finding's owner by its resource's creation stack trace: kept for this app only.
    keepCreationStackTraces();
    const app = new App({ ...TEST_APP_PROPS, context: { ...FEATURE_FLAGS, '@aws-cdk/core:failSynthOnValidationErrors': false }, outdir });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new RelevantControlTowerRules());
    const stack = new Stack(app, 'Sticky', { env: TEST_ENV });
    new GuardedAlias(stack, 'Answer', { function: testFunction(stack, 'Fn'), strategy: RolloutStrategy.staged({ stickyCohorts: {} }) });
    app.synth();
    report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    disableCreationStackTraces();
  }, 120_000);
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  const cohortPaths = (v: any) => (v.violatingConstructs ?? []).map((c: any) => c.constructPath as string)
    .filter((p: string) => /CohortTable|CohortCanary|CohortForward/.test(p));

  test('cdk-nag: no open finding on the cohort table, the canary alias or the forwarding policy; the table says why it has no PITR', () => {
    const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
    expect(nag.violations.flatMap(cohortPaths)).toEqual([]);
    // Nor on the machinery's or the guarded alias's own resources (the test's function aside).
    const library = (v: any) => (v.violatingConstructs ?? []).map((c: any) => `${v.ruleName} ${c.constructPath}`)
      .filter((p: string) => / Sticky\/(StagedRollout|Answer)\//.test(p));
    expect(nag.violations.flatMap(library)).toEqual([]);
    const acknowledged = nag.suppressedViolations.filter((v: any) => String(v.acknowledgedAt).includes('CohortTable'));
    expect(acknowledged.map((v: any) => v.ruleName)).toEqual(['AwsSolutions-DDB3']);
  });

  test('cfn-guard (Control Tower): no open finding on a library resource', () => {
    const run = spawnSync(process.execPath, [CHECK_GUARD, path.join(outdir, 'validation-report.json'), '--json'], { encoding: 'utf8' });
    const findings = JSON.parse(run.stdout).findings as Array<{ state: string; owner: string; rule: string; constructPath: string }>;
    expect(findings.filter((f) => f.owner === 'library' && f.state === 'open').map((f) => `${f.rule} ${f.constructPath}`)).toEqual([]);
    expect(findings.filter((f) => f.constructPath.includes('CohortTable')).map((f) => `${f.rule} ${f.state}`).sort()).toEqual([
      'dynamodb_table_encrypted_kms_check acknowledged', 'dynamodb_table_pitr_enabled_check acknowledged',
    ]);
  });

  test('asl-validator on the state machine (cfn-lint runs on the integ snapshot of a sticky stack in CI)', () => {
    const asl = checkAslCli(outdir);
    expect(asl.stderr).toBe('');
    expect(asl.status).toBe(0);
  });
});
