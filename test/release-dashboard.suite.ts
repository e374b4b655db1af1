// The release dashboard and identity suites (and the jsii mirrors), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { GoldItem as RuntimeGoldItem, ProbeGateConfig, WarmGateConfig as RuntimeWarmGateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { GuardedAlias, ReleaseDashboard, RolloutStrategy, GuardedAliasProps, DeltaSProbeGateConfig, GoldItem, NoDataAction, ProbeEmbedderKind, StagedRolloutMetric, WarmGateConfig } from '../lib';
import { DemoStack } from '../bin/demo-stack';
import { testApp, testFunction, testStack, TEST_ENV } from './util';
import { InMemoryIdempotencyStore, makeIdempotent, withRelease } from '../packages/runtime/src';
import { IDEMPOTENCY_METRICS, TELEMETRY_DIMENSIONS, TELEMETRY_NAMESPACE } from '../packages/runtime/src/contract';
import { HANDLER_RUNTIME } from '../lib/private/runtime';

describe('release-dashboard', () => {
  /** The dashboard body as CloudFormation will assemble it, with tokens left as their JSON. */
  function body(stack: Stack, dashboard: ReleaseDashboard): string {
    const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(dashboard.dashboard.node.defaultChild as cloudwatch.CfnDashboard)];
    return JSON.stringify(resource.Properties.DashboardBody);
  }

  /**
   * The dashboard body with the stack's tokens (function names, ARNs) replaced by placeholders, as JSON text,
   * so that its widgets can be read.
   */
  function dashboardBodyParts(stack: Stack, dashboard: ReleaseDashboard): string {
    const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(dashboard.dashboard.node.defaultChild as cloudwatch.CfnDashboard)];
    const body = resource.Properties.DashboardBody;
    if (typeof body === 'string') return body;
    return (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  }

  describe('ReleaseDashboard', () => {
    test('shows every GuardedAlias of the stack: weight, canary vs control, cold starts and its alarms', () => {
      const stack = testStack();
      const a = new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
      new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB') });
      const dashboard = new ReleaseDashboard(stack, 'Releases');
      const json = body(stack, dashboard);
      Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      for (const title of ['Traffic weight', 'Error rate: canary vs control', 'p95 duration: canary vs control (ms)', 'Cold-start share (%)', 'Cache hit rate (%)', 'Alarms that roll this release back']) {
        expect(json.split(title).length - 1).toBe(2);
      }
      expect(json).toContain('IF(FILL(ai, 0) > 0, 100 * FILL(ci, 0) / FILL(ai, 0), 0)');
      // The release's cache hit rate, from the runtime's reportCacheLookup metrics by function and release.
      expect(json).toContain('IF(FILL(lookups, 0) > 0, 100 * FILL(hits, 0) / FILL(lookups, 0), 0)');
      for (const metric of ['CacheLookups', 'CacheHits']) expect(json.split(metric).length - 1).toBe(2);
      expect(json).toContain(stack.resolve(a.releaseId));
      // The alarm widget lists every alarm the deployment group watches, by ARN.
      for (const alarm of a.alarms) expect(json).toContain(stack.getLogicalId((alarm as cloudwatch.Alarm).node.defaultChild as cloudwatch.CfnAlarm));
    });

    test('graphs stage 0 of a staged alias (ShadowPromotion: 1 passed shadow, 0 refused) beside its gate decisions', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
      const widgets = JSON.parse(dashboardBodyParts(stack, new ReleaseDashboard(stack, 'Releases'))).widgets;
      const decisions = widgets.find((w: any) => w.properties?.title?.startsWith('Staged gate decisions'));
      expect(decisions.properties.title).toContain('stage 0 (1 passed shadow, 0 refused)');
      expect(JSON.stringify(decisions.properties.metrics)).toContain('ShadowPromotion');
    });

    test('shows the invocations a minute the gate alarms need against those the canary and the control served', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
      new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)), gates: { minInvocationsPerMinute: 60 } });
      const dashboard = new ReleaseDashboard(stack, 'Releases');
      const widgets = JSON.parse(dashboardBodyParts(stack, dashboard)).widgets;
      const samples = widgets.filter((w: any) => w.properties?.title?.startsWith('Gate samples'));
      expect(samples.map((w: any) => w.properties.title)).toEqual([
        'Gate samples: invocations a minute (gates judge at ≥ 100)',
        'Gate samples: invocations a minute (gates judge at ≥ 60)',
      ]);
      for (const [widget, min] of [[samples[0], 100], [samples[1], 60]] as const) {
        expect(widget.properties.annotations.horizontal).toEqual([expect.objectContaining({ value: min, yAxis: 'left' })]);
        expect(widget.properties.annotations.horizontal[0].label).toContain('below it the gate alarms cannot judge');
        const metrics = JSON.stringify(widget.properties.metrics);
        expect(metrics).toContain('Canary invocations/min');
        expect(metrics).toContain('FILL(ai, 0) - FILL(ci, 0)');
        expect(metrics).toContain('Control invocations/min');
      }
    });

    test('keeps a line per metric gate, though the three share one alarm: which gate breached, and the alarm\'s gate code', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
      const widgets = JSON.parse(dashboardBodyParts(stack, new ReleaseDashboard(stack, 'Releases'))).widgets;
      const gates = widgets.filter((w: any) => w.properties?.title?.startsWith('Gates breached'));
      expect(gates).toHaveLength(1);
      const metrics = JSON.stringify(gates[0].properties.metrics);
      for (const label of ['maxErrorRateDelta (code 1)', 'maxP95Ratio (code 2)', 'maxErrorRate (code 4)', 'gate code (the gate alarm\'s value)']) expect(metrics).toContain(label);
      expect(metrics).toContain('> 0.01, 1, 0)');
    });

    test('shows the rollout machinery\'s dead-letter queue and its alarm once, for the staged and blue-green machineries and the rollback hooks', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
      new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), strategy: RolloutStrategy.blueGreen() });
      const text = body(stack, new ReleaseDashboard(stack, 'Releases'));
      expect(text.match(/Rollout machinery/g)).toHaveLength(1);
      expect(text).toContain('Dead-letter queue: events not processed');
      expect(text).toContain('staged rollout: messages');
      expect(text).toContain('blue-green switch: messages');
      expect(text).toContain('ApproximateNumberOfMessagesVisible');
      expect(text).toContain('StagedRolloutFailedEventsAlarm');
      expect(text).toContain('BlueGreenSwitchFailedEventsAlarm');
      expect(text).not.toContain('rollback hooks: messages');
      // The rollback hooks' queue and alarm join the row when an alias has rollbackHooks.
      const hooked = testStack();
      new GuardedAlias(hooked, 'C', { function: testFunction(hooked, 'FnC'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)), rollbackHooks: [testFunction(hooked, 'Purge')] });
      const hookedText = body(hooked, new ReleaseDashboard(hooked, 'Releases'));
      expect(hookedText).toContain('rollback hooks: messages');
      expect(hookedText).toContain('RollbackHooksFailedEventsAlarm');
      // Without a machinery (no GuardedAlias), no such row.
      const bare = testStack();
      expect(body(bare, new ReleaseDashboard(bare, 'Releases'))).not.toContain('Rollout machinery');
    });

    test('shows only the aliases it is given', () => {
      const stack = testStack();
      const a = new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
      new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB') });
      const json = body(stack, new ReleaseDashboard(stack, 'OnlyA', { aliases: [a] }));
      expect(json).toContain('TestStack/A');
      expect(json).not.toContain('TestStack/B');
    });

    test('takes aliases added later, and refuses one twice', () => {
      const stack = testStack();
      const a = new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
      const dashboard = new ReleaseDashboard(stack, 'Releases');
      const b = new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB') });
      expect(() => dashboard.addAlias(a)).toThrow("ReleaseDashboard 'TestStack/Releases' already shows 'TestStack/A'");
      dashboard.addAlias(b);
      expect(body(stack, dashboard)).toContain('TestStack/B');
    });

    test('adds the staged gate decisions and the weight the machine set for a staged alias', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'Staged', { function: testFunction(stack), strategy: RolloutStrategy.staged() });
      const json = body(stack, new ReleaseDashboard(stack, 'Releases'));
      expect(json).toContain('Staged gate decisions');
      expect(json).toContain('TrafficWeight');
      expect(json).toContain('StepDecision');
    });

    test('in the example app, shows traffic weight, the probe\'s ΔS and the gate alarms, and the shadow\'s drift', () => {
      const stack = new DemoStack(testApp(), 'Demo', { env: TEST_ENV });
      const json = body(stack, stack.dashboard);
      expect(json).toContain('Traffic weight');
      expect(json).toContain('DeltaSMedian');
      expect(json).toContain('LambdaFlips');
      expect(json).toContain('Shadow ΔS vs live');
      expect(json).toContain('ShadowDeltaS');
      for (const alarm of stack.guarded.alarms) expect(json).toContain(stack.getLogicalId((alarm as cloudwatch.Alarm).node.defaultChild as cloudwatch.CfnAlarm));
    });
  });
});

