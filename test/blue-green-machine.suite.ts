// The blue-green state machine: its definition (states, retries, catches, the JSONata lookup), the grants
// of its three principals, cdk-nag's AwsSolutions pack, and runs of the synthesised definition itself with the
// interpreter of test/helpers/asl-interpreter.ts. The worker Task runs the real worker (lambdas/blue-green/
// worker.ts, with the real hold engine, invariant checker and notification writer) against mocked SDK clients,
// sns:Publish included; the probe and the CodeDeploy reports are stubs that record their calls.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  GetEventSourceMappingCommand, GetFunctionConfigurationCommand, GetProvisionedConcurrencyConfigCommand, InvokeCommand, LambdaClient,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import jsonata from 'jsonata';
import { Call, Run, runStates, Stub, TaskError, Trace } from './helpers/asl-interpreter';
import { BlueGreenSwitch, DeltaSProbe, GoldSet, ProvisionedWarmup, RolloutStrategy } from '../lib';
import { createWorkerHandler } from '../lambdas/blue-green/worker';
import { BlueGreenExecutionInput, PUBLISH_BOUND_SECONDS, REPORT_BOUND_SECONDS } from '../packages/runtime/src/contract/blue-green';
import { composeNotification } from '../lambdas/blue-green/notification';
import { testFunction, testStack, TEST_APP_PROPS } from './util';
import { expectSynthWarnings } from './helpers/console';

type Json = any;
const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));

/** A stack with two blue-green aliases: `GroupA` with probe, alarm, pins, warm gate, two consumers and a notifications topic; `GroupB` bare. */
function build(stack: Stack = testStack()) {
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
  const app = new codedeploy.LambdaApplication(stack, 'App', { applicationName: 'App' });
  const make = (id: string) => {
    const fn = testFunction(stack, `Fn${id}`);
    const version = fn.currentVersion;
    const alias = new lambda.Alias(stack, `Live${id}`, { aliasName: 'live', version });
    const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, `Group${id}`, {
      alias, application: app, deploymentGroupName: `Group${id}`, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    });
    return { fn, version, alias, deploymentGroup };
  };
  const a = make('A');
  const b = make('B');
  // The warm gate waits for the version's own provisioned concurrency: ProvisionedWarmup puts it there.
  new ProvisionedWarmup(stack, 'WarmupA', { alias: a.alias, version: a.version, provisionedConcurrency: 2 });
  const alarm = new cloudwatch.Alarm(stack, 'GatesA', { metric: a.fn.metricErrors(), threshold: 1, evaluationPeriods: 1, alarmName: 'GatesA' });
  const jobs = a.fn.addEventSourceMapping('Jobs', { eventSourceArn: 'arn:aws:sqs:eu-west-1:123456789012:jobs' });
  const audit = lambda.EventSourceMapping.fromEventSourceMappingId(stack, 'Audit', 'uuid-audit');
  const strategy = RolloutStrategy.blueGreen({ freezeConsumers: [jobs, audit], invariants: { INDEX_HASH: 'abc' }, warmup: { concurrency: 2, pings: 2, readyTimeout: Duration.minutes(1) } });
  const topic = new sns.Topic(stack, 'Releases');
  const bg = BlueGreenSwitch.of(stack);
  const hookA = bg.attach({ ...a, strategy, probe, alarms: [alarm], pins: { SCHEMA_REV: 'v3' }, notifications: topic });
  const hookB = bg.attach({ ...b });
  return { stack, a, b, alarm, jobs, probe, topic, bg, hookA, hookB, strategy };
}

const built = build();
// Alias A's probe cannot finish a hold run in its budget at one answer every 2 s: the library warns (asserted below too).
const template = expectSynthWarnings(['cdk-rollout-guardrails:blueGreenProbeBudget'], () => Template.fromStack(built.stack));
const json = template.toJSON();
const logicalId = (c: { node: { defaultChild?: unknown } }) => built.stack.getLogicalId(c.node.defaultChild as never);

/** The definition, tokens made readable: a deployment group's, application's or alarm's Ref → its name, Ref → logical ID, GetAtt Arn → `arn:<logical ID>`. */
function definition(): { StartAt: string; States: Record<string, Json> } {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as Json;
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as Json[];
  const text = parts.map((p) => {
    if (typeof p === 'string') return p;
    if (p.Ref === 'AWS::Partition') return 'aws';
    const named = json.Resources[p.Ref]?.Properties;
    if (p.Ref) return named?.DeploymentGroupName ?? named?.ApplicationName ?? named?.AlarmName ?? p.Ref;
    if (p['Fn::GetAtt']) return `arn:${p['Fn::GetAtt'][0]}`;
    throw new Error(`unexpected token ${JSON.stringify(p)}`);
  }).join('');
  return JSON.parse(text);
}
const def = definition();
const WORKER = `arn:${logicalId(built.bg.workerFunction)}`;
const PROBE = `arn:${logicalId(built.probe.function)}`;
const TOPIC = logicalId(built.topic);

/** Every state of the definition, branches included. */
function allStates(states: Record<string, Json> = def.States): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, state] of Object.entries(states)) {
    out[name] = state;
    for (const branch of state.Branches ?? []) Object.assign(out, allStates(branch.States));
  }
  return out;
}
const states = allStates();

