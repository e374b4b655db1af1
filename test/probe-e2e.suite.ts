// End to end, in one process: the real probe hook handler (lambdas/probe/index.ts, configured exactly as the
// DeltaSProbe construct configures it) probes the real demo handler (lambdas/demo-answer), with the AWS SDK
// mocked at the client layer: Lambda Invoke is routed to the normal or the drifted demo build by version,
// CodeDeploy serves the deployment's AppSpec and takes the status, CloudWatch takes the metrics.
import * as fs from 'fs';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { InvokeCommand, InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import { BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { deployedProbe, DEMO_GOLD_FILE } from './helpers/probe-fixture';
import { createDemoHandler, firstSentence } from '../lambdas/demo-answer';
import { createHookHandler, embedderFor } from '../lambdas/probe/hook';
import { BedrockEmbedder, HashedNgramEmbedder, parseGoldSet } from '../packages/runtime/src/probe';

const GOLD_FILE = DEMO_GOLD_FILE;
const { probe, handler, remove } = deployedProbe('probe-e2e-');

const lambda = mockClient(LambdaClient);
const codedeploy = mockClient(CodeDeployClient);
const cloudwatch = mockClient(CloudWatchClient);

const builds: Record<string, ReturnType<typeof createDemoHandler>> = {
  '7': createDemoHandler({ release: 'v7' }),
  '8': createDemoHandler({ release: 'v8' }),
  '9': createDemoHandler({ release: 'v9-drifted', drift: true }),
  '10': createDemoHandler({ release: 'v10-slow' }),
};
/**
 * The Duration each version reports: in-process timings are noise (GC, the mocks), so the durations are
 * simulated, deterministic in the question (20 to 31 ms), and version 10 is a build 60 % slower.
 */
const simulatedDuration = (version: string, question: string) => (20 + (question.length % 12)) * (version === '10' ? 1.6 : 1);

/** An AppSpec as CloudFormation's CodeDeployLambdaAliasUpdate writes it (JSON, capitalised keys). */
function appSpec(current: string, target: string): string {
  return JSON.stringify({
    version: 0.0,
    Resources: [{ AnswerFunction: { Type: 'AWS::Lambda::Function', Properties: { Name: 'demo-answer', Alias: 'live', CurrentVersion: current, TargetVersion: target } } }],
  });
}

/**
 * What CodeDeploy answers for the deployment: GetDeployment names the revision by its sha256 with the
 * content null (as its API reference says), GetApplicationRevision returns the content.
 */
function serve(content: string) {
  const revision = { revisionType: 'AppSpecContent' as const, appSpecContent: { sha256: 'f00d' } };
  codedeploy.on(GetDeploymentCommand, { deploymentId: 'd-ABC123' }).resolves({ deploymentInfo: { applicationName: 'RolloutApp', deploymentGroupName: 'AnswerGroup', revision } });
  codedeploy.on(GetApplicationRevisionCommand, { applicationName: 'RolloutApp', revision }).resolves({ revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'f00d', content } } });
}

let logLines: string[];
let seenVersions: Set<string>;

function routeInvokes(slow: Record<string, number> = {}) {
  lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
    const build = builds[input.Qualifier!];
    if (!build) throw Object.assign(new Error(`Function not found: ${input.FunctionName}:${input.Qualifier}`), { name: 'ResourceNotFoundException' });
    if (slow[input.Qualifier!]) await new Promise((r) => setTimeout(r, slow[input.Qualifier!]));
    const request = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
    let payload: unknown;
    let functionError: string | undefined;
    try {
      payload = await build(request);
    } catch (error) {
      functionError = 'Unhandled';
      payload = { errorType: (error as Error).name, errorMessage: (error as Error).message };
    }
    // Lambda's own REPORT line, as LogType Tail returns it; the first call of a version is a cold start.
    const cold = !seenVersions.has(input.Qualifier!);
    seenVersions.add(input.Qualifier!);
    const report = `REPORT RequestId: r-1\tDuration: ${simulatedDuration(input.Qualifier!, String(request.question)).toFixed(2)} ms\tBilled Duration: 2 ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB${cold ? '\tInit Duration: 180.00 ms' : ''}`;
    return {
      StatusCode: 200,
      FunctionError: functionError,
      Payload: Buffer.from(JSON.stringify(payload)) as never,
      LogResult: Buffer.from(report).toString('base64'),
    };
  });
}

beforeEach(() => {
  lambda.reset();
  codedeploy.reset();
  cloudwatch.reset();
  seenVersions = new Set();
  logLines = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => { logLines.push(line); });
  routeInvokes();
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  cloudwatch.on(PutMetricDataCommand).resolves({});
});
afterEach(() => jest.restoreAllMocks());
afterAll(remove);

