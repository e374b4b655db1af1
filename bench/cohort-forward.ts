// bench:cohort's second part: what a forwarded cohort request adds, against plain alias weights (where Lambda's
// front end picks the version and the function does nothing more). The real `stickyCohorts` wrapper with the real
// Lambda client (SDK v3, its HTTP handler, signing and parsing) forwards to a local HTTP stand-in for Lambda's
// Invoke on 127.0.0.1 (test/helpers/aws-standin.ts), which answers at once; the cohort item is a cached read.
//
// What this measures: the wrapper's and the SDK's own work per forward, on loopback, and the wrapper's work for a
// request it serves itself. What it does not: the in-region round trip of a real Invoke and the canary's own run,
// which a forward adds on top (register LAM-17; unmeasured here: no AWS account). The stand-in runs in this
// process, so its share of the work is counted too (an overestimate of the client side).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { stickyCohorts } from '../packages/runtime/src/cohort/forward';
import { AwsStandIn } from '../test/helpers/aws-standin';
import { asLambdaFunction } from './lambda-env';

const FORWARDS = Number(process.env.BENCH_FORWARDS ?? 2_000);

/** Per-request times (ms) of one variant: the median and the 95th percentile. */
export interface ForwardFigure {
  readonly name: string;
  readonly medianMs: number;
  readonly p95Ms: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function time(name: string, n: number, run: (i: number) => Promise<unknown>): Promise<ForwardFigure> {
  for (let i = 0; i < Math.min(200, n); i++) await run(i); // warm-up: connections, JIT
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await run(i);
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return { name, medianMs: percentile(samples, 50), p95Ms: percentile(samples, 95) };
}

/** Measures the three variants; the stand-in is closed before it returns. */
export async function measureForwarding(): Promise<ForwardFigure[]> {
  const standIn = await AwsStandIn.start();
  try {
    return await asLambdaFunction('answer', '7', async () => {
      standIn.on('Invoke', () => ({ payload: { statusCode: 200, body: 'new' } }));
      const lambda = new LambdaClient({ endpoint: standIn.url, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
      const item = { pk: { S: 'k' }, weight: { N: '50' }, salt: { S: 'd-BENCH' }, canary_version: { S: '8' }, deployment_id: { S: 'd-BENCH' } };
      const dynamodb = { send: async () => ({ Item: item }) } as unknown as DynamoDBClient;
      const handler = async () => ({ statusCode: 200, body: 'current' });
      const wrapped = stickyCohorts(handler, {
        stableId: (r: any) => r.headers['x-tenant-id'], environment: { table: 't', key: 'k', canaryAlias: 'live-canary', cacheSeconds: 3600 },
        clients: { dynamodb, lambda }, log: () => undefined,
      });
      // Ids on each side of the 50 % cohort, found with the wrapper's own decision.
      const inCohort: string[] = [];
      const outside: string[] = [];
      for (let i = 0; inCohort.length < 500 || outside.length < 500; i++) {
        let forwarded = false;
        const probe = stickyCohorts(handler, {
          stableId: (r: any) => r.headers['x-tenant-id'], environment: { table: 't', key: 'k', canaryAlias: 'live-canary', cacheSeconds: 3600 },
          clients: { dynamodb, lambda: { send: async () => { forwarded = true; return { StatusCode: 200, Payload: Buffer.from('{}') }; } } as unknown as LambdaClient },
          log: () => undefined,
        });
        await probe({ headers: { 'x-tenant-id': `tenant-${i}` } });
        (forwarded ? inCohort : outside).push(`tenant-${i}`);
      }
      const event = (id: string) => ({ headers: { 'x-tenant-id': id }, requestContext: { requestId: id } });
      const figures = [
        await time('alias-weight peer: the handler alone (Lambda picked the version)', FORWARDS * 5, () => handler()),
        await time('stickyCohorts, a user outside the cohort (served here)', FORWARDS * 5, (i) => wrapped(event(outside[i % outside.length]))),
        await time('stickyCohorts, a cohort user (forwarded: Invoke over loopback)', FORWARDS, (i) => wrapped(event(inCohort[i % inCohort.length]))),
      ];
      lambda.destroy();
      return figures;
    });
  } finally {
    await standIn.close();
  }
}

/**
 * What forwarding costs per million cohort requests, on top of what the new version's own run costs: one more
 * Lambda request, and the forwarder's environment billed while it waits (the canary's run plus the forward's
 * overhead). Prices are parameters: the defaults are the commonly quoted us-east-1 x86 figures, not read on an
 * AWS docs page here (the price page is not a docs page): an assumption, and printed as one.
 */
export function forwardCostPerMillion(input: { memoryMb: number; canaryMs: number; overheadMs: number; perRequest?: number; perGbSecond?: number }): number {
  const perRequest = input.perRequest ?? 0.20 / 1e6;
  const perGbSecond = input.perGbSecond ?? 0.0000166667;
  const waitSeconds = (input.canaryMs + input.overheadMs) / 1000;
  return 1e6 * (perRequest + (input.memoryMb / 1024) * waitSeconds * perGbSecond);
}
