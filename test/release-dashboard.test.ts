import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GuardedAlias, ReleaseDashboard, RolloutStrategy } from '../lib';
import { DemoStack } from '../bin/demo-stack';
import { testApp, testFunction, testStack, TEST_ENV } from './util';

/** The dashboard body as CloudFormation will assemble it, with tokens left as their JSON. */
function body(stack: Stack, dashboard: ReleaseDashboard): string {
  const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(dashboard.dashboard.node.defaultChild as cloudwatch.CfnDashboard)];
  return JSON.stringify(resource.Properties.DashboardBody);
}

/**
 * The dashboard body with the stack's tokens (function names, ARNs) replaced by placeholders, as JSON text,
 * so that its widgets can be read.
 */
function dashboardBodyParts(stack: Stack, dashboard: ReleaseDashboard): string {
  const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(dashboard.dashboard.node.defaultChild as cloudwatch.CfnDashboard)];
  const body = resource.Properties.DashboardBody;
  if (typeof body === 'string') return body;
  return (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
}

describe('ReleaseDashboard', () => {
  test('shows every GuardedAlias of the stack: weight, canary vs control, cold starts and its alarms', () => {
    const stack = testStack();
    const a = new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
    new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB') });
    const dashboard = new ReleaseDashboard(stack, 'Releases');
    const json = body(stack, dashboard);
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    for (const title of ['Traffic weight', 'Error rate: canary vs control', 'p95 duration: canary vs control (ms)', 'Cold-start share (%)', 'Cache hit rate (%)', 'Alarms that roll this release back']) {
      expect(json.split(title).length - 1).toBe(2);
    }
    expect(json).toContain('IF(FILL(ai, 0) > 0, 100 * FILL(ci, 0) / FILL(ai, 0), 0)');
    // The release's cache hit rate, from the runtime's reportCacheLookup metrics by function and release.
    expect(json).toContain('IF(FILL(lookups, 0) > 0, 100 * FILL(hits, 0) / FILL(lookups, 0), 0)');
    for (const metric of ['CacheLookups', 'CacheHits']) expect(json.split(metric).length - 1).toBe(2);
    expect(json).toContain(stack.resolve(a.releaseId));
    // The alarm widget lists every alarm the deployment group watches, by ARN.
    for (const alarm of a.alarms) expect(json).toContain(stack.getLogicalId((alarm as cloudwatch.Alarm).node.defaultChild as cloudwatch.CfnAlarm));
  });

  test('graphs stage 0 of a staged alias (ShadowPromotion: 1 passed shadow, 0 refused) beside its gate decisions', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
    const widgets = JSON.parse(dashboardBodyParts(stack, new ReleaseDashboard(stack, 'Releases'))).widgets;
    const decisions = widgets.find((w: any) => w.properties?.title?.startsWith('Staged gate decisions'));
    expect(decisions.properties.title).toContain('stage 0 (1 passed shadow, 0 refused)');
    expect(JSON.stringify(decisions.properties.metrics)).toContain('ShadowPromotion');
  });

  test('shows the invocations a minute the gate alarms need against those the canary and the control served', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
    new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)), gates: { minInvocationsPerMinute: 60 } });
    const dashboard = new ReleaseDashboard(stack, 'Releases');
    const widgets = JSON.parse(dashboardBodyParts(stack, dashboard)).widgets;
    const samples = widgets.filter((w: any) => w.properties?.title?.startsWith('Gate samples'));
    expect(samples.map((w: any) => w.properties.title)).toEqual([
      'Gate samples: invocations a minute (gates judge at ≥ 100)',
      'Gate samples: invocations a minute (gates judge at ≥ 60)',
    ]);
    for (const [widget, min] of [[samples[0], 100], [samples[1], 60]] as const) {
      expect(widget.properties.annotations.horizontal).toEqual([expect.objectContaining({ value: min, yAxis: 'left' })]);
      expect(widget.properties.annotations.horizontal[0].label).toContain('below it the gate alarms cannot judge');
      const metrics = JSON.stringify(widget.properties.metrics);
      expect(metrics).toContain('Canary invocations/min');
      expect(metrics).toContain('FILL(ai, 0) - FILL(ci, 0)');
      expect(metrics).toContain('Control invocations/min');
    }
  });

  test('keeps a line per metric gate, though the three share one alarm: which gate breached, and the alarm\'s gate code', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
    const widgets = JSON.parse(dashboardBodyParts(stack, new ReleaseDashboard(stack, 'Releases'))).widgets;
    const gates = widgets.filter((w: any) => w.properties?.title?.startsWith('Gates breached'));
    expect(gates).toHaveLength(1);
    const metrics = JSON.stringify(gates[0].properties.metrics);
    for (const label of ['maxErrorRateDelta (code 1)', 'maxP95Ratio (code 2)', 'maxErrorRate (code 4)', 'gate code (the gate alarm\'s value)']) expect(metrics).toContain(label);
    expect(metrics).toContain('> 0.01, 1, 0)');
  });

  test('shows the rollout machinery\'s dead-letter queue and its alarm once, for the staged and blue-green machineries and the rollback hooks', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
    new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), strategy: RolloutStrategy.blueGreen() });
    const text = body(stack, new ReleaseDashboard(stack, 'Releases'));
    expect(text.match(/Rollout machinery/g)).toHaveLength(1);
    expect(text).toContain('Dead-letter queue: events not processed');
    expect(text).toContain('staged rollout: messages');
    expect(text).toContain('blue-green switch: messages');
    expect(text).toContain('ApproximateNumberOfMessagesVisible');
    expect(text).toContain('StagedRolloutFailedEventsAlarm');
    expect(text).toContain('BlueGreenSwitchFailedEventsAlarm');
    expect(text).not.toContain('rollback hooks: messages');
    // The rollback hooks' queue and alarm join the row when an alias has rollbackHooks.
    const hooked = testStack();
    new GuardedAlias(hooked, 'C', { function: testFunction(hooked, 'FnC'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)), rollbackHooks: [testFunction(hooked, 'Purge')] });
    const hookedText = body(hooked, new ReleaseDashboard(hooked, 'Releases'));
    expect(hookedText).toContain('rollback hooks: messages');
    expect(hookedText).toContain('RollbackHooksFailedEventsAlarm');
    // Without a machinery (no GuardedAlias), no such row.
    const bare = testStack();
    expect(body(bare, new ReleaseDashboard(bare, 'Releases'))).not.toContain('Rollout machinery');
  });

  test('shows only the aliases it is given', () => {
    const stack = testStack();
    const a = new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
    new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB') });
    const json = body(stack, new ReleaseDashboard(stack, 'OnlyA', { aliases: [a] }));
    expect(json).toContain('TestStack/A');
    expect(json).not.toContain('TestStack/B');
  });

  test('takes aliases added later, and refuses one twice', () => {
    const stack = testStack();
    const a = new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
    const dashboard = new ReleaseDashboard(stack, 'Releases');
    const b = new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB') });
    expect(() => dashboard.addAlias(a)).toThrow("ReleaseDashboard 'TestStack/Releases' already shows 'TestStack/A'");
    dashboard.addAlias(b);
    expect(body(stack, dashboard)).toContain('TestStack/B');
  });

  test('adds the staged gate decisions and the weight the machine set for a staged alias', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'Staged', { function: testFunction(stack), strategy: RolloutStrategy.staged() });
    const json = body(stack, new ReleaseDashboard(stack, 'Releases'));
    expect(json).toContain('Staged gate decisions');
    expect(json).toContain('TrafficWeight');
    expect(json).toContain('StepDecision');
  });

  test('in the example app, shows traffic weight, the probe\'s ΔS and the gate alarms, and the shadow\'s drift', () => {
    const stack = new DemoStack(testApp(), 'Demo', { env: TEST_ENV });
    const json = body(stack, stack.dashboard);
    expect(json).toContain('Traffic weight');
    expect(json).toContain('DeltaSMedian');
    expect(json).toContain('LambdaFlips');
    expect(json).toContain('Shadow ΔS vs live');
    expect(json).toContain('ShadowDeltaS');
    for (const alarm of stack.guarded.alarms) expect(json).toContain(stack.getLogicalId((alarm as cloudwatch.Alarm).node.defaultChild as cloudwatch.CfnAlarm));
  });
});
