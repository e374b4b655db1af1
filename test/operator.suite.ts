// An operator's commands (the CLI's pause, resume, promote, abort) and the schedule's approval steps, as the staged
// gate function carries them out: the pure plan (planStep with the command), the gate's read of the operator item on
// dynalite (a real DynamoDB on loopback: strongly consistent GetItem, another deployment's command ignored, a malformed
// item ignored and logged), the synthesized machine run end to end with the real planner, and the construct.
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Alarm, CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GuardedAlias, RolloutStrategy } from '../lib';
import { rehearse } from '../cli/src/main';
import { parseRehearse } from '../cli/src/options';
import { readScenarioFile } from '../cli/src/scenarios';
import { createGateHandler, GateEvent, Observed, planStep } from '../lambdas/staged/gate';
import { aliasConfigKey } from '../packages/runtime/src/contract/config-key';
import { OPERATOR_REASON_MAX, OPERATOR_TABLE_KEY, OperatorCommand, operatorCommandOf, operatorItem } from '../packages/runtime/src/contract/operator';
import { INITIAL_PROGRESS, StagedAliasConfig, StagedDecisionNotification, StagedProgress } from '../packages/runtime/src/contract/staged';
import { LocalDynamo, startDynalite } from './helpers/dynalite';
import { oneStagedAlias, run } from './helpers/staged-run';
import { tempDir } from './helpers/temp-dir';
import { FEATURE_FLAGS, TEST_ENV, testFunction } from './util';

const NOW = Date.UTC(2026, 10, 27, 9, 0, 0);
const DEPLOYMENT = 'd-OPERATE1';
const CONFIG: StagedAliasConfig = {
  schedule: {
    steps: [1, 5, 25, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
    probeBudgetSeconds: 300, recheckSeconds: 60, canaryQuestions: 10, stopRules: [],
  },
  thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 },
  alarmNames: ['Errors'],
  topicArn: 'arn:aws:sns:eu-west-1:123456789012:releases',
  operator: { tableName: 'operators', key: 'App/Group' },
};
const OK = [{ name: 'Errors', state: 'OK' as const }];
const FIRING = [{ name: 'Errors', state: 'ALARM' as const }];
const TRAFFIC = { canary: { invocations: 500, errors: 0, p95Ms: 100 }, control: { invocations: 5000, errors: 1, p95Ms: 100 } };

function event(progress: Partial<StagedProgress> = {}, config: StagedAliasConfig = CONFIG, deadline = NOW + 58 * 60_000): GateEvent {
  return {
    deployment: { deploymentId: DEPLOYMENT, lifecycleEventHookExecutionId: 'hook-1' },
    target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
    config, deadline, progress: { ...INITIAL_PROGRESS, ...progress }, probe: { status: 'NotConfigured' },
  };
}

function command(name: OperatorCommand['command'], step: number, id = `${name}-1`): OperatorCommand {
  return { deploymentId: DEPLOYMENT, command: name, step, commandId: id, requestedBy: 'arn:aws:iam::123456789012:user/ana', requestedAt: '2026-11-27T09:00:00Z', reason: 'checking the dashboard' };
}

/** A check before the shift from 5 % to 25 % (step index 2), every gate passing. */
const AT_FIVE: Partial<StagedProgress> = { phase: 'check', stepIndex: 2 };
const observed = (command?: OperatorCommand, alarms: Observed['alarms'] = OK, now = NOW): Observed => ({ alarms, ...TRAFFIC, operator: { command }, now });

