import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DeltaSProbe, GoldSet, ProvisionedWarmup, RolloutStrategy, StagedRollout } from '../lib';
import { resourcesOfType, testFunction, testStack } from './util';
import { expectSynthWarnings } from './helpers/console';

const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));

function staged(stack: Stack, id: string, config: codedeploy.ILambdaDeploymentConfig = codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE) {
  const fn = testFunction(stack, `${id}Fn`);
  const version = fn.currentVersion;
  const alias = new lambda.Alias(stack, `${id}Live`, { aliasName: 'live', version });
  const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, `${id}Group`, { alias, deploymentConfig: config });
  const alarm = new cloudwatch.Alarm(stack, `${id}Errors`, { metric: fn.metricErrors(), threshold: 1, evaluationPeriods: 1 });
  return { fn, version, alias, deploymentGroup, alarm };
}

/** The state machine's definition with its tokens as placeholders: `Ref` → `REF(<logical ID>)`, others TOKEN. */
function definition(template: Template): { StartAt: string; States: Record<string, any> } {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as any[];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : p.Ref === 'AWS::Partition' ? 'aws' : p.Ref ? `REF(${p.Ref})` : 'TOKEN')).join(''));
}

describe('StagedRollout', () => {
  const stack = testStack();
  const a = staged(stack, 'A');
  const b = staged(stack, 'B');
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
  const hook = StagedRollout.of(stack).attach({ ...a, alarms: [a.alarm], probe });
  StagedRollout.of(stack).attach({ ...b, strategy: RolloutStrategy.staged({ steps: [10, 50, 100], bake: Duration.minutes(2) }) });
  const template = Template.fromStack(stack);
  const states = definition(template).States;
  const rollout = StagedRollout.of(stack);

  test('builds one state machine, gate, starter and safety net per stack however many aliases are attached', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    // The deployments' FAILURE/STOP, and the executions that end without success.
    template.resourceCountIs('AWS::Events::Rule', 2);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    // An attached alias adds no resource of its own (its configuration is in the definition).
    template.resourceCountIs('AWS::SSM::Parameter', 0);
    const stagedFunctions = Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((f: any) => String(f.Properties.Description ?? '').startsWith('cdk-rollout-guardrails staged rollout'));
    expect(stagedFunctions.map((f: any) => f.Properties.Handler).sort()).toEqual(['index.gate', 'index.safetyNet', 'index.start']);
  });

  test('returns the starter and makes it the deployment group\'s BeforeAllowTraffic hook', () => {
    expect(hook).toBe(rollout.starterFunction);
    const aliases = template.findResources('AWS::Lambda::Alias');
    const hooks = Object.values(aliases).map((r: any) => r.UpdatePolicy.CodeDeployLambdaAliasUpdate.BeforeAllowTrafficHook);
    const starterId = stack.getLogicalId(rollout.starterFunction.node.defaultChild as lambda.CfnFunction);
    expect(hooks).toEqual([{ Ref: starterId }, { Ref: starterId }]);
  });

  test('writes each alias\'s schedule, thresholds, alarms and probe into the definition, keyed by application and deployment group', () => {
    const expression: string = states.Init.Output.config;
    const json = /\$lookup\((\{.*\}), \$states\.input\.configKey\)/s.exec(expression)![1];
    const configs = JSON.parse(json.replace(/REF\(([A-Za-z0-9]+)\)/g, '$1'));
    const id = (c: { deploymentGroup: codedeploy.LambdaDeploymentGroup }) =>
      `${stack.getLogicalId(c.deploymentGroup.application.node.defaultChild as codedeploy.CfnApplication)}/${stack.getLogicalId(c.deploymentGroup.node.defaultChild as codedeploy.CfnDeploymentGroup)}`;
    expect(Object.keys(configs).sort()).toEqual([id(a), id(b)].sort());
    expect(configs[id(a)]).toEqual({
      schedule: { steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 }, probeBudgetSeconds: 330, recheckSeconds: 60, canaryQuestions: 10,
        stopRules: [{ fromStep: 1, newErrorClass: true }, { fromStep: 5, minTopicCoverage: 0.7 }, { fromStep: 50, maxParaphraseFlips: 1 }] },
      thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 },
      alarmNames: [stack.getLogicalId(a.alarm.node.defaultChild as cloudwatch.CfnAlarm)],
      probeFunctionArn: 'TOKEN',
      // The operator's item: the stack's operator table, keyed by the same configuration key.
      operator: { tableName: stack.getLogicalId(StagedRollout.of(stack).node.findChild('OperatorTable').node.defaultChild as any), key: id(a) },
    });
    expect(configs[id(b)]).toMatchObject({ schedule: { steps: [10, 50, 100], bakeSeconds: 120 }, alarmNames: [] });
    expect(configs[id(b)].probeFunctionArn).toBeUndefined();
    // An unknown key is not an error of the expression but a marker without a schedule, which Configured routes to the error path.
    expect(expression).toContain('$exists($c) ? $c : { "unknownKey": $states.input.configKey }');
    expect(states.Configured).toEqual({
      Type: 'Choice', Comment: expect.any(String),
      Choices: [{ Variable: '$.config.schedule', IsPresent: true, Next: 'OpenCohort?' }], Default: 'ResetRoutingOnError',
    });
    expect(states.HasWarmup).toMatchObject({ Choices: [{ Variable: '$.config.warmup', IsPresent: true, Next: 'WarmUp' }], Default: 'HasProbe' });
  });

  test('an alias attached after a synth is in the next synth\'s definition (the configurations are written at each synth)', () => {
    const later = testStack();
    StagedRollout.of(later).attach(staged(later, 'First'));
    const keysOf = () => {
      const machine = Object.values((later.node.root as App).synth({ force: true })
        .getStackArtifact(later.artifactId).template.Resources).find((r: any) => r.Type === 'AWS::StepFunctions::StateMachine') as any;
      return JSON.stringify(machine.Properties.DefinitionString).match(/Group[0-9A-F]{8}/g)!.filter((v, i, all) => all.indexOf(v) === i).length;
    };
    expect(keysOf()).toBe(1);
    StagedRollout.of(later).attach(staged(later, 'Second'));
    expect(keysOf()).toBe(2);
  });

  test('walks probe → gate → set weight → publish → bake, and reports to CodeDeploy through the SDK integration', () => {
    expect(definition(template).StartAt).toBe('Init');
    expect(states.Init).toMatchObject({ Type: 'Pass', QueryLanguage: 'JSONata', Next: 'Configured' });
    expect(states.HasProbe.Choices[0]).toEqual({ Variable: '$.config.probeFunctionArn', IsPresent: true, Next: 'Probe' });
    expect(states.Probe.Next).toBe('Gate');
    expect(states.Gate.Next).toBe('Notify?');
    expect(states['Notify?']).toMatchObject({ Type: 'Choice', Choices: [{ Variable: '$.gate.notification', IsPresent: true, Next: 'Notify' }], Default: 'Route' });
    expect(states.Notify).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:sns:publish', Next: 'Route',
      Parameters: { 'TopicArn.$': '$.config.topicArn', 'Message.$': 'States.JsonToString($.gate.notification)' },
    });
    expect(Object.fromEntries(states.Route.Choices.map((c: any) => [c.StringEquals, c.Next]))).toEqual({
      shift: 'Shift', bake: 'Bake', recheck: 'PublishHold', probe: 'HasProbe', succeed: 'PublishSucceeded', start: 'PublishShadowPassed',
    });
    expect(states.Route.Default).toBe('ResetRouting');
    // Alias weights, or with sticky cohorts the cohort item; either way the shift is published.
    expect(states.Shift).toMatchObject({ Choices: [{ Variable: '$.config.cohort', IsPresent: true, Next: 'SetCohort' }], Default: 'SetWeight' });
    expect(states.SetWeight.Next).toBe('PublishShift');
    expect(states.SetCohort.Next).toBe('PublishShift');
    expect(states.PublishShift.Next).toBe('Bake');
    expect(states.Bake).toMatchObject({ Type: 'Wait', SecondsPath: '$.gate.waitSeconds', Next: 'Gate' });
    expect(states.Recheck).toMatchObject({ Type: 'Wait', Next: 'HasProbe' });
    expect(states.ReportSucceeded).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:codedeploy:putLifecycleEventHookExecutionStatus',
      Parameters: { Status: 'Succeeded', 'DeploymentId.$': '$.deployment.deploymentId' },
      Next: 'Succeeded',
    });
    expect(states.ResetRouting.Next).toBe('ClearCohort?');
    expect(states['ClearCohort?']).toMatchObject({ Choices: [{ Next: 'ClearCohort' }], Default: 'PublishRollback' });
    expect(states.ClearCohort.Next).toBe('PublishRollback');
    expect(states.PublishRollback.Next).toBe('ReportFailed');
    expect(states.ReportFailed).toMatchObject({ Parameters: { Status: 'Failed' }, Next: 'RolledBack' });
    expect(states.RolledBack.Type).toBe('Fail');
  });

  test('sets only AdditionalVersionWeights on the alias, never its FunctionVersion', () => {
    expect(states.SetWeight).toMatchObject({
      Resource: 'arn:aws:states:::aws-sdk:lambda:updateAlias',
      Parameters: { 'FunctionName.$': '$.target.functionName', 'Name.$': '$.target.alias', 'RoutingConfig.$': '$.gate.routing' },
    });
    for (const id of ['ResetRouting', 'ResetRoutingOnError']) {
      expect(states[id].Parameters.RoutingConfig).toEqual({ AdditionalVersionWeights: {} });
    }
    const parameters = Object.values(states).map((state) => JSON.stringify(state.Parameters ?? {}));
    expect(parameters.filter((p) => p.includes('FunctionVersion'))).toEqual([]);
  });

  test('gives every task a catch that resets the routing and reports Failed', () => {
    const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(12);
    for (const [id, state] of tasks) {
      const next = state.Catch?.find((c: any) => c.ErrorEquals.includes('States.ALL'))?.Next;
      // The error path itself goes on to the Failed report, and the Failed report to the end.
      const expected: Record<string, string> = {
        ResetRoutingOnError: 'ReportFailedOnError', ResetRouting: 'ReportFailedOnError', PublishRollback: 'ReportFailed',
        // Sticky cohorts' clearing on the error and rollback paths goes on to the Failed report; on the success path
        // (after the hand-back) a failed clear is an error like any other.
        ClearCohortOnError: 'ReportFailedOnError', ClearCohort: 'ReportFailedOnError',
        ReportFailedOnError: 'Errored', ReportFailed: 'Errored',
        // The warm gate failed before any weight was set: report Failed, nothing to reset.
        ReportWarmGateFailed: 'Errored',
        // A notification that cannot be published must not stop the rollout: it goes on to Route.
        Notify: 'Route',
      };
      expect([id, next]).toEqual([id, expected[id] ?? 'ResetRoutingOnError']);
    }
    expect(states.ResetRoutingOnError.Next).toBe('ClearCohortOnError?');
    expect(states['ClearCohortOnError?']).toMatchObject({ Choices: [{ Variable: '$.config.cohort', IsPresent: true, Next: 'ClearCohortOnError' }], Default: 'ReportFailedOnError' });
    expect(states.ReportFailedOnError).toMatchObject({ Parameters: { Status: 'Failed' }, Next: 'Errored' });
  });

  test('retries idempotent calls and Lambda\'s transient errors, and treats an already-completed hook as reported', () => {
    const sdk = { ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 };
    for (const id of ['SetWeight', 'ResetRouting', 'PublishShift']) expect(states[id].Retry).toEqual([sdk]);
    // Every report is the one report step: cut off at 4 s an attempt, never retried once CodeDeploy says the hook is
    // completed (an earlier attempt landed), which goes on as a report that landed: a Failed report to RolledBack.
    const already = 'CodeDeploy.LifecycleEventAlreadyCompletedException';
    for (const [id, next] of [['ReportSucceeded', 'Succeeded'], ['ReportFailed', 'RolledBack'], ['ReportWarmGateFailed', 'WarmGateFailed'], ['ReportFailedOnError', 'Errored']]) {
      expect([id, states[id].TimeoutSeconds, states[id].Retry]).toEqual([id, 4, [{ ErrorEquals: [already], MaxAttempts: 0 }, sdk]]);
      expect([id, states[id].Catch[0], states[id].Next]).toEqual([id, { ErrorEquals: [already], Next: next, ResultPath: '$.reportError' }, next]);
    }
    expect(states.Probe.Retry[0].ErrorEquals).toContain('Lambda.TooManyRequestsException');
    expect(states.Gate.Retry.map((r: any) => r.ErrorEquals).flat()).toEqual(expect.arrayContaining(['Lambda.ServiceException', 'States.TaskFailed']));
    expect(states.ReportSucceeded.Catch[0]).toMatchObject({ ErrorEquals: ['CodeDeploy.LifecycleEventAlreadyCompletedException'], Next: 'Succeeded' });
  });

  test('lets the state machine update only the attached aliases, run the probe and report on their groups', () => {
    const role = stack.getLogicalId(rollout.stateMachine.role.node.defaultChild as any);
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p: any) => p.Properties.Roles[0].Ref === role) as any;
    const statements = policy.Properties.PolicyDocument.Statement;
    const byAction = (action: string) => statements.filter((s: any) => [s.Action].flat().includes(action));
    const arnOf = (fn: lambda.Function) => ({ 'Fn::GetAtt': [stack.getLogicalId(fn.node.defaultChild as any), 'Arn'] });
    expect(byAction('lambda:UpdateAlias')).toEqual([expect.objectContaining({
      Resource: [arnOf(a.fn), arnOf(b.fn), { 'Fn::Join': ['', [arnOf(a.fn), ':live']] }, { 'Fn::Join': ['', [arnOf(b.fn), ':live']] }],
    })]);
    expect(byAction('codedeploy:PutLifecycleEventHookExecutionStatus')[0].Resource).toHaveLength(2);
    expect(byAction('cloudwatch:PutMetricData')).toEqual([expect.objectContaining({ Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'CdkRolloutGuardrails/Staged' } } })]);
    expect(JSON.stringify(byAction('lambda:InvokeFunction'))).toContain(stack.getLogicalId(probe.function.node.defaultChild as any));
    // Besides what it does to aliases and deployments, only the log delivery and X-Ray actions of its own logging and tracing.
    expect(statements.flatMap((s: any) => [s.Action].flat()).filter((a: string) => !/^(logs|xray):/.test(a)).sort()).toEqual([
      'cloudwatch:PutMetricData', 'codedeploy:PutLifecycleEventHookExecutionStatus', 'lambda:InvokeFunction', 'lambda:UpdateAlias',
    ]);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      TracingConfiguration: { Enabled: true },
    });
  });

  test('lets the gate read every alarm (composite alarms need *: CW-1) and metrics, and the safety net only stop and read executions, report, and clear the attached aliases', () => {
    const policyOf = (fn: lambda.Function) => {
      const role = stack.getLogicalId(fn.role!.node.defaultChild as any);
      return (Object.values(template.findResources('AWS::IAM::Policy')).find((p: any) => p.Properties.Roles[0].Ref === role) as any).Properties.PolicyDocument.Statement;
    };
    expect(policyOf(rollout.gateFunction)).toEqual([
      { Action: ['cloudwatch:DescribeAlarms', 'cloudwatch:GetMetricData', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
      // The operator items (the CLI's commands): the stack's operator table, read only.
      { Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: { 'Fn::GetAtt': [stack.getLogicalId(StagedRollout.of(stack).node.findChild('OperatorTable').node.defaultChild as any), 'Arn'] } },
    ]);
    const net = policyOf(rollout.safetyNetFunction).filter((st: any) => ![st.Action].flat().some((x: string) => x.startsWith('xray:') || x.startsWith('sqs:')));
    expect(net[0]).toEqual({
      Action: ['states:DescribeExecution', 'states:StopExecution'], Effect: 'Allow',
      Resource: { 'Fn::Join': ['', ['arn:aws:states:eu-west-1:123456789012:execution:', { 'Fn::GetAtt': [stack.getLogicalId(rollout.stateMachine.node.defaultChild as any), 'Name'] }, ':*']] },
    });
    expect([...new Set(net.flatMap((s: any) => [s.Action].flat()))].sort()).toEqual([
      'codedeploy:GetApplicationRevision', 'codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus', 'lambda:GetAlias', 'lambda:UpdateAlias',
      'states:DescribeExecution', 'states:StopExecution',
    ]);
    const aliasStatement = net.find((s: any) => [s.Action].flat().includes('lambda:UpdateAlias'));
    expect(aliasStatement.Resource).toHaveLength(4);
    const starter = policyOf(rollout.starterFunction).flatMap((s: any) => [s.Action].flat());
    expect(starter).toEqual(expect.arrayContaining(['states:StartExecution', 'codedeploy:GetDeployment', 'codedeploy:GetApplicationRevision']));
    expect(starter.filter((action: string) => action.startsWith('ssm:'))).toEqual([]);
    expect(starter).not.toContain('lambda:UpdateAlias');
  });

  test('counts the warm gate in the hook hour: a warm-up whose readyTimeout would push the schedule past 50 minutes is refused, naming both parts', () => {
    const s = testStack();
    const c = staged(s, 'W');
    const warmup = new ProvisionedWarmup(s, 'Warmup', { alias: c.alias, version: c.version, provisionedConcurrency: 1, readyTimeout: Duration.minutes(5) });
    // 47 min 30 s of schedule + 5 min 20 s of warm gate.
    expect(() => StagedRollout.of(s).attach({ ...c, warmup })).toThrow(
      'strategy (staged) schedule with the warm gate must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), got: 52 minutes 50 seconds '
      + '(the warm gate: readyTimeout 5 minutes + 20 seconds for its calls and pings; then 4 steps below 100 × (probe budget 5 minutes 30 seconds + bake 5 minutes) + a last probe of 5 minutes 30 seconds)');
    const s2 = testStack();
    const c2 = staged(s2, 'W');
    const quick = new ProvisionedWarmup(s2, 'Warmup', { alias: c2.alias, version: c2.version, provisionedConcurrency: 1, readyTimeout: Duration.seconds(130) });
    expect(() => StagedRollout.of(s2).attach({ ...c2, warmup: quick })).not.toThrow();
    // The default readyTimeout (2 minutes) fits the default schedule.
    const s3 = testStack();
    const c3 = staged(s3, 'W');
    expect(() => StagedRollout.of(s3).attach({ ...c3, warmup: new ProvisionedWarmup(s3, 'Warmup', { alias: c3.alias, version: c3.version, provisionedConcurrency: 1 }) })).not.toThrow();
  });

  test('listens for its executions that end FAILED, TIMED_OUT or ABORTED, with a dead-letter queue on both rules', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        'detail': { stateMachineArn: [{ Ref: stack.getLogicalId(rollout.stateMachine.node.defaultChild as any) }], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [stack.getLogicalId(rollout.safetyNetFunction.node.defaultChild as any), 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [stack.getLogicalId(rollout.failedEvents.node.defaultChild as any), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 4 },
      })],
    });
    // The asynchronously invoked functions retry twice, then the same queue; its first message is an alarm.
    for (const fn of [rollout.safetyNetFunction, rollout.starterFunction]) {
      const props = template.toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as any)].Properties;
      expect(props.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [stack.getLogicalId(rollout.failedEvents.node.defaultChild as any), 'Arn'] } });
      expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    }
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    expect(template.toJSON().Resources[stack.getLogicalId(rollout.failedEventsAlarm.node.defaultChild as any)].Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('names the state machine\'s log group under /aws/vendedlogs/states/, unique per stack (SFN-9)', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')).map((g: any) => g.Properties);
    const machineGroup = groups.find((g: any) => JSON.stringify(g.LogGroupName ?? '').includes('vendedlogs'));
    expect(machineGroup.LogGroupName).toEqual({ 'Fn::Join': ['', ['/aws/vendedlogs/states/', { Ref: 'AWS::StackName' }, expect.stringMatching(/^-TestStackStagedRollout/)]] });
    expect(machineGroup.RetentionInDays).toBe(365);
    // Every function of the machinery has a log group of its own, kept as long.
    expect(groups.filter((g: any) => g.LogGroupName === undefined).every((g: any) => g.RetentionInDays === 365)).toBe(true);
  });

  test('listens for the attached groups\' FAILURE and STOP events', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.codedeploy'],
        'detail-type': ['CodeDeploy Deployment State-change Notification'],
        'detail': { state: ['FAILURE', 'STOP'], deploymentGroup: [{ Ref: Match.anyValue() }, { Ref: Match.anyValue() }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [stack.getLogicalId(rollout.safetyNetFunction.node.defaultChild as any), 'Arn'] } })],
    });
  });

  test('synthesises the default schedule beside an all-at-once deployment group', () => {
    const s = testStack();
    const c = staged(s, 'C');
    StagedRollout.of(s).attach(c);
    const t = Template.fromStack(s);
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    expect(resourcesOfType(t.toJSON(), 'AWS::Lambda::Function')).toHaveLength(4);
  });

  test('fails when the deployment group is not all-at-once', () => {
    const s = testStack();
    const c = staged(s, 'C', codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES);
    expect(() => StagedRollout.of(s).attach(c)).toThrow(
      'deploymentGroup must be all-at-once (LambdaDeploymentConfig.ALL_AT_ONCE): the staged schedule runs inside its BeforeAllowTraffic hook, got: "CodeDeployDefault.LambdaCanary10Percent5Minutes"');
  });

  test('fails with every problem of the strategy and thresholds together', () => {
    const s = testStack();
    const c = staged(s, 'C');
    expect(() => StagedRollout.of(s).attach({ ...c, strategy: RolloutStrategy.staged({ steps: [1, 5, 3] }), thresholds: { maxP95Ratio: -1 } }))
      .toThrow(/has 3 invalid props:\n {2}- strategy \(staged\) steps must be strictly rising, got: \[1,5,3\]\n {2}- strategy \(staged\) steps must be a schedule ending at 100, got: \[1,5,3\]\n {2}- thresholds.maxP95Ratio/);
  });

  test('warns when the probe may run longer than the strategy\'s probeBudget counts', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('stagedProbeBudget'))).toEqual([]);
    const s = testStack();
    const c = staged(s, 'C');
    const slow = new DeltaSProbe(s, 'SlowProbe', { goldSet: GOLD, budget: Duration.minutes(8) });
    StagedRollout.of(s).attach({ ...c, probe: slow });
    const warnings = expectSynthWarnings(['cdk-rollout-guardrails:stagedProbeBudget'], () => Annotations.fromStack(s)).findWarning('*', Match.stringLikeRegexp('stagedProbeBudget'));
    expect(warnings.map((w) => w.id)).toEqual([`/${c.alias.node.path}`]);
    expect(String(warnings[0].entry.data)).toContain('counts 5 minutes 30 seconds per probe run, but the probe function may run 510 seconds');
  });

  test('names the weight metric by function and alias, in the staged namespace', () => {
    const metric = rollout.metricTrafficWeight({ functionName: 'demo-answer', aliasName: 'live' });
    expect([metric.namespace, metric.metricName, metric.statistic, metric.period.toSeconds()]).toEqual(['CdkRolloutGuardrails/Staged', 'TrafficWeight', 'Maximum', 60]);
    expect(metric.dimensions).toEqual({ FunctionName: 'demo-answer', Alias: 'live' });
    expect(rollout.metric('GatePassed', { functionName: 'f', aliasName: 'a' }, { dimensionsMap: { Gate: 'probe' } }).dimensions).toEqual({ FunctionName: 'f', Alias: 'a', Gate: 'probe' });
  });

  test('fails when an alias is attached twice', () => {
    expect(() => StagedRollout.of(stack).attach({ ...a })).toThrow(`StagedRollout: the alias '${a.alias.node.path}' is already attached`);
  });
});
