// Assertion helpers shared by the integ apps: a second (and third) deployment of the stack under test through
// CloudFormation itself, the inspector function, and claims (each assertion carries the sentence it proves, which
// integ/run.ts prints next to its result).
import * as path from 'path';
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsApiCall, ExpectedResult, IApiCall, IntegTest, InvocationType, Match } from '@aws-cdk/integ-tests-alpha';
import { Construct } from 'constructs';
import { destroyedLogGroup, RELEASE_PARAMETER } from './demo';

/** Metadata type under which each assertion's claim is recorded in the cloud assembly (read by integ/run.ts). */
export const CLAIM_METADATA = 'integ:claim';

/** Records what `call` proves; integ/run.ts prints it next to the call's result. */
export function claim<T extends IApiCall>(call: T, sentence: string): T {
  call.node.addMetadata(CLAIM_METADATA, sentence);
  return call;
}

/** Chains the calls in order (each waits for the one before) and returns the last. */
export function chain(...calls: IApiCall[]): IApiCall {
  for (let i = 1; i < calls.length; i++) calls[i - 1].next(calls[i]);
  return calls[calls.length - 1];
}

/** How long a wait for a stack update may take: inside CloudFormation's one-hour limit on a custom resource. */
export const UPDATE_TIMEOUT = Duration.minutes(55);

/** Stack statuses that end an update, one way or the other. */
const UPDATE_ENDED = ['UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'UPDATE_ROLLBACK_FAILED', 'UPDATE_FAILED'];

/**
 * A new deployment of `stack` with the demo release `release`: CloudFormation's UpdateStack on the deployed template
 * with the `Release` parameter changed, exactly what `cdk deploy` of changed code does to the function and its
 * version (a new version, the alias update, CodeDeploy's deployment with the library's hooks, and a stack rollback
 * if it fails). Then a wait until the update has ended, and the claim about how it ended. `statusBefore` is the
 * stack's status before this update, when it is itself an update's end.
 *
 * CloudFormation performs the update with the service role the stack was deployed with (the CDK bootstrap's
 * cfn-exec role), as it does for any later operation on the stack; the PassRole grant below is for accounts whose
 * bootstrap requires it.
 */
export function deployRelease(integ: IntegTest, stack: Stack, release: string, expectedStatus: 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE',
  statusBefore?: 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE', during: IApiCall[] = []): { start: IApiCall; end: IApiCall } {
  const update = integ.assertions.awsApiCall('CloudFormation', 'updateStack', {
    StackName: stack.stackName,
    UsePreviousTemplate: true,
    Parameters: [
      { ParameterKey: RELEASE_PARAMETER, ParameterValue: release },
      { ParameterKey: 'BootstrapVersion', UsePreviousValue: true },
    ],
    Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
  });
  update.provider.addToRolePolicy({
    Effect: 'Allow',
    Action: ['iam:PassRole'],
    Resource: [`arn:${stack.partition}:iam::${stack.account}:role/cdk-*-cfn-exec-role-*`],
    Condition: { StringEquals: { 'iam:PassedToService': 'cloudformation.amazonaws.com' } },
  });
  const ended = claim(integ.assertions.awsApiCall('CloudFormation', 'describeStacks', { StackName: stack.stackName })
    // The status the stack had before this update does not end the wait (in case DescribeStacks still shows it); an
    // update that ends in that status anyway is caught by the wait's timeout.
    .assertAtPath('Stacks.0.StackStatus', ExpectedResult.stringLikeRegexp(`^(${UPDATE_ENDED.filter((s) => s !== statusBefore).join('|')})$`))
    .waitForAssertions({ totalTimeout: UPDATE_TIMEOUT, interval: Duration.seconds(30) }),
  `${stack.stackName}: the update to ${release} ends within ${UPDATE_TIMEOUT.toMinutes()} minutes`);
  const status = claim(integ.assertions.awsApiCall('CloudFormation', 'describeStacks', { StackName: stack.stackName })
    .assertAtPath('Stacks.0.StackStatus', ExpectedResult.exact(expectedStatus)),
  `${stack.stackName}: the update to ${release} ends ${expectedStatus}`);
  // `during`: calls made while the update runs (an operator's command), before the wait for its end.
  chain(update, ...during, ended, status);
  return { start: update, end: status };
}

/** Properties of {@link Inspector}. */
export interface InspectorProps {
  /** Functions whose aliases and versions it reads. */
  readonly functions?: lambda.IFunction[];
  /** Whether it reads CodeDeploy deployments (of any group of the account: CodeDeploy's list and batch reads take no group ARN for targets). */
  readonly deployments?: boolean;
  /** State machines whose executions it lists. */
  readonly stateMachineArns?: string[];
  /** Log groups whose "not gated" lines it reads. */
  readonly logGroupArns?: string[];
  /** Whether it reads CloudWatch metrics. */
  readonly metrics?: boolean;
  /** Whether it reads event source mappings. */
  readonly eventSourceMappings?: boolean;
  /** Stacks whose events it reads (to find when their latest update started). */
  readonly stacks?: Stack[];
}

/** The inspector function (integ/support/inspector): reads facts, judges nothing. Lives in the stack under test. */
export class Inspector extends Construct {
  public readonly function: lambda.Function;

  constructor(scope: Construct, id: string, props: InspectorProps) {
    super(scope, id);
    this.function = new lambda.Function(this, 'Function', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(path.join(__dirname, 'inspector')),
      memorySize: 256,
      timeout: Duration.seconds(90),
      description: 'cdk-rollout-guardrails integ: reads aliases, deployments, executions and logs for the assertions',
      logGroup: destroyedLogGroup(this, 'Logs'),
    });
    const allow = (actions: string[], resources: string[]) => this.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    const fnArns = (props.functions ?? []).flatMap((f) => [f.functionArn, `${f.functionArn}:*`]);
    if (fnArns.length > 0) allow(['lambda:GetAlias', 'lambda:GetFunctionConfiguration'], fnArns);
    if (props.eventSourceMappings) allow(['lambda:GetEventSourceMapping'], ['*']);
    if (props.deployments) {
      allow(['codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments', 'codedeploy:GetDeployment', 'codedeploy:ListDeploymentTargets',
        'codedeploy:BatchGetDeploymentTargets', 'codedeploy:GetDeploymentTarget'], ['*']);
    }
    if (props.stateMachineArns?.length) allow(['states:ListExecutions'], props.stateMachineArns);
    if (props.logGroupArns?.length) allow(['logs:FilterLogEvents'], props.logGroupArns);
    if (props.metrics) allow(['cloudwatch:GetMetricStatistics'], ['*']);
    const stackArns = (props.stacks ?? []).map((s) => Stack.of(this).formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${s.stackName}/*` }));
    if (stackArns.length > 0) allow(['cloudformation:DescribeStackEvents'], stackArns);
  }
}

/**
 * Invokes the inspector with `request` and expects its answer to contain `expected` (`Match.objectLike`: nested
 * objects partially, arrays element by element). `wait` retries until it does, for facts that settle after the
 * stack update (CodeDeploy's rollback deployment, a metric's datapoints).
 */
export function inspect(integ: IntegTest, inspector: Inspector, request: Record<string, unknown>, expected: Record<string, unknown>, sentence: string,
  wait?: Duration): IApiCall {
  const call = integ.assertions.invokeFunction({
    functionName: inspector.function.functionName,
    invocationType: InvocationType.REQUEST_RESPONSE,
    payload: JSON.stringify(request),
  }).expect(ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike(expected)) }));
  if (wait) call.waitForAssertions({ totalTimeout: wait, interval: Duration.seconds(20) });
  return claim(call, sentence);
}