describe('planStep with an operator command', () => {
  test('abort rolls back at once, from a bake slice too, with the audit line in the output and the notification', () => {
    const out = planStep(event({ phase: 'bake', stepIndex: 2, bakeLeftSeconds: 120 }), observed(command('abort', 5)));
    expect(out).toMatchObject({ next: 'rollback', decision: 'rollback', weight: 0, routing: { AdditionalVersionWeights: {} } });
    expect(out.reasons[0]).toMatch(/^aborted: abort by arn:aws:iam::123456789012:user\/ana .*command abort-1: checking the dashboard/);
    expect(out.operator).toMatchObject({ effect: 'aborted', command: { commandId: 'abort-1' } });
    expect(out.notification).toMatchObject({ decision: 'rollback', next: 'rollback', operator: { effect: 'aborted' } });
    expect(out.metricData.find((d) => d.MetricName === 'StepDecision')?.Value).toBe(-1);
  });

  test('promote skips the remaining steps: succeed at the weight served, from a bake or a check', () => {
    for (const progress of [AT_FIVE, { phase: 'bake' as const, stepIndex: 2, bakeLeftSeconds: 240 }]) {
      const out = planStep(event(progress), observed(command('promote', 5)));
      expect(out).toMatchObject({ next: 'succeed', decision: 'advance', weight: 5, operator: { effect: 'promoted' } });
      expect(out.reasons[0]).toMatch(/^promoted at 5 %: .*the remaining steps are skipped/);
      expect(out.notification).toMatchObject({ next: 'succeed', operator: { effect: 'promoted' } });
    }
  });

  test('a rollback the gates decide stands: a promote or pause at the same check is recorded as overruled', () => {
    const failing = event({ phase: 'bake', stepIndex: 2, bakeLeftSeconds: 120 });
    for (const name of ['promote', 'pause'] as const) {
      const out = planStep(failing, observed(command(name, 5), FIRING));
      expect(out).toMatchObject({ next: 'rollback', operator: { effect: 'overruled' } });
      expect(out.reasons[0]).toMatch(/a gate alarm fired/);
      expect(out.operator!.reason).toMatch(/not carried out: the gates decided a rollback/);
    }
  });

  test('pause turns the shift into a wait of one recheck at the same step, announced once', () => {
    const first = planStep(event(AT_FIVE), observed(command('pause', 5)));
    expect(first).toMatchObject({ next: 'bake', decision: 'hold', waitSeconds: 60, weight: 5, progress: { phase: 'check', stepIndex: 2, operatorCommandId: 'pause-1' } });
    expect(first.operator).toMatchObject({ effect: 'paused', waitDeadline: NOW + 58 * 60_000 - 300_000 });
    expect((first.notification as StagedDecisionNotification).operator?.effect).toBe('paused');
    // The same command at the next slice: still waiting, nothing new to announce.
    const second = planStep(event(first.progress), observed(command('pause', 5), OK, NOW + 60_000));
    expect(second).toMatchObject({ next: 'bake', operator: { effect: 'paused' } });
    expect(second.notification).toBeUndefined();
    // Resumed: the check goes on to the shift.
    const resumed = planStep(event(second.progress), observed(command('resume', 5, 'resume-1'), OK, NOW + 120_000));
    expect(resumed).toMatchObject({ next: 'shift', weight: 25, operator: { effect: 'resumed' }, progress: { operatorCommandId: 'resume-1' } });
    expect((resumed.notification as StagedDecisionNotification).operator?.effect).toBe('resumed');
  });

  test('pause does not stop a bake: the slices go on, and an alarm still rolls back', () => {
    const baking = event({ phase: 'bake', stepIndex: 2, bakeLeftSeconds: 240 });
    expect(planStep(baking, observed(command('pause', 5)))).toMatchObject({ next: 'bake', waitSeconds: 60, progress: { bakeLeftSeconds: 180 }, operator: { effect: 'paused' } });
    expect(planStep(baking, observed(command('pause', 5), FIRING))).toMatchObject({ next: 'rollback' });
  });

  test('a pause that outlasts the time the rest of the schedule needs rolls back, before the hook\'s deadline', () => {
    // From 5 %: the 25 % step's bake is what the rest needs (300 s; no probe); 6 minutes are left: one more wait fits.
    const deadline = NOW + 6 * 60_000;
    expect(planStep(event(AT_FIVE, CONFIG, deadline), observed(command('pause', 5))).next).toBe('bake');
    const late = planStep(event(AT_FIVE, CONFIG, deadline), observed(command('pause', 5), OK, NOW + 1));
    expect(late).toMatchObject({ next: 'rollback', weight: 0, operator: { effect: 'paused' } });
    expect(late.reasons[0]).toMatch(/paused at 5 % .* until the rest of the schedule \(300 s\) no longer fits before CodeDeploy's hook limit: rolled back/);
  });

  test('an approval step waits for a resume given at its weight (or ahead of it), or a promote', () => {
    const config = { ...CONFIG, schedule: { ...CONFIG.schedule, approvalSteps: [5] } };
    const waiting = planStep(event(AT_FIVE, config), observed());
    expect(waiting).toMatchObject({ next: 'bake', weight: 5, progress: { approvalAt: 5 }, operator: { effect: 'awaiting-approval' } });
    expect(waiting.operator!.command).toBeUndefined();
    expect((waiting.notification as StagedDecisionNotification).operator?.effect).toBe('awaiting-approval');
    // Still waiting: no second announcement; a resume given at 1 % does not approve 5 %.
    const still = planStep(event(waiting.progress, config), observed(command('resume', 1)));
    expect(still).toMatchObject({ next: 'bake', operator: { effect: 'awaiting-approval' } });
    expect(still.notification).toBeUndefined();
    const approved = planStep(event(still.progress, config), observed(command('resume', 5, 'resume-5')));
    expect(approved).toMatchObject({ next: 'shift', weight: 25, operator: { effect: 'approved' } });
    expect((approved.notification as StagedDecisionNotification).operator?.effect).toBe('approved');
    expect(planStep(event(AT_FIVE, config), observed(command('promote', 5)))).toMatchObject({ next: 'succeed', weight: 5 });
    // Other steps are not approval steps.
    expect(planStep(event({ phase: 'check', stepIndex: 1 }, config), observed()).next).toBe('shift');
  });

  test('a reason longer than OPERATOR_REASON_MAX is cut where the gate reads it, so the audit record stays small (register SNS-1)', () => {
    const item = operatorItem('App/Group', { ...command('abort', 5), reason: 'x'.repeat(200_000) });
    const parsed = operatorCommandOf(item).command!;
    expect(parsed.reason).toHaveLength(OPERATOR_REASON_MAX + 1);
    const out = planStep(event(AT_FIVE), observed(parsed));
    expect(JSON.stringify(out.notification).length).toBeLessThan(4_000);
    expect(JSON.stringify(out).length).toBeLessThan(8_000);
  });

  test('without a command (or an operator part) the plan is the engine\'s', () => {
    const { operator: _, ...bare } = CONFIG;
    expect(planStep(event(AT_FIVE, bare), observed())).toMatchObject({ next: 'shift', weight: 25 });
    expect(planStep(event(AT_FIVE), observed()).operator).toBeUndefined();
  });
});

describe('the gate reads the operator item (dynalite)', () => {
  let dynamo: LocalDynamo;
  let table: string;
  beforeAll(async () => {
    dynamo = await startDynalite();
    table = await dynamo.createTable(undefined, OPERATOR_TABLE_KEY);
  });
  afterAll(async () => dynamo.stop());

  const cloudwatch = { send: async (c: { input: unknown }) => ('AlarmNames' in (c.input as object) ? { MetricAlarms: [{ AlarmName: 'Errors', StateValue: 'OK' }] } : { MetricDataResults: [] }) };
  const gate = (logs: string[]) => createGateHandler({ cloudwatch: cloudwatch as never, dynamodb: dynamo.client(), now: () => NOW, log: (l) => logs.push(l) });
  const put = (key: string, item: Record<string, unknown>) => dynamo.client().send(new PutItemCommand({ TableName: table, Item: { [OPERATOR_TABLE_KEY]: { S: key }, ...item } as never }));
  const on = (key: string) => ({ ...event({ phase: 'bake', stepIndex: 2, bakeLeftSeconds: 240 }), config: { ...CONFIG, operator: { tableName: table, key } } });

  test('a command written just before the invocation is acted on; one for another deployment is not', async () => {
    const logs: string[] = [];
    await dynamo.client().send(new PutItemCommand({ TableName: table, Item: operatorItem('App/A', command('abort', 5)) as never }));
    expect(await gate(logs)(on('App/A'))).toMatchObject({ next: 'rollback', operator: { effect: 'aborted' } });
    await dynamo.client().send(new PutItemCommand({ TableName: table, Item: operatorItem('App/B', { ...command('abort', 5), deploymentId: 'd-EARLIER' }) as never }));
    expect(await gate(logs)(on('App/B'))).toMatchObject({ next: 'bake' });
    expect(await gate(logs)(on('App/none'))).toMatchObject({ next: 'bake' });
    expect(JSON.parse(logs.find((l) => l.includes('staged gate'))!)).toMatchObject({ operator: { effect: 'aborted' } });
  });

  test('a malformed item is never acted on, and the log says why', async () => {
    const logs: string[] = [];
    await put('App/C', { deployment_id: { S: DEPLOYMENT }, command: { S: 'rollback' }, step: { N: '5' }, command_id: { S: 'x' } });
    expect(await gate(logs)(on('App/C'))).toMatchObject({ next: 'bake' });
    expect(logs.some((l) => l.includes('the operator item was ignored') && l.includes('\\"rollback\\", not one of pause, resume, promote, abort'))).toBe(true);
  });
});

describe('the gate\'s read of the operator item (register DDB-9)', () => {
  const cloudwatch = { send: async (c: { input: unknown }) => ('AlarmNames' in (c.input as object) ? { MetricAlarms: [{ AlarmName: 'Errors', StateValue: 'OK' }] } : { MetricDataResults: [] }) };
  const sent: unknown[] = [];
  const failing = { send: async (c: { input: unknown }) => { sent.push(c.input); throw Object.assign(new Error('the service is unavailable'), { name: 'InternalServerError' }); } };

  test('is strongly consistent, by the alias\'s key; a failed read holds the shift (never taken as no command) and is logged', async () => {
    const logs: string[] = [];
    const gate = createGateHandler({ cloudwatch: cloudwatch as never, dynamodb: failing as never, now: () => NOW, log: (l) => logs.push(l) });
    // Weight 0 (no traffic to read): the check before 1 % would shift.
    const out = await gate(event({ phase: 'check', stepIndex: 0 }));
    expect(sent).toEqual([{ TableName: 'operators', Key: { pk: { S: 'App/Group' } }, ConsistentRead: true }]);
    expect(out).toMatchObject({ next: 'bake', weight: 0, operator: { effect: 'unreadable' } });
    expect(out.reasons[0]).toMatch(/held at 0 %: the operator item could not be read \(InternalServerError: the service is unavailable\)/);
    expect(logs.some((l) => l.includes('the operator item could not be read; no shift until it can be'))).toBe(true);
  });

  test('a rollback the gates decide still goes ahead when the item cannot be read', () => {
    const out = planStep(event({ phase: 'bake', stepIndex: 2, bakeLeftSeconds: 120 }), { alarms: FIRING, operator: { unreadable: 'InternalServerError: down' }, now: NOW });
    expect(out.next).toBe('rollback');
  });
});

describe('the synthesized machine carries out the commands (the real planner, stubbed AWS)', () => {
  const { stack, machine } = oneStagedAlias(RolloutStrategy.staged({ steps: [1, 5, 25, 100], approvalSteps: [5] }));
  const input = {
    deployment: { deploymentId: DEPLOYMENT, lifecycleEventHookExecutionId: 'hook-1' },
    target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
    configKey: aliasConfigKey('App', 'Group'), deadline: 55 * 60_000,
  };
  /** The operator's item as the gate would read it at `clock`. */
  const drive = (commandAt: (clock: number, weight: number) => OperatorCommand | undefined) => {
    let weight = 0;
    return run(machine, input, (_state, resource, params, clock) => {
      if (resource === 'GATE_FUNCTION') {
        weight = params.progress.stepIndex === 0 ? 0 : [0, 1, 5, 25][params.progress.stepIndex];
        return planStep(params, { alarms: [], ...TRAFFIC, operator: { command: commandAt(clock, weight) }, now: clock });
      }
      return {};
    });
  };

  test('the config names the operator item: the configuration key in the stack\'s operator table', () => {
    const config = String(machine.states.Init.Output.config).replace(/\\"/g, '"');
    expect(config).toContain('"operator":{"tableName":"StagedRolloutOperatorTable');
    expect(config).toContain('"key":"App/Group"');
  });

  test('no one approves 5 %: the rollout waits there, then rolls back before the deadline, and Failed is reported', async () => {
    const result = await drive(() => undefined);
    expect(result.endState).toBe('RolledBack');
    expect(result.calls.filter((c) => c.state === 'SetWeight').map((c) => c.params.RoutingConfig.AdditionalVersionWeights['8'])).toEqual([0.01, 0.05]);
    expect(result.visited).toContain('ResetRouting');
    expect(result.calls.find((c) => c.state === 'ReportFailed')).toBeDefined();
  });

  test('a resume at 5 % releases the approval step and the rollout succeeds; promote at 1 % hands over at once', async () => {
    const approved = await drive((_clock, weight) => (weight === 5 ? command('resume', 5) : undefined));
    expect(approved.endState).toBe('Succeeded');
    expect(approved.calls.filter((c) => c.state === 'SetWeight').map((c) => c.params.RoutingConfig.AdditionalVersionWeights['8'])).toEqual([0.01, 0.05, 0.25]);
    const promoted = await drive((_clock, weight) => (weight === 1 ? command('promote', 1) : undefined));
    expect(promoted.endState).toBe('Succeeded');
    expect(promoted.visited).toContain('HandBack');
    expect(promoted.calls.filter((c) => c.state === 'SetWeight')).toHaveLength(1);
  });

  test('abort during a bake resets the routing and reports Failed', async () => {
    const aborted = await drive((_clock, weight) => (weight === 1 ? command('abort', 1) : undefined));
    expect(aborted.endState).toBe('RolledBack');
    expect(aborted.visited).toEqual(expect.arrayContaining(['ResetRouting', 'ReportFailed']));
    expect(aborted.calls.filter((c) => c.state === 'SetWeight')).toHaveLength(1);
  });

  test('the construct: one operator table per stack, read by the gate; approval steps validated at synth', () => {
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('"Action":"dynamodb:GetItem"');
    expect(() => RolloutStrategy.staged({ steps: [1, 5, 100], approvalSteps: [5, 50, 100] }).validate()).not.toThrow();
    expect(RolloutStrategy.staged({ steps: [1, 5, 100], approvalSteps: [5, 50, 100] }).validate())
      .toEqual([expect.stringMatching(/strategy \(staged\) approvalSteps must be each 0 or a step below 100 of the schedule \(1, 5\), got: \[5,50,100\]/)]);
    expect(RolloutStrategy.staged({ approvalSteps: [0, 0] }).validate()).toEqual([expect.stringMatching(/approvalSteps must be no weight twice/)]);
  });
});

describe('the rehearsal waits at approval steps as the gate does', () => {
  const tmp = tempDir('operator-rehearse-');
  let app: string;
  beforeAll(() => {
    app = path.join(tmp.dir, 'cdk.out');
    const cdkApp = new App({ context: FEATURE_FLAGS, outdir: app });
    const stack = new Stack(cdkApp, 'Approvals', { env: TEST_ENV });
    new GuardedAlias(stack, 'Checkout', { function: testFunction(stack), strategy: RolloutStrategy.staged({ steps: [10, 50, 100], bake: Duration.minutes(2), approvalSteps: [10] }) });
    cdkApp.synth();
    fs.writeFileSync(path.join(tmp.dir, 'nobody.json'), JSON.stringify({ name: 'nobody-approves', expect: 'rollback', approvalSeconds: null, timeline: [{ at: 0 }] }));
    fs.writeFileSync(path.join(tmp.dir, 'bad.json'), JSON.stringify({ name: 'bad', approvalSeconds: -1, timeline: [{ at: 0 }] }));
  });
  afterAll(() => tmp.remove());

  test('approved 10 minutes into the wait: promoted, the wait in the timeline; never approved: rolled back before the hook\'s hour', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'late.json'), JSON.stringify({ name: 'late', approvalSeconds: 600, timeline: [{ at: 0 }] }));
    const lines: string[] = [];
    const { code, results } = await rehearse(parseRehearse(['--app', app, '--scenario', path.join(tmp.dir, 'late.json'), '--scenario', path.join(tmp.dir, 'nobody.json')]), (l) => lines.push(l));
    expect(code).toBe(0);
    const [late, nobody] = results;
    expect(late.outcome).toBe('promote');
    const waits = late.timeline.filter((e) => /approval step at 10 %/.test(e.text));
    expect(waits).toHaveLength(1);
    const shiftTo50 = late.timeline.find((e) => /shift to 50 %/.test(e.text))!;
    expect(shiftTo50.at - waits[0].at).toBeGreaterThanOrEqual(600);
    expect(late.assumptions).toContain('an operator approves each approval step 600 s after its wait begins');
    expect(nobody.outcome).toBe('rollback');
    expect(nobody.ending).toMatch(/rolled back at 10 %/);
    expect(nobody.seconds).toBeLessThan(3600 - 120);
    expect(nobody.timeline.some((e) => /no longer fits before CodeDeploy's hook limit/.test(e.text))).toBe(true);
  });

  test('a scenario file\'s approvalSeconds must be seconds or null', () => {
    expect(() => readScenarioFile(path.join(tmp.dir, 'bad.json'))).toThrow('"approvalSeconds" must be seconds ≥ 0 or null (nobody approves), got -1');
  });
});

describe('GuardedAlias.grantOperate: the command line\'s calls, on this alias\'s resources only', () => {
  const app = new App({ context: FEATURE_FLAGS });
  const stack = new Stack(app, 'Operated', { env: TEST_ENV });
  const guarded = new GuardedAlias(stack, 'Checkout', { function: testFunction(stack) });
  const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
  guarded.grantOperate(operator);
  type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
  const statementsOf = (s: Stack, role: iam.Role): Statement[] => Object.values(Template.fromStack(s).findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === s.getLogicalId(role.node.defaultChild as iam.CfnRole)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  const statements = statementsOf(stack, operator);
  const actions = statements.flatMap((st) => [st.Action].flat());
  /** Every AWS call of cli/src/operate, as an IAM action, by the files' imports of the SDK's commands. */
  const cliCalls = (): Set<string> => {
    const service: Record<string, string> = { cloudformation: 'cloudformation', cloudwatch: 'cloudwatch', codedeploy: 'codedeploy', dynamodb: 'dynamodb', sfn: 'states', sts: 'sts' };
    const calls = new Set<string>();
    const dir = path.join(__dirname, '..', 'cli', 'src', 'operate');
    for (const file of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const [, names, client] of text.matchAll(/import \{([^}]*)\} from '@aws-sdk\/client-([a-z]+)'/g)) {
        for (const name of names.split(',').map((n) => n.trim()).filter((n) => n.endsWith('Command'))) calls.add(`${service[client]}:${name.replace(/Command$/, '')}`);
      }
    }
    calls.delete('sts:GetCallerIdentity');
    return calls;
  };

  test('covers every AWS call the live commands make (read from cli/src/operate), STS\'s GetCallerIdentity needing none; a staged abort is the item, not StopDeployment', () => {
    const calls = cliCalls();
    expect(calls.size).toBeGreaterThanOrEqual(9);
    expect(calls).toContain('codedeploy:StopDeployment');
    calls.delete('codedeploy:StopDeployment');
    for (const call of calls) expect(actions).toContain(call);
    expect(actions).not.toContain('codedeploy:StopDeployment');
  });

  test('each statement is scoped: the stack, the deployment group, the machine\'s executions, the alias\'s own item', () => {
    expect(actions).not.toContain('dynamodb:UpdateItem');
    const resources = JSON.stringify(statements.map((st) => st.Resource));
    expect(resources).not.toMatch(/"\*"/);
    const item = statements.find((st) => [st.Action].flat().includes('dynamodb:PutItem'))!;
    expect(JSON.stringify(item.Condition)).toContain('dynamodb:LeadingKeys');
    expect(resources).toContain(':execution:');
    expect(resources).toContain(':stack/Operated/*');
    expect(resources).toContain(':alarm:');
  });

  test.each([
    ['canary', RolloutStrategy.canary(10, Duration.minutes(5))],
    ['blue-green', RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(10) })],
  ])('a %s alias: status and abort only, every call they make (StopDeployment on the deployment group), each alarm the group watches, alarms added after the grant too', (name, strategy) => {
    const other = new Stack(new App({ context: FEATURE_FLAGS }), `Other${name.replace('-', '')}`, { env: TEST_ENV });
    const search = new GuardedAlias(other, 'Search', { function: testFunction(other), strategy });
    const role = new iam.Role(other, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    search.grantOperate(role);
    search.addAlarm(new Alarm(other, 'Late', { metric: search.metricErrors(), threshold: 1, evaluationPeriods: 1 }));
    const granted = statementsOf(other, role);
    const nonStaged = [...cliCalls()].filter((c) => !c.startsWith('states:') && !c.startsWith('dynamodb:'));
    expect(granted.flatMap((st) => [st.Action].flat()).sort()).toEqual(nonStaged.sort());
    const byAction = (action: string) => granted.find((st) => [st.Action].flat().includes(action))!;
    const group = other.resolve((search.deploymentGroup as any).deploymentGroupArn);
    expect(byAction('codedeploy:StopDeployment').Resource).toEqual(group);
    expect(byAction('codedeploy:ListDeployments').Resource).toEqual(group);
    const alarms = JSON.stringify(byAction('cloudwatch:DescribeAlarms').Resource);
    for (const alarm of search.alarms) expect(alarms).toContain(other.getLogicalId(alarm.node.defaultChild as CfnAlarm));
    expect(search.alarms.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(granted.map((st) => st.Resource))).not.toMatch(/"\*"/);
  });
});

