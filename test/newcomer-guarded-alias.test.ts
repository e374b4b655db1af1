import { Annotations as CoreAnnotations, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { API_BYPASSES_ALIAS_WARNING, GuardedAlias, GuardrailsValidationError, RolloutStrategy } from '../lib';
import { captureSynthWarnings } from './helpers/console';
import { testFunction, testStack } from './util';

const CANARY = RolloutStrategy.canary(10, Duration.minutes(5));

/** The stack's bypass warnings; the report aws-cdk-lib prints at synth names the same ones, and nothing else. */
function bypassWarnings(stack: Stack) {
  const { result: annotations, warnings: printed } = captureSynthWarnings(() => Annotations.fromStack(stack));
  const warnings = annotations.findWarning('*', Match.stringLikeRegexp(API_BYPASSES_ALIAS_WARNING));
  expect(printed).toEqual(warnings.map(() => API_BYPASSES_ALIAS_WARNING));
  return warnings;
}

describe('two GuardedAliases of one alias name on one function', () => {
  test('are refused at synth, naming both constructs, the function and the alias name', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    new GuardedAlias(stack, 'First', { function: fn, strategy: CANARY });
    let error: unknown;
    try {
      new GuardedAlias(stack, 'Second', { function: fn, strategy: CANARY });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuardrailsValidationError);
    expect((error as GuardrailsValidationError).problems).toHaveLength(1);
    expect((error as Error).message).toBe("GuardedAlias 'TestStack/Second' has 1 invalid prop:\n"
      + "  - aliasName must be a name not already used on function 'TestStack/Answer' (GuardedAlias 'TestStack/First' already owns its alias \"live\"; "
      + 'Lambda allows one alias of a name per function, so CloudFormation would fail at deploy): give each GuardedAlias its own aliasName, got: "live"');
  });

  test('the duplicate is reported with the other problems of the props', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    new GuardedAlias(stack, 'First', { function: fn, aliasName: 'prod', strategy: CANARY });
    expect(() => new GuardedAlias(stack, 'Second', { function: fn, aliasName: 'prod', strategy: RolloutStrategy.canary(0, Duration.minutes(5)) }))
      .toThrow(/has 2 invalid props:\n {2}- strategy \(canary\) percent must be an integer from 1 to 99, got: 0\n {2}- aliasName must be a name not already used on function 'TestStack\/Answer' \(GuardedAlias 'TestStack\/First' already owns its alias "prod"/);
  });

  test('different alias names on one function, and one name on two functions, are fine', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    new GuardedAlias(stack, 'Live', { function: fn, strategy: CANARY });
    expect(() => new GuardedAlias(stack, 'Beta', { function: fn, aliasName: 'beta', strategy: CANARY })).not.toThrow();
    expect(() => new GuardedAlias(stack, 'OtherGuarded', { function: testFunction(stack, 'Other'), strategy: CANARY })).not.toThrow();
  });

  test('an alias of the same name made without a GuardedAlias (fn.addAlias) fails synth too, naming both', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
    fn.addAlias('live');
    expect(() => Annotations.fromStack(stack)).toThrow(/GuardedAlias 'TestStack\/Guarded': aliasName must be a name not already used on function 'TestStack\/Answer' \(the alias 'TestStack\/Answer\/Aliaslive' is also named "live"/);
  });
});