describe('release-dashboard-idempotency', () => {
  // The ReleaseDashboard's retries and dedupe hits by release: two widgets per GuardedAlias, each a SEARCH over the
  // telemetry the runtime's idempotency helpers add to the withRelease record, read back from the synthesized template.
  /** The dashboard's widgets, with each token replaced by its JSON in angle brackets: `<{"Ref":"FnA..."}>`. */
  function widgetsOf(stack: Stack, dashboard: ReleaseDashboard): any[] {
    const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(dashboard.dashboard.node.defaultChild as cloudwatch.CfnDashboard)];
    const body = resource.Properties.DashboardBody;
    const text = typeof body === 'string' ? body
      : (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part).replace(/"/g, "'")}>`)).join('');
    return JSON.parse(text).widgets;
  }

  const TITLES = {
    dedupe: 'Dedupe hits by release (a minute, from the idempotency helpers)',
    retries: 'Retries by release (a minute: SQS redeliveries, keys seen again)',
  };

  /** The search expression a widget graphs (its only metric). */
  function searchOf(widget: any): { expression: string; label: string; period: number } {
    expect(widget.properties.metrics).toHaveLength(1);
    return widget.properties.metrics[0][0];
  }

  describe('ReleaseDashboard: retries and dedupe hits by release', () => {
    test('each GuardedAlias gets both widgets, each a SEARCH by release over its own function, summed a minute', () => {
      const stack = testStack();
      const fnA = testFunction(stack, 'FnA');
      const fnB = testFunction(stack, 'FnB');
      new GuardedAlias(stack, 'A', { function: fnA });
      new GuardedAlias(stack, 'B', { function: fnB });
      const widgets = widgetsOf(stack, new ReleaseDashboard(stack, 'Releases'));

      for (const [title, metric] of [[TITLES.dedupe, IDEMPOTENCY_METRICS.dedupeHits], [TITLES.retries, IDEMPOTENCY_METRICS.retries]] as const) {
        const found = widgets.filter((w) => w.properties?.title === title);
        expect(found).toHaveLength(2);
        found.forEach((widget, i) => {
          const fnRef = `<{'Ref':'${stack.getLogicalId(([fnA, fnB][i]).node.defaultChild as any)}'}>`;
          const search = searchOf(widget);
          // The schema is the by-release dimension set of every withRelease record: one line per release, and the
          // by-revision set (a superset of dimensions) is not matched, so nothing is counted twice.
          expect(search.expression).toBe(
            `SEARCH('{${TELEMETRY_NAMESPACE},${TELEMETRY_DIMENSIONS[0].join(',')}} MetricName="${metric}" FunctionName="${fnRef}"', 'Sum', 60)`,
          );
          expect(search.label).toMatch(/^\$\{PROP\('Dim\.ReleaseId'\)\} /);
          expect(search.period).toBe(60);
          expect(widget.properties.yAxis).toEqual({ left: { min: 0 } });
        });
      }
    });

    test('the widgets share a row with the cache hit rate, and no widget of the alias\'s row overlaps another or the grid\'s edge', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA') });
      const widgets = widgetsOf(stack, new ReleaseDashboard(stack, 'Releases'));
      const row = (title: string) => widgets.find((w) => w.properties?.title === title);
      const cache = row('Cache hit rate (%)');
      expect([row(TITLES.dedupe).y, row(TITLES.retries).y]).toEqual([cache.y, cache.y]);
      expect([cache.x, row(TITLES.dedupe).x, row(TITLES.retries).x]).toEqual([0, 8, 16]);
      for (const w of widgets) expect(w.x + w.width).toBeLessThanOrEqual(24);
      for (const a of widgets) {
        for (const b of widgets) {
          if (a === b) continue;
          const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
          expect(apart).toBe(true);
        }
      }
    });

    test('what the widgets search for is what the runtime writes: the metric names under the [FunctionName, ReleaseId] set', async () => {
      const lines: string[] = [];
      const handler = withRelease(makeIdempotent(async () => 'ok', { store: new InMemoryIdempotencyStore(), key: () => 'k' }),
        { functionName: 'orders', release: { RELEASE_ID: 'rel-9' }, revision: '3', sink: (line) => { lines.push(line); } });
      await handler({});
      await handler({});
      const record = JSON.parse(lines[1]);
      const [directive] = record._aws.CloudWatchMetrics;
      expect(directive.Namespace).toBe(TELEMETRY_NAMESPACE);
      expect(directive.Dimensions).toContainEqual(['FunctionName', 'ReleaseId']);
      expect(directive.Metrics.map((m: { Name: string }) => m.Name)).toEqual(expect.arrayContaining([IDEMPOTENCY_METRICS.dedupeHits, IDEMPOTENCY_METRICS.retries]));
      expect(record).toMatchObject({ FunctionName: 'orders', ReleaseId: 'rel-9', DedupeHits: 1, Retries: 1 });
    });
  });
});

