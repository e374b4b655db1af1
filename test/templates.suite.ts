// Template-reading suites (cfn-lint, grant order, the probe's answer path and reuse construct), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import { App, CfnResource, Stack, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Template, Match } from 'aws-cdk-lib/assertions';
import * as path from 'path';
import * as fs from 'fs';
import * as os from 'os';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DemoStack } from '../bin/demo-stack';
import { dropRedundantRoleDependency } from '../lib/private/lint';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy, DeltaSProbeProps } from '../lib';
import { testFunction, testStack, FEATURE_FLAGS, testApp, TEST_APP_PROPS } from './util';
import { allowSynthWarningsInEachTest } from './helpers/console';
import { pointerOfPath } from '../lib/probe/validate-props';
import { PROBE_ANSWERS_TABLE_ENV } from '../packages/runtime/src/contract/probe';
import { RelevantControlTowerRules } from './helpers/guard-plugin';

describe('cfn-lint-clean', () => {
  process.env.CDK_VALIDATION = 'false';

  type Resources = Record<string, { Type: string; DependsOn?: string[]; Properties?: unknown; Metadata?: any }>;

  /** Logical ids a value references with Ref or Fn::GetAtt. */
  function referenced(value: unknown, into = new Set<string>()): Set<string> {
    if (Array.isArray(value)) value.forEach((v) => referenced(v, into));
    else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.Ref === 'string') into.add(o.Ref);
      const getAtt = o['Fn::GetAtt'];
      if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') into.add(getAtt[0]);
      Object.values(o).forEach((v) => referenced(v, into));
    }
    return into;
  }

  /** cfn-lint's W3005: a DependsOn entry the resource also references in its properties. */
  function redundantDependsOn(resources: Resources): string[] {
    return Object.entries(resources).flatMap(([id, r]) => {
      const refs = referenced(r.Properties);
      const ignored = r.Metadata?.['cfn-lint']?.config?.ignore_checks?.includes('W3005');
      return ignored ? [] : (r.DependsOn ?? []).filter((d) => refs.has(d)).map((d) => `${id} depends on ${d}, which it already references`);
    });
  }

  describe('cfn-lint with its default rules finds nothing on the library\'s resources (no ignore file)', () => {
    test('the example app: no resource repeats in DependsOn what it references, except the demo\'s own functions, which say why', () => {
      const app = new App();
      const stack = new DemoStack(app, 'Demo', { env: { account: '111111111111', region: 'eu-west-1' } });
      const resources = app.synth().getStackByName(stack.stackName).template.Resources as Resources;
      expect(redundantDependsOn(resources)).toEqual([]);
      // The library's functions and state machine still wait for their role's policy.
      const starter = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('StagedRolloutStarter'))!;
      expect(starter[1].DependsOn).toEqual([expect.stringMatching(/^StagedRolloutStarterServiceRoleDefaultPolicy/)]);
      const machine = Object.entries(resources).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')!;
      expect(machine[1].DependsOn).toEqual([expect.stringMatching(/^StagedRolloutStateMachineRoleDefaultPolicy/)]);
      // The demo's own functions keep aws-cdk-lib's DependsOn and carry cfn-lint's per-resource ignore instead.
      const answer = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('AnswerFunction'))!;
      expect(answer[1].Metadata['cfn-lint']).toEqual({ config: { ignore_checks: ['W3005'] } });
      expect(answer[1].DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^AnswerFunctionServiceRole[0-9A-F]{8}$/)]));
    });

    test('dropRedundantRoleDependency drops only the role: the policy and any dependency added later stay, in aws-cdk-lib\'s order', () => {
      const app = new App();
      const stack = new Stack(app, 'S');
      const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
      dropRedundantRoleDependency(fn);
      const later = new iam.Role(stack, 'Later', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      fn.node.addDependency(later);
      const resources = app.synth().getStackByName('S').template.Resources as Resources;
      const id = stack.getLogicalId(fn.node.defaultChild as CfnResource);
      expect(resources[id].DependsOn).toEqual([expect.stringMatching(/^FnServiceRoleDefaultPolicy/), expect.stringMatching(/^Later/)]);
      expect(redundantDependsOn(resources)).toEqual([]);
    });

    test('without it, aws-cdk-lib\'s function repeats its role (what cfn-lint flags), so the check above can fail', () => {
      const app = new App();
      const stack = new Stack(app, 'S');
      new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') })
        .addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
      const resources = app.synth().getStackByName('S').template.Resources as Resources;
      expect(redundantDependsOn(resources)).toEqual([expect.stringMatching(/^Fn[0-9A-F]{8} depends on FnServiceRole[0-9A-F]{8}, which it already references$/)]);
    });
  });
});

