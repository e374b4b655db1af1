// The pieces every integ app shares: a small gold set, an inline demo handler that a stack parameter turns good
// or bad, and the stack parameter itself. Nothing here is the library's: the apps use only its public API.
import * as path from 'path';
import { CfnParameter, Duration, Fn, RemovalPolicies, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** One gold question: a keyword the demo handler routes on, its wordings and the answer's section. */
interface GoldEntry {
  readonly id: string;
  /** A word every wording contains (lower case), so the handler finds the section without a model. */
  readonly keyword: string;
  readonly question: string;
  readonly paraphrases: [string, string, ...string[]];
  readonly target: string;
}

const GOLD: readonly GoldEntry[] = [
  {
    id: 'canary',
    keyword: 'canary',
    question: 'What is a canary release?',
    paraphrases: ['Can you explain what a canary release is?', 'What does a canary release of a function version mean?'],
    target: 'A canary release sends a small share of live traffic to the new version while the current version keeps serving everyone else; if the canary misbehaves, only a few users ever saw it.',
  },
  {
    id: 'rollback',
    keyword: 'rollback',
    question: 'What does a rollback do?',
    paraphrases: ['What happens during a rollback?', 'Explain what a rollback of a release does.'],
    target: 'A rollback moves every request back to the version users had before the release, and the failed version keeps no share of the traffic.',
  },
  {
    id: 'warm',
    keyword: 'warm',
    question: 'Why warm a new version before it takes traffic?',
    paraphrases: ['What is the point of a warm version?', 'Why should a version be warm before users reach it?'],
    target: 'Provisioned concurrency keeps execution environments initialised, so the first users of a new version do not pay for cold starts.',
  },
];

/** The gold set as JSON Lines, for `GoldSet.fromJsonl`. */
export const GOLD_SET_JSONL = GOLD.map(({ id, question, paraphrases, target }) => JSON.stringify({ id, question, paraphrases, target, topic: 'integ' })).join('\n');

/** A question the traffic generator and the API calls ask (one the gold set covers). */
export const SAMPLE_QUESTION = GOLD[0].question;

/**
 * The demo handler, inline. `RELEASE_LABEL` (the stack's `Release` parameter) decides how it behaves:
 * - `...-good`: answers from the gold set's sections (ΔS 0, full coverage), 50 ms a request, so both versions'
 *   p95 durations sit well above millisecond noise;
 * - `...-drift`: answers every question from the wrong section (the ΔS probe must reject it);
 * - `...-bad-live`: answers the probe (requests carrying `seed`) and warm pings, but throws on every other
 *   request: a regression on a path the gold set does not cover, which only the live gates can catch;
 * - `...-error`: throws on every request.
 * It also answers API Gateway (REST and HTTP API) events and SQS batches (as a queue consumer), and warm pings.
 */
export const DEMO_HANDLER_CODE = `
const SECTIONS = ${JSON.stringify(GOLD.map(({ keyword, target }) => ({ keyword, target })))};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
exports.handler = async (event) => {
  const release = process.env.RELEASE_LABEL || 'unknown';
  if (event && event['x-warm']) return { warm: true, release };
  if (event && Array.isArray(event.Records)) {
    if (release.endsWith('-error') || release.endsWith('-bad-live')) throw new Error('consumer regression in ' + release);
    return { batchItemFailures: [] };
  }
  const http = !!(event && event.requestContext);
  let body = event;
  if (http && typeof event.body === 'string') { try { body = JSON.parse(event.body); } catch { body = {}; } }
  const query = (event && event.queryStringParameters) || {};
  const question = String((body && body.question) || query.q || '');
  const fromProbe = !http && body && body.seed !== undefined;
  if (release.endsWith('-error')) throw new Error('release ' + release + ' fails every request');
  if (release.endsWith('-bad-live') && !fromProbe) throw new Error('release ' + release + ' fails live requests the gold set does not cover');
  let index = SECTIONS.findIndex((s) => question.toLowerCase().includes(s.keyword));
  if (release.endsWith('-drift') && index >= 0) index = (index + 1) % SECTIONS.length;
  await sleep(50);
  const answer = { answer: index >= 0 ? SECTIONS[index].target : 'I do not know.', release };
  return http ? { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer) } : answer;
};
`;

/** The stack parameter that decides the demo function's release; the assertions update the stack with another value. */
export const RELEASE_PARAMETER = 'Release';
/** What the stack is created with. */
export const FIRST_RELEASE = 'v1-good';

/** The `Release` parameter of `stack`. */
export function releaseParameter(stack: Stack): CfnParameter {
  return new CfnParameter(stack, RELEASE_PARAMETER, {
    type: 'String',
    default: FIRST_RELEASE,
    allowedPattern: '^v[0-9]+-(good|drift|bad-live|error)$',
    description: 'The demo release: v<n>-good, -drift, -bad-live or -error (see integ/support/demo.ts)',
  });
}

/**
 * Every log group of `stack` is deleted with it, the ones the library and aws-cdk-lib create with their default
 * `Retain` (the probe's, the control-version provider's, the mirror dispatchers') included: a test leaves nothing
 * behind. Only the log groups' removal policy changes; what is under test does not.
 */
export function destroyLogsWithStack(stack: Stack): void {
  RemovalPolicies.of(stack).destroy({ applyToResourceTypes: ['AWS::Logs::LogGroup'] });
}

/** A log group destroyed with the stack, so that `integ:deploy` leaves no log group of ours behind. */
export function destroyedLogGroup(scope: Construct, id: string): logs.LogGroup {
  return new logs.LogGroup(scope, id, { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
}

/**
 * The demo function of a stack, on the `Release` parameter. A new value changes the function's environment and
 * its version's description: CloudFormation replaces the `AWS::Lambda::Version` (its Description requires
 * replacement), so a new version is published and the alias update starts a CodeDeploy deployment, exactly
 * as a `cdk deploy` of changed code would.
 */
export function demoFunction(scope: Construct, id: string, release: CfnParameter): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(DEMO_HANDLER_CODE),
    memorySize: 256,
    timeout: Duration.seconds(10),
    description: 'cdk-rollout-guardrails integ: demo answering function',
    environment: { RELEASE_LABEL: release.valueAsString },
    currentVersionOptions: { description: Fn.join('', ['integ demo release ', release.valueAsString]) },
    logGroup: destroyedLogGroup(scope, `${id}Logs`),
  });
}

/** The repository root (for NodejsFunction's project root and lock file). */
export const REPO_ROOT = path.join(__dirname, '..', '..');

/**
 * A function of integ/support/handlers bundled at synth by NodejsFunction with the esbuild of devDependencies (no
 * Docker, no network), for handlers that use the library's runtime (`shadowTap`, `makeIdempotent`).
 */
export function bundledFunction(scope: Construct, id: string, handlerFile: string, props: { readonly description: string; readonly environment?: Record<string, string> }): nodejs.NodejsFunction {
  return new nodejs.NodejsFunction(scope, id, {
    entry: path.join(__dirname, 'handlers', handlerFile),
    runtime: lambda.Runtime.NODEJS_22_X,
    memorySize: 256,
    timeout: Duration.seconds(10),
    description: props.description,
    environment: props.environment,
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    bundling: { externalModules: ['@aws-sdk/*'], minify: true, sourceMap: false, target: 'node22', logLevel: nodejs.LogLevel.WARNING },
    logGroup: destroyedLogGroup(scope, `${id}Logs`),
  });
}
