// The blue-green state machine's worker: the steps that read AWS and decide with the pure modules. One
// function, one operation per invocation (`op`): check the invariants, pause and resume the consumers, watch
// the metrics, judge a probe run, and write and publish a decision that is news (notification.ts). The reports
// to CodeDeploy are the machine's own SDK tasks; the flip back is CodeDeploy's.
import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  BlueGreenAliasConfig, BlueGreenExecutionInput, DECISION_KIND, METRIC_PERIOD_SECONDS, PUBLISH_DEADLINE_SECONDS, PUBLISH_RETRIES, PUBLISH_TIMEOUT_SECONDS,
} from 'cdk-rollout-guardrails-runtime/contract';
import { QueueAgeSeries, queueAgeQueries, queueAgeSeries } from '../shared/queue-age';
import { pauseConsumers, resumeConsumers } from '../shared/consumers';
import { decideHold, HoldDecision, MinuteTraffic, ProbeObservation } from './hold-engine';
import { checkInvariants, InvariantDecision } from './invariants';
import { composeNotification, NotifyEvent, WarmupDecision, warmupChecks } from './notification';
import { DEFAULT_HOOK_BOUNDS, hookClientConfig } from '../shared/hook-clients';
import { prewarm } from '../shared/warm-gate';
import { readAlarms } from '../shared/alarms';
import { executedVersionQuery } from '../shared/lambda-metrics';
import { shadowVerdict } from '../shared/shadow-promotion';

type Target = BlueGreenExecutionInput['target'];

/** What the machine passes the worker, by operation. */
export type WorkerEvent =
  | { readonly op: 'invariants'; readonly target: Target; readonly config: BlueGreenAliasConfig }
  | { readonly op: 'freeze'; readonly mappings: readonly string[] }
  | { readonly op: 'warmup'; readonly target: Target; readonly config: BlueGreenAliasConfig }
  | { readonly op: 'unfreeze'; readonly mappings: readonly string[] }
  | { readonly op: 'watch'; readonly target: Target; readonly config: BlueGreenAliasConfig; readonly holdStartedAt: number; readonly holdEndsAt: number; readonly check: number }
  | {
    readonly op: 'judgeProbe'; readonly target: Target; readonly config: BlueGreenAliasConfig; readonly holdStartedAt: number;
    readonly holdEndsAt: number; readonly check: number; readonly probe: ProbeObservation;
  }
  | NotifyEvent;

/** The record of a freeze: which mappings were paused (to be resumed) and which were left as they were. */
export interface FreezeDecision {
  readonly kind: `${typeof DECISION_KIND}/freeze`;
  /** UUIDs paused by this step: exactly these are resumed after the switch. */
  readonly frozen: string[];
  /** Mappings that were not running (Disabled, Disabling, ...) and are left alone. */
  readonly skipped: Array<{ readonly uuid: string; readonly state: string }>;
}

/** The record of a resume. */
export interface UnfreezeDecision {
  readonly kind: `${typeof DECISION_KIND}/unfreeze`;
  readonly resumed: string[];
  /** The warm gate's temporary provisioned concurrency: deleted, not there, or why it could not be deleted. */
  readonly warmupReleased?: boolean | string;
}

/** The record of a notification: published (its message ID), or why not. A failed publish decides nothing. */
export interface NotificationRecord {
  readonly kind: `${typeof DECISION_KIND}/notification`;
  readonly published: boolean;
  readonly messageId?: string;
  readonly error?: { readonly Error: string; readonly Cause: string };
}

export type { WarmupDecision };
export type WorkerResult = InvariantDecision | WarmupDecision | FreezeDecision | UnfreezeDecision | HoldDecision | NotificationRecord;