describe('grant-order', () => {
  // Every permission a hook or a machine needs for a deployment exists before CloudFormation updates the alias,
  // whose update starts the deployment (CFN-1, CFN-3). The grants scoped to the new version change with every
  // deployment, so each policy that names the version must be ordered before the alias: by a dependency of the
  // alias, direct or through the resources it depends on (a Ref or GetAtt anywhere in it, its update policy
  // included, or a DependsOn), as cfn-lint and CloudFormation read a template.
  type Json = any;
  const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));

  /** The logical IDs a resource names: Ref, GetAtt, and Refs inside Fn::Sub strings, anywhere in it, and its DependsOn. */
  function named(resource: Json): Set<string> {
    const out = new Set<string>([resource.DependsOn ?? []].flat());
    const walk = (v: Json): void => {
      if (Array.isArray(v)) { v.forEach(walk); return; }
      if (v === null || typeof v !== 'object') return;
      if (typeof v.Ref === 'string') out.add(v.Ref);
      if (Array.isArray(v['Fn::GetAtt'])) out.add(v['Fn::GetAtt'][0]);
      if (typeof v['Fn::GetAtt'] === 'string') out.add(v['Fn::GetAtt'].split('.')[0]);
      for (const x of Object.values(v)) walk(x);
    };
    walk({ p: resource.Properties, u: resource.UpdatePolicy });
    return out;
  }

  function closure(resources: Record<string, Json>, start: string): Set<string> {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length) {
      const id = stack.pop()!;
      for (const dep of named(resources[id] ?? {})) {
        if (resources[dep] && !seen.has(dep)) { seen.add(dep); stack.push(dep); }
      }
    }
    return seen;
  }

  function check(build: (stack: Stack) => GuardedAlias) {
    const stack = testStack();
    const guarded = build(stack);
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
    const aliasId = stack.resolve((guarded.alias.node.defaultChild as lambda.CfnAlias).logicalId) as string;
    const versionId = stack.resolve((guarded.version.node.defaultChild as lambda.CfnVersion).logicalId) as string;
    const before = closure(resources, aliasId);
    const onVersion = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && named(r).has(versionId))
      .map(([id]) => id);
    return { before, onVersion, resources, aliasId };
  }

  describe('grants are in place before the alias update starts the deployment', () => {
    // The blue-green case's probe cannot finish a hold run in its budget at one answer every 2 s: the library warns.
    allowSynthWarningsInEachTest(['cdk-rollout-guardrails:blueGreenProbeBudget']);
    const probe = (stack: Stack) => new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
    test.each([
      ['staged with a probe and a warm-up', (s: Stack) => new GuardedAlias(s, 'A', { function: testFunction(s), probe: probe(s), warmup: { provisionedConcurrency: 2 } })],
      ['canary with a probe and a warm-up', (s: Stack) => new GuardedAlias(s, 'A', { function: testFunction(s), probe: probe(s), warmup: { provisionedConcurrency: 2 }, strategy: RolloutStrategy.canary(10, Duration.minutes(5)) })],
      ['blue-green with a probe and a warm-up', (s: Stack) => new GuardedAlias(s, 'A', { function: testFunction(s), probe: probe(s), warmup: { provisionedConcurrency: 2 }, strategy: RolloutStrategy.blueGreen() })],
    ])('%s: every policy naming the new version is ordered before the alias', (_name, build) => {
      const { before, onVersion, resources, aliasId } = check(build);
      // The warm gate's, the probe's and (blue-green) the worker's grants name the version (with a canary the probe
      // runs the warm gate: one policy).
      expect(onVersion.length).toBeGreaterThanOrEqual(1);
      for (const id of onVersion) expect({ policy: id, orderedBeforeAlias: before.has(id) }).toEqual({ policy: id, orderedBeforeAlias: true });
      // And the alias's DependsOn repeats nothing a reference already says (cfn-lint W3005).
      const alias = resources[aliasId];
      const refs = named({ Properties: alias.Properties, UpdatePolicy: alias.UpdatePolicy });
      expect([alias.DependsOn ?? []].flat().filter((dep: string) => refs.has(dep))).toEqual([]);
    });

    test('the check is not empty: a policy outside the alias\'s dependencies is found', () => {
      const { before, resources, aliasId } = check((s) => new GuardedAlias(s, 'A', { function: testFunction(s), warmup: { provisionedConcurrency: 2 } }));
      // The staged safety net runs after a failure, not for the deployment to start: its policy is not before the alias.
      const net = Object.keys(resources).find((id) => id.startsWith('StagedRolloutSafetyNetServiceRoleDefaultPolicy'))!;
      expect(net).toBeDefined();
      expect(before.has(net)).toBe(false);
      expect(before.size).toBeGreaterThan(0);
      expect(resources[aliasId].Type).toBe('AWS::Lambda::Alias');
    });
  });
});

