/**
 * npm run bench:idempotency
 *
 * makeIdempotent from this library against Powertools for AWS Lambda's makeIdempotent (DynamoDBPersistenceLayer,
 * local cache off, key from the Idempotency-Key header, payload validation on the body), and against the floor:
 * the DynamoDB requests ours makes, issued bare with no wrapper. All on one dynalite server, in one run.
 *
 * - dynalite runs in a child process on loopback, as DynamoDB would be remote; its CPU time is read from /proc.
 * - Each variant has its own table and its own client (same configuration) with a middleware that counts the
 *   requests the client really sends, retries included.
 * - Calls are sequential. Variants take turns in batches of BATCH calls (order rotating every batch) until a
 *   phase's time budget is spent, so that load from elsewhere on the machine falls on every variant alike.
 *   ops/s = calls / time spent in that variant's batches. "CPU ops/s" = 1 / (client + dynalite CPU time per call):
 *   what the pair would do on an otherwise idle machine, and a figure other load disturbs much less.
 * - Phases: first calls (a fresh key each call), then duplicates (keys the first phase completed, same body).
 */
import { randomUUID } from 'crypto';
import { readFileSync } from 'fs';
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent as powertoolsMakeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeIdempotent } from '../packages/runtime/src/idempotency';
import { sha256 } from '../packages/runtime/src/idempotency/keys';
import { startDynaliteProcess, type LocalDynamo } from '../test/helpers/dynalite';

const PHASE_SECONDS = Number(process.env.BENCH_PHASE_SECONDS ?? 18);
const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const MAX_CALLS = Number(process.env.BENCH_MAX_CALLS ?? 3000); // per variant and phase
const WARMUP = 150;

type ApiEvent = {
  httpMethod: string;
  path: string;
  headers: Record<string, string>;
  requestContext: { requestId: string };
  body: string;
  isBase64Encoded: boolean;
};

const BODY = JSON.stringify({ customerId: 'c-1842', items: [{ sku: 'sku-1', qty: 2 }, { sku: 'sku-9', qty: 1 }], currency: 'EUR', note: 'leave at the door' });
const event = (key: string): ApiEvent => ({
  httpMethod: 'POST',
  path: '/orders',
  headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
  requestContext: { requestId: randomUUID() },
  body: BODY,
  isBase64Encoded: false,
});
const context = { getRemainingTimeInMillis: () => 60_000, functionName: 'bench', awsRequestId: 'bench' };
const handler = async (e: ApiEvent) => ({
  statusCode: 201,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ orderId: e.requestContext.requestId, status: 'accepted' }),
});

type Call = (key: string) => Promise<unknown>;
interface Stats { calls: number; ns: bigint; requests: number; clientCpuUs: number; serverCpuUs: number; latenciesUs: number[] }
interface Variant { name: string; client: DynamoDBClient; requests: number; call?: Call; first: Stats; dup: Stats }

const emptyStats = (): Stats => ({ calls: 0, ns: 0n, requests: 0, clientCpuUs: 0, serverCpuUs: 0, latenciesUs: [] });

