import { Annotations, App, Duration, Environment, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import { DemoStack } from '../bin/demo-stack';
import { DeltaSProbe, GoldSet, GuardedAlias, IdempotencyTable, ReleaseDashboard, RolloutStrategy, ShadowIntegration } from '../lib';
import { testApp, testFunction } from './util';

/**
 * No ARN the library writes may name the `aws` partition outright: in AWS GovCloud (US) it is `aws-us-gov`, in
 * the China regions `aws-cn`. CDK renders the partition of a stack whose region it knows as a literal
 * (`arn:aws-cn:` in cn-north-1) and of an environment-agnostic stack as `{ Ref: AWS::Partition }`; a hard-coded
 * `arn:aws:` shows up as itself in either. (`arn:aws-cn:` and `arn:aws-us-gov:` do not contain `arn:aws:`.)
 */
const ENVIRONMENTS: Array<[string, Environment | undefined]> = [
  ['environment-agnostic', undefined],
  ['China (Beijing)', { account: '123456789012', region: 'cn-north-1' }],
  ['AWS GovCloud (US-West)', { account: '123456789012', region: 'us-gov-west-1' }],
];

const item = (id: string) => JSON.stringify({
  id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.`,
});
const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));

/** Every construct of the library in one stack: staged and blue-green aliases with a probe, a shadow route, an idempotency table, a dashboard. */
function everything(env: Environment | undefined): Stack {
  const stack = new Stack(testApp(), 'Everything', { env });
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
  Annotations.of(probe).acknowledgeWarning('cdk-rollout-guardrails:smallGoldSet', 'a two-question gold set is enough to synthesize');
  const stagedFn = testFunction(stack, 'StagedFn');
  const staged = new GuardedAlias(stack, 'Staged', {
    function: stagedFn, probe, warmup: { provisionedConcurrency: 1 }, strategy: RolloutStrategy.staged(),
  });
  new GuardedAlias(stack, 'BlueGreen', {
    function: testFunction(stack, 'BlueGreenFn'), probe, strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(10) }),
  });
  new GuardedAlias(stack, 'Canary', { function: testFunction(stack, 'CanaryFn'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
  const api = new apigw.RestApi(stack, 'Api');
  new ShadowIntegration(stack, 'Mirror', {
    api, method: 'GET', path: '/answer', live: staged, shadow: testFunction(stack, 'Shadow'), sampleRate: 0.1, maxMirrorRps: 5,
  });
  new IdempotencyTable(stack, 'Idempotency').grant(stagedFn);
  new ReleaseDashboard(stack, 'Dashboard');
  return stack;
}

/** Where in the template `arn:aws:` occurs: the resource (or section) and the text around it. */
function hardCodedPartitions(stack: Stack): string[] {
  const template = stackTemplate(stack);
  const found: string[] = [];
  for (const [section, body] of Object.entries(template)) {
    for (const [id, value] of Object.entries(body as Record<string, unknown>)) {
      const text = JSON.stringify(value);
      for (let at = text.indexOf('arn:aws:'); at >= 0; at = text.indexOf('arn:aws:', at + 1)) {
        found.push(`${section}.${id}: …${text.slice(Math.max(0, at - 40), at + 60)}…`);
      }
    }
  }
  return found;
}

/** The stack's template as `cdk synth` writes it. */
function stackTemplate(stack: Stack): Record<string, unknown> {
  return (stack.node.root as App).synth().getStackByName(stack.stackName).template;
}

describe('no hard-coded partition', () => {
  test.each(ENVIRONMENTS)('in a stack of every construct, %s', (_, env) => {
    expect(hardCodedPartitions(everything(env))).toEqual([]);
  });

  test.each(ENVIRONMENTS)('in the example app, %s', (_, env) => {
    const stack = new DemoStack(testApp(), 'Demo', { env });
    expect(hardCodedPartitions(stack)).toEqual([]);
  });

  test('the check finds a hard-coded partition where there is one', () => {
    const stack = new Stack(testApp(), 'Planted', { env: ENVIRONMENTS[1][1] });
    testFunction(stack, 'Fn').addToRolePolicy(new iam.PolicyStatement({
      actions: ['states:StartExecution'], resources: ['arn:aws:states:cn-north-1:123456789012:stateMachine:x'],
    }));
    expect(hardCodedPartitions(stack)).toHaveLength(1);
  });
});