describe('BlueGreenSwitch: the definition', () => {
  test('is one JSONata state machine per stack, with one hook, one worker and two rules, and no resource per alias', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    // The safety-net rule (deployments that fail or stop) and the rule on the machine's own executions that end
    // FAILED/TIMED_OUT/ABORTED, both to the hook; one dead-letter queue with its alarm, for both aliases.
    template.resourceCountIs('AWS::Events::Rule', 2);
    expect(Object.keys(template.findResources('AWS::Events::Rule')).sort()).toEqual([logicalId(built.bg.executionEndRule), logicalId(built.bg.safetyNetRule)].sort());
    template.resourceCountIs('AWS::SQS::Queue', 1);
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SQS' } }))).toEqual([logicalId(built.bg.failedEventsAlarm)]);
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    const mine = Object.values(template.findResources('AWS::Lambda::Function')).filter((f: Json) => String(f.Properties.Description ?? '').startsWith('cdk-rollout-guardrails blue-green'));
    expect(mine.map((f: Json) => f.Properties.Handler).sort()).toEqual(['index.hook', 'index.worker']);
    expect(mine.every((f: Json) => f.Properties.Environment === undefined || Object.keys(f.Properties.Environment.Variables).join() === 'STATE_MACHINE_ARN')).toBe(true);
    expect((def as Json).QueryLanguage).toBe('JSONata');
    expect(built.hookA).toBe(built.bg.hookFunction);
    expect(built.hookB).toBe(built.bg.hookFunction);
  });

  test('selects the alias\'s configuration by its key (application/deployment group) with one JSONata $lookup in LoadConfig', async () => {
    expect(def.StartAt).toBe('LoadConfig');
    const expression = /^\{%(.*)%\}$/s.exec(states.LoadConfig.Assign.config)![1];
    expect(expression).toMatch(/^ \(\$c := \$lookup\(\{"App\/GroupA":\{.*\},"App\/GroupB":\{.*\}\}, \$states\.input\.configKey\); \$exists\(\$c\) \? \$c : null\) $/s);
    const a = await jsonata(expression).evaluate({}, { states: { input: { configKey: 'App/GroupA' } } });
    expect(a).toEqual({
      holdSeconds: 900, checkIntervalSeconds: 5, metricDelaySeconds: 20, probeBudgetSeconds: 45, smokeQuestions: 20,
      stopRules: { maxDeltaSP95Drift: 0.15, minCoverage: 0.6, maxLambdaFlipRate: 0.2, max5xxRate: 0.01, minInvocations: 100 },
      invariants: { SCHEMA_REV: 'v3', INDEX_HASH: 'abc' },
      freeze: [logicalId(built.jobs), 'uuid-audit'],
      alarmNames: ['GatesA'],
      probeFunctionArn: PROBE,
      warmup: { concurrency: 2, pings: 2, readyTimeoutSeconds: 60 },
      topicArn: TOPIC,
    });
    const b = await jsonata(expression).evaluate({}, { states: { input: { configKey: 'App/GroupB' } } });
    expect(b).toMatchObject({ invariants: {}, freeze: [], alarmNames: [] });
    expect(b.probeFunctionArn).toBeUndefined();
    expect(b.topicArn).toBeUndefined();
    expect(await jsonata(expression).evaluate({}, { states: { input: { configKey: 'Other/GroupA' } } })).toBeNull();
    expect(states.Route.Choices[0]).toEqual({ Condition: '{% $config = null %}', Next: 'ReportUnconfigured' });
  });

  test('walks invariants → smoke → freeze → report before the switch, and holds with two loops after it', () => {
    expect(states.Route.Choices[1]).toEqual({ Condition: "{% $phase = 'BeforeAllowTraffic' %}", Next: 'CheckInvariants' });
    expect(states.Route.Default).toBe('HoldAndWatch');
    expect(states.CheckInvariants.Next).toBe('InvariantsHeld');
    expect(states.InvariantsHeld).toMatchObject({ Default: 'NotifyFailed?', Choices: [{ Next: 'HasWarmup' }] });
    expect(states.HasWarmup).toMatchObject({ Default: 'HasSmoke', Choices: [{ Condition: '{% $exists($config.warmup) %}', Next: 'Warmup' }] });
    expect(states.Warmup.TimeoutSeconds).toBe('{% $config.warmup.readyTimeoutSeconds + 60 %}');
    expect(states.WarmupPassed).toMatchObject({ Default: 'NotifyFailed?', Choices: [{ Next: 'HasSmoke' }] });
    expect(states.HasSmoke).toMatchObject({ Default: 'Freeze', Choices: [{ Next: 'Smoke' }] });
    expect(states.SmokePassed).toMatchObject({ Default: 'NotifyFailed?', Choices: [{ Next: 'Freeze' }] });
    expect(states.Freeze.Next).toBe('NotifyPassed?');
    expect(states['NotifyPassed?'].Default).toBe('ReportBeforeSucceeded');
    expect(states['NotifyFailed?'].Default).toBe('ReportBeforeFailed');
    expect(states.BeforeDone.Type).toBe('Succeed');
    expect(states.HoldAndWatch.Branches.map((b: Json) => b.StartAt)).toEqual(['Watch', 'HasHoldProbe']);
    expect(states.WatchRoute.Choices.map((c: Json) => c.Next)).toEqual(['WatchWait', 'MetricsHeld']);
    expect(states.WatchRoute.Default).toBe('MetricsBreach');
    expect(states.MetricsBreach).toMatchObject({ Type: 'Fail', Error: 'StopRuleBroken' });
    expect(states.HoldProbe.Next).toBe('JudgeProbe');
    expect(states.ProbeRoute.Default).toBe('ProbeBreach');
    expect(states.HoldAndWatch.Next).toBe('NotifyHeld?');
    expect(states['NotifyHeld?'].Default).toBe('ResumeAfterHold');
    expect(states.ResumeAfterHold.Next).toBe('ReportAfterSucceeded');
    // A breach: RollBack, a Parallel whose first branch is the Failed report and nothing else, beside the resume
    // and the publish; then a Choice on the report's branch.
    expect(states.RollBack).toMatchObject({ Type: 'Parallel', Output: '{% $states.result %}', Next: 'RollBackReported' });
    expect(states.RollBack.Branches.map((b: Json) => [b.StartAt, Object.keys(b.States).sort()])).toEqual([
      ['ReportAfterFailed', ['ReportAfterFailed', 'ReportAfterFailedNotLanded', 'ReportedAfterFailed']],
      ['ResumeAfterBreach', ['NotifyRolledBack', 'NotifyRolledBack?', 'ResumeAfterBreach', 'ResumedAfterBreach']],
    ]);
    expect(states.ReportAfterFailed.Next).toBe('ReportedAfterFailed');
    expect(states.ReportAfterFailed.Catch.map((c: Json) => [c.ErrorEquals, c.Next, c.Output])).toEqual([
      [['CodeDeploy.LifecycleEventAlreadyCompletedException'], 'ReportedAfterFailed', undefined],
      // No Output: the error output goes on to ReportAfterFailedNotLanded, whose own Output records it.
      [['States.ALL'], 'ReportAfterFailedNotLanded', undefined],
    ]);
    expect(states.ReportedAfterFailed.Type).toBe('Succeed');
    expect(states.ReportAfterFailedNotLanded).toMatchObject({ Type: 'Succeed', Output: expect.stringContaining("'status': 'NotReported', 'error': $states.input") });
    expect(states.ResumeAfterBreach.Next).toBe('NotifyRolledBack?');
    expect(states['NotifyRolledBack?'].Default).toBe('ResumedAfterBreach');
    expect(states.ResumedAfterBreach.Type).toBe('Succeed');
    expect(states.RollBackReported).toMatchObject({
      Type: 'Choice',
      Choices: [{ Condition: "{% $states.input[0].kind = 'cdk-rollout-guardrails/blue-green/outcome' and $states.input[0].status = 'Failed' %}", Next: 'RolledBack' }],
      Default: 'ReportFailedOnError',
      // When the report did not land, the error path names why (the report's own error, in ReportAfterFailed).
      Assign: { error: "{% $states.input[0].status = 'NotReported' ? $merge([$states.input[0].error, {'State': 'ReportAfterFailed'}]) : $error %}" },
    });
    expect(states.RolledBack).toMatchObject({ Type: 'Fail', Error: 'StopRuleBroken', Cause: '{% $string($breach) %}' });
  });

  test('reports Failed after a breach in bounded time: 4 s an attempt, one retry 1 s later, never a retry of a report that landed', () => {
    expect(states.ReportAfterFailed).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:codedeploy:putLifecycleEventHookExecutionStatus',
      Arguments: { DeploymentId: '{% $hook.deploymentId %}', LifecycleEventHookExecutionId: '{% $hook.lifecycleEventHookExecutionId %}', Status: 'Failed' },
      TimeoutSeconds: 4,
      Retry: [
        { ErrorEquals: ['CodeDeploy.LifecycleEventAlreadyCompletedException'], MaxAttempts: 0 },
        { ErrorEquals: ['States.ALL'], MaxAttempts: 1, IntervalSeconds: 1, BackoffRate: 2 },
      ],
    });
    // The bound the worst-case rollback counts, from the state itself: every attempt timed out, and the waits between them.
    const [, retry] = states.ReportAfterFailed.Retry;
    const waits = Array.from({ length: retry.MaxAttempts }, (_, i) => retry.IntervalSeconds * retry.BackoffRate ** i).reduce((a, b) => a + b, 0);
    expect((retry.MaxAttempts + 1) * states.ReportAfterFailed.TimeoutSeconds + waits).toBe(REPORT_BOUND_SECONDS);
    expect(REPORT_BOUND_SECONDS).toBe(9);
    expect(states.Watch.TimeoutSeconds).toBe(5);
    expect(states.HoldProbe.TimeoutSeconds).toBe('{% $states.input.config.probeBudgetSeconds %}');
  });

  test('the machine never calls lambda:updateAlias on any path: its only AWS calls are the worker, the probe and the CodeDeploy reports', () => {
    const tasks = Object.entries(states).filter(([, st]) => st.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(20);
    // Every Resource of every state, branches included.
    const resources = Object.values(states).map((st) => st.Resource).filter((r) => r !== undefined);
    expect(resources.filter((r) => /updatealias|lambda:update|lambda:put|lambda:delete/i.test(r))).toEqual([]);
    expect([...new Set(resources)].sort()).toEqual([
      'arn:aws:states:::aws-sdk:codedeploy:putLifecycleEventHookExecutionStatus',
      'arn:aws:states:::lambda:invoke',
    ]);
    // Nothing writes a version or routing anywhere in the definition, and the states that flipped are gone.
    expect(JSON.stringify(def)).not.toMatch(/FunctionVersion|RoutingConfig|AdditionalVersionWeights/);
    for (const gone of ['FlipBack', 'FlipBackOnError', 'OnError', 'ResumeAfterFlip']) expect(states[gone]).toBeUndefined();
    expect(Object.keys(states.LoadConfig.Assign)).not.toContain('flip');
    // The lambda:invoke tasks invoke only the worker and the probe.
    const invoked = tasks.filter(([, st]) => st.Resource.endsWith(':lambda:invoke')).map(([, st]) => st.Arguments.FunctionName);
    expect([...new Set(invoked)].sort()).toEqual([WORKER, '{% $config.probeFunctionArn %}', '{% $states.input.config.probeFunctionArn %}'].sort());
  });

  test('catches every error of every task outside the hold into the path that resumes and reports Failed (CodeDeploy then rolls back)', () => {
    // The notifications are not on this path: they catch into the state they precede (see the notifications below).
    const outside = Object.entries(def.States).filter(([name, s]) => s.Type === 'Task' && !name.startsWith('Notify'));
    expect(outside.map(([name]) => name).sort()).toEqual([
      'CheckInvariants', 'Freeze', 'ReportAfterSucceeded', 'ReportBeforeFailed', 'ReportBeforeSucceeded', 'ReportFailedOnError', 'ReportUnconfigured',
      'ResumeAfterHold', 'ResumeOnError', 'Smoke', 'Warmup',
    ]);
    for (const [name, state] of outside) {
      const all = (state.Catch ?? []).find((c: Json) => c.ErrorEquals.includes('States.ALL'));
      expect([name, all?.Next]).toEqual([name, expect.stringMatching(/^(ResumeOnError|NotifyError\?|ReportFailedOnError|Errored)$/)]);
    }
    // Both phases: no Choice on the phase, no flip; the resume, the publish, the report.
    expect(states.ResumeOnError.Next).toBe('NotifyError?');
    expect(states.ResumeOnError.Catch.map((c: Json) => c.Next)).toEqual(['NotifyError?']);
    expect(states['NotifyError?'].Default).toBe('ReportFailedOnError');
    expect(states.ReportFailedOnError.Next).toBe('Errored');
    expect(states.Errored).toMatchObject({ Type: 'Fail', Error: 'BlueGreenError', Cause: '{% $string($error) %}' });
    // The caught error names the state that failed.
    expect(states.Freeze.Catch[0].Assign).toEqual({ error: "{% $merge([$states.errorOutput, {'State': $states.context.State.Name}]) %}" });
    // The hold: a broken rule, or any failed task inside it, reaches the Parallel's catch, which goes to RollBack.
    expect(states.HoldAndWatch.Catch.map((c: Json) => [c.ErrorEquals, c.Next])).toEqual([[['StopRuleBroken'], 'RollBack'], [['States.ALL'], 'RollBack']]);
    expect(states.HoldProbe.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'JudgeProbe' })]);
    // RollBack's branches catch their own errors (a catcher cannot leave its branch); what still fails RollBack
    // goes to the report of Failed after an error.
    expect(states.ResumeAfterBreach.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'NotifyRolledBack?', Output: '{% $states.errorOutput %}' }]);
    expect(states.RollBack.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'ReportFailedOnError', Assign: { error: "{% $merge([$states.errorOutput, {'State': $states.context.State.Name}]) %}" } }]);
  });

  test('retries the idempotent SDK calls, Lambda\'s transient errors, and never a report that already landed: one report step', () => {
    const sdk = { ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 };
    const already = 'CodeDeploy.LifecycleEventAlreadyCompletedException';
    // Every report is the one report step: each attempt cut off at 4 s, never retried once CodeDeploy says the
    // hook is completed (an earlier attempt landed), which goes on as a report that landed; any other error,
    // once retried, to the error path. (ReportAfterFailed's own bounded retry is asserted above.)
    const reportStates = Object.entries(states).filter(([, st]) => String(st.Resource).endsWith(':putLifecycleEventHookExecutionStatus'));
    expect(reportStates.map(([n]) => n).sort()).toEqual([
      'ReportAfterFailed', 'ReportAfterSucceeded', 'ReportBeforeFailed', 'ReportBeforeSucceeded', 'ReportFailedOnError', 'ReportUnconfigured',
    ]);
    for (const [name, state] of reportStates) {
      expect([name, state.TimeoutSeconds, state.Retry[0]]).toEqual([name, 4, { ErrorEquals: [already], MaxAttempts: 0 }]);
      if (name !== 'ReportAfterFailed') expect([name, state.Retry[1]]).toEqual([name, sdk]);
      expect([name, state.Catch[0]]).toEqual([name, { ErrorEquals: [already], Next: state.Next }]);
      expect([name, state.Catch[1].ErrorEquals]).toEqual([name, ['States.ALL']]);
    }
    // The report after an error is not retried once CodeDeploy says the hook already completed (e.g. after a
    // Failed report that landed but timed out); Errored then ends the execution, with the error that led there.
    expect(states.ReportFailedOnError.Catch.map((c: Json) => [c.Next, c.Assign])).toEqual([['Errored', undefined], ['Errored', undefined]]);
    expect(states.ReportUnconfigured.Catch.map((c: Json) => c.Next)).toEqual(['Unconfigured', 'Errored']);
    for (const name of ['ResumeAfterHold', 'ResumeAfterBreach', 'ResumeOnError']) expect(states[name].Retry).toEqual([sdk]);
    for (const name of ['CheckInvariants', 'Warmup', 'Smoke', 'Freeze']) {
      expect(states[name].Retry).toEqual([{ ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'], IntervalSeconds: 2, MaxAttempts: 2, BackoffRate: 2 }]);
    }
    // Bounded in the worst-case rollback: no retry on the hold's reads.
    for (const name of ['Watch', 'JudgeProbe', 'HoldProbe']) expect(states[name].Retry).toBeUndefined();
  });

  test('invokes the smoke probe with the direct-run event and its question limit', () => {
    expect(states.Smoke.Arguments).toEqual({
      FunctionName: '{% $config.probeFunctionArn %}',
      Payload: "{% {'deploymentId': $states.context.Execution.Input.deploymentId, 'functionName': $target.functionName, 'alias': $target.alias, 'currentVersion': $target.currentVersion, 'targetVersion': $target.targetVersion, 'questionLimit': $config.smokeQuestions} %}",
    });
    expect(states.CheckInvariants.Arguments.FunctionName).toBe(WORKER);
  });
});

describe('BlueGreenSwitch: grants', () => {
  function statementsOf(role: unknown): Array<{ Action: string[]; Resource: Json[] }> {
    const roleId = built.stack.getLogicalId((role as { node: { defaultChild: never } }).node.defaultChild);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p: Json) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
      .flatMap((p: Json) => p.Properties.PolicyDocument.Statement)
      .map((s: Json) => ({ Action: [s.Action].flat(), Resource: [s.Resource].flat() }));
  }
  const actions = (statements: ReturnType<typeof statementsOf>) => [...new Set(statements.flatMap((s) => s.Action))].sort();
  /** The actions but X-Ray's two of active tracing on the machinery's functions (its grant and acknowledgement are the machinery's, tested with it). */
  const ownActions = (statements: ReturnType<typeof statementsOf>) => {
    expect(on(statements, 'xray:PutTraceSegments').concat(on(statements, 'xray:PutTelemetryRecords')).every((r) => r === '*')).toBe(true);
    return actions(statements).filter((a) => a !== 'xray:PutTraceSegments' && a !== 'xray:PutTelemetryRecords');
  };
  const on = (statements: ReturnType<typeof statementsOf>, action: string) => statements.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource);
  const fnArn = (fn: lambda.Function) => ({ 'Fn::GetAtt': [logicalId(fn), 'Arn'] });
  const sorted = (values: Json[]) => values.map((v) => JSON.stringify(v)).sort();

  test('the state machine may report on the attached groups, invoke the worker and the probe, and nothing else: no lambda:UpdateAlias, no sns:Publish', () => {
    const machine = statementsOf(built.bg.stateMachine.role);
    expect(actions(machine)).toEqual([
      'codedeploy:PutLifecycleEventHookExecutionStatus', 'lambda:InvokeFunction',
      'logs:CreateLogDelivery', 'logs:DeleteLogDelivery', 'logs:DescribeLogGroups', 'logs:DescribeResourcePolicies', 'logs:GetLogDelivery',
      'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:UpdateLogDelivery', 'xray:GetSamplingRules', 'xray:GetSamplingTargets',
      'xray:PutTelemetryRecords', 'xray:PutTraceSegments',
    ]);
    // CodeDeploy is the one owner of the alias: no principal of the switch may write it.
    for (const role of [built.bg.stateMachine.role, built.bg.workerFunction.role, built.bg.hookFunction.role]) {
      expect(actions(statementsOf(role)).filter((a) => /^lambda:(UpdateAlias|\*)$|^\*$/.test(a))).toEqual([]);
    }
    // The worker publishes the notifications, on GroupA's topic only (GroupB has none).
    expect(on(machine, 'sns:Publish')).toEqual([]);
    expect(on(statementsOf(built.bg.workerFunction.role), 'sns:Publish')).toEqual([{ Ref: TOPIC }]);
    expect(sorted(on(machine, 'lambda:InvokeFunction'))).toEqual(sorted([fnArn(built.bg.workerFunction), fnArn(built.probe.function)]));
    expect(on(machine, 'codedeploy:PutLifecycleEventHookExecutionStatus')).toHaveLength(2);
  });

  test('the worker may read the new versions\' configuration, the attached alarms, pause and resume the listed mappings and publish to the topics', () => {
    const worker = statementsOf(built.bg.workerFunction.role);
    // The warm gate only reads a version's provisioned concurrency and pings it: it may write none.
    expect(ownActions(worker)).toEqual([
      'cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData', 'lambda:GetEventSourceMapping', 'lambda:GetFunctionConfiguration',
      'lambda:GetProvisionedConcurrencyConfig', 'lambda:InvokeFunction', 'lambda:UpdateEventSourceMapping', 'sns:Publish',
    ]);
    // The warm gate of GroupA: its new version only.
    expect(on(worker, 'lambda:GetProvisionedConcurrencyConfig').map((r) => r.Ref)).toEqual([expect.stringMatching(/^FnACurrentVersion/)]);
    expect(on(worker, 'lambda:InvokeFunction')).toEqual(on(worker, 'lambda:GetProvisionedConcurrencyConfig'));
    // The versions this synth publishes, exactly (`Ref` of AWS::Lambda::Version is its ARN).
    expect(on(worker, 'lambda:GetFunctionConfiguration').map((r) => r.Ref)).toEqual([expect.stringMatching(/^FnACurrentVersion/), expect.stringMatching(/^FnBCurrentVersion/)]);
    expect(on(worker, 'lambda:GetFunctionConfiguration').every((r) => json.Resources[r.Ref].Type === 'AWS::Lambda::Version')).toBe(true);
    // DescribeAlarms returns composite alarms only to a caller allowed on every alarm (CW-1): on *, like
    // GetMetricData; the alarms it reads are the attached ones, by name, in the alias's configuration.
    expect(on(worker, 'cloudwatch:DescribeAlarms')).toEqual(['*']);
    // Nothing but these two reads and X-Ray's trace writes is granted on *.
    expect([...new Set(worker.filter((st) => st.Resource.includes('*')).flatMap((st) => st.Action))].sort())
      .toEqual(['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(sorted(on(worker, 'lambda:UpdateEventSourceMapping'))).toEqual(sorted([
      { 'Fn::Join': ['', ['arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:', { Ref: JOBS }]] },
      'arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:uuid-audit',
    ]));
    expect(sorted(on(worker, 'lambda:GetEventSourceMapping'))).toEqual(sorted(on(worker, 'lambda:UpdateEventSourceMapping')));
    expect(on(worker, 'cloudwatch:GetMetricData')).toEqual(['*']);
  });

  test('the hook may read the attached deployments and aliases, start and read the machine\'s executions, and resume the mappings', () => {
    const hook = statementsOf(built.bg.hookFunction.role);
    expect(ownActions(hook)).toEqual([
      'codedeploy:GetApplicationRevision', 'codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus', 'lambda:GetAlias',
      'lambda:UpdateEventSourceMapping', 'sqs:SendMessage', 'states:DescribeExecution', 'states:StartExecution', 'states:StopExecution',
    ]);
    // Its asynchronous invocations' dead letters go to the switch's queue, and nowhere else.
    expect(on(hook, 'sqs:SendMessage')).toEqual([{ 'Fn::GetAtt': [logicalId(built.bg.failedEvents), 'Arn'] }]);
    expect(on(hook, 'states:StartExecution')).toEqual([{ Ref: logicalId(built.bg.stateMachine) }]);
    expect(JSON.stringify(on(hook, 'states:StopExecution'))).toMatch(/:execution:",\{"Fn::GetAtt":\["\w+","Name"\]\},":\*"/);
    expect(on(hook, 'lambda:GetAlias')).toHaveLength(4);
    expect(sorted(on(hook, 'lambda:UpdateEventSourceMapping'))).toEqual(sorted(on(statementsOf(built.bg.workerFunction.role), 'lambda:UpdateEventSourceMapping')));
  });

  test('sets the hook as both hooks of each group, and listens to their FAILURE and STOP events', () => {
    const aliases = template.findResources('AWS::Lambda::Alias');
    const hookRef = { Ref: logicalId(built.bg.hookFunction) };
    for (const alias of Object.values(aliases) as Json[]) {
      expect(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate).toMatchObject({ BeforeAllowTrafficHook: hookRef, AfterAllowTrafficHook: hookRef });
    }
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.codedeploy'],
        'detail-type': ['CodeDeploy Deployment State-change Notification'],
        'detail': { state: ['FAILURE', 'STOP'], application: Match.anyValue(), deploymentGroup: Match.anyValue() },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(built.bg.hookFunction), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 4 } })],
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true }, TracingConfiguration: { Enabled: true },
    });
  });

  test('sends its executions that end FAILED, TIMED_OUT or ABORTED to the hook; the hook retries twice, then the dead-letter queue', () => {
    const queue = { 'Fn::GetAtt': [logicalId(built.bg.failedEvents), 'Arn'] };
    const hookArn = { 'Fn::GetAtt': [logicalId(built.bg.hookFunction), 'Arn'] };
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        'detail': { stateMachineArn: [{ Ref: logicalId(built.bg.stateMachine) }], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      Targets: [Match.objectLike({ Arn: hookArn, DeadLetterConfig: { Arn: queue }, RetryPolicy: { MaximumRetryAttempts: 4 } })],
    });
    // Both rules deliver what they cannot to the queue.
    for (const rule of [built.bg.safetyNetRule, built.bg.executionEndRule]) {
      expect(json.Resources[logicalId(rule)].Properties.Targets).toEqual([expect.objectContaining({ Arn: hookArn, DeadLetterConfig: { Arn: queue } })]);
    }
    // The hook: 2 minutes, traced, invoked asynchronously with 2 retries and the queue as its dead letter.
    const hook = json.Resources[logicalId(built.bg.hookFunction)].Properties;
    expect(hook).toMatchObject({ Timeout: 120, TracingConfig: { Mode: 'Active' }, DeadLetterConfig: { TargetArn: queue } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: logicalId(built.bg.hookFunction) }, MaximumRetryAttempts: 2, Qualifier: '$LATEST' });
    // The worker is invoked by the machine (synchronously): traced, no dead letter of its own.
    const worker = json.Resources[logicalId(built.bg.workerFunction)].Properties;
    expect(worker.TracingConfig).toEqual({ Mode: 'Active' });
    expect(worker.DeadLetterConfig).toBeUndefined();
    // The queue's first message is an alarm.
    expect(json.Resources[logicalId(built.bg.failedEventsAlarm)].Properties).toMatchObject({
      Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(built.bg.failedEvents), 'QueueName'] } }],
    });
  });

  test('keeps its logs a year: the state machine\'s under /aws/vendedlogs/states/<stack>-<id>, each function\'s in a group of its own', () => {
    const machine = json.Resources[logicalId(built.bg.stateMachine)].Properties;
    const machineGroup = machine.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(json.Resources[machineGroup].Properties).toMatchObject({
      LogGroupName: { 'Fn::Join': ['', ['/aws/vendedlogs/states/', { Ref: 'AWS::StackName' }, expect.stringMatching(/^-TestStackBlueGreenSwitch/)]] },
      RetentionInDays: 365,
    });
    for (const fn of [built.bg.hookFunction, built.bg.workerFunction]) {
      const group = json.Resources[logicalId(fn)].Properties.LoggingConfig.LogGroup.Ref;
      expect(json.Resources[group]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 365 } });
      expect(json.Resources[group].Properties.LogGroupName).toBeUndefined();
    }
  });

  test('warns when a hold probe run cannot finish in its budget at one answer every 2 s', () => {
    expectSynthWarnings(['cdk-rollout-guardrails:blueGreenProbeBudget'], () => Annotations.fromStack(built.stack)).hasWarning('/TestStack/LiveA', Match.stringLikeRegexp('a hold-and-watch probe run makes 320 invocations, 8 at a time \\(40 rounds\\), and is cut off at 45 seconds: each answer must come within 1.13 s'));
  });
});

