import { figures, guardedAliasStack, guardedCanaryStack, handWrittenStack, STACK_RESOURCE_LIMIT } from '../bench/scale-stacks';

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
    // Per function: version, alias, deployment group and three gate alarms. Shared: the application, the
    // deployment role, the control-version resource and its provider's function, role, policy and log group (7).
    expect(canary.rolloutPerFunction).toBeCloseTo(6 + 7 / 30, 5);
    // Staged adds no resource per alias; shared: the state machine, its role, policy and log group, three
    // functions with their roles, policies and log groups, the safety-net rule and its permission, and the
    // deployment role's policy that lets CodeDeploy invoke the starter (19); and
    // the overflow managed policies CDK splits off as the shared roles' grants grow (3 at 30 aliases).
    expect(ours.byType['AWS::IAM::ManagedPolicy']).toBe(3);
    expect(ours.rolloutPerFunction).toBeCloseTo(6 + (7 + 19 + 3) / 30, 5);
  });
});
