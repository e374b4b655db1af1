// GuardedAlias `rollbackHooks`: the rule on the deployment group's FAILURE and STOP, the stack's one function and
// its grants, validation, and the handler against mocked CodeDeploy and Lambda clients: it reads the rolled-back
// version and its release at run time, invokes each hook asynchronously with the cache namespace to purge, and
// leaves a rollback deployment's own failure alone.
import { CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { GuardedAlias, RolloutStrategy } from '../lib';
import { createRollbackHooksHandler } from '../lambdas/rollback-hooks/handler';
import { testFunction, testStack } from './util';

type Json = any;

describe('GuardedAlias rollbackHooks: synth', () => {
  const stack = testStack();
  const purge = testFunction(stack, 'Purge');
  const audit = testFunction(stack, 'Audit');
  const a = new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), rollbackHooks: [purge, audit], strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
  new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), rollbackHooks: [purge] });
  new GuardedAlias(stack, 'C', { function: testFunction(stack, 'FnC') });
  const template = Template.fromStack(stack);
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
  const fnId = (name: string) => id(stack.node.findChild(name) as never);

  test('one rule per alias with hooks, on its own deployment group\'s FAILURE and STOP, to the stack\'s one function', () => {
    const rules = (Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { detail: { state: ['FAILURE', 'STOP'] } } } })) as Json[])
      .filter((r) => r.Properties.Targets[0].Arn['Fn::GetAtt'][0].startsWith('RollbackHooksFunction'));
    expect(rules).toHaveLength(2);
    const fns = Object.values(template.findResources('AWS::Lambda::Function')).filter((f: Json) => String(f.Properties.Description ?? '').startsWith('cdk-rollout-guardrails rollback hooks'));
    expect(fns).toHaveLength(1);
    const ruleOfA = rules.find((r) => r.Properties.EventPattern.detail.deploymentGroup[0].Ref === id(a.deploymentGroup))!;
    expect(ruleOfA.Properties.EventPattern).toMatchObject({ 'source': ['aws.codedeploy'], 'detail-type': ['CodeDeploy Deployment State-change Notification'] });
    const [target] = ruleOfA.Properties.Targets;
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 4 });
    expect(target.DeadLetterConfig).toBeDefined();
    // The input: the deployment and state from the event; the alias and its hooks from synth.
    expect(target.InputTransformer.InputPathsMap).toEqual({ 'detail-deploymentId': '$.detail.deploymentId', 'detail-state': '$.detail.state' });
    const [, parts] = target.InputTransformer.InputTemplate['Fn::Join'];
    expect(parts[0]).toBe('{"deploymentId":<detail-deploymentId>,"state":<detail-state>,"functionName":"');
    expect(parts.filter((p: Json) => p['Fn::GetAtt']).map((p: Json) => p['Fn::GetAtt'][0])).toEqual([id(purge), id(audit)]);
    expect(parts).toContain('","alias":"live","hooks":["');
  });

  test('the function may read the groups\' deployments and AppSpecs and the functions\' versions, and invoke the hooks (unqualified) only', () => {
    const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]: [string, Json]) => String(f.Properties.Description ?? '').startsWith('cdk-rollout-guardrails rollback hooks'))![1] as Json;
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: Json) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
      .flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
    const on = (action: string) => statements.filter((s: Json) => [s.Action].flat().includes(action)).flatMap((s: Json) => [s.Resource].flat());
    expect(on('lambda:InvokeFunction')).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [id(purge), 'Arn'] }, { 'Fn::GetAtt': [id(audit), 'Arn'] }]));
    expect(JSON.stringify(on('lambda:InvokeFunction'))).not.toContain(':*');
    expect(on('codedeploy:GetDeployment')).toHaveLength(2);
    expect(on('codedeploy:GetApplicationRevision').length).toBeGreaterThanOrEqual(1);
    // Any version of the aliases' own functions (the one rolled out is known only at run time), nothing else.
    expect(on('lambda:GetFunctionConfiguration').map((r: Json) => r['Fn::Join'][1][0]['Fn::GetAtt'][0]).sort()).toEqual([fnId('FnA'), fnId('FnB')].sort());
    expect(on('lambda:GetFunctionConfiguration').every((r: Json) => r['Fn::Join'][1][1] === ':*')).toBe(true);
    expect(statements.flatMap((s: Json) => [s.Action].flat())).not.toContain('lambda:UpdateAlias');
  });

  test('refuses hooks that are not functions, naming the prop and the value', () => {
    const s = testStack();
    expect(() => new GuardedAlias(s, 'X', { function: testFunction(s), rollbackHooks: ['arn:aws:lambda:eu-west-1:123456789012:function:purge' as never] }))
      .toThrow(/rollbackHooks must be an array of Lambda functions \(lambda\.IFunction\), got: \["arn:aws:lambda:eu-west-1:123456789012:function:purge"\]/);
    expect(() => new GuardedAlias(s, 'Y', { function: testFunction(s, 'Fn2'), rollbackHooks: testFunction(s, 'Lone') as never }))
      .toThrow(/rollbackHooks must be an array of Lambda functions \(lambda\.IFunction\), got: /);
  });
});