describe('BlueGreenSwitch.attach(): validation', () => {
  function alias(stack: Stack, config: codedeploy.ILambdaDeploymentConfig = codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE) {
    const fn = testFunction(stack);
    const version = fn.currentVersion;
    const live = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
    return { alias: live, version, deploymentGroup: new codedeploy.LambdaDeploymentGroup(stack, 'Group', { alias: live, deploymentConfig: config }) };
  }

  test('lists every problem: a canary group, an invalid strategy, a pin the invariants contradict', () => {
    const stack = testStack();
    expect(() => BlueGreenSwitch.of(stack).attach({
      ...alias(stack, codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES),
      strategy: RolloutStrategy.blueGreen({ smokeQuestions: 5, invariants: { SCHEMA_REV: 'v4' } }),
      pins: { SCHEMA_REV: 'v3' },
    })).toThrow([
      'BlueGreenSwitch.attach() in \'TestStack\' has 3 invalid props:',
      '  - strategy (blueGreen) smokeQuestions must be an integer from 20 to 40, got: 5',
      '  - deploymentGroup must be all-at-once (LambdaDeploymentConfig.ALL_AT_ONCE): CodeDeploy switches the alias between the two hooks, got: "CodeDeployDefault.LambdaCanary10Percent5Minutes"',
      '  - strategy (blueGreen) invariants.SCHEMA_REV must be the release pin the new version carries ("v3"): the switch could never pass, got: "v4"',
    ].join('\n'));
  });

  test('refuses to attach one alias twice', () => {
    const stack = testStack();
    const target = alias(stack);
    BlueGreenSwitch.of(stack).attach({ ...target, wireHooks: false });
    expect(() => BlueGreenSwitch.of(stack).attach({ ...target, wireHooks: false })).toThrow("BlueGreenSwitch: the alias 'TestStack/Live' is already attached");
  });

  test('takes a ProvisionedWarmup\'s warm gate when the strategy has none, and grants it on the new version only', () => {
    const stack = testStack();
    const target = alias(stack);
    BlueGreenSwitch.of(stack).attach({ ...target, warmGate: { concurrency: 3, pings: 5, readyTimeoutSeconds: 120 } });
    expect(BlueGreenSwitch.of(stack)._configOf(target.deploymentGroup)?.warmup).toEqual({ concurrency: 3, pings: 5, readyTimeoutSeconds: 120 });
    // Statements on the new version only (CDK merges the ones with the same resource).
    const onVersion = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((p: Json) => p.Properties.PolicyDocument.Statement)
      .filter((st: Json) => /^FnCurrentVersion/.test(st.Resource?.Ref ?? ''))
      .flatMap((st: Json) => [st.Action].flat());
    expect(onVersion.sort()).toEqual(['lambda:GetFunctionConfiguration', 'lambda:GetProvisionedConcurrencyConfig', 'lambda:InvokeFunction']);
    const other = testStack(undefined, 'Other');
    expect(() => BlueGreenSwitch.of(other).attach({ ...alias(other), warmGate: { concurrency: 3, pings: 5, readyTimeoutSeconds: 900 } }))
      .toThrow('warmGate.readyTimeoutSeconds must be an integer from 1 to 840, got: 900');
  });

  test('refuses the strategy\'s warm gate on a version without provisioned concurrency of its own (the gate creates none)', () => {
    const stack = testStack();
    const strategy = RolloutStrategy.blueGreen({ warmup: { concurrency: 2, pings: 2, readyTimeout: Duration.minutes(1) } });
    expect(() => BlueGreenSwitch.of(stack).attach({ ...alias(stack), strategy }))
      .toThrow(/strategy \(blueGreen\) warmup must be set only on a version with provisioned concurrency of its own/);
    // The same strategy on a version a ProvisionedWarmup gave provisioned concurrency to.
    const other = testStack(undefined, 'Other');
    const target = alias(other);
    new ProvisionedWarmup(other, 'Warmup', { alias: target.alias, version: target.version, provisionedConcurrency: 2 });
    expect(() => BlueGreenSwitch.of(other).attach({ ...target, strategy })).not.toThrow();
  });

  test('rejects notifications that are not a topic, naming the prop and the value', () => {
    const stack = testStack();
    expect(() => BlueGreenSwitch.of(stack).attach({ ...alias(stack), notifications: 'arn:aws:sns:eu-west-1:123456789012:releases' as any })).toThrow([
      'BlueGreenSwitch.attach() in \'TestStack\' has 1 invalid prop:',
      '  - notifications must be an SNS topic (sns.ITopic), got: "arn:aws:sns:eu-west-1:123456789012:releases"',
    ].join('\n'));
    const other = testStack(undefined, 'Other');
    expect(() => BlueGreenSwitch.of(other).attach({ ...alias(other), notifications: { topicArn: 'arn:aws:sns:eu-west-1:123456789012:releases' } as any }))
      .toThrow('notifications must be an SNS topic (sns.ITopic), got: "[object Object]"');
  });

  test('leaves the hooks to the caller when wireHooks is false', () => {
    const stack = testStack();
    const target = alias(stack);
    const hook = BlueGreenSwitch.of(stack).attach({ ...target, wireHooks: false });
    expect(() => target.deploymentGroup.addPreHook(hook)).not.toThrow();
    expect(() => target.deploymentGroup.addPostHook(hook)).not.toThrow();
  });
});

