import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DeltaSProbe, GoldSet, GuardedAlias, ReleaseDashboard } from '../lib';
import { acknowledgeManagedPolicy, allowCdkRoleDependsOn, demoAnswerCode, DEMO_RUNTIME, REPO_ROOT } from './demo-support';
import { addShadowRoute, DemoShadowOptions, DemoShadowRoute } from './demo-shadow';

/** The demo's gold set: 54 questions × 3 paraphrases over the demo corpus. */
export const DEMO_GOLD_SET = path.join(REPO_ROOT, 'bin', 'gold-set.jsonl');

/** The revision of the demo's request and response schema. */
export const DEMO_SCHEMA_REV = '1';
/** The demo's "model": the hashed n-gram embedder it retrieves with. */
export const DEMO_MODEL_TAG = 'hashed-ngram-1024';

/** The demo's index is its bundled corpus: its hash changes exactly when the corpus does. */
export function demoIndexHash(): string {
  const corpus = fs.readFileSync(path.join(REPO_ROOT, 'lambdas', 'demo-answer', 'corpus.ts'), 'utf8');
  return `idx-${createHash('sha256').update(corpus).digest('hex').slice(0, 12)}`;
}

/** Properties of `DemoStack`. */
export interface DemoStackProps extends StackProps {
  /**
   * Deploy the drifted build of the demo (title-only retrieval, first-sentence answers), which the ΔS probe
   * rejects, so CodeDeploy rolls the release back.
   * @default - `DEMO_DRIFT=1` in the environment of `cdk deploy`
   */
  readonly drift?: boolean;
  /**
   * How the shadow route mirrors (bin/demo-shadow.ts).
   * @default - the same build as the live function, 10 % of reads, at most 5 replays a second
   */
  readonly shadow?: DemoShadowOptions;
}

/**
 * The example app: a demo answering service (lambdas/demo-answer) released through a GuardedAlias whose
 * ΔS probe runs before and after traffic moves, served by an API Gateway REST API whose integration
 * targets the alias, never $LATEST.
 *
 * `DEMO_DRIFT=1 npx cdk deploy` deploys the drifted build: the probe's BeforeAllowTraffic hook fails it
 * (ΔS drift, coverage and λ flips) and the stack rolls back; a normal deploy passes.
 */
export class DemoStack extends Stack {
  public readonly answerFunction: lambda.Function;
  public readonly guarded: GuardedAlias;
  public readonly probe: DeltaSProbe;
  /** The release dashboard of the stack. */
  public readonly dashboard: ReleaseDashboard;
  /** The shadow route and its mirroring (bin/demo-shadow.ts). */
  public readonly shadow: DemoShadowRoute;
  public readonly api: apigw.RestApi;

