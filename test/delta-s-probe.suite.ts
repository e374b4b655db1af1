import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeltaSProbe, DeltaSProbeProps, GoldSet, GuardedAlias, GuardrailsValidationError, ProbeEmbedder, RolloutStrategy, StagedRollout } from '../lib';
import { CodeDeployClient, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { mockClient } from './helpers/sdk-mock';
import { probeCode } from '../lib/private/probe-asset';
import { testApp, testFunction, testStack } from './util';
import { allowSynthWarningsInEachTest } from './helpers/console';

const item = (id: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.`, ...extra,
});
const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));

// A two-question gold set: every synth of a stack with this suite's probe prints the small-gold-set warning.
allowSynthWarningsInEachTest(['cdk-rollout-guardrails:smallGoldSet']);

function probe(stack: Stack = testStack(), props: Partial<DeltaSProbeProps> = {}, id = 'Probe') {
  return new DeltaSProbe(stack, id, { goldSet: GOLD, ...props });
}

function errorOf(props: Partial<DeltaSProbeProps>): string {
  try {
    probe(testStack(), props);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the props to be rejected');
}

function policyOf(stack: Stack, fn: lambda.Function): any[] {
  const t = Template.fromStack(stack);
  const policies = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: stack.getLogicalId(fn.role!.node.defaultChild as any) }] } }));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement;
}

function versionLogicalId(stack: Stack, fn: lambda.Function): string {
  const fnId = stack.resolve((fn.node.defaultChild as lambda.CfnFunction).ref);
  return Object.keys(Template.fromStack(stack).findResources('AWS::Lambda::Version', { Properties: { FunctionName: fnId } }))[0];
}

describe('DeltaSProbe', () => {
  test('ships the handler, its configuration and the gold set together in one code asset, named by their hash', () => {
    const code = probeCode(JSON.stringify({ seeds: 3 }), `${item('alpha')}\n`) as lambda.AssetCode;
    expect(fs.readdirSync(code.path).sort()).toEqual(['gold-set.jsonl', 'index.js', 'probe-config.json']);
    expect(JSON.parse(fs.readFileSync(path.join(code.path, 'probe-config.json'), 'utf8'))).toEqual({ seeds: 3 });
    expect(fs.readFileSync(path.join(code.path, 'gold-set.jsonl'), 'utf8')).toContain('"id":"alpha"');
    // Byte for byte (Buffer#equals: toEqual would compare the bundle's bytes one by one, about 3 s).
    expect(fs.readFileSync(path.join(code.path, 'index.js')).equals(fs.readFileSync(path.join(__dirname, '..', 'assets', 'probe', 'index.js')))).toBe(true);
    expect((probeCode(JSON.stringify({ seeds: 3 }), `${item('alpha')}\n`) as lambda.AssetCode).path).toBe(code.path);
    expect((probeCode(JSON.stringify({ seeds: 2 }), `${item('alpha')}\n`) as lambda.AssetCode).path).not.toBe(code.path);
  });

  test('the bundled handler reads its configuration and gold set from beside itself, and reports Failed on a denied deployment read', async () => {
    const p = probe();
    const staged = probeCode(JSON.stringify(p.config), `${item('alpha')}\n`) as lambda.AssetCode;
    // Under the package (assets/ is git-ignored), so that the bundle's external @aws-sdk/* resolve as in Lambda.
    const dir = fs.mkdtempSync(path.join(__dirname, '..', 'assets', 'bundle-test-'));
    try {
      for (const f of fs.readdirSync(staged.path)) fs.copyFileSync(path.join(staged.path, f), path.join(dir, f));
      const codedeploy = mockClient(CodeDeployClient);
      codedeploy.on(GetDeploymentCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
      codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
      const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const bundled = require(path.join(dir, 'index.js'));
      const result = await bundled.handler({ DeploymentId: 'd-1', LifecycleEventHookExecutionId: 'e-1' }, { getRemainingTimeInMillis: () => 60_000 });
      log.mockRestore();
      expect(result).toEqual({ status: 'Failed', reasons: ['the probe could not run: not authorized'] });
      expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input))
        .toEqual([{ deploymentId: 'd-1', lifecycleEventHookExecutionId: 'e-1', status: 'Failed' }]);
      expect(bundled.loadProbeFiles().gold.map((g: { id: string }) => g.id)).toEqual(['alpha']);
      expect(bundled.loadProbeFiles().config).toEqual(p.config);
      codedeploy.restore();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fills every default from the seeds\' acceptance targets', () => {
    const p = probe();
    expect(p.config).toEqual({
      requestTemplate: { question: '{{question}}', seed: '{{seed}}' },
      answerPointer: '/answer',
      seeds: 2,
      concurrency: 8,
      invokeTimeoutMs: 10_000,
      budgetMs: 300_000,
      metricNamespace: 'CdkRolloutGuardrails/Probe',
      gates: {
        maxDeltaS: 0.45, maxDeltaSDrift: 0.03, minCoverage: 0.7, maxLambdaFlips: 0, maxSchemaViolations: 0, maxInvokeErrors: 0,
        maxLatencyP95Ratio: 1.25, latencyAlpha: 0.05, latencyMinSamples: 20, requireLatencyVerdict: false,
      },
      embedder: { kind: 'hashed' },
    });
  });

  test('with Bedrock embeddings, may invoke that one foundation model and nothing else of Bedrock', () => {
    const stack = testStack();
    const p = probe(stack, { embedder: ProbeEmbedder.bedrock({ modelId: 'cohere.embed-english-v3' }) });
    expect(p.config.embedder).toEqual({ kind: 'bedrock', modelId: 'cohere.embed-english-v3', dimensions: undefined });
    expect(policyOf(stack, p.function)).toContainEqual({
      Action: 'bedrock:InvokeModel',
      Effect: 'Allow',
      Resource: 'arn:aws:bedrock:eu-west-1::foundation-model/cohere.embed-english-v3',
    });
    const other = testStack();
    expect(JSON.stringify(policyOf(other, probe(other).function))).not.toContain('bedrock');
  });

  test('runs for its budget, the last call\'s timeout and 20 s to report, and is retried twice by Lambda (a crashed run; a retry of a run that reported finds the hook completed)', () => {
    const stack = testStack();
    const p = probe(stack, { budget: Duration.minutes(10), invokeTimeout: Duration.millis(2500) });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', { Timeout: 623, Runtime: 'nodejs24.x', MemorySize: 512, TracingConfig: { Mode: 'Active' } });
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: stack.getLogicalId(p.function.node.defaultChild as any) }, MaximumRetryAttempts: 2, Qualifier: '$LATEST' });
  });

  test('may put metrics only in its own namespace', () => {
    const stack = testStack();
    const p = probe(stack, { metricNamespace: 'Team/Answers' });
    expect(policyOf(stack, p.function)).toContainEqual({
      Action: 'cloudwatch:PutMetricData', Effect: 'Allow', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'Team/Answers' } },
    });
  });

  test('fails synth on a bad gold set, naming the line and the field', () => {
    const bad = GoldSet.fromJsonl([item('alpha'), JSON.stringify({ id: 'beta', question: 'Q?', paraphrases: ['only one'], target: 'T' })].join('\n'));
    expect(() => probe(testStack(), { goldSet: bad })).toThrow(
      "DeltaSProbe 'TestStack/Probe' has 1 invalid prop:\n  - goldSet must be a valid gold set, got: inline JSON Lines: gold set line 2, field 'paraphrases': needs at least 2 paraphrases, got 1");
  });

  test('fails synth on a gold set file that does not exist, naming the file', () => {
    expect(errorOf({ goldSet: GoldSet.fromFile('/nonexistent/gold.jsonl') })).toContain('goldSet must be a valid gold set, got: file /nonexistent/gold.jsonl: ENOENT');
  });

  test('reads a gold set file at synth', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gold-')), 'gold.jsonl');
    fs.writeFileSync(file, `${item('gamma')}\n`);
    expect(probe(testStack(), { goldSet: GoldSet.fromFile(file) }).goldItems.map((g) => g.id)).toEqual(['gamma']);
  });

  test('warns when the gold set is smaller than the 50 questions the field guide asks for', () => {
    const stack = testStack();
    probe(stack);
    const warnings = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:warning'));
    expect(JSON.stringify(warnings)).toContain('the gold set has 2 questions; the canary field guide asks for 50 to 200');
  });

  test.each([
    [{ goldSet: 'gold.jsonl' as any }, 'goldSet must be a GoldSet (GoldSet.fromFile(path) or GoldSet.fromJsonl(text)), got: "gold.jsonl"'],
    [{ requestTemplate: { q: 'no placeholder' } }, 'requestTemplate must be a template with {{question}} somewhere in it, got: {"q":"no placeholder"}'],
    [{ requestTemplate: { question: '{{question}}', when: new Date(0) } }, 'requestTemplate must be a JSON value (objects, arrays, strings, numbers, booleans, null), got: [object Object]'],
    [{ answerPointer: 'answer' }, 'answerPointer must be an RFC 6901 JSON pointer ("" or starting with "/", "~" only as ~0 or ~1), got: "answer"'],
    [{ answerPointer: '/a~2' }, 'answerPointer must be an RFC 6901 JSON pointer ("" or starting with "/", "~" only as ~0 or ~1), got: "/a~2"'],
    [{ seeds: 0 }, 'seeds must be an integer from 1 to 10, got: 0'],
    [{ concurrency: 1.5 }, 'concurrency must be an integer from 1 to 64, got: 1.5'],
    [{ memorySize: 64 }, 'memorySize must be an integer from 128 to 10240, got: 64'],
    [{ budget: Duration.minutes(15) }, 'budget must be from 1 second to 14 minutes 40 seconds (Lambda\'s 15-minute timeout less 20 seconds kept to report), got: 15 minutes'],
    [{ invokeTimeout: Duration.minutes(6) }, 'invokeTimeout must be from 100 milliseconds to the budget (5 minutes), got: 6 minutes'],
    [{ budget: Duration.minutes(14), invokeTimeout: Duration.minutes(1) }, 'invokeTimeout must be at most 40 seconds with a budget of 14 minutes (budget, the last call\'s invokeTimeout and 20 seconds to report must fit Lambda\'s 15-minute timeout), got: 1 minute'],
    [{ metricNamespace: 'AWS/Lambda' }, 'metricNamespace must be 1 to 255 characters without ":", not starting with "AWS/", got: "AWS/Lambda"'],
    [{ embedder: 'titan' as any }, 'embedder must be a ProbeEmbedder (ProbeEmbedder.hashed() or ProbeEmbedder.bedrock()), got: "titan"'],
    [{ embedder: ProbeEmbedder.bedrock({ modelId: 'titan v2!' }) }, 'embedder.modelId must be a Bedrock model id such as "amazon.titan-embed-text-v2:0", got: "titan v2!"'],
    [{ embedder: ProbeEmbedder.bedrock({ dimensions: 768 }) }, 'embedder.dimensions must be one of 256, 512, 1024 (Titan Text Embeddings V2), got: 768'],
    [{ gates: { maxDeltaS: 3 } }, 'gates.maxDeltaS must be a number at least 0 and at most 2, got: 3'],
    [{ gates: { minCoverage: 1.2 } }, 'gates.minCoverage must be a number at least 0 and at most 1, got: 1.2'],
    [{ gates: { maxLambdaFlips: -1 } }, 'gates.maxLambdaFlips must be an integer from 0 to 100000, got: -1'],
    [{ gates: { latencyAlpha: 1 } }, 'gates.latencyAlpha must be a number greater than 0 and less than 1, got: 1'],
    [{ gates: { maxLatencyP95Ratio: 0 } }, 'gates.maxLatencyP95Ratio must be a number greater than 0 and at most 100, got: 0'],
    [{ gates: { requireLatencyVerdict: 'yes' as any } }, 'gates.requireLatencyVerdict must be a boolean, got: "yes"'],
    [{ gates: { maxDeltaSMedian: 0.4 } as any }, 'gates.maxDeltaSMedian must be one of maxDeltaS, maxDeltaSDrift, minCoverage, maxLambdaFlips, maxSchemaViolations, maxInvokeErrors, maxLatencyP95Ratio, latencyAlpha, latencyMinSamples, requireLatencyVerdict (unknown gate), got: "maxDeltaSMedian"'],
  ] as Array<[Partial<DeltaSProbeProps>, string]>)('rejects %j, naming the prop and quoting the value', (props, message) => {
    expect(errorOf(props)).toContain(`  - ${message}`);
  });

  test('reports every problem together in one GuardrailsValidationError', () => {
    let caught: unknown;
    try {
      probe(testStack(), { seeds: 11, concurrency: 0, answerPointer: 'x', gates: { maxDeltaS: -1 } });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GuardrailsValidationError);
    expect((caught as GuardrailsValidationError).message).toMatch(/^DeltaSProbe 'TestStack\/Probe' has 4 invalid props:\n/);
    expect((caught as GuardrailsValidationError).problems.map((p) => p.split(' ')[0])).toEqual(['answerPointer', 'seeds', 'concurrency', 'gates.maxDeltaS']);
  });

  test('accepts the boundaries of every range', () => {
    expect(() => probe(testStack(), {
      seeds: 10, concurrency: 64, memorySize: 128, budget: Duration.seconds(870), invokeTimeout: Duration.seconds(10),
      answerPointer: '', requestTemplate: '{{question}}', gates: { maxDeltaS: 0, minCoverage: 1, maxLambdaFlips: 0, latencyMinSamples: 1 },
    })).not.toThrow();
  });
});

describe('GuardedAlias with a probe', () => {
  /** A canary strategy, where the probe is the hook of both phases (the default staged one runs it from its state machine). */
  const CANARY = RolloutStrategy.canary(10, Duration.minutes(5));
  function setup(stack: Stack = testStack(), id = 'Guarded', p?: DeltaSProbe, strategy: RolloutStrategy = CANARY) {
    const fn = testFunction(stack, `${id}Fn`);
    const theProbe = p ?? probe(stack);
    const ga = new GuardedAlias(stack, id, { function: fn, probe: theProbe, strategy });
    return { stack, fn, ga, probe: theProbe };
  }

  test('with the default staged strategy, the starter is the BeforeAllowTraffic hook and the probe the AfterAllowTraffic one, run by the machine before each shift', () => {
    const stack = testStack();
    const fn = testFunction(stack, 'StagedFn');
    const p = probe(stack);
    new GuardedAlias(stack, 'Staged', { function: fn, probe: p });
    const ref = (f: lambda.IFunction) => ({ Ref: stack.getLogicalId(f.node.defaultChild as any) });
    const template = Template.fromStack(stack);
    template.hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: ref(StagedRollout.of(stack).starterFunction), AfterAllowTrafficHook: ref(p.function) } },
    });
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    expect(JSON.stringify(machine.Properties.DefinitionString)).toContain('probeFunctionArn');
  });

  test('runs the probe as both the BeforeAllowTraffic and the AfterAllowTraffic hook', () => {
    const { stack, probe: p } = setup();
    const probeRef = { Ref: stack.getLogicalId(p.function.node.defaultChild as any) };
    Template.fromStack(stack).hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: probeRef, AfterAllowTrafficHook: probeRef } },
    });
  });

  test('lets the probe invoke exactly the new and the control version, report only on this deployment group, and read its application\'s revisions', () => {
    const { stack, fn, ga, probe: p } = setup();
    const statements = policyOf(stack, p.function);
    const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction');
    const fnArn = { 'Fn::GetAtt': [stack.getLogicalId(fn.node.defaultChild as any), 'Arn'] };
    expect(invoke.Resource).toEqual(expect.arrayContaining([
      { Ref: versionLogicalId(stack, fn) },
      { 'Fn::Join': ['', [fnArn, ':', stack.resolve(ga.controlVersion)]] },
    ]));
    expect(invoke.Resource).toHaveLength(2);
    const codedeploy = statements.find((s) => JSON.stringify(s.Action).includes('PutLifecycleEventHookExecutionStatus'));
    expect(codedeploy.Action).toEqual(['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus']);
    expect(JSON.stringify(codedeploy.Resource)).toContain(stack.getLogicalId(ga.deploymentGroup.node.defaultChild as any));
    const revisions = statements.find((s) => s.Action === 'codedeploy:GetApplicationRevision');
    expect(JSON.stringify(revisions.Resource)).toContain(`:application:",{"Ref":"${stack.getLogicalId((ga.deploymentGroup.application as any).node.defaultChild)}"}`);
    expect(JSON.stringify(statements)).not.toContain(':*');
    // X-Ray's trace writes (active tracing) take no resource: the one statement on *, beside the metrics' (namespace-conditioned).
    expect(statements.filter((s) => s.Resource === '*').map((s) => s.Action)).toEqual([['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], 'cloudwatch:PutMetricData']);
    expect(statements).toHaveLength(5);
  });

  test('makes the alias wait for the probe\'s grants, which name this deployment\'s control version', () => {
    const { stack, ga, probe: p } = setup();
    const resources = Template.fromStack(stack).toJSON().Resources;
    const alias = resources[stack.getLogicalId(ga.alias.node.defaultChild as any)];
    const probeId = stack.getLogicalId(p.function.node.defaultChild as any);
    const policyId = Object.keys(resources).find((id) => /^ProbeFunctionServiceRoleDefaultPolicy/.test(id))!;
    expect(alias.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^ControlVersions/)]));
    // As a hook the probe is in the alias's update policy (a Ref, which orders the alias after it), and the probe
    // function depends on its policy: the grants come first without a redundant DependsOn (cfn-lint W3005).
    expect(alias.UpdatePolicy.CodeDeployLambdaAliasUpdate).toMatchObject({ BeforeAllowTrafficHook: { Ref: probeId }, AfterAllowTrafficHook: { Ref: probeId } });
    expect(resources[probeId].DependsOn).toContain(policyId);
    expect(alias.DependsOn).not.toContain(probeId);
    expect(alias.DependsOn).not.toContain(policyId);
    // Run by the blue-green machine the probe is no hook: the alias depends on it outright.
    const bg = setup(testStack(), 'Guarded', undefined, RolloutStrategy.blueGreen());
    const bgAlias = Template.fromStack(bg.stack).toJSON().Resources[bg.stack.getLogicalId(bg.ga.alias.node.defaultChild as any)];
    expect(bgAlias.DependsOn).toEqual(expect.arrayContaining([bg.stack.getLogicalId(bg.probe.function.node.defaultChild as any), expect.stringMatching(/^ControlVersions/)]));
  });

  test('lets the shared CodeDeploy role invoke the probe by its ARN only', () => {
    const { stack, probe: p } = setup();
    const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('RolloutGuardrailsDeploymentRole') } }))[0];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [stack.getLogicalId(p.function.node.defaultChild as any), 'Arn'] } },
    ]);
  });

  test('has the deployment group watch the probe\'s ΔS alarm on the new version, beside the gate alarm', () => {
    const { stack, fn, ga } = setup();
    const t = Template.fromStack(stack);
    expect(ga.alarms).toHaveLength(2);
    expect(ga.alarms).toContain(ga.probeAlarm);
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AlarmConfiguration: { Alarms: Match.arrayWith([{ Name: { Ref: stack.getLogicalId(ga.probeAlarm!.node.defaultChild as cloudwatch.CfnAlarm) } }]) },
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'CdkRolloutGuardrails/Probe',
      MetricName: 'DeltaSMedian',
      Threshold: 0.45,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: [
        { Name: 'Alias', Value: 'live' },
        { Name: 'FunctionName', Value: { Ref: stack.getLogicalId(fn.node.defaultChild as any) } },
        { Name: 'Version', Value: { 'Fn::GetAtt': [versionLogicalId(stack, fn), 'Version'] } },
      ],
    });
  });

  test('one probe serves every GuardedAlias of its stack: one probe function, grants for each', () => {
    const stack = testStack();
    const a = setup(stack, 'A');
    const b = setup(stack, 'B', a.probe);
    const t = Template.fromStack(stack);
    const probes = Object.values(t.findResources('AWS::Lambda::Function')).filter((f: any) => String(f.Properties.Description).includes('ΔS probe'));
    expect(probes).toHaveLength(1);
    const invoke = policyOf(stack, a.probe.function).filter((s) => s.Action === 'lambda:InvokeFunction').flatMap((s) => s.Resource);
    expect(invoke).toHaveLength(4);
    expect(JSON.stringify(invoke)).toContain(versionLogicalId(stack, a.fn));
    expect(JSON.stringify(invoke)).toContain(versionLogicalId(stack, b.fn));
  });

  test('lets a grantee run the probe directly, by invoking the probe function and nothing else', () => {
    const { stack, probe: p } = setup();
    const runner = testFunction(stack, 'Runner');
    p.grantRun(runner);
    const probeArn = { 'Fn::GetAtt': [stack.getLogicalId(p.function.node.defaultChild as any), 'Arn'] };
    expect(policyOf(stack, runner)).toEqual([{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [probeArn, { 'Fn::Join': ['', [probeArn, ':*']] }] }]);
  });

  test('refuses a probe of another stack', () => {
    const app = testApp();
    const p = probe(testStack(app, 'ProbeStack'));
    const other = testStack(app, 'Other');
    expect(() => new GuardedAlias(other, 'Guarded', { function: testFunction(other), probe: p })).toThrow(
      "DeltaSProbe 'ProbeStack/Probe' can only probe functions of its own stack (ProbeStack), got one in Other");
  });

  test('rejects a preTrafficHook or postTrafficHook beside the probe, saying why', () => {
    const stack = testStack();
    const p = probe(stack);
    const pre = testFunction(stack, 'Pre');
    const post = testFunction(stack, 'Post');
    expect(() => new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), probe: p, strategy: CANARY, preTrafficHook: pre, postTrafficHook: post })).toThrow(
      "GuardedAlias 'TestStack/Guarded' has 2 invalid props:\n"
      + "  - preTrafficHook must be left out when probe is set (the probe is both the BeforeAllowTraffic and the AfterAllowTraffic hook, and CodeDeploy runs one hook per phase; run your checks in their own deployment group or drop the probe), got: the construct at 'TestStack/Pre'\n"
      + "  - postTrafficHook must be left out when probe is set (the probe is both the BeforeAllowTraffic and the AfterAllowTraffic hook, and CodeDeploy runs one hook per phase; run your checks in their own deployment group or drop the probe), got: the construct at 'TestStack/Post'");
  });

  test('refuses a hook added after construction, naming the probe that holds the phase', () => {
    const { stack, ga } = setup();
    expect(() => ga.addPreTrafficHook(testFunction(stack, 'Pre'))).toThrow(
      "GuardedAlias 'TestStack/Guarded': preTrafficHook is already set to 'TestStack/Probe/Function'; CodeDeploy runs one BeforeAllowTraffic hook per deployment group");
  });

  test('rejects a probe that is not a DeltaSProbe', () => {
    const stack = testStack();
    expect(() => new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), probe: testFunction(stack, 'NotAProbe') as any })).toThrow(
      "probe must be a DeltaSProbe, got: the construct at 'TestStack/NotAProbe'");
  });

  test('leaves room for 8 more alarms, since the probe\'s ΔS alarm takes one of the 10', () => {
    const stack = testStack();
    const alarms = Array.from({ length: 9 }, (_, i) => new cloudwatch.Alarm(stack, `A${i}`, {
      metric: new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }), threshold: 1, evaluationPeriods: 1,
    }));
    expect(() => new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), probe: probe(stack), alarms })).toThrow(
      'alarms must be at most 8 alarms (CodeDeploy watches 10 per deployment group and the gate alarm and the probe take 2), got: 9 alarms');
  });

  test('adds one acknowledged cdk-nag finding per probe (PutMetricData has no resource-level permissions), nothing open', () => {
    const app = testApp();
    const stack = testStack(app);
    const { fn } = setup(stack);
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'test function: logs only',
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((r: any) => r.pluginName === 'AwsSolutions');
    expect(nag.violations).toEqual([]);
    expect(nag.suppressedViolations.map((v: any) => `${v.ruleName} at ${v.acknowledgedAt}`).filter((s: string) => s.includes('Probe')).sort()).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole] at TestStack/Probe/Function',
      'AwsSolutions-IAM5[Resource::*] at TestStack/Probe/Function',
    ]);
  });

  test('synthesises without a dependency cycle', () => {
    const app = testApp();
    setup(testStack(app));
    expect(app.synth().getStackByName('TestStack').template.Resources).toBeDefined();
  });

  test('takes an alias\'s own probe gates from its GuardedAlias gates, for that alias only', () => {
    const stack = testStack();
    const p = probe(stack);
    const strictFn = testFunction(stack, 'StrictFn');
    const plainFn = testFunction(stack, 'PlainFn');
    const strict = new GuardedAlias(stack, 'Strict', { function: strictFn, probe: p, gates: { maxDeltaS: 0.3, minCoverage: 0.8 } });
    const plain = new GuardedAlias(stack, 'Plain', { function: plainFn, probe: p });
    const t = Template.fromStack(stack).toJSON();
    const threshold = (ga: GuardedAlias) => t.Resources[stack.getLogicalId(ga.probeAlarm!.node.defaultChild as cloudwatch.CfnAlarm)].Properties.Threshold;
    expect(threshold(strict)).toBe(0.3);
    expect(threshold(plain)).toBe(0.45);
    const env = t.Resources[stack.getLogicalId(p.function.node.defaultChild as any)].Properties.Environment.Variables;
    const overrides = stack.resolve(env.GUARDRAILS_PROBE_GATE_OVERRIDES);
    // A JSON string built at deploy time around the function's generated name: one entry, for Strict only.
    const rendered = JSON.stringify(overrides);
    expect(rendered).toContain(JSON.stringify({ Ref: stack.getLogicalId(strictFn.node.defaultChild as any) }));
    expect(rendered).toContain('\\"maxDeltaS\\":0.3');
    expect(rendered).toContain('\\"minCoverage\\":0.8');
    expect(rendered).not.toContain(stack.getLogicalId(plainFn.node.defaultChild as any));
  });

  test('leaves the probe\'s environment alone when no alias sets its own gates', () => {
    const { stack, probe: p } = setup();
    const fnProps = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(p.function.node.defaultChild as any)].Properties;
    expect(fnProps.Environment).toBeUndefined();
  });
});

