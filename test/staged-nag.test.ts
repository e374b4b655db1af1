import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeltaSProbe, GoldSet, StagedRollout } from '../lib';
import { FEATURE_FLAGS, testFunction, testStack } from './util';

test.each([
  ['in a stack with an environment', true],
  ['in an environment-agnostic stack', false],
])('the staged rollout\'s own resources pass cdk-nag\'s AwsSolutions pack %s, each acknowledgement with its reason', (_name, withEnv) => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'staged-nag-'));
  const app = new App({ context: FEATURE_FLAGS, outdir });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = withEnv ? testStack(app) : new Stack(app, 'TestStack');
  const fn = testFunction(stack);
  const version = fn.currentVersion;
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
  const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', { alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE });
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl')) });
  StagedRollout.of(stack).attach({ alias, version, deploymentGroup, probe, wirePreHook: false });
  // The test's own function and deployment group break rules of their own; only the staged resources are judged.
  try {
    app.synth();
  } catch {
    // read below
  }
  const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
  const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
  const mine = (v: any) => (v.violatingConstructs ?? []).some((c: any) => c.constructPath.startsWith('TestStack/StagedRollout/'));
  expect(nag.violations.filter(mine).map((v: any) => v.ruleName)).toEqual([]);
  const acknowledged = nag.suppressedViolations.filter((v: any) => String(v.acknowledgedAt).startsWith('TestStack/StagedRollout'));
  expect(acknowledged.map((v: any) => v.ruleName.replace(/\[.*\]$/, '')).sort()).toEqual([
    'AwsSolutions-IAM4', 'AwsSolutions-IAM4', 'AwsSolutions-IAM4',
    'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5',
  ]);
  // Which construct acknowledges what: the basic execution role of each of the three functions; the wildcard
  // of the gate's reads, of the state machine's metric, log-delivery and trace writes, and of the starter's and
  // the safety net's X-Ray writes (active tracing: PutTraceSegments/PutTelemetryRecords take no resource);
  // the machine's invocations of the probe and the gate; the safety net's actions on the machine's executions.
  const id = (c: any) => stack.getLogicalId(c.node.defaultChild);
  const staged = StagedRollout.of(stack);
  const arn = withEnv ? 'arn:aws:states:eu-west-1:123456789012' : 'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>';
  const basic = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
  expect(acknowledged.map((v: any) => `${v.acknowledgedAt} ${v.ruleName}`).sort()).toEqual([
    `TestStack/StagedRollout/Gate ${basic}`,
    'TestStack/StagedRollout/Gate AwsSolutions-IAM5[Resource::*]',
    `TestStack/StagedRollout/SafetyNet ${basic}`,
    'TestStack/StagedRollout/SafetyNet AwsSolutions-IAM5[Resource::*]',
    `TestStack/StagedRollout/SafetyNet AwsSolutions-IAM5[Resource::${arn}:execution:<${id(staged.stateMachine)}.Name>:*]`,
    `TestStack/StagedRollout/Starter ${basic}`,
    'TestStack/StagedRollout/Starter AwsSolutions-IAM5[Resource::*]',
    'TestStack/StagedRollout/StateMachine AwsSolutions-IAM5[Resource::*]',
    `TestStack/StagedRollout/StateMachine AwsSolutions-IAM5[Resource::<${id(probe.function)}.Arn>:*]`,
    `TestStack/StagedRollout/StateMachine AwsSolutions-IAM5[Resource::<${id(staged.gateFunction)}.Arn>:*]`,
  ].sort());
  for (const fnId of ['Starter', 'SafetyNet']) {
    expect(acknowledged.find((v: any) => v.acknowledgedAt === `TestStack/StagedRollout/${fnId}` && v.ruleName === 'AwsSolutions-IAM5[Resource::*]').reason).toMatch(/X-Ray/);
  }
  for (const v of acknowledged) expect(v.reason.length).toBeGreaterThan(20);
});

test('attach() leaves the deployment group\'s hook to the caller when wirePreHook is false', () => {
  const stack = testStack();
  const fn = testFunction(stack);
  const version = fn.currentVersion;
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
  const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', { alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE });
  const starter = StagedRollout.of(stack).attach({ alias, version, deploymentGroup, wirePreHook: false });
  expect(() => deploymentGroup.addPreHook(starter)).not.toThrow();
  const other = testFunction(stack, 'Other');
  expect(() => deploymentGroup.addPreHook(other)).toThrow();
});