/** The worker's AWS clients and clock; tests pass mocks. */
export interface WorkerDependencies {
  readonly lambda: LambdaClient;
  readonly cloudwatch: CloudWatchClient;
  /** Publishes the notifications; its attempts bounded (`publishClientConfig()`). */
  readonly sns: SNSClient;
  /** Reads the release's shadow record; needed only for an alias with `requireShadow`. */
  readonly dynamodb?: DynamoDBClient;
  /** How long a publish may take in all before it is given up. @default PUBLISH_DEADLINE_SECONDS */
  readonly publishDeadlineMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default console.log */
  readonly log?: (line: string) => void;
  /** The warm gate's wait. @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The GetMetricData window of one metric check: the newest complete one-minute datapoint that is at least
 * `metricDelaySeconds` old, so that CloudWatch has it in full.
 */
export function metricWindow(now: number, metricDelaySeconds: number): { start: number; end: number } {
  const period = METRIC_PERIOD_SECONDS * 1000;
  const end = Math.floor((now - metricDelaySeconds * 1000) / period) * period;
  return { start: end - period, end };
}

/** Invocations and errors of the new version under the alias (`ExecutedVersion`), as the staged gate reads them. */
export function watchQueries(target: Target): MetricDataQuery[] {
  return (['Invocations', 'Errors'] as const).map((metric) =>
    executedVersionQuery(metric === 'Invocations' ? 'i' : 'e', target, target.targetVersion, metric, 'Sum', METRIC_PERIOD_SECONDS));
}

/** Builds the worker's handler. An AWS failure throws: the machine's catch flips back, resumes and reports Failed. */
export function createWorkerHandler(deps: WorkerDependencies): (event: WorkerEvent) => Promise<WorkerResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((line: string) => console.log(line));
  return async (event) => {
    let result: WorkerResult;
    switch (event?.op) {
      case 'invariants': {
        const configuration = await deps.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: event.target.functionName, Qualifier: event.target.targetVersion }));
        result = checkInvariants(event.config.invariants ?? {}, configuration.Environment?.Variables, event.target.targetVersion);
        // Stage 0 (requireShadow): the release's shadow record, judged with the pins, before anything else.
        if (event.config.shadowPromotion) {
          if (!deps.dynamodb) throw new Error('the worker has a shadow check to make but no DynamoDB client');
          const verdict = await shadowVerdict(deps.dynamodb, event.config.shadowPromotion);
          // The reasons say what failed, or (everything passed) what was checked.
          const failed = verdict.checks.filter((c) => c.passed !== true).map((c) => c.reason);
          const reasons = result.passed && verdict.passed ? [...result.reasons, verdict.summary] : [...(result.passed ? [] : result.reasons), ...failed];
          result = { ...result, passed: result.passed && verdict.passed, checks: [...result.checks, ...verdict.checks], reasons };
        }
        break;
      }
      case 'warmup': {
        const warm = event.config.warmup;
        if (!warm) {
          result = { kind: `${DECISION_KIND}/warmup`, passed: true, reasons: ['no warm gate configured'], waitedMs: 0, status: 'NONE', pingsSent: 0, pingsFailed: 0, checks: [] };
          break;
        }
        const { ok, ...rest } = await prewarm({ lambda: deps.lambda, now, sleep: deps.sleep }, {
          functionName: event.target.functionName,
          version: event.target.targetVersion,
          concurrency: warm.concurrency,
          readyTimeoutMs: warm.readyTimeoutSeconds * 1000,
          pings: warm.pings,
        });
        result = { kind: `${DECISION_KIND}/warmup`, passed: ok, ...rest, checks: warmupChecks(rest, warm.readyTimeoutSeconds) };
        break;
      }
      case 'freeze':
        result = await freeze(deps.lambda, event.mappings ?? [], log);
        break;
      case 'unfreeze': {
        result = await unfreeze(deps.lambda, event.mappings ?? []);
        break;
      }
      case 'watch': {
        const at = now();
        const window = metricWindow(at, event.config.metricDelaySeconds);
        const queueAge = event.config.queueAge;
        const [alarms, traffic, series] = await Promise.all([
          readAlarms(deps.cloudwatch, event.config.alarmNames ?? []),
          readMinute(deps.cloudwatch, event.target, window),
          queueAge ? readQueueAges(deps.cloudwatch, queueAge.queueNames, queueWindow(window.end, event.holdStartedAt)) : undefined,
        ]);
        result = decideHold({
          observation: { source: 'metrics', traffic, alarms, queueAge: queueAge && series ? { rule: queueAge, series } : undefined },
          rules: event.config.stopRules, now: at, holdStartedAt: event.holdStartedAt, holdEndsAt: event.holdEndsAt, check: event.check,
        });
        break;
      }
      case 'judgeProbe':
        result = decideHold({
          observation: { source: 'probe', probe: event.probe ?? { status: 'Unavailable', reasons: ['no probe result was passed'] } },
          rules: event.config.stopRules, now: now(), holdStartedAt: event.holdStartedAt, holdEndsAt: event.holdEndsAt, check: event.check,
        });
        break;
      case 'notify':
        result = await publish(deps.sns, event, deps.publishDeadlineMs ?? PUBLISH_DEADLINE_SECONDS * 1000);
        break;
      default:
        throw new Error(`expected an event with op invariants, warmup, freeze, unfreeze, watch, judgeProbe or notify, got: ${JSON.stringify(event)?.slice(0, 200)}`);
    }
    log(JSON.stringify({ message: 'cdk-rollout-guardrails blue-green', op: event.op, ...result }));
    return result;
  };
}

