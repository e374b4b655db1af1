// The sticky-cohort forwarder with real SDK clients: the cohort item written in the contract's shape and read back
// from dynalite with a real GetItem, and the canary Invoke sent to the local AWS stand-in, where a canary that never
// answers is cut off by the forwarder's deadline (a little under the invocation's remaining time).
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { CohortForwardError, cohortSalt, inCanaryCohort, stickyCohorts, type CohortDecision } from '../packages/runtime/src';
import { COHORT_ATTRIBUTES, COHORT_TABLE_KEY, type CohortEnvironment } from '../packages/runtime/src/contract';
import { AwsStandIn } from './helpers/aws-standin';
import { type LocalDynamo, startDynalite } from './helpers/dynalite';

let dynamo: LocalDynamo;
let standIn: AwsStandIn;
let lambda: LambdaClient;
let env: CohortEnvironment;
const SALT = cohortSalt({ alias: 'answer-live', rollout: 'd-7' });
const saved = { ...process.env };

beforeAll(async () => {
  [dynamo, standIn] = await Promise.all([startDynalite(), AwsStandIn.start()]);
  lambda = new LambdaClient({ endpoint: standIn.url, region: 'eu-west-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const table = await dynamo.createTable(`cohorts-${process.pid}`, COHORT_TABLE_KEY);
  env = { table, key: 'answer-live', canaryAlias: 'live-canary', cacheSeconds: 5 };
  await dynamo.client().send(new PutItemCommand({
    TableName: table,
    Item: {
      [COHORT_TABLE_KEY]: { S: env.key },
      [COHORT_ATTRIBUTES.weight]: { N: '25' },
      [COHORT_ATTRIBUTES.salt]: { S: SALT },
      [COHORT_ATTRIBUTES.canaryVersion]: { S: '7' },
      [COHORT_ATTRIBUTES.deploymentId]: { S: 'd-7' },
    },
  }));
});

afterAll(async () => {
  lambda?.destroy();
  await Promise.all([dynamo?.stop(), standIn?.close()]);
});

beforeEach(() => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'answer';
  process.env.AWS_LAMBDA_FUNCTION_VERSION = '6';
  standIn.reset();
});
afterEach(() => {
  process.env = { ...saved };
});

const request = (user: string) => ({ rawPath: '/answer', headers: { 'x-user-id': user }, requestContext: { requestId: `r-${user}` } });

function wrap(decisions: CohortDecision[] = []) {
  return stickyCohorts(async (event: any) => ({ statusCode: 200, body: `local:${event.headers['x-user-id']}` }), {
    stableId: (r: any) => r.headers?.['x-user-id'], environment: env, clients: { dynamodb: dynamo.client(), lambda },
    log: () => undefined, onDecision: (d) => decisions.push(d),
  });
}

test('the item in the contract shape, read with a real GetItem, routes the cohort to a real Invoke of the canary alias', async () => {
  standIn.on('Invoke', (input) => ({ payload: { statusCode: 200, body: `canary:${JSON.parse(input.Payload).headers['x-user-id']}` } }));
  const decisions: CohortDecision[] = [];
  const handler = wrap(decisions);
  const ids = Array.from({ length: 40 }, (_, i) => `tenant-${i}`);
  const answers: unknown[] = [];
  for (const id of ids) answers.push(await handler(request(id), { getRemainingTimeInMillis: () => 5_000 }));
  const cohort = ids.filter((id) => inCanaryCohort(id, 25, { salt: SALT }));
  expect(cohort.length).toBeGreaterThan(0);
  ids.forEach((id, i) => expect(answers[i]).toEqual({ statusCode: 200, body: `${cohort.includes(id) ? 'canary' : 'local'}:${id}` }));
  expect(decisions[0].state).toEqual({ weight: 25, salt: SALT, canaryVersion: '7', deploymentId: 'd-7' });
  const invokes = standIn.callsOf('Invoke');
  expect(invokes).toHaveLength(cohort.length);
  expect(invokes[0].input).toMatchObject({ FunctionName: 'answer', Qualifier: 'live-canary' });
  expect(JSON.parse(invokes[0].input.Payload)).toEqual(request(cohort[0]));
});

test('a canary Invoke that hangs is cut off a little before the invocation would time out, as a CohortForwardError', async () => {
  standIn.behave('Invoke', 'hang');
  const handler = wrap();
  const member = Array.from({ length: 100 }, (_, i) => `tenant-${i}`).find((id) => inCanaryCohort(id, 25, { salt: SALT }))!;
  const started = Date.now();
  const error = await handler(request(member), { getRemainingTimeInMillis: () => 750 }).catch((e) => e);
  const took = Date.now() - started;
  expect(error).toBeInstanceOf(CohortForwardError);
  expect(error.message).toContain('no answer within 500 ms');
  expect(error.cause).toBeDefined();
  expect(took).toBeGreaterThanOrEqual(450);
  expect(took).toBeLessThan(3_000);
  expect(standIn.callsOf('Invoke')).toHaveLength(1);
});