/** The floor: exactly the requests our makeIdempotent sends, built inline, with no wrapper logic around them. */
function floorCall(client: DynamoDBClient, table: string): Call {
  return async (key) => {
    const e = event(key);
    const id = `bench#${sha256(key)}`;
    const now = Date.now();
    const token = randomUUID();
    const payloadHash = sha256(e.body);
    try {
      await client.send(new PutItemCommand({
        TableName: table,
        Item: {
          id: { S: id }, status: { S: 'INPROGRESS' }, expiration: { N: String(Math.floor(now / 1000) + 172800) },
          held_until: { N: String(now + 60_000) }, claim_token: { S: token }, payload_hash: { S: payloadHash },
        },
        ConditionExpression: 'attribute_not_exists(#id) OR #hu < :now',
        ExpressionAttributeNames: { '#id': 'id', '#hu': 'held_until' },
        ExpressionAttributeValues: { ':now': { N: String(now) } },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
      return JSON.parse(Item?.data?.S ?? 'null');
    }
    const result = await handler(e);
    const expiresAt = Math.floor(Date.now() / 1000) + 172800;
    await client.send(new PutItemCommand({
      TableName: table,
      Item: {
        id: { S: id }, status: { S: 'COMPLETED' }, expiration: { N: String(expiresAt) }, held_until: { N: String(expiresAt * 1000) },
        claim_token: { S: token }, payload_hash: { S: payloadHash }, data: { S: JSON.stringify(result) },
      },
      ConditionExpression: '#tok = :tok',
      ExpressionAttributeNames: { '#tok': 'claim_token' },
      ExpressionAttributeValues: { ':tok': { S: token } },
    }));
    return result;
  };
}

/** CPU time (user + system) of a process in microseconds, from /proc; 0 where /proc is missing. */
function processCpuUs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of the stat line (11 and 12 after the command name), in clock ticks (100/s).
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return 0;
  }
}

async function runBatch(v: Variant, stats: Stats, keys: string[], serverPid: number | undefined): Promise<void> {
  const requestsBefore = v.requests;
  const serverBefore = processCpuUs(serverPid);
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (const key of keys) {
    const t0 = process.hrtime.bigint();
    await v.call!(key);
    stats.latenciesUs.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  stats.ns += process.hrtime.bigint() - started;
  const cpu = process.cpuUsage(cpuBefore);
  stats.clientCpuUs += cpu.user + cpu.system;
  stats.serverCpuUs += processCpuUs(serverPid) - serverBefore;
  stats.requests += v.requests - requestsBefore;
  stats.calls += keys.length;
}

async function phase(variants: Variant[], pick: (v: Variant) => Stats, keysFor: (v: Variant, batch: number) => string[] | undefined, serverPid: number | undefined): Promise<void> {
  const deadline = Date.now() + PHASE_SECONDS * 1000;
  for (let batch = 0; Date.now() < deadline && (batch + 1) * BATCH <= MAX_CALLS; batch++) {
    const order = variants.map((_, i) => variants[(i + batch) % variants.length]);
    for (const v of order) {
      const keys = keysFor(v, batch);
      if (keys) await runBatch(v, pick(v), keys, serverPid);
    }
  }
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  const began = Date.now();
  const dynamo: LocalDynamo = await startDynaliteProcess();
  try {
    const config = { maxAttempts: 3 };
    const variants: Variant[] = ['floor (bare requests)', 'cdk-rollout-guardrails', 'Powertools 2.35.0'].map((name) => ({
      name, client: dynamo.client(config), requests: 0, first: emptyStats(), dup: emptyStats(),
    }));
    for (const v of variants) {
      v.client.middlewareStack.add((next) => async (args) => {
        v.requests++;
        return next(args);
      }, { step: 'finalizeRequest', name: 'benchRequestCounter' });
    }
    const [floor, ours, powertools] = variants;
    floor.call = floorCall(floor.client, await dynamo.createTable('bench-floor'));
    const oursFn = makeIdempotent(handler, { table: await dynamo.createTable('bench-ours'), client: ours.client, scope: 'bench' });
    ours.call = (key) => oursFn(event(key), context);
    const ptFn = powertoolsMakeIdempotent(handler, {
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: await dynamo.createTable('bench-powertools'), awsSdkV3Client: powertools.client }),
      config: new IdempotencyConfig({ eventKeyJmesPath: 'headers."Idempotency-Key"', payloadValidationJmesPath: 'body', useLocalCache: false }),
    }) as unknown as (e: ApiEvent, c: unknown) => Promise<unknown>;
    powertools.call = (key) => ptFn(event(key), context);

    // Warm-up (JIT, sockets), and a check that each variant replays the stored result instead of running again.
    for (const v of variants) {
      const keys = Array.from({ length: WARMUP }, () => randomUUID());
      for (const k of keys) await v.call!(k);
      for (const k of keys) await v.call!(k);
      const a = await v.call!(keys[0]);
      const b = await v.call!(keys[0]);
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${v.name} did not replay the stored result`);
    }

    const keysByVariant = new Map<Variant, string[][]>(variants.map((v) => [v, []]));
    await phase(variants, (v) => v.first, (v, batch) => {
      const keys = Array.from({ length: BATCH }, () => randomUUID());
      keysByVariant.get(v)![batch] = keys;
      return keys;
    }, dynamo.pid);
    await phase(variants, (v) => v.dup, (v, batch) => keysByVariant.get(v)![batch], dynamo.pid);

    const ops = (s: Stats) => s.calls / (Number(s.ns) / 1e9);
    const rows = variants.map((v) => {
      const row: Record<string, string | number> = { variant: v.name };
      for (const [label, s] of [['first', v.first], ['dup', v.dup]] as const) {
        const lat = [...s.latenciesUs].sort((a, b) => a - b);
        row[`${label} ops/s`] = Math.round(ops(s));
        row[`${label} p50 ms`] = +(pct(lat, 50) / 1000).toFixed(2);
        row[`${label} p99 ms`] = +(pct(lat, 99) / 1000).toFixed(2);
        row[`${label} req/call`] = +(s.requests / s.calls).toFixed(2);
        row[`${label} client CPU µs`] = Math.round(s.clientCpuUs / s.calls);
        row[`${label} dynalite CPU µs`] = Math.round(s.serverCpuUs / s.calls);
        row[`${label} CPU ops/s`] = Math.round(1e6 / ((s.clientCpuUs + s.serverCpuUs) / s.calls));
      }
      return row;
    });
    const columns = (label: string) => ['variant', ...Object.keys(rows[0]).filter((k) => k.startsWith(label))];
    console.log(`idempotency benchmark: sequential calls, batches of ${BATCH} taking turns, ${PHASE_SECONDS} s per phase; ` +
      `calls per variant: ${ours.first.calls} first, ${ours.dup.calls} duplicate; dynalite child process on ${dynamo.endpoint}; node ${process.version}`);
    console.log('first calls (a fresh key each):');
    console.table(rows, columns('first'));
    console.log('duplicates (a completed key, same body):');
    console.table(rows, columns('dup'));
    const ratio = (a: Stats, b: Stats) => (ops(a) / ops(b)).toFixed(2);
    console.log(`ours / Powertools ops/s: first calls ${ratio(ours.first, powertools.first)}x, duplicates ${ratio(ours.dup, powertools.dup)}x (target >= 1.30x)`);
    console.log(`ours / floor ops/s:      first calls ${ratio(ours.first, floor.first)}x, duplicates ${ratio(ours.dup, floor.dup)}x (target >= 0.90x)`);
    const cpu = (s: Stats) => (s.clientCpuUs + s.serverCpuUs) / s.calls;
    const cpuRatio = (a: Stats, b: Stats) => (cpu(b) / cpu(a)).toFixed(2);
    console.log(`by CPU time per call (client + dynalite; less sensitive to other load on the machine): ours / Powertools ${cpuRatio(ours.first, powertools.first)}x first, ` +
      `${cpuRatio(ours.dup, powertools.dup)}x duplicates; ours / floor ${cpuRatio(ours.first, floor.first)}x first, ${cpuRatio(ours.dup, floor.dup)}x duplicates`);
    console.log('dynalite returns no item with a failed condition, so a duplicate costs 2 requests here (claim + consistent read); ' +
      'in DynamoDB ours costs 1 (ReturnValuesOnConditionCheckFailure; test/idempotency-one-request.suite.ts).');
    console.log(`took ${((Date.now() - began) / 1000).toFixed(1)} s`);
  } finally {
    await dynamo.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
