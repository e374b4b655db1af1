import { figures, guardedAliasStack, handWrittenStack, STACK_RESOURCE_LIMIT } from '../bench/scale-stacks';

describe('a stack of 30 GuardedAliases', () => {
  const ours = figures(guardedAliasStack(30), 30);
  const handWritten = figures(handWrittenStack(30), 30);

  test('costs fewer resources per function than the hand-written LambdaDeploymentGroup pattern', () => {
    expect(ours.perFunction).toBeLessThan(handWritten.perFunction);
    expect(ours.rolloutPerFunction).toBeLessThan(handWritten.rolloutPerFunction);
  });

  test('shares one CodeDeploy application and one deployment role across the stack', () => {
    expect(ours.byType['AWS::CodeDeploy::Application']).toBe(1);
    expect(handWritten.byType['AWS::CodeDeploy::Application']).toBe(30);
    // 30 function roles, the shared deployment role and the control-version provider's role.
    expect(ours.byType['AWS::IAM::Role']).toBe(32);
  });

  test('fits in one CloudFormation stack with room to spare', () => {
    expect(ours.total).toBeLessThan(STACK_RESOURCE_LIMIT);
    // Per function: version, alias, deployment group and three gate alarms. Shared: the application, the
    // deployment role, the control-version resource and its provider's function, role, policy and log group.
    expect(ours.rolloutPerFunction).toBeCloseTo(6 + 7 / 30, 5);
  });
});