test.each([
  ['in a stack with an environment', true],
  ['in an environment-agnostic stack', false],
])('the blue-green switch\'s own resources pass cdk-nag\'s AwsSolutions pack %s, each acknowledgement with its reason', (_name, withEnv) => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'blue-green-nag-'));
  const app = new App({ ...TEST_APP_PROPS, outdir });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = withEnv ? testStack(app) : new Stack(app, 'TestStack');
  // GroupA has a notifications topic: the worker's sns:Publish on it is a scoped grant, no finding.
  build(stack);
  // The test's own functions and deployment groups break rules of their own; only the blue-green resources are judged.
  try {
    app.synth();
  } catch {
    // read below
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  const nag = report.pluginReports.find((p: Json) => p.pluginName === 'AwsSolutions');
  const mine = (v: Json) => (v.violatingConstructs ?? []).some((c: Json) => c.constructPath.startsWith('TestStack/BlueGreenSwitch/'));
  expect(nag.violations.filter(mine).map((v: Json) => v.ruleName)).toEqual([]);
  // (X-Ray's wildcard on the functions, where they are traced, is the machinery's acknowledgement: not counted here.)
  const acknowledged = nag.suppressedViolations.filter((v: Json) => String(v.acknowledgedAt).startsWith('TestStack/BlueGreenSwitch') && !/^X-Ray's /.test(v.reason));
  expect(acknowledged.map((v: Json) => v.ruleName.replace(/\[.*\]$/, '')).sort()).toEqual([
    'AwsSolutions-IAM4', 'AwsSolutions-IAM4', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5',
  ]);
  for (const v of acknowledged) expect(v.reason.length).toBeGreaterThan(20);
});

// ---------------------------------------------------------------------------------------------------------
// Runs of the definition

async function run(input: BlueGreenExecutionInput, stub: Stub): Promise<Run & { clock: number }> {
  const trace: Trace = { calls: [], visited: [], outputs: {} };
  const context = { Execution: { Id: executionArn(input), Input: input } };
  const result = await runStates(def.States, def.StartAt, input, {}, context, stub, trace, input.startedAt);
  return { ...result, ...trace };
}

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const executionArn = (input: BlueGreenExecutionInput) => `arn:aws:states:eu-west-1:123456789012:execution:BlueGreen:${input.deploymentId}-${input.phase}`;
const TARGET = { functionName: 'answer-fn', alias: 'live', currentVersion: '7', targetVersion: '8' };
const JOBS = logicalId(built.jobs);

function execution(phase: 'BeforeAllowTraffic' | 'AfterAllowTraffic', overrides: Partial<BlueGreenExecutionInput> = {}): BlueGreenExecutionInput {
  return {
    deploymentId: 'd-ABC', lifecycleEventHookExecutionId: `hook-${phase}`, applicationName: 'App', deploymentGroupName: 'GroupA',
    phase, target: TARGET, startedAt: T0, ...(phase === 'AfterAllowTraffic' ? { frozen: [JOBS] } : {}), ...overrides,
    configKey: `${overrides.applicationName ?? 'App'}/${overrides.deploymentGroupName ?? 'GroupA'}`,
  };
}

/** The probe's direct-run answer: the report fields the hold reads. */
function probeAnswer(drifted: boolean): Json {
  return {
    status: drifted ? 'Failed' : 'Succeeded',
    reasons: drifted ? ['minCoverage: median coverage of the new version 0.45 < 0.7'] : [],
    report: {
      new: { deltaSP95: drifted ? 0.71 : 0.31, coverageMedian: drifted ? 0.45 : 1 },
      current: { deltaSP95: 0.3 },
      lambdaFlips: drifted ? [{ id: 'q1', current: 'convergent', new: 'recursive' }] : [],
      plan: { questions: 20 },
      gates: [
        { name: 'maxDeltaSDrift', measured: 0.01, threshold: 0.1, passed: true, reason: 'ΔS drift (new median − current median) 0.01 ≤ 0.1' },
        { name: 'minCoverage', measured: drifted ? 0.45 : 1, threshold: 0.7, passed: !drifted, reason: `median coverage of the new version ${drifted ? '0.45 <' : '1 ≥'} 0.7` },
      ],
    },
  };
}

interface World {
  readonly environment?: Record<string, string>;
  /** Epoch ms from which 5 % of the new version's requests fail (whole minutes from then on). */
  readonly errorsFrom?: number;
  /** Epoch ms from which the probe sees drifted answers. */
  readonly driftFrom?: number;
  readonly smokeDrifted?: boolean;
  /** ms a hold probe run takes. @default 30 s */
  readonly probeMs?: number;
  /** A task state whose every attempt fails with Lambda.Unknown. */
  readonly failState?: string;
  /** Every sns:Publish of the worker's fails (AuthorizationError). */
  readonly snsFails?: boolean;
  /** The status of the new version's own provisioned concurrency, which the warm gate reads. @default READY */
  readonly warmStatus?: 'READY' | 'FAILED';
  /** The new version has no provisioned concurrency of its own (GetProvisionedConcurrencyConfig: not found). */
  readonly noProvisionedConcurrency?: boolean;
  /**
   * The attempts of ReportAfterFailed, in order, that do not simply land in 500 ms: `hangs` (no answer: the
   * attempt's TimeoutSeconds fails it), `already` (CodeDeploy says an earlier attempt landed). @default none
   */
  readonly reportAfterFailed?: ReadonlyArray<'hangs' | 'already'>;
}

/** A world's stub, and the names of the Lambda API commands the worker sent through its client. */
type WorldStub = Stub & { readonly lambdaCommands: () => string[] };

/** `client` with its send() replaced by `answer` (which sees each command; what it returns or throws is the call's outcome). */
function withSend<C extends { send: unknown }>(client: C, answer: (command: any) => Promise<unknown>): C {
  (client as { send: unknown }).send = answer;
  return client;
}

/** The AWS side: the real worker over stand-in SDK clients, stubs for the probe and the SDK integrations. */
function world(w: World = {}): WorldStub {
  let clock = T0;
  let reportAttempts = 0;
  // Plain send() stand-ins on the worker's own clients: the runs make thousands of calls, and aws-sdk-client-mock's
  // sinon stubs (which record and deep-match each one) cost more than the runs themselves. Each answers as the mocks
  // did: by command class, and by input where the answer depends on it (an unmatched input answers undefined).
  const lambdaCommands: string[] = [];
  const lambdaClient = withSend(new LambdaClient({}), async (command) => {
    lambdaCommands.push(command.constructor.name);
    const input = command.input;
    if (command instanceof GetFunctionConfigurationCommand) return { Environment: { Variables: w.environment ?? { SCHEMA_REV: 'v3', INDEX_HASH: 'abc' } } };
    if (command instanceof GetEventSourceMappingCommand) return input.UUID === JOBS ? { State: 'Enabled' } : input.UUID === 'uuid-audit' ? { State: 'Disabled' } : undefined;
    if (command instanceof UpdateEventSourceMappingCommand) return {};
    if (command instanceof GetProvisionedConcurrencyConfigCommand) {
      if (w.noProvisionedConcurrency) throw Object.assign(new Error('No Provisioned Concurrency Config found for this function'), { name: 'ProvisionedConcurrencyConfigNotFoundException' });
      // The version's own configuration, as ProvisionedWarmup (provisionedConcurrency 2) publishes it.
      if (input.FunctionName !== 'answer-fn' || input.Qualifier !== '8') return undefined;
      return {
        Status: w.warmStatus ?? 'READY', RequestedProvisionedConcurrentExecutions: 2, AllocatedProvisionedConcurrentExecutions: w.warmStatus === 'FAILED' ? 0 : 2,
        AvailableProvisionedConcurrentExecutions: w.warmStatus === 'FAILED' ? 0 : 2, StatusReason: w.warmStatus === 'FAILED' ? 'FUNCTION_ERROR_INIT_FAILURE' : undefined,
      };
    }
    if (command instanceof InvokeCommand) return { StatusCode: 200 };
    return undefined;
  });
  const cloudwatchClient = withSend(new CloudWatchClient({}), async (command) => {
    if (command instanceof DescribeAlarmsCommand) return { MetricAlarms: [{ AlarmName: 'GatesA', StateValue: 'OK' }] };
    if (command instanceof GetMetricDataCommand) {
      // 5 % of the minute's requests fail for the part of the minute after errorsFrom; the rest fail 1 in 1200.
      const minuteStart = command.input.StartTime!.getTime();
      const share = w.errorsFrom === undefined ? 0 : Math.min(1, Math.max(0, (minuteStart + 60_000 - w.errorsFrom) / 60_000));
      return { MetricDataResults: [{ Id: 'i', Values: [1200] }, { Id: 'e', Values: [Math.max(1, Math.round(60 * share))] }] };
    }
    return undefined;
  });
  // The worker's publishes, as SNS received them, for the state that invoked it.
  let invokedBy = '';
  let publishes: Json[] = [];
  const snsClient = withSend(new SNSClient({}), async (command) => {
    if (!(command instanceof PublishCommand)) return undefined;
    if (w.snsFails) throw Object.assign(new Error('User is not authorized to perform SNS:Publish'), { name: 'AuthorizationErrorException' });
    publishes.push({ topic: command.input.TopicArn, message: JSON.parse(command.input.Message!) });
    return { MessageId: `message-${invokedBy}` };
  });
  const worker = createWorkerHandler({ lambda: lambdaClient, cloudwatch: cloudwatchClient, sns: snsClient, now: () => clock, log: () => undefined, sleep: async () => undefined });
  const stub: Stub = async (state, resource, args, at) => {
    clock = at;
    if (state === w.failState) throw new TaskError('Lambda.Unknown', `${state} failed`);
    if (resource.endsWith(':lambda:invoke') && args.FunctionName === WORKER) {
      invokedBy = state;
      publishes = [];
      const Payload = await worker(args.Payload);
      return { Payload, __tookMs: 1000, ...(publishes.length > 0 ? { __published: publishes } : {}) };
    }
    if (resource.endsWith(':lambda:invoke') && args.FunctionName === PROBE) {
      if (state === 'Smoke') return { Payload: probeAnswer(w.smokeDrifted === true), __tookMs: 30_000 };
      return { Payload: probeAnswer(w.driftFrom !== undefined && at >= w.driftFrom), __tookMs: w.probeMs ?? 30_000 };
    }
    if (resource === 'arn:aws:states:::aws-sdk:codedeploy:putLifecycleEventHookExecutionStatus') {
      const attempt = state === 'ReportAfterFailed' ? w.reportAfterFailed?.[reportAttempts++] : undefined;
      if (attempt === 'hangs') return { __tookMs: 60_000 };
      if (attempt === 'already') throw new TaskError('CodeDeploy.LifecycleEventAlreadyCompletedException', 'the lifecycle event is already completed', 300);
      return { lifecycleEventHookExecutionId: args.LifecycleEventHookExecutionId, __tookMs: 500 };
    }
    throw new Error(`unexpected task ${state} ${resource}`);
  };
  return Object.assign(stub, { lambdaCommands: () => [...lambdaCommands] });
}

const reports = (r: Run) => r.calls.filter((c) => c.resource.endsWith('putLifecycleEventHookExecutionStatus')).map((c) => [c.state, c.args.Status, c.args.LifecycleEventHookExecutionId]);
const workerOps = (r: Run, op: string) => r.calls.filter((c) => c.args?.Payload?.op === op);