const event = { DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'exec-1' };
const context = (ms = 300_000) => ({ getRemainingTimeInMillis: () => ms });

function reportedStatus(): string[] {
  return codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => {
    expect(c.args[0].input).toMatchObject({ deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'exec-1' });
    return c.args[0].input.status!;
  });
}

function loggedReport(): any {
  const reports = logLines.map((l) => JSON.parse(l)).filter((l) => l.report === 'cdk-rollout-guardrails/delta-s-probe');
  expect(reports).toHaveLength(1);
  return reports[0];
}

describe('the ΔS probe hook against the demo service, end to end', () => {
  test('passes a new build that answers like the current one, and reports Succeeded once', async () => {
    serve(appSpec('7', '8'));
    const result = await handler(event, context());
    expect(result.status).toBe('Succeeded');
    expect(result.reasons).toEqual([]);
    expect(reportedStatus()).toEqual(['Succeeded']);

    const report = loggedReport();
    expect(report).toMatchObject({ verdict: 'pass', functionName: 'demo-answer', alias: 'live', versions: { new: '8', current: '7' } });
    // 54 questions × 4 texts × 2 seeds × 2 versions
    expect(report.plan).toEqual({ questions: 54, texts: 216, seeds: 2, invocations: 864, completed: 864 });
    expect(report.new).toMatchObject({ deltaSMedian: 0, coverageMedian: 1, schemaViolations: 0, invokeErrors: 0, coldStarts: 1 });
    expect(report.deltaSDrift).toBe(0);
    expect(report.lambdaFlips).toEqual([]);
    expect(report.gates.map((g: any) => [g.name, g.passed])).toEqual([
      ['complete', true], ['maxDeltaS', true], ['maxDeltaSDrift', true], ['minCoverage', true], ['maxLambdaFlips', true],
      ['maxSchemaViolations', true], ['maxInvokeErrors', true], ['latency', true],
    ]);
    // Each version's first call was cold and is left out of the latency judge: 431 warm samples each.
    expect(report.latency.test.nNew).toBe(431);
    expect(report.latencySamples.new).toHaveLength(431);
    expect(report.latencySamples.current).toHaveLength(431);
    expect(Math.min(...report.latencySamples.new)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...report.latencySamples.new)).toBeLessThanOrEqual(31);
    expect(Invokes().filter((i) => i.Qualifier === '8')).toHaveLength(432);
  });

  test('rejects the drifted build with the report\'s reasons: drift, coverage and λ flips, not the ΔS median', async () => {
    serve(appSpec('7', '9'));
    const result = await handler(event, context());
    expect(result.status).toBe('Failed');
    expect(reportedStatus()).toEqual(['Failed']);
    const report = loggedReport();
    expect(report.verdict).toBe('fail');
    if (process.env.SHOW_PROBE_REPORT) process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
    expect(result.reasons).toEqual(report.reasons);
    expect(report.reasons).toEqual([
      expect.stringMatching(/^maxDeltaSDrift: ΔS drift \(new median − current median\) 0\.2\d+ > 0\.03$/),
      expect.stringMatching(/^minCoverage: median coverage of the new version 0\.4\d+ < 0\.7$/),
      expect.stringMatching(/^maxLambdaFlips: λ flips 1\d > 0 \(/),
    ]);
    // The ΔS median alone would have let it through: that is why drift and coverage are gates too.
    expect(report.gates.find((g: any) => g.name === 'maxDeltaS')).toMatchObject({ passed: true });
    expect(report.new.deltaSMedian).toBeGreaterThan(0.25);
    expect(report.new.deltaSMedian).toBeLessThan(0.45);
    expect(report.current.deltaSMedian).toBe(0);
    expect(report.worstQuestions).toHaveLength(5);
    expect(report.worstQuestions[0].newDeltaS).toBeGreaterThan(0.5);
  });

  test('judges an alias by its own gates (GuardedAlias gates, from the environment) where it sets them', async () => {
    serve(appSpec('7', '9'));
    const saved = process.env.GUARDRAILS_PROBE_GATE_OVERRIDES;
    // Loose enough for the drifted build on all three gates it fails by default; another alias's entry is ignored.
    process.env.GUARDRAILS_PROBE_GATE_OVERRIDES = JSON.stringify({
      'demo-answer:live': { maxDeltaSDrift: 0.5, minCoverage: 0.3, maxLambdaFlips: 54 },
      'demo-answer:other': { maxDeltaS: 0 },
    });
    try {
      const result = await handler(event, context());
      expect(result.reasons).toEqual([]);
      expect(result.status).toBe('Succeeded');
      const report = loggedReport();
      expect(report.gates.find((g: any) => g.name === 'minCoverage')).toMatchObject({ passed: true, threshold: 0.3 });
      expect(report.gates.find((g: any) => g.name === 'maxDeltaS')).toMatchObject({ passed: true, threshold: 0.45 });
    } finally {
      if (saved === undefined) delete process.env.GUARDRAILS_PROBE_GATE_OVERRIDES; else process.env.GUARDRAILS_PROBE_GATE_OVERRIDES = saved;
    }
  });

  test('publishes every measurement and threshold under the probe\'s namespace, by function, alias and version', async () => {
    serve(appSpec('7', '9'));
    await handler(event, context());
    const calls = cloudwatch.commandCalls(PutMetricDataCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input.Namespace).toBe('CdkRolloutGuardrails/Probe');
    const datum = (name: string, version: string) => input.MetricData!.find((d) => d.MetricName === name
      && JSON.stringify(d.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: 'demo-answer' }, { Name: 'Alias', Value: 'live' }, { Name: 'Version', Value: version }]));
    expect(datum('DeltaSMedian', '7')?.Value).toBe(0);
    expect(datum('DeltaSMedian', '9')?.Value).toBeGreaterThan(0.25);
    expect(datum('CoverageMedian', '9')?.Value).toBeLessThan(0.7);
    expect(datum('MaxDeltaSThreshold', '9')?.Value).toBe(0.45);
    expect(datum('MinCoverageThreshold', '9')?.Value).toBe(0.7);
    expect(datum('MaxDeltaSDriftThreshold', '9')?.Value).toBe(0.03);
    expect(datum('LambdaFlips', '9')?.Value).toBeGreaterThan(9);
    expect(datum('ProbePassed', '9')?.Value).toBe(0);
  });

  test('rejects a build whose answers are right but 60 % slower, by the latency judge', async () => {
    serve(appSpec('7', '10'));
    const result = await handler(event, context());
    expect(result.status).toBe('Failed');
    expect(result.reasons).toEqual([
      expect.stringMatching(/^latency: latency judge fail: new version is significantly slower \(one-sided Mann-Whitney p = [0-9.e-]+ < 0\.05\) and beyond the p95 ratio \(p95 49\.6 vs 31, ratio 1\.6 > 1\.25\)$/),
    ]);
  });

  test('reads a YAML AppSpec with lower-case keys, as AWS documents it', async () => {
    const yaml = ['version: 0.0', 'resources:', '  - answer:', '      type: AWS::Lambda::Function', '      properties:',
      '        name: "demo-answer"', '        alias: "live"', '        currentversion: "7"', '        targetversion: "8"'].join('\n');
    serve(yaml);
    expect((await handler(event, context())).status).toBe('Succeeded');
    expect(new Set(Invokes().map((i) => `${i.FunctionName}:${i.Qualifier}`))).toEqual(new Set(['demo-answer:7', 'demo-answer:8']));
  });

  test('uses AppSpec content the deployment already carries (the deprecated String revision type) without a second call', async () => {
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'RolloutApp', revision: { revisionType: 'String', string: { content: appSpec('7', '8') } } } });
    expect((await handler(event, context())).status).toBe('Succeeded');
    expect(codedeploy.commandCalls(GetApplicationRevisionCommand)).toHaveLength(0);
  });

  test('reports Failed when the deployment cannot be read', async () => {
    codedeploy.on(GetDeploymentCommand).rejects(Object.assign(new Error('User is not authorized to perform: codedeploy:GetDeployment'), { name: 'AccessDeniedException' }));
    const result = await handler(event, context());
    expect(result).toEqual({ status: 'Failed', reasons: ['the probe could not run: User is not authorized to perform: codedeploy:GetDeployment'] });
    expect(reportedStatus()).toEqual(['Failed']);
    expect(Invokes()).toHaveLength(0);
  });

  test('reports Failed when the new version cannot be invoked, naming the invoke errors', async () => {
    serve(appSpec('7', '404'));
    const result = await handler(event, context());
    expect(result.status).toBe('Failed');
    expect(result.reasons).toContain('maxInvokeErrors: invoke errors of the new version 432 > 0');
    expect(loggedReport().examples[0]).toEqual({ side: 'new', id: 'canary-release', problem: 'Function not found: demo-answer:404' });
  });

  test('reports Failed before its own time runs out, when a call hangs', async () => {
    codedeploy.on(GetDeploymentCommand).callsFake(() => new Promise(() => undefined));
    const started = Date.now();
    // 20 s kept to report and 300 ms left before that: the watchdog reports while GetDeployment still hangs.
    const result = await handler(event, context(20_300));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.status).toBe('Failed');
    expect(result.reasons[0]).toMatch(/^the hook's own time is nearly out: 0 s spent, 20000 ms kept to report$/);
    expect(reportedStatus()).toEqual(['Failed']);
    expect(Invokes()).toHaveLength(0);
  });

  test('starts no call that could outlast its time, and fails as incomplete', async () => {
    routeInvokes({ '8': 50 });
    serve(appSpec('7', '8'));
    const started = Date.now();
    // 20 s kept to report, 10 s for the last call's timeout, 300 ms to start calls in.
    const result = await handler(event, context(30_300));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.status).toBe('Failed');
    expect(result.reasons).toEqual([expect.stringMatching(/^complete: only \d+ of 864 invocations ran before the time budget ran out$/)]);
    const ran = loggedReport().plan.completed;
    expect(ran).toBeGreaterThan(0);
    expect(ran).toBeLessThan(200);
    expect(reportedStatus()).toEqual(['Failed']);
  });

  test('runs directly, outside a deployment, returning the verdict and reporting to nobody', async () => {
    const result = await handler({ functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '9' }, context());
    expect(result.status).toBe('Failed');
    expect(result.reasons.map((r) => r.split(':')[0])).toEqual(['maxDeltaSDrift', 'minCoverage', 'maxLambdaFlips']);
    expect(result.report?.versions).toEqual({ new: '9', current: '7' });
    expect(codedeploy.calls()).toHaveLength(0);
    expect(cloudwatch.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  test('refuses an event that is neither a hook event nor a direct run, since there is nobody to report to', async () => {
    await expect(handler({ functionName: 'demo-answer', alias: 'live' } as never, context())).rejects.toThrow(
      /^expected a CodeDeploy lifecycle hook event with DeploymentId and LifecycleEventHookExecutionId, or a direct run with functionName, alias, currentVersion and targetVersion, got: \{"functionName":"demo-answer","alias":"live"\}$/);
    expect(codedeploy.calls()).toHaveLength(0);
  });

  test('retries a throttled status report rather than leave the deployment waiting', async () => {
    serve(appSpec('7', '8'));
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
      .resolves({});
    expect((await handler(event, context())).status).toBe('Succeeded');
    expect(reportedStatus()).toEqual(['Succeeded', 'Succeeded']);
  });
});

describe('the ΔS probe hook with Amazon Bedrock embeddings', () => {
  test('scores with the configured Bedrock model through InvokeModel, and rejects the drifted build with it too', async () => {
    const bedrock = mockClient(BedrockRuntimeClient);
    // Stand-in vectors: the hashed embedder's, as Titan's response body shape.
    const stand = new HashedNgramEmbedder();
    bedrock.on(InvokeModelCommand).callsFake(async (input) => ({
      body: new TextEncoder().encode(JSON.stringify({ embedding: stand.embedOne(JSON.parse(String(input.body)).inputText) })) as never,
    }));
    serve(appSpec('7', '9'));
    const gold = parseGoldSet(fs.readFileSync(GOLD_FILE, 'utf8')).slice(0, 6);
    const hook = createHookHandler({
      load: () => ({ config: { ...probe.config, embedder: { kind: 'bedrock', modelId: 'amazon.titan-embed-text-v2:0' } }, gold }),
      lambda: new LambdaClient({}),
      codedeploy: new CodeDeployClient({}),
      cloudwatch: new CloudWatchClient({}),
      log: () => undefined,
    });
    const result = await hook(event, context());
    expect(result.status).toBe('Failed');
    expect(result.reasons.map((r) => r.split(':')[0])).toEqual(expect.arrayContaining(['maxDeltaSDrift', 'minCoverage']));
    // One InvokeModel per distinct text over both versions: each of the 2 sections' targets (3 questions
    // each, and the current build's answers) once, plus the drifted build's first-sentence answers.
    const calls = bedrock.commandCalls(InvokeModelCommand);
    const embedded = calls.map((c) => JSON.parse(String(c.args[0].input.body)).inputText);
    expect(embedded.filter((text) => text === gold[0].target)).toHaveLength(1);
    expect(new Set(embedded).size).toBe(embedded.length);
    expect(embedded).toContain(firstSentence(gold[0].target));
    expect(new Set(calls.map((c) => c.args[0].input.modelId))).toEqual(new Set(['amazon.titan-embed-text-v2:0']));
    bedrock.restore();
  });

  test('names no embedder for the hashed default, a BedrockEmbedder of the model for Bedrock', () => {
    expect(embedderFor(probe._runtimeConfig)).toBeUndefined();
    const bedrockEmbedder = embedderFor({ ...probe._runtimeConfig, embedder: { kind: 'bedrock', modelId: 'cohere.embed-english-v3' } });
    expect(bedrockEmbedder).toBeInstanceOf(BedrockEmbedder);
    expect((bedrockEmbedder as BedrockEmbedder).modelId).toBe('cohere.embed-english-v3');
  });
});

function Invokes(): InvokeCommandInput[] {
  return lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
}
