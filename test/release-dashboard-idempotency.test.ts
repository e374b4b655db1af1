// The ReleaseDashboard's retries and dedupe hits by release: two widgets per GuardedAlias, each a SEARCH over the
// telemetry the runtime's idempotency helpers add to the withRelease record, read back from the synthesized template.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { GuardedAlias, ReleaseDashboard } from '../lib';
import { InMemoryIdempotencyStore, makeIdempotent, withRelease } from '../packages/runtime/src';
import { IDEMPOTENCY_METRICS, TELEMETRY_DIMENSIONS, TELEMETRY_NAMESPACE } from '../packages/runtime/src/contract';
import { testFunction, testStack } from './util';

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