describe('BlueGreenSwitch: runs of the definition', () => {
  test('before the switch: invariants hold, the smoke passes, running consumers are paused and remembered, Succeeded', async () => {
    const r = await run(execution('BeforeAllowTraffic'), world());
    expect(r).toMatchObject({ end: 'Succeed', endState: 'BeforeDone' });
    expect(r.visited).toEqual(['LoadConfig', 'Route', 'CheckInvariants', 'InvariantsHeld', 'HasWarmup', 'Warmup', 'WarmupPassed', 'HasSmoke', 'Smoke', 'SmokePassed', 'Freeze', 'NotifyPassed?', 'NotifyPassed', 'ReportBeforeSucceeded', 'BeforeDone']);
    // The deployment id lets a probe with reuseCurrentAnswers find the current version's answers of this deployment.
    expect(r.calls.find((c) => c.state === 'Smoke')?.args.Payload).toEqual({ deploymentId: 'd-ABC', ...TARGET, questionLimit: 20 });
    expect(reports(r)).toEqual([['ReportBeforeSucceeded', 'Succeeded', 'hook-BeforeAllowTraffic']]);
    // The hook of AfterAllowTraffic reads `frozen` from this output: only the mapping that was running.
    expect(r.output).toMatchObject({ kind: 'cdk-rollout-guardrails/blue-green/before', status: 'Succeeded', frozen: [JOBS], invariants: { passed: true }, smoke: { passed: true, questions: 20 } });
    expect(r.outputs.Freeze[0]).toEqual({ kind: 'cdk-rollout-guardrails/blue-green/freeze', frozen: [JOBS], skipped: [{ uuid: 'uuid-audit', state: 'Disabled' }] });
    expect(r.output.warmup).toMatchObject({ kind: 'cdk-rollout-guardrails/blue-green/warmup', passed: true, status: 'READY', pingsSent: 2, pingsFailed: 0 });
    expect(r.output.warmup).not.toHaveProperty('reused');
  });

  test('before the switch: the warm gate reads the version\'s own provisioned concurrency and pings it, and writes none', async () => {
    const w = world();
    const r = await run(execution('BeforeAllowTraffic'), w);
    expect(r).toMatchObject({ end: 'Succeed', endState: 'BeforeDone' });
    const sent = w.lambdaCommands();
    expect(sent).toContain('GetProvisionedConcurrencyConfigCommand');
    expect(sent.filter((c) => c === 'InvokeCommand')).toHaveLength(2);
    expect(sent.filter((c) => /^(Put|Delete)ProvisionedConcurrencyConfigCommand$|^UpdateAliasCommand$/.test(c))).toEqual([]);
  });

  test('before the switch: a version without provisioned concurrency of its own fails the warm gate, which creates none', async () => {
    const w = world({ noProvisionedConcurrency: true });
    const r = await run(execution('BeforeAllowTraffic'), w);
    expect(r).toMatchObject({ end: 'Fail', endState: 'BeforeFailed' });
    expect(r.calls.some((c) => c.state === 'Smoke' || c.state === 'Freeze')).toBe(false);
    expect(JSON.parse(r.cause!).warmup).toMatchObject({ passed: false, status: 'NONE', pingsSent: 0 });
    expect(JSON.parse(r.cause!).warmup.reasons[0]).toMatch(/^answer-fn:8 has no provisioned concurrency of its own/);
    expect(w.lambdaCommands().filter((c) => /Provisioned|Invoke/.test(c))).toEqual(['GetProvisionedConcurrencyConfigCommand']);
  });

  test('before the switch: a warm gate that fails reports Failed with its reasons, before the smoke', async () => {
    const r = await run(execution('BeforeAllowTraffic'), world({ warmStatus: 'FAILED' }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'BeforeFailed' });
    expect(r.calls.some((c) => c.state === 'Smoke' || c.state === 'Freeze')).toBe(false);
    const warmup = JSON.parse(r.cause!).warmup;
    expect(warmup).toMatchObject({ passed: false, status: 'FAILED' });
    expect(warmup.reasons.join(' ')).toContain('FUNCTION_ERROR_INIT_FAILURE');
  });

  test('before the switch: a pin mismatch reports Failed with the names and both values, before any probe or pause', async () => {
    const r = await run(execution('BeforeAllowTraffic'), world({ environment: { SCHEMA_REV: 'v2' } }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'BeforeFailed', error: 'BeforeAllowTrafficFailed' });
    expect(reports(r)).toEqual([['ReportBeforeFailed', 'Failed', 'hook-BeforeAllowTraffic']]);
    expect(r.calls.some((c) => c.state === 'Smoke' || c.state === 'Freeze')).toBe(false);
    expect(JSON.parse(r.cause!).invariants.reasons).toEqual(['INDEX_HASH: expected "abc", version 8 has no INDEX_HASH', 'SCHEMA_REV: expected "v3", version 8 has "v2"']);
  });

  test('before the switch: a failed smoke probe reports Failed and pauses nothing', async () => {
    const r = await run(execution('BeforeAllowTraffic'), world({ smokeDrifted: true }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'BeforeFailed' });
    expect(workerOps(r, 'freeze')).toHaveLength(0);
    expect(JSON.parse(r.cause!).smoke).toEqual({
      kind: 'cdk-rollout-guardrails/blue-green/smoke', passed: false, status: 'Failed', reasons: ['minCoverage: median coverage of the new version 0.45 < 0.7'], questions: 20,
      // The probe's gates as its report gives them.
      gates: probeAnswer(true).report.gates,
    });
  });

  test('an alias without a probe skips the smoke and the probe loop', async () => {
    const before = await run(execution('BeforeAllowTraffic', { deploymentGroupName: 'GroupB' }), world({ environment: {} }));
    expect(before.visited).toEqual(['LoadConfig', 'Route', 'CheckInvariants', 'InvariantsHeld', 'HasWarmup', 'HasSmoke', 'Freeze', 'NotifyPassed?', 'ReportBeforeSucceeded', 'BeforeDone']);
    expect(before.output.frozen).toEqual([]);
    const after = await run(execution('AfterAllowTraffic', { deploymentGroupName: 'GroupB', frozen: [] }), world());
    expect(after).toMatchObject({ end: 'Succeed', endState: 'Switched' });
    expect(after.visited).toContain('NoHoldProbe');
    expect(after.calls.some((c) => c.args.FunctionName === PROBE)).toBe(false);
  });

  test('after the switch: a healthy version is held and watched 15 minutes, its consumers resumed, Succeeded', async () => {
    const r = await run(execution('AfterAllowTraffic'), world());
    expect(r).toMatchObject({ end: 'Succeed', endState: 'Switched' });
    const watches = workerOps(r, 'watch');
    const probes = r.calls.filter((c) => c.state === 'HoldProbe');
    // A read of 1 s every 5 s for 900 s (0, 6, …, 900 s: the last one says succeed); a probe run of 30 s,
    // its 1 s judgement and 5 s wait (0, 36, …, 900 s).
    expect(watches.length).toBe(151);
    expect(watches[watches.length - 1].at - T0).toBe(900_000);
    expect(probes.length).toBe(26);
    expect(probes[probes.length - 1].at - T0).toBe(900_000);
    // Each run names the deployment (the hold inside the Parallel reads it from the execution's input).
    expect(new Set(probes.map((p) => p.args.Payload.deploymentId))).toEqual(new Set(['d-ABC']));
    expect(r.calls.some((c) => c.state === 'ReportAfterFailed' || c.resource.includes('updateAlias'))).toBe(false);
    expect(workerOps(r, 'unfreeze').map((c) => c.args.Payload)).toEqual([{ op: 'unfreeze', mappings: [JOBS] }]);
    expect(r.outputs.ResumeAfterHold[0]).toEqual({ kind: 'cdk-rollout-guardrails/blue-green/unfreeze', resumed: [JOBS] });
    expect(reports(r)).toEqual([['ReportAfterSucceeded', 'Succeeded', 'hook-AfterAllowTraffic']]);
    expect(r.outputs.ReportAfterSucceeded[0]).toEqual({ kind: 'cdk-rollout-guardrails/blue-green/outcome', status: 'Succeeded', phase: 'AfterAllowTraffic', resumed: [JOBS], target: TARGET });
    // Each check is a structured record in its state's output.
    const check = r.outputs.Watch[0].decision;
    expect(check).toMatchObject({ kind: 'cdk-rollout-guardrails/blue-green/check', source: 'metrics', check: 1, next: 'continue' });
    expect(check.rules[0]).toEqual({ name: 'max5xxRate', measured: 1 / 1200, threshold: 0.01, passed: true, reason: '5xx rate of the new version 0.0833 % (1 of 1200) ≤ 1 %' });
    expect(r.outputs.JudgeProbe[0].decision.rules.map((x: Json) => x.name)).toEqual(['maxDeltaSP95Drift', 'minCoverage', 'maxLambdaFlipRate']);
  });

  test('after the switch: a 5xx breach reports Failed at once, within the worst-case rollback less CodeDeploy\'s rollback shift, and resumes the consumers beside it', async () => {
    // A breach of the 5xx rule is a one-minute datapoint above 1 %, counted from the start of that minute (as the
    // gates' worst-case detection time is): minutes 3 to 13 of the hold, each at another phase of the 6 s loop.
    const detected: number[] = [];
    const reported: number[] = [];
    for (let minute = 3; minute <= 13; minute++) {
      const breachAt = T0 + minute * 60_000;
      const w = world({ errorsFrom: breachAt });
      const r = await run(execution('AfterAllowTraffic'), w);
      const report = r.calls.find((c) => c.state === 'ReportAfterFailed')!;
      const broke = r.outputs.Watch.find((o: Json) => o.decision.next === 'rollback')!;
      detected.push(report.at - breachAt);
      reported.push(report.end! - breachAt);
      // The report is the first thing after the breaking read: every call before it is one of the hold's, and it
      // starts when that read ends (no publish, no resume, no other call on the way).
      expect([...new Set(r.calls.slice(0, r.calls.indexOf(report)).map((c) => c.state))].sort()).toEqual(['HoldProbe', 'JudgeProbe', 'Watch']);
      const breakingRead = r.calls.filter((c) => c.state === 'Watch').pop()!;
      expect(breakingRead.end).toBe(report.at);
      expect(broke.decision.next).toBe('rollback');
      // CodeDeploy is the one owner of the alias: no call of the machine's, nor of its worker, writes it.
      expect(r.calls.filter((c) => /updateAlias/i.test(c.resource))).toEqual([]);
      expect(w.lambdaCommands().filter((c) => /UpdateAlias|ProvisionedConcurrencyConfig/.test(c))).toEqual([]);
      if (minute > 3) continue;
      expect(r).toMatchObject({ end: 'Fail', endState: 'RolledBack', error: 'StopRuleBroken' });
      expect(report.args).toEqual({ DeploymentId: 'd-ABC', LifecycleEventHookExecutionId: 'hook-AfterAllowTraffic', Status: 'Failed' });
      expect(reports(r)).toEqual([['ReportAfterFailed', 'Failed', 'hook-AfterAllowTraffic']]);
      expect(r.visited.slice(r.visited.indexOf('RollBack'))).toEqual([
        'RollBack', 'ReportAfterFailed', 'ReportedAfterFailed', 'ResumeAfterBreach', 'NotifyRolledBack?', 'NotifyRolledBack', 'ResumedAfterBreach', 'RollBackReported', 'RolledBack',
      ]);
      // The resume runs beside the report, from the same moment.
      const resume = r.calls.find((c) => c.state === 'ResumeAfterBreach')!;
      expect(resume.at).toBe(report.at);
      expect(workerOps(r, 'unfreeze').map((c) => c.args.Payload)).toEqual([{ op: 'unfreeze', mappings: [JOBS] }]);
      const breach = JSON.parse(r.cause!);
      expect(breach).toMatchObject({ kind: 'cdk-rollout-guardrails/blue-green/check', source: 'metrics', next: 'rollback' });
      expect(breach.reasons[0]).toMatch(/^stop rule broken \d+ s into the hold, rolling back: 5xx rate of the new version 5 % \(60 of 1200\) > 1 %$/);
      // RollBack's output is its branches' outputs: the report's outcome, then the resume's branch.
      const outcome = { kind: 'cdk-rollout-guardrails/blue-green/outcome', status: 'Failed', phase: 'AfterAllowTraffic', breach, rollback: { owner: 'CodeDeploy', from: '8', to: '7' } };
      expect(r.outputs.ReportedAfterFailed).toEqual([outcome]);
      expect(r.outputs.RollBack[0]).toEqual([outcome, { kind: 'cdk-rollout-guardrails/blue-green/notification', published: true, messageId: 'message-NotifyRolledBack' }]);
      // The probe loop was stopped with the metric loop's failure.
      expect(r.calls.filter((c) => c.at > report.at && c.state === 'HoldProbe')).toHaveLength(0);
    }
    // The minute's end (60 s) + the metric delay (20 s) + at most one loop (5 s wait + 1 s read) + the read: then the report.
    const worst = built.strategy.worstCaseRollback!.toMilliseconds();
    const shift = built.strategy.rollbackShift.toMilliseconds();
    expect(shift).toBe(15_000);
    expect(Math.max(...reported)).toBeLessThanOrEqual(worst - shift);
    expect(Math.min(...detected)).toBeGreaterThanOrEqual(80_000);
    // Even a report that takes all its bounded time (two attempts timed out) ends within it.
    expect(Math.max(...detected) + REPORT_BOUND_SECONDS * 1000).toBeLessThanOrEqual(worst - shift);
  });

  test('after the switch: a Failed report that times out once lands on its one retry, 1 s later, within its bound', async () => {
    const breachAt = T0 + 3 * 60_000;
    const plain = await run(execution('AfterAllowTraffic'), world({ errorsFrom: breachAt }));
    const detectedAt = plain.calls.find((c) => c.state === 'ReportAfterFailed')!.at;
    for (const attempts of [['hangs'], ['hangs', 'already']] as const) {
      const r = await run(execution('AfterAllowTraffic'), world({ errorsFrom: breachAt, reportAfterFailed: attempts }));
      expect(r).toMatchObject({ end: 'Fail', endState: 'RolledBack', error: 'StopRuleBroken' });
      const tries = r.calls.filter((c) => c.state === 'ReportAfterFailed');
      // 4 s TimeoutSeconds, then the retry 1 s later; a retry told the first attempt landed is the report that landed.
      expect(tries.map((c) => [c.at - detectedAt, c.end! - detectedAt, c.error])).toEqual([
        [0, 4000, 'States.Timeout'],
        attempts[1] === 'already' ? [5000, 5300, 'CodeDeploy.LifecycleEventAlreadyCompletedException'] : [5000, 5500, undefined],
      ]);
      expect(r.outputs.ReportedAfterFailed[0]).toMatchObject({ status: 'Failed', rollback: { owner: 'CodeDeploy', from: '8', to: '7' } });
      expect(tries[1].end! - breachAt).toBeLessThanOrEqual(built.strategy.worstCaseRollback!.toMilliseconds() - built.strategy.rollbackShift.toMilliseconds());
      expect(r.calls.some((c) => c.state === 'ReportFailedOnError')).toBe(false);
    }
  });

  test('after the switch: a Failed report that does not land goes to ReportFailedOnError and the execution fails', async () => {
    const breachAt = T0 + 3 * 60_000;
    const w = world({ errorsFrom: breachAt, reportAfterFailed: ['hangs', 'hangs'] });
    const r = await run(execution('AfterAllowTraffic'), w);
    expect(r).toMatchObject({ end: 'Fail', endState: 'Errored', error: 'BlueGreenError' });
    const tries = r.calls.filter((c) => c.state === 'ReportAfterFailed');
    // Both attempts timed out: the report's whole bound, REPORT_BOUND_SECONDS, and no more.
    expect(tries.map((c) => c.error)).toEqual(['States.Timeout', 'States.Timeout']);
    expect(tries[1].end! - tries[0].at).toBe(REPORT_BOUND_SECONDS * 1000);
    const notLanded = { kind: 'cdk-rollout-guardrails/blue-green/outcome', status: 'NotReported', error: { Error: 'States.Timeout', Cause: 'ReportAfterFailed took longer than 4 s' } };
    expect(r.outputs.ReportAfterFailedNotLanded).toEqual([notLanded]);
    expect(r.outputs.RollBack[0][0]).toEqual(notLanded);
    expect(r.visited.slice(r.visited.indexOf('RollBack'))).toEqual([
      'RollBack', 'ReportAfterFailed', 'ReportAfterFailedNotLanded', 'ResumeAfterBreach', 'NotifyRolledBack?', 'NotifyRolledBack', 'ResumedAfterBreach',
      'RollBackReported', 'ReportFailedOnError', 'Errored',
    ]);
    // Reported once more, after both branches ended; the consumers were resumed once, beside the first report.
    expect(reports(r)).toEqual([
      ['ReportAfterFailed', 'Failed', 'hook-AfterAllowTraffic'], ['ReportAfterFailed', 'Failed', 'hook-AfterAllowTraffic'], ['ReportFailedOnError', 'Failed', 'hook-AfterAllowTraffic'],
    ]);
    expect(workerOps(r, 'unfreeze')).toHaveLength(1);
    expect(r.calls.filter((c) => /updateAlias/i.test(c.resource))).toEqual([]);
    expect(w.lambdaCommands().filter((c) => /UpdateAlias/.test(c))).toEqual([]);
    expect(r.outputs.ReportFailedOnError[0]).toMatchObject({ kind: 'cdk-rollout-guardrails/blue-green/outcome', status: 'Failed', phase: 'AfterAllowTraffic' });
    // Why it failed: RollBackReported names the report's own error and state, which ReportFailedOnError's output
    // and Errored's Cause carry.
    const why = { Error: 'States.Timeout', Cause: 'ReportAfterFailed took longer than 4 s', State: 'ReportAfterFailed' };
    expect(r.outputs.ReportFailedOnError[0].error).toEqual(why);
    expect(JSON.parse(r.cause!)).toEqual(why);
  });

  test('after the switch: answers that drift break the probe\'s stop rules: Failed reported within the probe path\'s bound, the metric loop stopped with it', async () => {
    const driftAt = T0 + 3 * 60_000;
    const r = await run(execution('AfterAllowTraffic'), world({ driftFrom: driftAt }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'RolledBack' });
    const breach = JSON.parse(r.cause!);
    expect(breach.source).toBe('probe');
    expect(breach.rules.filter((x: Json) => x.passed === false).map((x: Json) => x.reason)).toEqual([
      'ΔS p95 drift (new 0.71 − old 0.3) 0.41 > 0.15', 'median coverage of the new version 0.45 < 0.6',
    ]);
    const report = r.calls.find((c) => c.state === 'ReportAfterFailed')!;
    expect(report.end! - driftAt).toBeLessThanOrEqual(built.strategy.rollbackTime!.onProbe.toMilliseconds() - built.strategy.rollbackShift.toMilliseconds());
    expect(r.calls.filter((c) => /updateAlias/i.test(c.resource))).toEqual([]);
    // The metric loop was stopped with the probe loop's failure.
    expect(r.calls.filter((c) => c.state === 'Watch' && c.at > report.at)).toHaveLength(0);
  });

  test('after the switch: a probe run that outlasts its budget counts as a breach', async () => {
    const r = await run(execution('AfterAllowTraffic'), world({ probeMs: 50_000 }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'RolledBack' });
    expect(JSON.parse(r.cause!).rules).toEqual([{ name: 'probe', measured: 'Unavailable', threshold: 'a probe report', passed: false, reason: 'the ΔS probe gave no measurements: States.Timeout: HoldProbe took longer than 45 s' }]);
    // Step Functions stops waiting at the budget: the judgement comes 45 s after the run started.
    const [run1] = r.calls.filter((c) => c.state === 'HoldProbe');
    expect(run1.end! - run1.at).toBe(45_000);
  });

  test('after the switch: a failed watch is an error of the hold: Failed reported, consumers resumed, no flip', async () => {
    const r = await run(execution('AfterAllowTraffic'), world({ failState: 'Watch' }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'RolledBack' });
    expect(JSON.parse(r.cause!)).toEqual({ kind: 'cdk-rollout-guardrails/blue-green/error', error: 'Lambda.Unknown', cause: 'Watch failed' });
    expect(reports(r)).toEqual([['ReportAfterFailed', 'Failed', 'hook-AfterAllowTraffic']]);
    expect(workerOps(r, 'unfreeze')).toHaveLength(1);
  });

  test('an error before the switch resumes what was paused and reports Failed, without touching the alias', async () => {
    const r = await run(execution('BeforeAllowTraffic'), world({ failState: 'ReportBeforeSucceeded' }));
    expect(r.visited.slice(-6)).toEqual(['ReportBeforeSucceeded', 'ResumeOnError', 'NotifyError?', 'NotifyError', 'ReportFailedOnError', 'Errored']);
    expect(workerOps(r, 'unfreeze').map((c) => c.args.Payload)).toEqual([{ op: 'unfreeze', mappings: [JOBS] }]);
    // The report of Succeeded was retried (RETRY.sdk: 2, 4 and 8 s later) before its catch.
    const tries = r.calls.filter((c) => c.state === 'ReportBeforeSucceeded');
    expect(tries.map((c) => c.at - tries[0].at)).toEqual([0, 2000, 6000, 14_000]);
    expect(reports(r).map(([state, status]) => [state, status])).toEqual([
      ['ReportBeforeSucceeded', 'Succeeded'], ['ReportBeforeSucceeded', 'Succeeded'], ['ReportBeforeSucceeded', 'Succeeded'], ['ReportBeforeSucceeded', 'Succeeded'],
      ['ReportFailedOnError', 'Failed'],
    ]);
    expect(r.calls.some((c) => /updateAlias/i.test(c.resource))).toBe(false);
  });

  test('an error after the hold resumes and reports Failed, without touching the alias: CodeDeploy rolls it back', async () => {
    const r = await run(execution('AfterAllowTraffic', { deploymentGroupName: 'GroupB', frozen: [] }), world({ failState: 'ReportAfterSucceeded' }));
    expect(r.visited.slice(-5)).toEqual(['ReportAfterSucceeded', 'ResumeOnError', 'NotifyError?', 'ReportFailedOnError', 'Errored']);
    expect(JSON.parse(r.cause!)).toEqual({ Error: 'Lambda.Unknown', Cause: 'ReportAfterSucceeded failed', State: 'ReportAfterSucceeded' });
    expect(r.calls.some((c) => /updateAlias/i.test(c.resource))).toBe(false);
  });

  test('a deployment group this machine does not know reports Failed', async () => {
    const r = await run(execution('BeforeAllowTraffic', { deploymentGroupName: 'Stranger' }), world());
    expect(r).toMatchObject({ end: 'Fail', endState: 'Unconfigured', error: 'NotConfigured', cause: 'no blue-green configuration for deployment group Stranger' });
    expect(reports(r)).toEqual([['ReportUnconfigured', 'Failed', 'hook-BeforeAllowTraffic']]);
  });
});

