// The `sticky-cohorts` rehearsal (issue #15: "cohorts hold across steps, with the measured shares"). A staged
// rollout with `stickyCohorts` over the default schedule, offline: the real gate planner decides each step and
// gives the cohort weight the machine's SetCohort writes; the item is what OpenCohort, SetCohort and
// ClearCohortOnSuccess put (lib/private/staged-machine.ts); every request of every user goes through the real
// `stickyCohorts` wrapper of the live alias's function (version 7), which forwards the cohort's requests to the
// canary alias (version 8, the same wrapper, reached through `<alias>-canary`). Simulated, and only this: the
// DynamoDB read (the item as the machine last wrote it), the Invoke (the canary function called in-process),
// the clock (past the cache time between steps) and the users (seeded ids, a few requests each per step).
// The peer is the alias weight: each request drawn on its own at the step's weight (LAM-2).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { planStep } from '../lambdas/staged/gate';
import { stickyCohorts } from '../packages/runtime/src/cohort/forward';
import { CohortEnvironment, CohortItem } from '../packages/runtime/src/contract/cohort';
import { INITIAL_PROGRESS, StagedExecutionInput, StagedProgress } from '../packages/runtime/src/contract/staged';
import { asLambdaFunction } from './lambda-env';
import { mulberry32 } from './prng';
import { DEFAULT_GATE_THRESHOLDS } from '../lib/release-gates';
import { RolloutStrategy } from '../lib/rollout-strategy';

/** One step of the rehearsal, as measured over every user. */
export interface CohortStepRow {
  /** The step's weight, percent (the gate's `cohortWeight`). */
  readonly weight: number;
  /** Percent of users the new version served on every request of the step. */
  readonly share: number;
  /** Users served by both versions within the step: 0 with sticky cohorts. */
  readonly mixed: number;
  /** Users on the new version at the previous step that the old version served at this one: 0 (each cohort contains the last). */
  readonly flippedBack: number;
  /** With alias weights instead (a draw per request), percent of users served by both versions within the step. */
  readonly aliasMixed: number;
}

/** What the rehearsal measured. */
export interface CohortRehearsal {
  readonly users: number;
  readonly requestsPerUser: number;
  readonly rows: CohortStepRow[];
  /** A pinned synthetic request (X-Release: canary with the token) at 0 %, before any user: which version served it. */
  readonly pinnedAtZero: string;
  /** Reported Succeeded, before CodeDeploy's shift: users of the last step's cohort the old version served (0: nobody goes back). */
  readonly movedBackBeforeShift: number;
  /** After CodeDeploy's shift (the live alias on the new version): percent of users it served, and how many requests it forwarded. */
  readonly afterShift: { readonly onNew: number; readonly forwards: number };
  /** Forwards made (Invokes of the canary alias), against the requests of all steps. */
  readonly forwards: number;
  readonly requests: number;
}

const DEPLOYMENT = 'd-REHEARSE1';
const TOKEN = 'synthetic-canary-token-000000001';
const ENVIRONMENT: CohortEnvironment = { table: 'cohorts', key: 'cohort-rehearsal', canaryAlias: 'live-canary', cacheSeconds: 5 };

type Answer = { statusCode: number; body: string };
const request = (tenant: string, pinned = false) => ({
  headers: { 'x-tenant-id': tenant, ...(pinned ? { 'X-Release': 'canary', 'X-Release-Token': TOKEN } : {}) },
  requestContext: { requestId: `${tenant}-r` },
});

