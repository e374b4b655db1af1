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
    // 30 function roles and the one shared deployment role.
    expect(ours.byType['AWS::IAM::Role']).toBe(31);
  });

  test('fits in one CloudFormation stack with room to spare', () => {
    expect(ours.total).toBeLessThan(STACK_RESOURCE_LIMIT);
    // Version, alias, deployment group and three gate alarms per function, plus the shared application and role.
    expect(ours.rolloutPerFunction).toBeCloseTo(6 + 2 / 30, 5);
  });
});
