/**
 * Cloud assemblies for the CLI's tests (test/cli-*.test.ts), synthesized into a temporary folder: the example app
 * as `npm run synth` builds it, and a user's stack the CLI has not seen, with several guarded aliases and strategies
 * (staged with a notifications topic and a tighter schedule, blue-green with a probe, pins and a topic, a canary and a
 * linear one).
 * Nothing reaches AWS: a dummy account and region. Their assets are copied into the assembly, as `cdk synth` does.
 */
import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { buildDemoApp } from '../../bin/demo-app';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy } from '../../lib';
import { TEST_ENV, testFunction, TEST_APP_PROPS } from '../util';
import { withAssetStaging } from './synth-context';

const GOLD = path.join(__dirname, '..', '..', 'bin', 'gold-set.jsonl');

export { tempDir } from './temp-dir';

/** Synthesizes the example app (bin/) into `outdir`. */
export function synthDemo(outdir: string): string {
  const app = withAssetStaging(() => new App({ ...TEST_APP_PROPS, outdir }));
  buildDemoApp(app);
  app.synth();
  return outdir;
}

/** The names the user's stack gives its aliases. */
export const USER_STACK = 'ShopRelease';

/**
 * Synthesizes a user's stack with a staged, a blue-green, a canary (no probe) and a linear alias (the probe as its
 * hooks), and a plain stack with none, into `outdir`.
 */
export function synthUserApp(outdir: string): string {
  const app = withAssetStaging(() => new App({ ...TEST_APP_PROPS, outdir }));
  const stack = new Stack(app, USER_STACK, { env: TEST_ENV });
  const topic = new sns.Topic(stack, 'Releases');
  // Concurrency enough for the hold-and-watch probe budget (no blueGreenProbeBudget warning at synth).
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromFile(GOLD), concurrency: 32 });
  const checkout = testFunction(stack, 'Checkout');
  new GuardedAlias(stack, 'CheckoutRelease', {
    function: checkout, probe, notifications: topic,
    strategy: RolloutStrategy.staged({ steps: [10, 50, 100], bake: Duration.minutes(3) }),
  });
  const search = testFunction(stack, 'Search');
  search.addEnvironment('INDEX_HASH', 'idx-42');
  new GuardedAlias(stack, 'SearchRelease', {
    function: search, probe, notifications: topic,
    strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(10), invariants: { INDEX_HASH: 'idx-42' } }),
  });
  new GuardedAlias(stack, 'ReportsRelease', { function: testFunction(stack, 'Reports'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
  new GuardedAlias(stack, 'FeedRelease', { function: testFunction(stack, 'Feed'), probe, strategy: RolloutStrategy.linear(50, Duration.minutes(2)) });
  const plain = new Stack(app, 'Plain', { env: TEST_ENV });
  testFunction(plain, 'Lonely');
  app.synth();
  return outdir;
}