describe('an API wired to the guarded function instead of its alias', () => {
  test('REST: warns on the method whose integration calls the unqualified function, and not on one that calls the alias', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    const guarded = new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
    const api = new apigw.RestApi(stack, 'Api');
    api.root.addResource('direct').addMethod('GET', new apigw.LambdaIntegration(fn));
    api.root.addResource('through-alias').addMethod('GET', new apigw.LambdaIntegration(guarded.alias));
    const warnings = bypassWarnings(stack);
    expect(warnings.map((w) => w.id)).toEqual(['/TestStack/Api/Default/direct/GET/Resource']);
    expect(warnings[0].entry.data).toBe("this REST API method integration calls the function 'TestStack/Answer' itself (its unqualified ARN, i.e. $LATEST), "
      + "not the alias 'live' of GuardedAlias 'TestStack/Guarded': its traffic bypasses the rollout (no gate, no rollback; a new version reaches it the moment it is deployed). "
      + `Target the alias instead: new apigateway.LambdaIntegration(guarded.alias). [ack: ${API_BYPASSES_ALIAS_WARNING}]`);
  });

  test('HTTP API: warns on the integration that calls the unqualified function, and not on one that calls the alias', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    const guarded = new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
    const api = new apigwv2.HttpApi(stack, 'Http');
    api.addRoutes({ path: '/direct', methods: [apigwv2.HttpMethod.GET], integration: new HttpLambdaIntegration('Direct', fn) });
    api.addRoutes({ path: '/alias', methods: [apigwv2.HttpMethod.GET], integration: new HttpLambdaIntegration('Alias', guarded.alias) });
    const warnings = bypassWarnings(stack);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].id).toMatch(/^\/TestStack\/Http\/GET--direct\/Direct/);
    expect(warnings[0].entry.data).toContain("this HTTP API integration calls the function 'TestStack/Answer' itself");
    expect(warnings[0].entry.data).toContain('new HttpLambdaIntegration(id, guarded.alias)');
  });

  test('wiring everything to the alias gives no warning (REST, HTTP API, function URL, event source mapping)', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    const guarded = new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
    new apigw.RestApi(stack, 'Api').root.addMethod('GET', new apigw.LambdaIntegration(guarded.alias));
    new apigwv2.HttpApi(stack, 'Http', { defaultIntegration: new HttpLambdaIntegration('Alias', guarded.alias) });
    guarded.alias.addFunctionUrl();
    guarded.alias.addEventSource(new SqsEventSource(new sqs.Queue(stack, 'Queue')));
    expect(bypassWarnings(stack)).toEqual([]);
  });

  test('warns on a function URL and an event source mapping of the unqualified function', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
    fn.addFunctionUrl();
    fn.addEventSource(new SqsEventSource(new sqs.Queue(stack, 'Queue')));
    const warnings = bypassWarnings(stack);
    expect(warnings.map((w) => w.id).sort()).toEqual(['/TestStack/Answer/FunctionUrl/Resource', expect.stringMatching(/^\/TestStack\/Answer\/SqsEventSource:TestStackQueue[0-9A-F]{8}\/Resource$/)]);
    expect(warnings.map((w) => String(w.entry.data)).join('\n')).toMatch(/function URL calls[\s\S]*guarded\.alias\.addFunctionUrl\(\)[\s\S]*event source mapping calls|event source mapping calls[\s\S]*function URL calls/);
  });

  test('a function no GuardedAlias guards may be wired directly; the warning can be acknowledged', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'Answer');
    new GuardedAlias(stack, 'Guarded', { function: fn, strategy: CANARY });
    const api = new apigw.RestApi(stack, 'Api');
    api.root.addResource('health').addMethod('GET', new apigw.LambdaIntegration(testFunction(stack, 'Health')));
    api.root.addResource('direct').addMethod('GET', new apigw.LambdaIntegration(fn));
    const acknowledged = testStack();
    const fn2 = testFunction(acknowledged, 'Answer');
    new GuardedAlias(acknowledged, 'Guarded', { function: fn2, strategy: CANARY });
    const api2 = new apigw.RestApi(acknowledged, 'Api');
    api2.root.addMethod('GET', new apigw.LambdaIntegration(fn2));
    CoreAnnotations.of(api2).acknowledgeWarning(API_BYPASSES_ALIAS_WARNING, 'an internal health route');
    expect(bypassWarnings(stack).map((w) => w.id)).toEqual(['/TestStack/Api/Default/direct/GET/Resource']);
    expect(bypassWarnings(acknowledged)).toEqual([]);
  });

  test('the check is added once per stack, however many GuardedAliases it holds', () => {
    const stack = testStack();
    const a = testFunction(stack, 'A');
    const b = testFunction(stack, 'B');
    new GuardedAlias(stack, 'GA', { function: a, strategy: CANARY });
    new GuardedAlias(stack, 'GB', { function: b, strategy: CANARY });
    new apigw.RestApi(stack, 'Api').root.addMethod('GET', new apigw.LambdaIntegration(b));
    expect(Aspects.of(stack).all.filter((aspect) => aspect.constructor.name === 'AliasBypassCheck')).toHaveLength(1);
    const warnings = bypassWarnings(stack);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toContain("calls the function 'TestStack/B' itself");
    expect(warnings[0].entry.data).toContain("GuardedAlias 'TestStack/GB'");
  });
});