/**
 * Records facts nobody can assert yet (docs/aws-behaviour.md's unknowns): invokes the inspector with `request` and
 * outputs each `facts` path of its answer as `Observed<name>` from the assertion stack; integ/run.ts prints them.
 * Judges nothing. Every path must be in every answer (the inspector's `observed` block always is).
 */
export function observe(integ: IntegTest, inspector: Inspector, request: Record<string, unknown>, facts: Record<string, string>): IApiCall {
  const call = integ.assertions.invokeFunction({
    functionName: inspector.function.functionName,
    invocationType: InvocationType.REQUEST_RESPONSE,
    payload: JSON.stringify(request),
  });
  for (const [name, at] of Object.entries(facts)) {
    new CfnOutput(Stack.of(call), `Observed${name}`, { value: call.getAttString(`Payload.${at}`), description: `Measured by ${call.node.path}` });
  }
  return call;
}

/** The inspector's `observed` block of a `deployments` answer, as outputs. */
export const ROLLBACK_OBSERVATIONS: Record<string, string> = {
  RollbackCreators: 'observed.rollbackCreators',
  HooksRanOnRollbacks: 'observed.hooksRanOnRollbacks',
  RollbackStartedAfterFailureSeconds: 'observed.rollbackStartedAfterFailureSeconds',
  RollbackTookSeconds: 'observed.rollbackTookSeconds',
};

/** Starts the traffic generator (asynchronously) against `alias` of `functionName` for `seconds`. */
export function startTraffic(integ: IntegTest, generator: lambda.IFunction, request: { functionName: string; alias: string; question: string; rps: number; seconds: number }): IApiCall {
  return integ.assertions.invokeFunction({
    functionName: generator.functionName,
    invocationType: InvocationType.EVENT,
    payload: JSON.stringify({ workers: 2, ...request }),
  });
}

/** The traffic generator (integ/support/traffic): calls an alias as users would, for up to 14 minutes. */
export function trafficGenerator(scope: Construct, id: string, target: lambda.Alias): lambda.Function {
  const fn = new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(path.join(__dirname, 'traffic')),
    memorySize: 256,
    timeout: Duration.minutes(15),
    retryAttempts: 0,
    description: 'cdk-rollout-guardrails integ: live traffic through the alias during a rollout',
    logGroup: destroyedLogGroup(scope, `${id}Logs`),
  });
  target.grantInvoke(fn);
  return fn;
}

/** Adds `statement` to the role of every assertion provider that `call` uses, including its waiter's. */
export function allowAssertion(call: IApiCall, statement: { Effect: 'Allow'; Action: string[]; Resource: string[] }): void {
  call.provider.addToRolePolicy(statement);
  (call as AwsApiCall).waiterProvider?.addToRolePolicy(statement);
}
