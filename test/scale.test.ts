import { figures, guardedAliasStack, guardedCanaryStack, handWrittenStack, STACK_RESOURCE_LIMIT, TEMPLATE_SIZE_LIMIT } from '../bench/scale-stacks';
import { expectSynthWarnings } from './helpers/console';

describe('a stack of 30 GuardedAliases', () => {
  const ours = figures(guardedAliasStack(30), 30);
  const canary = figures(guardedCanaryStack(30), 30);
  const handWritten = figures(handWrittenStack(30), 30);

  test('costs fewer resources per function than the hand-written LambdaDeploymentGroup pattern, staged (the default) or canary', () => {
    for (const f of [ours, canary]) {
      expect(f.perFunction).toBeLessThan(handWritten.perFunction);
      expect(f.rolloutPerFunction).toBeLessThan(handWritten.rolloutPerFunction);
    }
  });

  test('shares one CodeDeploy application and one deployment role across the stack', () => {
    expect(ours.byType['AWS::CodeDeploy::Application']).toBe(1);
    expect(handWritten.byType['AWS::CodeDeploy::Application']).toBe(30);
    // 30 function roles, the shared deployment role and the control-version provider's role; staged adds
    // the state machine's role and its three functions' roles, shared too.
    expect(canary.byType['AWS::IAM::Role']).toBe(32);
    expect(ours.byType['AWS::IAM::Role']).toBe(36);
    expect(ours.byType['AWS::StepFunctions::StateMachine']).toBe(1);
    expect(ours.byType['AWS::SSM::Parameter']).toBeUndefined();
  });

  test('fits in one CloudFormation stack with room to spare', () => {
    expect(ours.total).toBeLessThan(STACK_RESOURCE_LIMIT);
    // Per function: version, alias, deployment group and ONE gate alarm (the three metric gates share it).
    // Shared: the application, the deployment role, the control-version resource and its provider's function,
    // role, policy and log group (7).
    expect(canary.rolloutPerFunction).toBeCloseTo(4 + 7 / 30, 5);
    // Staged adds no resource per alias. Shared, constant (26):
    // - the state machine, its role, policy and log group (/aws/vendedlogs/states/...) (4);
    // - the gate, starter and safety-net functions, each with its role, policy and own log group (12);
    // - the starter's and the safety net's EventInvokeConfig (retryAttempts 2, asynchronous invocations) (2);
    // - the dead-letter queue FailedEvents, its queue policy (SSL only, EventBridge's delivery) and its
    //   FailedEventsAlarm (3);
    // - the safety-net rule (deployments that fail or stop) and the ExecutionEndRule (executions that end
    //   FAILED/TIMED_OUT/ABORTED), each with the permission to invoke the safety net (4);
    // - the deployment role's policy that lets CodeDeploy invoke the starter (1).
    // Plus the overflow managed policies CDK splits off when a shared role's inline policy outgrows IAM's
    // size limit: each alias adds its ARNs to the state machine's and the safety net's grants, and at 30
    // aliases each of those two roles has one (2); the gate's reads are on *, and its policy does not grow.
    const constant = 4 + 12 + 2 + 3 + 4 + 1;
    for (const type of ['AWS::SQS::Queue', 'AWS::SQS::QueuePolicy', 'AWS::StepFunctions::StateMachine']) expect(ours.byType[type]).toBe(1);
    expect(ours.byType['AWS::Events::Rule']).toBe(2);
    expect(ours.byType['AWS::Lambda::EventInvokeConfig']).toBe(2);
    expect(ours.byType['AWS::Lambda::Permission']).toBe(2);
    // 30 gate alarms and the dead-letter queue's alarm.
    expect(ours.byType['AWS::CloudWatch::Alarm']).toBe(30 + 1);
    // 30 released functions' log groups, the provider's, the state machine's and the three functions'.
    expect(ours.byType['AWS::Logs::LogGroup']).toBe(30 + 1 + 1 + 3);
    expect(ours.byType['AWS::IAM::ManagedPolicy']).toBe(2);
    expect(ours.rolloutPerFunction).toBeCloseTo(4 + (7 + constant + 2) / 30, 5);
    // 245 resources in all: 30 × (function, role, log group) + 30 × 4 + 7 + 26 + 2.
    expect(ours.total).toBe(30 * 3 + 30 * 4 + 7 + constant + 2);
  });
});

describe('a stack at 60 staged GuardedAliases (issue #14: at least 60 per stack)', () => {
  // 7 resources per function (its function, role and log group; version, alias, deployment group, gate alarm),
  // the shared machinery (7 + 26), and the overflow managed policies of the two shared roles whose grants
  // name every alias (2 at 30 aliases, 11 at 60): 60 × 7 + 33 + 11 = 464, under CloudFormation's 500.
  // Its template is over 80 % of the 1 MB limit, on purpose: aws-cdk-lib warns that it approaches the limit.
  let sixty: ReturnType<typeof figures>;
  beforeAll(() => {
    sixty = expectSynthWarnings(['@aws-cdk/core:Stack.templateSize'], () => figures(guardedAliasStack(60), 60));
  });

  test('fits under CloudFormation\'s 500 resources and 1 MB template', () => {
    expect(sixty.total).toBeLessThanOrEqual(STACK_RESOURCE_LIMIT);
    expect(sixty.byType['AWS::IAM::ManagedPolicy']).toBe(11);
    expect(sixty.total).toBe(60 * 7 + 7 + 26 + 11);
    expect(sixty.templateBytes).toBeLessThan(TEMPLATE_SIZE_LIMIT);
  });

  test('costs 7 resources a function, one gate alarm each', () => {
    expect(sixty.byType['AWS::CloudWatch::Alarm']).toBe(60 + 1);
    for (const type of ['AWS::Lambda::Version', 'AWS::Lambda::Alias', 'AWS::CodeDeploy::DeploymentGroup']) expect(sixty.byType[type]).toBe(60);
  });
});