describe('probe-answer-path', () => {
  process.env.CDK_VALIDATION = 'false';

  const GOLD = [
    JSON.stringify({ id: 'q1', question: 'What is a canary release?', paraphrases: ['Define a canary release.', 'What does a canary release mean?'], target: 'A canary release moves a small share of traffic first.' }),
  ].join('\n');

  function probe(extra: Record<string, unknown>): DeltaSProbe {
    const stack = new Stack(new App(), 'S');
    return new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromJsonl(GOLD), ...extra } as any);
  }

  describe('DeltaSProbe answerPath: the library\'s one JSON path syntax (as ShadowIntegration\'s answerPath)', () => {
    test('is turned into the pointer the probe handler reads', () => {
      expect(probe({ answerPath: '$.data.items[0].text' }).config.answerPointer).toBe('/data/items/0/text');
      expect(probe({ answerPath: "$['a/b']['c~d']" }).config.answerPointer).toBe('/a~1b/c~0d');
      expect(probe({ answerPath: '$.list[2]' }).config.answerPointer).toBe('/list/2');
    });

    test('the default is the same answer as before ($.answer, /answer), and the deprecated answerPointer still works', () => {
      expect(probe({}).config.answerPointer).toBe('/answer');
      expect(pointerOfPath('$.answer')).toBe('/answer');
      expect(probe({ answerPointer: '/result/text' }).config.answerPointer).toBe('/result/text');
    });

    test('a path naming several values, or not a JSON path, is refused naming answerPath and the value', () => {
      expect(() => probe({ answerPath: '$.items[*].text' })).toThrow(/answerPath must be a JSON path to one value: \$, then \.name, \['name'\] or \[0\] steps, no \* or \.\., got: "\$\.items\[\*\]\.text"/);
      expect(() => probe({ answerPath: '/answer' })).toThrow(/answerPath must be a JSON path to one value.*got: "\/answer"/);
    });

    test('both at once are refused (they say the same thing)', () => {
      expect(() => probe({ answerPath: '$.answer', answerPointer: '/answer' }))
        .toThrow(/answerPointer must be left out when answerPath is set \(they say the same thing; answerPointer is deprecated\), got: "\/answer"/);
    });
  });
});