describe('the rollback-hooks function', () => {
  const codedeploy = mockClient(CodeDeployClient);
  const lambda = mockClient(LambdaClient);
  const INPUT = { deploymentId: 'd-FAILED', state: 'FAILURE', functionName: 'answer-fn', alias: 'live', hooks: ['arn:aws:lambda:eu-west-1:123456789012:function:purge', 'arn:aws:lambda:eu-west-1:123456789012:function:audit'] };
  const APPSPEC = JSON.stringify({ Resources: [{ answer: { Type: 'AWS::Lambda::Function', Properties: { Name: 'answer-fn', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }] });
  const handler = () => createRollbackHooksHandler({ codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), log: () => undefined });
  const invoked = () => lambda.commandCalls(InvokeCommand).map((c) => ({ ...c.args[0].input, Payload: JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString('utf8')) }));
  beforeEach(() => {
    codedeploy.reset();
    lambda.reset();
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', creator: 'user', revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'abc' } } } });
    codedeploy.on(GetApplicationRevisionCommand).resolves({ revision: { revisionType: 'AppSpecContent', appSpecContent: { content: APPSPEC } } });
    lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'answer-fn', Qualifier: '8' }).resolves({ Environment: { Variables: { RELEASE_ID: '2026-11-26.3' } } });
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
  });
  afterAll(() => {
    codedeploy.restore();
    lambda.restore();
  });

  test('invokes each hook asynchronously with the rolled-back version\'s release and its cache namespace', async () => {
    const result = await handler()(INPUT);
    const event = {
      source: 'cdk-rollout-guardrails', event: 'rollback', state: 'FAILURE', deploymentId: 'd-FAILED', functionName: 'answer-fn', alias: 'live',
      targetVersion: '8', currentVersion: '7', releaseId: '2026-11-26.3', cacheNamespace: 'rel-2026-11-26.3:',
    };
    expect(result).toEqual({ invoked: INPUT.hooks, event });
    expect(invoked()).toEqual(INPUT.hooks.map((FunctionName) => ({ FunctionName, InvocationType: 'Event', Payload: event })));
    // The release is the version's own, read from its configuration: not a value fixed at synth.
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0].args[0].input).toEqual({ FunctionName: 'answer-fn', Qualifier: '8' });
  });

  test('a version without RELEASE_ID: the hooks still run, told there is no release and no namespace', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: {} } });
    const result = await handler()(INPUT);
    expect(result).toMatchObject({ event: { releaseId: null, cacheNamespace: null } });
    expect(invoked()).toHaveLength(2);
  });

  test('leaves a rollback deployment\'s own failure alone: its target is the version users are back on', async () => {
    for (const info of [{ creator: 'codeDeployRollback' as const }, { creator: 'user' as const, rollbackInfo: { rollbackTriggeringDeploymentId: 'd-ORIGINAL' } }]) {
      codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', ...info } });
      const result = await handler()(INPUT);
      expect(result).toMatchObject({ skipped: expect.stringMatching(/^deployment d-FAILED is a rollback/) });
    }
    expect(invoked()).toEqual([]);
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(0);
  });

  test('a hook that cannot be invoked: the others still are, then the error is thrown for Lambda\'s retries and the dead-letter queue', async () => {
    lambda.on(InvokeCommand, { FunctionName: INPUT.hooks[0] }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    await expect(handler()(INPUT)).rejects.toThrow('Rate exceeded');
    expect(lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input.FunctionName)).toEqual(INPUT.hooks);
  });

  test('refuses an input that is not the rule\'s, and a deployment CodeDeploy does not know', async () => {
    await expect(handler()({ hello: 'world' } as never)).rejects.toThrow('expected the rollback rule\'s input { deploymentId, state, functionName, alias, hooks }, got: {"hello":"world"}');
    codedeploy.on(GetDeploymentCommand).resolves({});
    await expect(handler()(INPUT)).rejects.toThrow('deployment d-FAILED was not found');
  });
});