test('two applications may each have a deployment group of the same name: each alias keeps its own configuration', () => {
  // A deployment group's name is unique within its CodeDeploy application only (the key is application/group).
  const stack = testStack();
  const attach = (id: string, hold: number) => {
    const fn = testFunction(stack, `Fn${id}`);
    const version = fn.currentVersion;
    const alias = new lambda.Alias(stack, `Live${id}`, { aliasName: 'live', version });
    const application = new codedeploy.LambdaApplication(stack, `App${id}`, { applicationName: `App${id}` });
    const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, `Group${id}`, {
      alias, application, deploymentGroupName: 'live', deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE,
    });
    BlueGreenSwitch.of(stack).attach({ alias, version, deploymentGroup, strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(hold) }) });
    return deploymentGroup;
  };
  const [one, two] = [attach('One', 10), attach('Two', 20)];
  expect([BlueGreenSwitch.of(stack)._configOf(one)?.holdSeconds, BlueGreenSwitch.of(stack)._configOf(two)?.holdSeconds]).toEqual([600, 1200]);
});

test('the hold is as long as the strategy says', async () => {
  const stack = testStack();
  const fn = testFunction(stack);
  const version = fn.currentVersion;
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
  const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', { alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE });
  BlueGreenSwitch.of(stack).attach({ alias, version, deploymentGroup, strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(30), checkInterval: Duration.seconds(5) }) });
  expect(BlueGreenSwitch.of(stack)._configOf(deploymentGroup)).toMatchObject({ holdSeconds: 1800, checkIntervalSeconds: 5 });
});

// ---------------------------------------------------------------------------------------------------------
// Notifications