/** Runs the rehearsal: `users` seeded tenant ids, `requestsPerUser` requests each at every step. */
export async function rehearseStickyCohorts(options: { users?: number; requestsPerUser?: number } = {}): Promise<CohortRehearsal> {
  const users = options.users ?? 20_000;
  const requestsPerUser = options.requestsPerUser ?? 3;
  const rng = mulberry32(4);
  const tenants = Array.from({ length: users }, (_, i) => `tenant-${i}-${Math.floor(rng() * 1e9).toString(36)}`);

  let item: CohortItem | undefined;
  let clock = 0;
  let forwards = 0;
  const put = (weight: string, version: string) => {
    item = { pk: { S: ENVIRONMENT.key }, weight: { N: weight }, salt: { S: DEPLOYMENT }, canary_version: { S: version }, deployment_id: { S: DEPLOYMENT } };
  };
  const answer = (version: string) => async (): Promise<Answer> => ({ statusCode: 200, body: version });
  const common = {
    stableId: (r: any) => r.headers?.['x-tenant-id'], pin: { secrets: [TOKEN] }, environment: ENVIRONMENT, now: () => clock, log: () => undefined,
  };
  const dynamodb = { send: async () => ({ Item: item }) } as unknown as DynamoDBClient;
  const canary = stickyCohorts(answer('8'), { ...common, clients: { dynamodb } });
  const lambda = {
    send: async (command: { input: { Payload: Uint8Array } }) => {
      forwards++;
      const served = await canary(JSON.parse(Buffer.from(command.input.Payload).toString('utf8')), { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:answer:live-canary' });
      return { StatusCode: 200, ExecutedVersion: '8', Payload: Buffer.from(JSON.stringify(served)) };
    },
  } as unknown as LambdaClient;
  const live = stickyCohorts(answer('7'), { ...common, clients: { dynamodb, lambda } });
  const served = async (event: object) => ((await live(event, { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:answer:live' })) as Answer).body;
  // The live alias's function runs version 7 until CodeDeploy's shift, then version 8.
  return asLambdaFunction('answer', '7', async () => {
    // OpenCohort: 0 %, the new version named; a pinned synthetic request reaches it before any user does.
    put('0', '8');
    const pinnedAtZero = await served(request('synthetic-1', true));

    const execution: StagedExecutionInput = {
      deployment: { deploymentId: DEPLOYMENT, lifecycleEventHookExecutionId: 'hook-1' },
      target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
      config: { schedule: RolloutStrategy.staged({ stickyCohorts: {} })._schedule(), thresholds: DEFAULT_GATE_THRESHOLDS, alarmNames: [], cohort: { tableName: ENVIRONMENT.table, key: ENVIRONMENT.key, canaryAlias: ENVIRONMENT.canaryAlias } },
      deadline: Number.POSITIVE_INFINITY,
    };
    const healthy = { invocations: 1000, errors: 0, p95Ms: 100 };
    const rows: CohortStepRow[] = [];
    let onNewBefore = new Set<string>();
    let progress: StagedProgress = INITIAL_PROGRESS;
    let requests = 1;
    for (;;) {
      // The check before a shift, on healthy traffic: the gate's decision and the weight SetCohort writes.
      const decision = planStep({ ...execution, progress: { ...progress, phase: 'check' }, probe: { status: 'Succeeded', reasons: [] } }, {
        alarms: [], canary: healthy, control: { ...healthy, invocations: 10_000 }, now: 0,
      });
      if (decision.next !== 'shift') break;
      put(decision.cohortWeight!, '8');
      clock += (ENVIRONMENT.cacheSeconds + 1) * 1000;
      const weight = Number(decision.cohortWeight);
      const draw = mulberry32(100 + weight);
      let onNew = 0;
      let mixed = 0;
      let flippedBack = 0;
      let aliasMixed = 0;
      const onNewNow = new Set<string>();
      for (const tenant of tenants) {
        const versions = new Set<string>();
        for (let r = 0; r < requestsPerUser; r++) versions.add(await served(request(tenant)));
        requests += requestsPerUser;
        if (versions.size > 1) mixed++;
        else if (versions.has('8')) {
          onNew++;
          onNewNow.add(tenant);
        }
        if (onNewBefore.has(tenant) && versions.has('7')) flippedBack++;
        const drawn = new Set(Array.from({ length: requestsPerUser }, () => (draw() * 100 < weight ? '8' : '7')));
        if (drawn.size > 1) aliasMixed++;
      }
      rows.push({ weight, share: (onNew / users) * 100, mixed, flippedBack, aliasMixed: (aliasMixed / users) * 100 });
      onNewBefore = onNewNow;
      progress = decision.progress;
    }
    // Succeeded: the item stays at the last step until CodeDeploy's shift, so the cohort stays on the new version.
    clock += (ENVIRONMENT.cacheSeconds + 1) * 1000;
    let movedBackBeforeShift = 0;
    for (const tenant of onNewBefore) if ((await served(request(tenant))) === '7') movedBackBeforeShift++;
    requests += onNewBefore.size;
    // CodeDeploy's shift: the live alias runs the new version, which serves every request itself (canary_version).
    process.env.AWS_LAMBDA_FUNCTION_VERSION = '8';
    const shifted = stickyCohorts(answer('8'), { ...common, clients: { dynamodb, lambda } });
    const forwardsBefore = forwards;
    let onNew = 0;
    for (const tenant of tenants) if (((await shifted(request(tenant), {})) as Answer).body === '8') onNew++;
    requests += users;
    return { users, requestsPerUser, rows, pinnedAtZero, movedBackBeforeShift, afterShift: { onNew: (onNew / users) * 100, forwards: forwards - forwardsBefore }, forwards, requests };
  });
}

/** The rehearsal as the terminal prints it. */
export function formatCohortRehearsal(result: CohortRehearsal): string[] {
  const pct = (x: number) => `${x.toFixed(2)} %`;
  return [
    `  pinned synthetic request at 0 % (X-Release: canary + token): served by version ${result.pinnedAtZero}`,
    '  step   users on the new version   served by both   moved back   alias weights: users served by both',
    ...result.rows.map((r) => `  ${String(r.weight).padStart(3)} %  ${pct(r.share).padStart(24)}  ${String(r.mixed).padStart(15)}  ${String(r.flippedBack).padStart(11)}  ${pct(r.aliasMixed).padStart(37)}`),
    `  reported Succeeded, before CodeDeploy's shift: the last cohort stays on the new version (${result.movedBackBeforeShift} moved back)`,
    `  after CodeDeploy's shift: ${pct(result.afterShift.onNew)} of users on the new version, served by it directly (${result.afterShift.forwards} forwards)`,
    `  ${result.users} users × ${result.requestsPerUser} requests a step; ${result.forwards} of ${result.requests} requests forwarded to the canary alias (one more invocation each)`,
  ];
}