/**
 * The SNS client's options: each attempt's answer awaited PUBLISH_TIMEOUT_SECONDS (`timeoutMs`), PUBLISH_RETRIES
 * retries. A body that never ends is not a request timeout: the publish's deadline cuts that off.
 */
export function publishClientConfig(timeoutMs = PUBLISH_TIMEOUT_SECONDS * 1000) {
  return hookClientConfig({ ...DEFAULT_HOOK_BOUNDS, connectionTimeoutMs: Math.min(2_000, timeoutMs), requestTimeoutMs: timeoutMs }, PUBLISH_RETRIES + 1);
}

/**
 * Writes the notification and publishes it, within `deadlineMs`. Never throws for the publish: a notification
 * decides nothing, so its failure is the record's (`published: false`), not the machine's.
 */
async function publish(sns: SNSClient, event: NotifyEvent, deadlineMs: number): Promise<NotificationRecord> {
  const kind = `${DECISION_KIND}/notification` as const;
  // A message that cannot be written is a bug in the records: it throws, and the machine's catch goes on.
  const message = JSON.stringify(composeNotification(event));
  try {
    const sent = await sns.send(new PublishCommand({ TopicArn: event.topicArn, Message: message }), { abortSignal: AbortSignal.timeout(deadlineMs) });
    return { kind, published: true, messageId: sent.MessageId };
  } catch (error) {
    const e = error as Error;
    return { kind, published: false, error: { Error: e.name, Cause: e.message } };
  }
}

async function freeze(client: LambdaClient, mappings: readonly string[], log: (line: string) => void): Promise<FreezeDecision> {
  const { paused, skipped } = await pauseConsumers(client, mappings, (frozen, undone, error) => {
    log(JSON.stringify({ message: 'cdk-rollout-guardrails blue-green: freeze failed', frozen, undone, error: error.message }));
  });
  return { kind: `${DECISION_KIND}/freeze`, frozen: paused, skipped };
}

async function unfreeze(client: LambdaClient, mappings: readonly string[]): Promise<UnfreezeDecision> {
  return { kind: `${DECISION_KIND}/unfreeze`, resumed: await resumeConsumers(client, mappings) };
}

/**
 * The queue-age window of one metric check: the hold's whole minutes up to the metric window's end, the last
 * `QUEUE_WINDOW_MINUTES` at most (a slope over the hold's recent minutes, not over the time before the switch).
 */
export function queueWindow(end: number, holdStartedAt: number): { start: number; end: number } {
  const minute = 60_000;
  const holdStart = Math.ceil(holdStartedAt / minute) * minute;
  return { start: Math.max(holdStart, end - QUEUE_WINDOW_MINUTES * minute), end };
}

/** Minutes of queue age one metric check fits its slope through. */
export const QUEUE_WINDOW_MINUTES = 5;

async function readQueueAges(client: CloudWatchClient, queueNames: readonly string[], window: { start: number; end: number }): Promise<QueueAgeSeries[]> {
  if (window.end - window.start < 60_000) return queueNames.map((queueName) => ({ queueName, ages: [] }));
  const response = await client.send(new GetMetricDataCommand({
    MetricDataQueries: queueAgeQueries(queueNames),
    StartTime: new Date(window.start),
    EndTime: new Date(window.end),
    ScanBy: 'TimestampAscending',
  }));
  return queueAgeSeries(queueNames, response.MetricDataResults);
}

async function readMinute(client: CloudWatchClient, target: Target, window: { start: number; end: number }): Promise<MinuteTraffic> {
  const response = await client.send(new GetMetricDataCommand({
    MetricDataQueries: watchQueries(target),
    StartTime: new Date(window.start),
    EndTime: new Date(window.end),
  }));
  const value = (id: string) => response.MetricDataResults?.find((r) => r.Id === id)?.Values?.[0] ?? 0;
  // No datapoint is no traffic: Lambda publishes nothing for a minute without invocations.
  return { invocations: value('i'), errors: value('e'), minuteStart: window.start };
}