/** The five notifications, each with its event and the state it precedes (where its Choice goes without a topic). */
const NOTIFIES: Array<[string, string, string]> = [
  ['NotifyPassed', 'passed', 'ReportBeforeSucceeded'], ['NotifyFailed', 'failed', 'ReportBeforeFailed'], ['NotifyHeld', 'held', 'ResumeAfterHold'],
  ['NotifyRolledBack', 'breach', 'ResumedAfterBreach'], ['NotifyError', 'error', 'ReportFailedOnError'],
];
const transitions = (state: Json): string[] => [state.Next, state.Default, ...(state.Choices ?? []).map((c: Json) => c.Next), ...(state.Catch ?? []).map((c: Json) => c.Next)].filter(Boolean);
/** Whether a call is a notification (the worker's `notify` operation). */
const isNotify = (c: Call) => c.args?.Payload?.op === 'notify';
/** The messages SNS received, each with the state whose worker call published it. */
const published = (r: Run) => r.calls.flatMap((c) => (c.published ?? []).map((p: Json) => ({ state: c.state, ...p })));
const order = (r: Run, state: string) => r.calls.findIndex((c) => c.state === state);
/** The fields every message of GroupA's deployment d-ABC carries. */
const about = (phase: 'BeforeAllowTraffic' | 'AfterAllowTraffic') => ({
  source: 'cdk-rollout-guardrails', event: 'blue-green-decision', strategy: 'blue-green', phase: phase === 'BeforeAllowTraffic' ? 'before' : 'after',
  deploymentId: 'd-ABC', deploymentGroup: 'GroupA', execution: `arn:aws:states:eu-west-1:123456789012:execution:BlueGreen:d-ABC-${phase}`,
  functionName: 'answer-fn', alias: 'live', currentVersion: '7', targetVersion: '8',
});
const INVARIANTS_HELD = [
  { name: 'invariant:INDEX_HASH', measured: 'abc', threshold: 'abc', passed: true, reason: 'INDEX_HASH: version 8 has "abc"' },
  { name: 'invariant:SCHEMA_REV', measured: 'v3', threshold: 'v3', passed: true, reason: 'SCHEMA_REV: version 8 has "v3"' },
];
const WARM = [
  { name: 'warmup:status', measured: 'READY', threshold: 'READY', passed: true, reason: 'provisioned concurrency READY' },
  { name: 'warmup:readySeconds', measured: 0, threshold: 60, passed: true, reason: 'READY after 0 s of at most 60 s' },
  { name: 'warmup:pingsFailed', measured: 0, threshold: 0, passed: true, reason: '0 of 2 warm pings failed' },
];
const SMOKE_DRIFT = { name: 'smoke:maxDeltaSDrift', measured: 0.01, threshold: 0.1, passed: true, reason: 'ΔS drift (new median − current median) 0.01 ≤ 0.1' };

describe('BlueGreenSwitch: notifications in the definition', () => {
  test('five notifications, each the worker\'s notify behind a Choice on the alias\'s topic, going on, published or not, to the state it precedes without a topic', () => {
    for (const [name, event, next] of NOTIFIES) {
      // (CDK writes QueryLanguage on the states of a Parallel's branches; the machine's own is JSONata too.)
      const { QueryLanguage, ...choice } = states[`${name}?`];
      expect([name, QueryLanguage]).toEqual([name, name === 'NotifyRolledBack' ? 'JSONata' : undefined]);
      expect(choice).toEqual({
        Type: 'Choice', Comment: 'Notify only for an alias with a notifications topic',
        Choices: [{ Condition: '{% $exists($config.topicArn) %}', Next: name }], Default: next,
      });
      // The definition hands over which decision it is and its variables; the worker writes the message.
      expect(states[name]).toMatchObject({
        Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: PUBLISH_BOUND_SECONDS, Next: next,
        Arguments: { FunctionName: WORKER, Payload: expect.stringContaining(`{'op': 'notify', 'event': '${event}', 'topicArn': $config.topicArn,`) },
        Catch: [{ ErrorEquals: ['States.ALL'], Next: next, Output: expect.stringContaining("'published': false") }],
      });
      // Never retried by the machine: a notification decides nothing, and its bound is the task's timeout.
      expect(states[name].Retry).toBeUndefined();
      // Every way to the state it precedes passes the Choice: no path skips the notification, none depends on it. But
      // for ReportFailedOnError after a breach: RollBack has notified (NotifyRolledBack) beside the report
      // already, so its catch and a report that did not land go there without a second message.
      const into = Object.entries(states).filter(([, st]) => transitions(st).includes(next)).map(([n]) => n).sort();
      expect([next, into]).toEqual([next, next === 'ReportFailedOnError' ? [name, `${name}?`, 'RollBack', 'RollBackReported'] : [name, `${name}?`]]);
    }
    // Nothing else notifies, and no state publishes by itself: no routine check of the hold, nothing on the way
    // from a breach to the Failed report, which is the first state of RollBack's first branch.
    const notifies = Object.entries(states).filter(([, st]) => String(st.Arguments?.Payload ?? '').includes("'op': 'notify'")).map(([n]) => n).sort();
    expect(notifies).toEqual(NOTIFIES.map(([n]) => n).sort());
    expect(JSON.stringify(def)).not.toContain('sns:publish');
    for (const branch of states.HoldAndWatch.Branches) expect(JSON.stringify(branch)).not.toContain("'op': 'notify'");
    expect(states.HoldAndWatch.Catch.map((c: Json) => c.Next)).toEqual(['RollBack', 'RollBack']);
    expect(states.RollBack.Branches[0].StartAt).toBe('ReportAfterFailed');
    expect(JSON.stringify(states.RollBack.Branches[0])).not.toContain("'op': 'notify'");
    expect(JSON.stringify(states.RollBack.Branches[1])).toContain("'op': 'notify'");
  });

  test('the worst-case rollback is the strategy\'s: detection, the Failed report\'s bound and CodeDeploy\'s rollback shift (a breach reaches the report without a publish)', () => {
    // 5 s interval + 60 s datapoint + 20 s metric delay + 2 × 5 s reads + the report's 9 s + the assumed 15 s shift.
    expect(built.strategy.rollbackTime!.onMetrics.toSeconds()).toBe(5 + 60 + 20 + 2 * 5 + REPORT_BOUND_SECONDS + 15);
    // 5 s interval + 2 × 45 s probe runs + the report's 9 s + the assumed 15 s shift.
    expect(built.strategy.rollbackTime!.onProbe.toSeconds()).toBe(5 + 2 * 45 + REPORT_BOUND_SECONDS + 15);
    expect(built.strategy.worstCaseRollback!.toSeconds()).toBe(119);
  });
});