  constructor(scope: Construct, id: string, props?: DemoStackProps) {
    super(scope, id, props);
    const drift = props?.drift ?? process.env.DEMO_DRIFT === '1';

    this.answerFunction = new lambda.Function(this, 'AnswerFunction', {
      runtime: DEMO_RUNTIME,
      handler: 'index.handler',
      code: demoAnswerCode(),
      memorySize: 256,
      timeout: Duration.seconds(10),
      description: 'Demo answering service: answers questions from a bundled corpus',
      // Only the drifted build carries the flag, so the normal build's template is the same with or without it.
      environment: drift ? { DEMO_DRIFT: '1' } : undefined,
    });
    allowCdkRoleDependsOn(this.answerFunction);
    acknowledgeManagedPolicy(this.answerFunction, 'service-role/AWSLambdaBasicExecutionRole',
      'It only lets the function write CloudWatch Logs; the demo needs nothing else.');
    // AWS Control Tower's proactive controls (cfn-guard, bin/app.ts) on the demo's own resources.
    Validations.of(this.answerFunction).acknowledge(
      { id: 'cdk-validator-cfnguard::lambda_inside_vpc_check', reason: 'The demo answers from its bundled corpus and calls nothing; it has no network to be in.' },
      { id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check', reason: 'The demo logs answers from a public corpus; CloudWatch Logs\' own encryption at rest is enough.' },
    );

    // The rollback hook: a release that is rolled back has its cache namespace purged. The demo's answers are cached
    // per execution environment (cacheKey in lambdas/demo-answer), which dies with it, so its purge only logs.
    const purge = new lambda.Function(this, 'PurgeCanaryCache', {
      runtime: DEMO_RUNTIME,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async (event) => { console.log(JSON.stringify({ purge: event.cacheNamespace, release: event.releaseId, deployment: event.deploymentId })); };'),
      description: 'Demo rollback hook: purges the rolled-back release\'s cache namespace (the demo only logs it)',
    });
    allowCdkRoleDependsOn(purge);
    acknowledgeManagedPolicy(purge, 'service-role/AWSLambdaBasicExecutionRole', 'It only lets the function write CloudWatch Logs; the demo needs nothing else.');
    Validations.of(purge).acknowledge(
      { id: 'cdk-validator-cfnguard::lambda_inside_vpc_check', reason: 'The demo purge hook only logs; it has no network to be in.' },
      { id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check', reason: 'The demo purge hook logs a release ID; CloudWatch Logs\' own encryption at rest is enough.' },
    );

    this.probe = new DeltaSProbe(this, 'Probe', { goldSet: GoldSet.fromFile(DEMO_GOLD_SET) });
    this.guarded = new GuardedAlias(this, 'Answer', {
      function: this.answerFunction,
      probe: this.probe,
      // The four pins: requests carrying X-Schema-Rev, X-Index-Hash or X-Model-Tag must match them.
      release: { schemaRev: DEMO_SCHEMA_REV, indexHash: demoIndexHash(), modelTag: DEMO_MODEL_TAG },
      // Two provisioned environments on each published version; the staged machine checks each new version is warm before its first shift,
      // and the cold-start gate (≤ 5 % of the new release's invocations) watches the rollout.
      warmup: { provisionedConcurrency: 2 },
      rollbackHooks: [purge],
    });

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(accessLogs).acknowledge(
      { id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check', reason: 'The demo API\'s access logs are for watching a demo release; a month is enough.' },
      { id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check', reason: 'Access logs of a public demo API; CloudWatch Logs\' own encryption at rest is enough.' },
    );
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'Demo answering service behind a GuardedAlias',
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
      },
    });
    acknowledgeManagedPolicy(this.api, 'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      'The policy API Gateway documents for its account-level logging role, needed for the access and execution logs.');
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG3',
      reason: 'The demo API serves a bundled corpus with no user data; a WAF web ACL is left to the deployer.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG4',
      reason: 'The demo answering service is public by design; it reads only its bundled corpus.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-COG4',
      reason: 'The demo answering service is public by design; there are no users to authenticate.',
    });

    const integration = new apigw.LambdaIntegration(this.guarded.alias);
    const validator = new apigw.RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const answer = this.api.root.addResource('answer');
    const get = answer.addMethod('GET', integration, {
      requestParameters: { 'method.request.querystring.q': true },
      requestValidator: validator,
    });
    const post = answer.addMethod('POST', integration, {
      requestModels: {
        'application/json': new apigw.Model(this, 'QuestionModel', {
          restApi: this.api,
          contentType: 'application/json',
          schema: {
            type: apigw.JsonSchemaType.OBJECT,
            required: ['question'],
            properties: { question: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 2000 } },
          },
        }),
      },
      requestValidator: validator,
    });
    for (const method of [get, post]) {
      Validations.of(method).acknowledge({
        id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
        reason: 'False positive: API Gateway\'s permission on the alias has a SourceArn (this method\'s execute-api ARN), written as Fn::Join, which the rule does not read.',
      });
    }

    // A shadow route: a sample of GET /answer/mirrored reads replayed to a shadow build and scored by ΔS.
    this.shadow = addShadowRoute(this, props?.shadow);

    // One dashboard for the stack's releases: traffic weight, canary vs control, the probe, the shadow, the alarms.
    this.dashboard = new ReleaseDashboard(this, 'Releases');
  }
}