describe('probe-reuse-construct', () => {
  // DeltaSProbe reuseCurrentAnswers at synth: off by default (no table, the code asset as it was), on it adds the
  // answer table with its TTL and the probe's batched item reads and puts on that table only; a bad value is refused.
  const item = (id: string) => JSON.stringify({ id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.` });
  const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));
  allowSynthWarningsInEachTest(['cdk-rollout-guardrails:smallGoldSet']);

  function synth(props: Partial<DeltaSProbeProps> = {}) {
    const app = testApp();
    const stack = testStack(app);
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD, ...props });
    return { app, stack, probe, template: Template.fromStack(stack) };
  }

  /** Every statement of the probe function's role that names a DynamoDB action. */
  function dynamoStatements(template: Template): any[] {
    return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('dynamodb:')));
  }

  describe('DeltaSProbe reuseCurrentAnswers', () => {
    test('off by default: no table, no DynamoDB grant, no table variable, and the configuration written as before', () => {
      const { probe, template } = synth();
      template.resourceCountIs('AWS::DynamoDB::Table', 0);
      expect(dynamoStatements(template)).toEqual([]);
      expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toContain(PROBE_ANSWERS_TABLE_ENV);
      expect(probe.answerTable).toBeUndefined();
      expect(probe._runtimeConfig).not.toHaveProperty('reuseCurrentAnswers');
      expect(synth({ reuseCurrentAnswers: false }).probe._runtimeConfig).not.toHaveProperty('reuseCurrentAnswers');
    });

    test('on: an on-demand table keyed by id with TTL on expiresAt, on DynamoDB\'s AWS owned key, deleted with the stack', () => {
      const { stack, probe, template } = synth({ reuseCurrentAnswers: true });
      expect(probe.config.reuseCurrentAnswers).toBe(true);
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          // SSEEnabled false is how CloudFormation spells "encrypted with the AWS owned key" (register DDB-2).
          SSESpecification: { SSEEnabled: false },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
          DeletionProtectionEnabled: Match.absent(),
        },
        DeletionPolicy: 'Delete',
        UpdateReplacePolicy: 'Delete',
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { [PROBE_ANSWERS_TABLE_ENV]: { Ref: stack.getLogicalId(probe.answerTable!.node.defaultChild as any) } } },
      });
    });

    test('on: the probe may BatchGetItem and BatchWriteItem on its table and nothing else of DynamoDB', () => {
      const { stack, probe, template } = synth({ reuseCurrentAnswers: true });
      const tableId = stack.getLogicalId(probe.answerTable!.node.defaultChild as any);
      expect(dynamoStatements(template)).toEqual([{
        Action: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
      }]);
    });

    test('on: cdk-nag finds nothing unacknowledged; point-in-time recovery is acknowledged with its reason', () => {
      const app = testApp();
      new DeltaSProbe(testStack(app), 'Probe', { goldSet: GOLD, reuseCurrentAnswers: true });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const assembly = app.synth();
      const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
      const nag = report.pluginReports.find((r: any) => r.pluginName === 'AwsSolutions');
      expect(nag.violations).toEqual([]);
      expect(nag.suppressedViolations.map((v: any) => `${v.ruleName} at ${v.acknowledgedAt}`)).toContain('AwsSolutions-DDB3 at TestStack/Probe/AnswerTable');
    });

    test.each([['yes'], [1], [null]])('refuses reuseCurrentAnswers %p at synth, naming the prop and the value', (value) => {
      expect(() => synth({ reuseCurrentAnswers: value as any })).toThrow(
        `reuseCurrentAnswers must be a boolean (true only for a function that answers the same request and seed the same way), got: ${JSON.stringify(value)}`);
    });
  });

  describe('the answer table under AWS Control Tower\'s proactive controls (cfn-guard)', () => {
    test('leaves no open finding: point-in-time recovery and the AWS owned key are acknowledged with their reasons', () => {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-reuse-guard-'));
      try {
        const app = new App({ ...TEST_APP_PROPS, context: { ...FEATURE_FLAGS, '@aws-cdk/core:failSynthOnValidationErrors': false }, outdir });
        Validations.of(app).addPlugins(new RelevantControlTowerRules());
        new DeltaSProbe(testStack(app), 'Probe', { goldSet: GOLD, reuseCurrentAnswers: true });
        app.synth();
        const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
        const guard = report.pluginReports.find((r: any) => /cfnguard/i.test(r.pluginName));
        const atTable = (list: any[]) => list.filter((v) => JSON.stringify(v).includes('AnswerTable')).map((v) => v.ruleName).sort();
        expect(atTable(guard.violations)).toEqual([]);
        expect(atTable(guard.suppressedViolations)).toEqual(['dynamodb_table_encrypted_kms_check', 'dynamodb_table_pitr_enabled_check']);
      } finally {
        fs.rmSync(outdir, { recursive: true, force: true });
      }
    });
  });
});