describe('BlueGreenSwitch: notifications in runs of the definition', () => {
  test('passed before the switch: one message after the pause and before the report, with the invariants\', warm gate\'s and smoke probe\'s figures', async () => {
    const r = await run(execution('BeforeAllowTraffic'), world());
    expect(r).toMatchObject({ end: 'Succeed', endState: 'BeforeDone' });
    expect(published(r)).toEqual([{
      state: 'NotifyPassed', topic: TOPIC,
      message: {
        ...about('BeforeAllowTraffic'), decision: 'passed', report: 'Succeeded',
        reasons: [
          'every check before the switch passed: CodeDeploy switches live from version 7 to 8 at once',
          'version 8 carries every pin: INDEX_HASH=abc, SCHEMA_REV=v3',
          'warm gate: provisioned concurrency READY after 0 s, 2 warm pings sent, 0 failed',
          'smoke probe on 20 gold questions: Succeeded',
        ],
        measurements: [
          ...INVARIANTS_HELD, ...WARM, SMOKE_DRIFT,
          { name: 'smoke:minCoverage', measured: 1, threshold: 0.7, passed: true, reason: 'median coverage of the new version 1 ≥ 0.7' },
        ],
        paused: [JOBS],
      },
    }]);
    expect(order(r, 'Freeze')).toBeLessThan(order(r, 'NotifyPassed'));
    expect(order(r, 'NotifyPassed')).toBeLessThan(order(r, 'ReportBeforeSucceeded'));
    expect(r.outputs.NotifyPassed[0]).toEqual({ kind: 'cdk-rollout-guardrails/blue-green/notification', published: true, messageId: 'message-NotifyPassed' });
  });

  test('a failed invariant: one message naming the check, each pin with both values, before the report; nothing else ran', async () => {
    const r = await run(execution('BeforeAllowTraffic'), world({ environment: { SCHEMA_REV: 'v2' } }));
    expect(published(r)).toEqual([{
      state: 'NotifyFailed', topic: TOPIC,
      message: {
        ...about('BeforeAllowTraffic'), decision: 'failed', report: 'Failed', failedCheck: 'invariants',
        reasons: [
          'the invariant check failed before the switch: the alias stays on version 7, nothing was paused; reporting Failed',
          'INDEX_HASH: expected "abc", version 8 has no INDEX_HASH',
          'SCHEMA_REV: expected "v3", version 8 has "v2"',
        ],
        measurements: [
          { name: 'invariant:INDEX_HASH', measured: null, threshold: 'abc', passed: false, reason: 'INDEX_HASH: expected "abc", version 8 has no INDEX_HASH' },
          { name: 'invariant:SCHEMA_REV', measured: 'v2', threshold: 'v3', passed: false, reason: 'SCHEMA_REV: expected "v3", version 8 has "v2"' },
        ],
      },
    }]);
    expect(order(r, 'NotifyFailed')).toBeLessThan(order(r, 'ReportBeforeFailed'));
    expect(reports(r)).toEqual([['ReportBeforeFailed', 'Failed', 'hook-BeforeAllowTraffic']]);
  });

  test.each([
    ['warm gate', { warmStatus: 'FAILED' as const }, 'warmup', [
      ...INVARIANTS_HELD,
      { name: 'warmup:status', measured: 'FAILED', threshold: 'READY', passed: false, reason: 'provisioned concurrency FAILED' },
      { name: 'warmup:readySeconds', measured: 0, threshold: 60, passed: null, reason: 'not judged: provisioned concurrency FAILED' },
      { name: 'warmup:pingsFailed', measured: 0, threshold: 0, passed: null, reason: 'not judged: no warm ping sent' },
    ], 'provisioned concurrency on answer-fn:8 FAILED after 0 s: FUNCTION_ERROR_INIT_FAILURE'],
    ['smoke probe', { smokeDrifted: true }, 'smoke', [
      ...INVARIANTS_HELD, ...WARM, SMOKE_DRIFT,
      { name: 'smoke:minCoverage', measured: 0.45, threshold: 0.7, passed: false, reason: 'median coverage of the new version 0.45 < 0.7' },
    ], 'minCoverage: median coverage of the new version 0.45 < 0.7'],
  ])('a failed %s: one message naming it, with its reasons and the figures of every check that ran', async (what, w, failedCheck, measurements, reason) => {
    const r = await run(execution('BeforeAllowTraffic'), world(w));
    expect(published(r).map((p) => p.message)).toEqual([{
      ...about('BeforeAllowTraffic'), decision: 'failed', report: 'Failed', failedCheck,
      reasons: [`the ${what} failed before the switch: the alias stays on version 7, nothing was paused; reporting Failed`, reason], measurements,
    }]);
  });

  test('a held switch: one message for the whole 15-minute hold (151 metric checks, 26 probe runs), before the resume and the report', async () => {
    const r = await run(execution('AfterAllowTraffic'), world());
    expect(r).toMatchObject({ end: 'Succeed', endState: 'Switched' });
    const [only, ...rest] = published(r);
    expect(rest).toEqual([]);
    expect(only.state).toBe('NotifyHeld');
    expect(only.message).toEqual({
      ...about('AfterAllowTraffic'), decision: 'held', report: 'Succeeded',
      reasons: ['held live on version 8 for 900 s of holdAndWatch 900 s: 151 metric checks and 26 probe runs, no stop rule broken; the switch is kept'],
      measurements: [
        { name: 'max5xxRate', measured: expect.closeTo(1 / 1200, 12), threshold: 0.01, passed: true, reason: '5xx rate of the new version 0.0833 % (1 of 1200) ≤ 1 %' },
        { name: 'alarm:GatesA', measured: 'OK', threshold: 'OK', passed: true, reason: 'alarm GatesA is OK' },
        { name: 'maxDeltaSP95Drift', measured: expect.closeTo(0.01, 12), threshold: 0.15, passed: true, reason: 'ΔS p95 drift (new 0.31 − old 0.3) 0.01 ≤ 0.15' },
        { name: 'minCoverage', measured: 1, threshold: 0.6, passed: true, reason: 'median coverage of the new version 1 ≥ 0.6' },
        { name: 'maxLambdaFlipRate', measured: 0, threshold: 0.2, passed: true, reason: 'λ flip rate 0 of 20 = 0 ≤ 0.2' },
      ],
      checks: 151, probeRuns: 26, heldSeconds: 900, holdSeconds: 900,
    });
    expect(workerOps(r, 'watch')).toHaveLength(151);
    expect(order(r, 'NotifyHeld')).toBeLessThan(order(r, 'ResumeAfterHold'));
    expect(reports(r)).toEqual([['ReportAfterSucceeded', 'Succeeded', 'hook-AfterAllowTraffic']]);
  });

  test('a breach: one message beside the Failed report, never before it, with the broken rule\'s measured value and threshold and who rolls back', async () => {
    const breachAt = T0 + 3 * 60_000;
    const r = await run(execution('AfterAllowTraffic'), world({ errorsFrom: breachAt }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'RolledBack' });
    const report = r.calls.find((c) => c.state === 'ReportAfterFailed')!;
    const publish = r.calls.find(isNotify)!;
    // The notification is in RollBack's other branch, after the resume (1 s): it starts after the report did and
    // never delays it (the report has landed, 500 ms, before it).
    expect(order(r, 'ReportAfterFailed')).toBeLessThan(order(r, 'NotifyRolledBack'));
    expect(order(r, 'ResumeAfterBreach')).toBeLessThan(order(r, 'NotifyRolledBack'));
    expect(publish.at).toBe(report.at + 1000);
    expect(report.end! - breachAt).toBeLessThanOrEqual(built.strategy.worstCaseRollback!.toMilliseconds() - built.strategy.rollbackShift.toMilliseconds());
    expect(published(r)).toEqual([{
      state: 'NotifyRolledBack', topic: TOPIC,
      message: {
        ...about('AfterAllowTraffic'), decision: 'rolled-back', report: 'Failed', failedCheck: 'metrics',
        reasons: [
          'a stop rule broke (metrics check 45, 264 s into the hold): reported Failed, CodeDeploy rolls live back from version 8 to 7',
          'stop rule broken 264 s into the hold, rolling back: 5xx rate of the new version 5 % (60 of 1200) > 1 %',
        ],
        measurements: [
          { name: 'max5xxRate', measured: 0.05, threshold: 0.01, passed: false, reason: '5xx rate of the new version 5 % (60 of 1200) > 1 %' },
          { name: 'alarm:GatesA', measured: 'OK', threshold: 'OK', passed: true, reason: 'alarm GatesA is OK' },
        ],
        check: 45, elapsedSeconds: 264, holdSeconds: 900,
        rollback: { owner: 'CodeDeploy', from: '8', to: '7' },
      },
    }]);
    expect(reports(r)).toEqual([['ReportAfterFailed', 'Failed', 'hook-AfterAllowTraffic']]);
  });

  test('a drift breach names the probe\'s broken rules', async () => {
    const r = await run(execution('AfterAllowTraffic'), world({ driftFrom: T0 + 3 * 60_000 }));
    const [{ message }] = published(r);
    expect(message).toMatchObject({ decision: 'rolled-back', failedCheck: 'probe', check: 6 });
    expect(message.measurements.filter((m: Json) => m.passed === false)).toEqual([
      { name: 'maxDeltaSP95Drift', measured: expect.closeTo(0.41, 12), threshold: 0.15, passed: false, reason: 'ΔS p95 drift (new 0.71 − old 0.3) 0.41 > 0.15' },
      { name: 'minCoverage', measured: 0.45, threshold: 0.6, passed: false, reason: 'median coverage of the new version 0.45 < 0.6' },
    ]);
  });

  test('a notification that fails changes nothing: the report, the resume and the outcome are those of a run that published', async () => {
    const breach = { errorsFrom: T0 + 3 * 60_000 };
    const ok = await run(execution('AfterAllowTraffic'), world(breach));
    const without = (r: Run) => r.calls.filter((c) => !isNotify(c)).map((c) => [c.state, c.args, c.at, c.end]);
    // The worker's task fails (it did not run, or timed out): caught into the state it precedes, never retried.
    const failing = await run(execution('AfterAllowTraffic'), world({ ...breach, failState: 'NotifyRolledBack' }));
    expect(failing).toMatchObject({ end: 'Fail', endState: 'RolledBack', error: 'StopRuleBroken', cause: ok.cause });
    expect(failing.visited).toEqual(ok.visited);
    expect(without(failing)).toEqual(without(ok));
    expect(reports(failing)).toEqual([['ReportAfterFailed', 'Failed', 'hook-AfterAllowTraffic']]);
    expect(failing.calls.filter(isNotify).map((c) => c.error)).toEqual(['Lambda.Unknown']);
    expect(failing.outputs.NotifyRolledBack[0]).toEqual({
      kind: 'cdk-rollout-guardrails/blue-green/notification', published: false, error: { Error: 'Lambda.Unknown', Cause: 'NotifyRolledBack failed' },
    });
    // SNS refuses the publish: the worker records it and answers; the run is that of one that published.
    const refused = await run(execution('AfterAllowTraffic'), world({ ...breach, snsFails: true }));
    expect(refused).toMatchObject({ end: 'Fail', endState: 'RolledBack', cause: ok.cause });
    expect(refused.visited).toEqual(ok.visited);
    expect(without(refused)).toEqual(without(ok));
    expect(published(refused)).toEqual([]);
    expect(refused.outputs.NotifyRolledBack[0]).toEqual({
      kind: 'cdk-rollout-guardrails/blue-green/notification', published: false,
      error: { Error: 'AuthorizationErrorException', Cause: 'User is not authorized to perform SNS:Publish' },
    });
    // Before the switch, likewise: a failed notification of the pass still reports Succeeded, with the same output.
    const passed = await run(execution('BeforeAllowTraffic'), world());
    const unpublished = await run(execution('BeforeAllowTraffic'), world({ failState: 'NotifyPassed' }));
    expect(unpublished).toMatchObject({ end: 'Succeed', endState: 'BeforeDone', output: passed.output });
    expect(reports(unpublished)).toEqual([['ReportBeforeSucceeded', 'Succeeded', 'hook-BeforeAllowTraffic']]);
  });

  test('an error before the switch: one message saying what failed, before the report', async () => {
    const r = await run(execution('BeforeAllowTraffic'), world({ failState: 'Freeze' }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'Errored' });
    expect(published(r)).toEqual([{
      state: 'NotifyError', topic: TOPIC,
      message: {
        ...about('BeforeAllowTraffic'), decision: 'error', report: 'Failed',
        reasons: ['a step before the switch failed: the alias stays on version 7; reporting Failed', 'Freeze: Lambda.Unknown: Freeze failed'],
        measurements: [], rollback: null, error: { Error: 'Lambda.Unknown', Cause: 'Freeze failed', State: 'Freeze' },
      },
    }]);
    expect(order(r, 'ResumeOnError')).toBeLessThan(order(r, 'NotifyError'));
    expect(order(r, 'NotifyError')).toBeLessThan(order(r, 'ReportFailedOnError'));
  });

  test('an error in the hold: one message beside the Failed report, with the error and who rolls back', async () => {
    const r = await run(execution('AfterAllowTraffic'), world({ failState: 'Watch' }));
    expect(published(r).map((p) => [p.state, p.message])).toEqual([['NotifyRolledBack', {
      ...about('AfterAllowTraffic'), decision: 'error', report: 'Failed',
      reasons: ['a step of the hold failed: reported Failed, CodeDeploy rolls live back from version 8 to 7', 'Lambda.Unknown: Watch failed'],
      measurements: [], rollback: { owner: 'CodeDeploy', from: '8', to: '7' },
      error: { State: 'HoldAndWatch', Error: 'Lambda.Unknown', Cause: 'Watch failed' },
    }]]);
  });

  test('a Failed report that does not land: the rolled-back message went out beside it, and no second message before ReportFailedOnError', async () => {
    const r = await run(execution('AfterAllowTraffic'), world({ errorsFrom: T0 + 3 * 60_000, reportAfterFailed: ['hangs', 'hangs'] }));
    expect(r).toMatchObject({ end: 'Fail', endState: 'Errored' });
    expect(published(r).map((p) => [p.state, p.message.decision, p.message.rollback])).toEqual([['NotifyRolledBack', 'rolled-back', { owner: 'CodeDeploy', from: '8', to: '7' }]]);
    expect(r.visited).not.toContain('NotifyError?');
    expect(reports(r).map(([state]) => state)).toEqual(['ReportAfterFailed', 'ReportAfterFailed', 'ReportFailedOnError']);
  });

  test('an error after the hold (the report of Succeeded): the held message, then the error saying CodeDeploy rolls back', async () => {
    const r = await run(execution('AfterAllowTraffic'), world({ failState: 'ReportAfterSucceeded' }));
    expect(published(r).map((p) => [p.state, p.message.decision])).toEqual([['NotifyHeld', 'held'], ['NotifyError', 'error']]);
    expect(published(r)[1].message).toMatchObject({
      reasons: ['a step failed after the switch: reporting Failed, CodeDeploy rolls the alias back to version 7', 'ReportAfterSucceeded: Lambda.Unknown: ReportAfterSucceeded failed'],
      rollback: { owner: 'CodeDeploy', from: '8', to: '7' },
    });
    expect(published(r)[1].message).not.toHaveProperty('flip');
  });

  test('an alias with a topic but no probe and no warm gate: the pass says so, the hold counts no probe run', () => {
    const base = { op: 'notify' as const, topicArn: TOPIC, deploymentId: 'd-ABC', deploymentGroup: 'GroupC', execution: 'arn:execution', target: TARGET };
    const invariants = { kind: 'cdk-rollout-guardrails/blue-green/invariants' as const, passed: true, reasons: ['no invariants declared'], checks: [], version: '8' };
    expect(composeNotification({ ...base, event: 'passed', phase: 'BeforeAllowTraffic', invariants, frozen: [] })).toMatchObject({
      decision: 'passed', deploymentGroup: 'GroupC', execution: 'arn:execution',
      reasons: ['every check before the switch passed: CodeDeploy switches live from version 7 to 8 at once', 'no invariants declared', 'no ΔS probe attached: no smoke probe'],
      measurements: [], paused: [],
    });
    const notJudged = { name: 'max5xxRate', measured: null, threshold: 0.01, passed: null, reason: '5xx rate not judged: 12 invocations of the new version in the minute read (fewer than 100)' };
    const metrics = {
      kind: 'cdk-rollout-guardrails/blue-green/check' as const, source: 'metrics' as const, check: 91, next: 'succeed' as const, elapsedSeconds: 901, holdSeconds: 900, at: '2026-01-01T12:15:01.000Z',
      reasons: ['held and watched 901 s of 900 s, no stop rule broken', notJudged.reason], rules: [notJudged],
    };
    const noProbe = { kind: 'cdk-rollout-guardrails/blue-green/check' as const, source: 'probe' as const, next: 'succeed' as const, reasons: ['no ΔS probe attached: ΔS, coverage and λ are not watched'] };
    expect(composeNotification({ ...base, event: 'held', phase: 'AfterAllowTraffic', held: [metrics, noProbe] })).toMatchObject({
      decision: 'held', checks: 91, probeRuns: 0, heldSeconds: 901,
      reasons: [
        'held live on version 8 for 901 s of holdAndWatch 900 s: 91 metric checks and 0 probe runs, no stop rule broken; the switch is kept',
        '5xx rate not judged: 12 invocations of the new version in the minute read (fewer than 100)',
        'no ΔS probe attached: ΔS, coverage and λ are not watched',
      ],
      measurements: [notJudged],
    });
  });

  test('an alias without a topic publishes nothing: the Choices go straight on', async () => {
    const B = { deploymentGroupName: 'GroupB' };
    const runs = [
      await run(execution('BeforeAllowTraffic', B), world({ environment: {} })),
      // (GroupB declares no invariant, warm gate or probe: nothing before its switch can fail but a step.)
      await run(execution('BeforeAllowTraffic', B), world({ environment: {}, failState: 'Freeze' })),
      await run(execution('AfterAllowTraffic', { ...B, frozen: [] }), world()),
      await run(execution('AfterAllowTraffic', { ...B, frozen: [] }), world({ errorsFrom: T0 + 3 * 60_000 })),
      await run(execution('AfterAllowTraffic', { ...B, frozen: [] }), world({ failState: 'ReportAfterSucceeded' })),
    ];
    expect(runs.map((r) => r.endState)).toEqual(['BeforeDone', 'Errored', 'Switched', 'RolledBack', 'Errored']);
    expect(runs.map((r) => r.visited.filter((v) => v.startsWith('Notify')))).toEqual([
      ['NotifyPassed?'], ['NotifyError?'], ['NotifyHeld?'], ['NotifyRolledBack?'], ['NotifyHeld?', 'NotifyError?'],
    ]);
    for (const r of runs) expect([r.calls.filter(isNotify), published(r)]).toEqual([[], []]);
  });
});