describe('release-identity', () => {
  interface Build {
    readonly code?: string;
    readonly memorySize?: number;
    readonly env?: Record<string, string>;
    readonly release?: GuardedAliasProps['release'];
  }

  /** Synthesises one guarded function and returns its template's function and version resources. */
  function build(options: Build = {}) {
    const stack = testStack();
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: HANDLER_RUNTIME,
      handler: 'index.handler',
      code: lambda.Code.fromInline(options.code ?? 'exports.handler = async () => 1;'),
      memorySize: options.memorySize,
      timeout: Duration.seconds(5),
      environment: options.env,
    });
    const ga = new GuardedAlias(stack, 'Guarded', { function: fn, release: options.release });
    const t = Template.fromStack(stack).toJSON();
    const [versionId, version] = Object.entries(t.Resources).find(([, r]: [string, any]) => r.Type === 'AWS::Lambda::Version') as [string, any];
    const fnResource = t.Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)];
    return { stack, ga, fn: fnResource, version, versionId, releaseId: fnResource.Properties.Environment.Variables.RELEASE_ID as string };
  }

  function errorOf(release: unknown): string {
    try {
      build({ release: release as any });
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected the release to be rejected');
  }

  describe('GuardedAlias release identity', () => {
    /** One synth of the default build, for the tests that only read it (a synth of a GuardedAlias is the costly part). */
    let base: ReturnType<typeof build>;
    beforeAll(() => { base = build(); });

    test('gives every version a RELEASE_ID that is stable while code and configuration are', () => {
      // Two separate builds: the second must come out the same.
      const a = build();
      const b = build();
      expect(a.releaseId).toMatch(/^rel-[0-9a-f]{12}$/);
      expect(b.releaseId).toBe(a.releaseId);
      expect(b.versionId).toBe(a.versionId);
    });

    test.each([
      ['the code', { code: 'exports.handler = async () => 2;' }],
      ['the memory', { memorySize: 512 }],
      ['another environment variable', { env: { FEATURE: 'on' } }],
    ])('changes RELEASE_ID, and so publishes a new version, when %s changes', (_what, change) => {
      const after = build(change);
      expect(after.releaseId).not.toBe(base.releaseId);
      expect(after.versionId).not.toBe(base.versionId);
    });

    test('carries the pins in the environment, the version\'s description and the function\'s tag', () => {
      const { fn, version, ga } = build({ release: { releaseId: 'r-2026.11.22', schemaRev: '7', indexHash: '0x9a77', modelTag: 'titan-v2' } });
      expect(fn.Properties.Environment.Variables).toEqual({ RELEASE_ID: 'r-2026.11.22', SCHEMA_REV: '7', INDEX_HASH: '0x9a77', MODEL_TAG: 'titan-v2' });
      expect(version.Properties.Description).toBe('release r-2026.11.22; SCHEMA_REV=7; INDEX_HASH=0x9a77; MODEL_TAG=titan-v2');
      expect(fn.Properties.Tags).toContainEqual({ Key: 'cdk-rollout-guardrails:release-id', Value: 'r-2026.11.22' });
      expect(ga.releaseId).toBe('r-2026.11.22');
    });

    test('publishes a new version when a pin changes', () => {
      expect(build({ release: { schemaRev: '7' } }).versionId).not.toBe(build({ release: { schemaRev: '8' } }).versionId);
    });

    test('tags only the function, not its role or log group, with the release', () => {
      const tagged = Object.values(Template.fromStack(base.stack).toJSON().Resources)
        .filter((r: any) => JSON.stringify(r.Properties?.Tags ?? []).includes('cdk-rollout-guardrails:release-id'))
        .map((r: any) => r.Type);
      expect(tagged).toEqual(['AWS::Lambda::Function']);
    });

    test.each([
      [{ schemaRev: 'v 7' }, 'release.schemaRev must be 1 to 128 letters, digits or . _ : / + = @ - (it travels in a header), got: "v 7"'],
      [{ modelTag: '' }, 'release.modelTag must be 1 to 128 letters, digits or . _ : / + = @ - (it travels in a header), got: ""'],
      [{ indexHash: 42 }, 'release.indexHash must be 1 to 128 letters, digits or . _ : / + = @ - (it travels in a header), got: 42'],
      [{ schemaRevision: '7' }, 'release.schemaRevision must be one of releaseId, schemaRev, indexHash, modelTag (unknown pin), got: "schemaRevision"'],
      ['7', 'release must be an object of release pins, got: "7"'],
    ])('rejects the release %j', (release, message) => {
      expect(errorOf(release)).toContain(message);
    });
  });

  describe('version logical IDs (computed once per synthesis)', () => {
    /** aws-cdk-lib's function hash, the cost the memo saves; counted while `count` runs. */
    function countFunctionHashes<T>(count: () => T): { readonly result: T; readonly hashes: number } {
      const hashing = require(path.join(path.dirname(require.resolve('aws-cdk-lib/package.json')), 'aws-lambda/lib/function-hash.js'));
      const original = hashing.calculateFunctionHash;
      let hashes = 0;
      hashing.calculateFunctionHash = (...args: unknown[]) => { hashes++; return original(...args); };
      try {
        return { result: count(), hashes };
      } finally {
        hashing.calculateFunctionHash = original;
      }
    }

    /** A guarded function with a given release ID (the default one is fixed at a stack's first synth). */
    function guarded(stack: Stack, id: string): lambda.Function {
      const fn = new lambda.Function(stack, id, {
        runtime: HANDLER_RUNTIME, handler: 'index.handler', code: lambda.Code.fromInline(`exports.handler = async () => '${id}';`),
      });
      new GuardedAlias(stack, `${id}Guarded`, { function: fn, strategy: RolloutStrategy.canary(10, Duration.minutes(5)), release: { releaseId: 'r-1' } });
      return fn;
    }

    /** A synthesis of the stack's app (a new one each time: `Template.fromStack` would reuse the first). */
    const synth = (stack: Stack) => (stack.node.root as App).synth({ force: true }).getStackArtifact(stack.artifactId).template;
    const versionIds = (stack: Stack) => Object.entries(synth(stack).Resources)
      .filter(([, r]: [string, any]) => r.Type === 'AWS::Lambda::Version').map(([id]) => id).sort();

    test('a synth hashes each guarded function once, not at each of the 6 references in each of its 3 passes', () => {
      const stack = testStack();
      for (const id of ['A', 'B', 'C']) guarded(stack, id);
      const { result, hashes } = countFunctionHashes(() => versionIds(stack));
      expect(result).toHaveLength(3);
      // Without the memo (aws-cdk-lib's own behaviour, which this fails on if its private field moves): 18 per function.
      expect(hashes).toBe(3);
    });

    test('a change between two synths gives the version the logical ID a fresh synth of the changed function gives', () => {
      const stack = testStack();
      const fn = guarded(stack, 'A');
      const before = versionIds(stack);
      fn.addEnvironment('FEATURE', 'on');
      const after = versionIds(stack);
      const fresh = testStack();
      guarded(fresh, 'A').addEnvironment('FEATURE', 'on');
      expect(after).not.toEqual(before);
      expect(after).toEqual(versionIds(fresh));
      // And the alias, the gate alarm and the control-version entry of the second synth name that version.
      const template = JSON.stringify(synth(stack));
      expect(template).not.toContain(before[0]);
      expect(template.split(after[0]).length - 1).toBeGreaterThanOrEqual(6);
    });

    test('the default RELEASE_ID follows a change between two synths too, as a fresh synth gives it', () => {
      const releaseOf = (stack: Stack) => Object.entries(synth(stack).Resources)
        .filter(([id, r]: [string, any]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('A')).map(([, r]: [string, any]) => r.Properties.Environment.Variables.RELEASE_ID)[0];
      const build = (stack: Stack) => {
        const fn = new lambda.Function(stack, 'A', { runtime: HANDLER_RUNTIME, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
        new GuardedAlias(stack, 'AGuarded', { function: fn, strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
        return fn;
      };
      const stack = testStack();
      const fn = build(stack);
      const before = releaseOf(stack);
      fn.addEnvironment('FEATURE', 'on');
      const fresh = testStack();
      build(fresh).addEnvironment('FEATURE', 'on');
      expect(releaseOf(stack)).not.toBe(before);
      expect(releaseOf(stack)).toBe(releaseOf(fresh));
      // The version's description names the same release.
      const description = Object.values(synth(stack).Resources).find((r: any) => r.Type === 'AWS::Lambda::Version') as any;
      expect(description.Properties.Description).toBe(`release ${releaseOf(fresh)}`);
    });

    test('a resolution before any synth computes afresh each time', () => {
      const stack = testStack();
      const fn = guarded(stack, 'A');
      const version = fn.currentVersion.node.defaultChild as lambda.CfnVersion;
      const first = stack.resolve(version.logicalId);
      fn.addEnvironment('FEATURE', 'on');
      expect(stack.resolve(version.logicalId)).not.toBe(first);
      expect(versionIds(stack)).toEqual([stack.resolve(version.logicalId)]);
    });
  });
});

describe('jsii-mirrors', () => {
  // The jsii-visible interfaces that mirror the runtime package's contract (jsii cannot reference the runtime
  // package's types, which have no jsii assembly) must keep the same shape: `npm run typecheck` fails here if
  // one drifts. Both directions are checked, readonly arrays and the embedder's enum aside.
  type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

  describe('jsii mirrors of the runtime contract', () => {
    test('have the runtime shapes (checked by the type checker) and the same strings', () => {
      const gates: Same<DeltaSProbeGateConfig, ProbeGateConfig> = true;
      const warm: Same<WarmGateConfig, RuntimeWarmGateConfig> = true;
      const gold: Same<GoldItem, Omit<RuntimeGoldItem, 'paraphrases'> & { readonly paraphrases: string[] }> = true;
      expect([gates, warm, gold]).toEqual([true, true, true]);
      expect(Object.values(ProbeEmbedderKind)).toEqual(['hashed', 'bedrock']);
      expect(Object.values(NoDataAction)).toEqual(['fail', 'pass']);
      expect(Object.values(StagedRolloutMetric)).toEqual(['TrafficWeight', 'StepDecision', 'GatesFailed', 'GatePassed', 'ShadowPromotion']);
    });
  });
});
