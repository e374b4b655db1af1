/**
 * npm run bench:cohort
 *
 * What a sticky routing decision costs per request: `routeFor` (read the user's id, check the pin, hash the id
 * into its bucket) against its peer, the draw a weighted alias makes per invocation (`Math.random() < weight`),
 * in nanoseconds per decision, the median of several rounds.
 *
 * - Requests are API Gateway proxy events with 12 headers and a tenant id, one id per user, made before timing
 *   starts; each round walks the users in the same order, so no variant sees a warmer cache than another.
 * - Variants take turns within each round (order rotating from round to round), so load from elsewhere falls on
 *   each alike; a round times OPS decisions of one variant and divides.
 * - Rows below the peer: the whole decision for a pinned request (the secret compared in constant time), the
 *   bucket alone (`cohortBucket`, one SHA-256), and for scale the shadow sampler's non-cryptographic hash
 *   (`sampleHash`, FNV-1a with a murmur3 finish), which the cohort does not use: SHA-256 is what every other
 *   runtime (an edge function, a Python service) can compute without porting code.
 */
import { cohortBucket, cohortSalt, routeFor, type CanaryPinOptions, type CohortRequest } from '../packages/runtime/src/cohort';
import { sampleHash } from '../packages/runtime/src/shadow';
import { forwardCostPerMillion, measureForwarding } from './cohort-forward';
import { mulberry32 } from './prng';

const OPS = Number(process.env.BENCH_OPS ?? 100_000); // decisions per variant per round
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const USERS = 50_000;
const WEIGHT = 5;
const SECRET = 'synthetic-canary-secret-bench-01';

function event(tenant: string, pinned: boolean): CohortRequest {
  const headers: Record<string, string> = {
    Accept: 'application/json', 'Accept-Encoding': 'gzip, deflate, br', 'Content-Type': 'application/json',
    Host: 'api.example.com', 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64)', Via: '2.0 a1b2.cloudfront.net (CloudFront)',
    'X-Amzn-Trace-Id': 'Root=1-6740a1b2-0123456789abcdef01234567', 'X-Forwarded-For': '203.0.113.7',
    'X-Forwarded-Port': '443', 'X-Forwarded-Proto': 'https', 'X-Tenant-Id': tenant, 'X-Request-Id': `${tenant}-r`,
  };
  if (pinned) Object.assign(headers, { 'X-Release': 'canary', 'X-Release-Token': SECRET });
  return { headers, multiValueHeaders: null, requestContext: { requestId: `${tenant}-r`, stage: 'live' } } as CohortRequest;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const random = mulberry32(15);
  const tenants = Array.from({ length: USERS }, () => `tenant-${Math.floor(random() * 1e12).toString(36)}`);
  const plain = tenants.map((t) => event(t, false));
  const pinnedEvents = tenants.map((t) => event(t, true));
  const salt = cohortSalt({ alias: 'answer:live', rollout: '42' });
  const pin: CanaryPinOptions = { secrets: [SECRET] };
  const options = { weight: WEIGHT, salt, stableId: (r: CohortRequest) => r.headers?.['X-Tenant-Id'], pin };

  let sink = 0;
  const variants: Array<{ name: string; run: (i: number) => number }> = [
    { name: 'alias-weight peer: Math.random() * 100 < weight', run: () => (Math.random() * 100 < WEIGHT ? 1 : 0) },
    { name: 'routeFor, request without a pin', run: (i) => (routeFor(plain[i], options).route === 'canary' ? 1 : 0) },
    { name: 'routeFor, pinned request (secret checked)', run: (i) => (routeFor(pinnedEvents[i], options).route === 'canary' ? 1 : 0) },
    { name: 'cohortBucket alone (one SHA-256)', run: (i) => cohortBucket(tenants[i], salt) },
    { name: 'for scale: sampleHash (FNV-1a + fmix32), not used', run: (i) => sampleHash(`${salt}\n${tenants[i]}`) & 1 },
  ];
  const samples = variants.map(() => [] as number[]);

  // Warm-up: every variant runs a round first, so the JIT has seen them all.
  for (const v of variants) for (let i = 0; i < OPS; i++) sink += v.run(i % USERS);

  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < variants.length; k++) {
      const index = (k + round) % variants.length;
      const run = variants[index].run;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < OPS; i++) sink += run(i % USERS);
      samples[index].push(Number(process.hrtime.bigint() - t0) / OPS);
    }
  }

  const peer = median(samples[0]);
  console.log(`bench:cohort: ${ROUNDS} rounds of ${OPS.toLocaleString('en')} decisions per variant (after one warm-up round), ${USERS.toLocaleString('en')} users, weight ${WEIGHT} %, Node ${process.version}`);
  console.log('');
  console.log('| variant | median ns/decision | min | max | × peer |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  variants.forEach((v, i) => {
    const m = median(samples[i]);
    console.log(`| ${v.name} | ${m.toFixed(0)} | ${Math.min(...samples[i]).toFixed(0)} | ${Math.max(...samples[i]).toFixed(0)} | ${(m / peer).toFixed(1)} |`);
  });
  const decision = median(samples[1]);
  console.log('');
  console.log(`routeFor costs ${(decision / 1000).toFixed(2)} µs a request, ${((decision - peer) / 1000).toFixed(2)} µs more than the alias's draw; against a 10 ms API Gateway + Lambda round trip that is ${(decision / 100_000).toFixed(3)} %.`);
  if (sink === -1) console.log(sink); // keeps the results alive
  await forwarding();
}

/** The second table: a forwarded cohort request against plain alias weights, in latency and in cost. */
async function forwarding(): Promise<void> {
  const figures = await measureForwarding();
  const peer = figures[0];
  console.log('');
  console.log('What a sticky cohort adds per request (the real wrapper and Lambda client; Invoke answered by a loopback stand-in at once):');
  console.log('');
  console.log('| variant | median ms | p95 ms | added over the peer, median ms |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const f of figures) console.log(`| ${f.name} | ${f.medianMs.toFixed(3)} | ${f.p95Ms.toFixed(3)} | ${(f.medianMs - peer.medianMs).toFixed(3)} |`);
  const overhead = figures[2].medianMs - peer.medianMs;
  const cost = forwardCostPerMillion({ memoryMb: 512, canaryMs: 100, overheadMs: overhead });
  console.log('');
  console.log(`A forward adds ${overhead.toFixed(2)} ms of client work on loopback, plus the in-region Invoke round trip (not measured here: no AWS account).`);
  console.log(`Cost per million cohort requests, 512 MB, the new version running 100 ms: one more request ($0.20) and the forwarder billed while it waits: $${cost.toFixed(2)}`
    + ' (assumed prices: $0.20 per million requests, $0.0000166667 per GB-s, us-east-1 x86; not from a docs page). Requests outside the cohort cost what they cost with alias weights.');
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
