// The state machine's gate function: reads the gate alarms and the canary-vs-control traffic, asks the gate
// engine, and tells the machine where to go next (shift, bake, re-check, probe, succeed, roll back) with the
// routing to set and the metrics to publish. `planStep` is pure; `createGateHandler` is the AWS edge.
import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  Check, NOTIFICATION_SOURCE, newErrorClassAt, OperatorAudit, ProbeStopRules, ShadowPromotionNotification, StagedDecisionNotification, StagedExecutionInput, StagedNext, StagedProgress,
  stopRulesAt,
} from 'cdk-rollout-guardrails-runtime/contract';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { cohortTraffic, cohortTrafficQueries } from './cohort-traffic';
import { AlarmState, decide, Decision, ProbeOutcome, VersionTraffic, weightBefore } from './gate-engine';
import { QueueAgeSeries, queueAgeQueries, queueAgeSeries } from '../shared/queue-age';
import { CacheTraffic, cacheQueries, cacheTrafficOf, releaseIdOf } from './cache-hit-rate';
import { CONTROL_BASELINE_SECONDS, ErrorClassesSeen, errorClassesOf, errorClassQueries } from './error-classes';
import { readAlarms } from '../shared/alarms';
import { resumeConsumers } from '../shared/consumers';
import { executedVersionQuery, functionNameOf } from '../shared/lambda-metrics';
import { shadowVerdict } from '../shared/shadow-promotion';
import { fenceLiftReason, withFenceLifted } from './fence-lift';
import { planShadowStep } from './shadow-gate';
import { OperatorRead, operatorStep, readOperatorCommand } from './operator';

/** The probe's result as the machine stores it: the probe's own status, or NotConfigured. */
export interface ProbeResult {
  readonly status: 'Succeeded' | 'Failed' | 'NotConfigured' | string;
  readonly reasons?: readonly string[];
}

/** What the machine passes the gate function. */
export interface GateEvent extends StagedExecutionInput {
  readonly progress: StagedProgress;
  /** The consumers the starter paused (the machine passes `$.fenced`, an empty array without a fence). */
  readonly fenced?: string[];
  readonly probe?: ProbeResult | null;
  /** `shadow`: the machine's stage 0, the release's shadow record judged before anything else (`requireShadow`). */
  readonly mode?: 'shadow';
}

/** One CloudWatch datum for the machine's PutMetricData task. */
export interface MetricDatum {
  readonly MetricName: string;
  readonly Value: number;
  readonly Unit: 'Percent' | 'Count' | 'None';
  readonly Dimensions: Array<{ readonly Name: string; readonly Value: string }>;
}

/** What the gate function returns; the machine keeps it at `$.gate`. */
export interface GateOutput {
  readonly next: StagedNext;
  readonly decision: Decision;
  readonly reasons: string[];
  readonly gates: Check[];
  readonly progress: StagedProgress;
  /** The alias's routing for the SetWeight task: only AdditionalVersionWeights, never FunctionVersion. */
  readonly routing: { readonly AdditionalVersionWeights: Record<string, number> };
  /** Percent of traffic on the new version after this decision. */
  readonly weight: number;
  /** Sticky cohorts: `weight` as DynamoDB's number text, for the SetCohort task's item; absent without them. */
  readonly cohortWeight?: string;
  /** Seconds the machine's next Wait state waits (a bake slice or a recheck); 0 when it does not wait. */
  readonly waitSeconds: number;
  /**
   * How many gold questions the next probe run asks (the probe's `questionLimit`): null for the whole gold set
   * while the rollout has not shifted yet (a re-check before the first shift included), `canaryQuestions` after.
   */
  readonly probeQuestions: number | null;
  /**
   * The stop rules the next probe run judges (the probe's `stopRules`): those of the schedule in force at the
   * weight it runs at (this decision's `weight`), each at its strictest; null when none is.
   */
  readonly probeStopRules: ProbeStopRules | null;
  readonly metricData: MetricDatum[];
  /**
   * The decision as the alias's notifications topic receives it, when the alias has one and the decision is
   * news (a shift, a hold, success or a rollback, an operator's command; not each slice of a bake or the probe after it).
   */
  readonly notification?: StagedDecisionNotification | ShadowPromotionNotification;
  /** What the decision did with an operator's command or an approval step: the audit line in the execution's history. */
  readonly operator?: OperatorAudit;
}

/** What the edge read for one decision. */
export interface Observed {
  readonly alarms: ReadonlyArray<{ readonly name: string; readonly state: AlarmState }>;
  readonly canary?: VersionTraffic;
  readonly control?: VersionTraffic;
  /** The error classes each version showed in the window, where the `newErrorClass` stop rule is in force. */
  readonly errorClasses?: ErrorClassesSeen;
  /** Each version's cache lookups and hits in the window, for an alias with the cache hit-rate gate. */
  readonly cache?: { readonly canary?: CacheTraffic; readonly control?: CacheTraffic };
  /** Each queue's oldest-message ages over the window, for an alias with the queue-age gate. */
  readonly queues?: readonly QueueAgeSeries[];
  /** The operator's latest command for this deployment (the CLI's pause, resume, promote, abort), or why it could not be read. */
  readonly operator?: OperatorRead;
  /** Epoch milliseconds. */
  readonly now: number;
}

const DECISION_VALUE: Record<Decision, number> = { advance: 1, hold: 0, rollback: -1 };

/** The probe's result in the engine's terms; undefined when no probe is configured. */
export function probeOutcome(event: GateEvent): ProbeOutcome | undefined {
  if (event.config.probeFunctionArn === undefined) return undefined;
  const probe = event.probe;
  if (!probe || probe.status === 'NotConfigured') return { verdict: 'fail', reasons: ['the probe did not report'] };
  return probe.status === 'Succeeded'
    ? { verdict: 'pass', reasons: [] }
    : { verdict: 'fail', reasons: probe.reasons && probe.reasons.length > 0 ? probe.reasons : [`probe status ${probe.status}`] };
}

/**
 * Seconds the rest of the schedule needs once the check at `stepIndex` advances: for each step from it up
 * to the last one below 100, a bake and the probe before the next check.
 */
export function secondsToFinish(event: StagedExecutionInput, stepIndex: number): number {
  const { steps, bakeSeconds, probeBudgetSeconds } = event.config.schedule;
  const last = steps.length - 1;
  if (stepIndex >= last) return 0;
  const probe = event.config.probeFunctionArn === undefined ? 0 : probeBudgetSeconds;
  return (last - stepIndex) * (bakeSeconds + probe);
}

/** Decides one gate invocation and plans the machine's next move. Pure. */
export function planStep(event: GateEvent, observed: Observed): GateOutput {
  const { schedule, thresholds } = event.config;
  const { progress } = event;
  const probeSeconds = event.config.probeFunctionArn === undefined ? 0 : schedule.probeBudgetSeconds;
  const result = decide({
    phase: progress.phase,
    steps: schedule.steps,
    stepIndex: progress.stepIndex,
    failures: progress.failures,
    maxFailuresPerStep: schedule.maxFailuresPerStep,
    noDataWaitedSeconds: progress.noDataWaitedSeconds,
    noData: schedule.noData,
    recheckSeconds: schedule.recheckSeconds,
    thresholds,
    probe: probeOutcome(event),
    canary: observed.canary,
    control: observed.control,
    alarms: observed.alarms,
    errorClasses: observed.errorClasses,
    cacheHitRate: event.config.cacheHitRate && observed.cache ? { rule: event.config.cacheHitRate, ...observed.cache } : undefined,
    queueAge: event.config.queueAge && observed.queues ? { rule: event.config.queueAge, series: observed.queues } : undefined,
    secondsLeft: (event.deadline - observed.now) / 1000,
    secondsToFinish: secondsToFinish(event, progress.stepIndex),
    secondsPerHold: schedule.recheckSeconds + probeSeconds,
  });

  let next: StagedNext;
  let nextProgress: StagedProgress = { ...progress, failures: result.failures, noDataWaitedSeconds: result.noDataWaitedSeconds };
  let waitSeconds = 0;
  let weight = result.weightAfter;
  if (result.decision === 'rollback') {
    next = 'rollback';
    weight = 0;
  } else if (progress.phase === 'bake') {
    if (progress.bakeLeftSeconds > 0) {
      next = 'bake';
      waitSeconds = Math.min(schedule.recheckSeconds, progress.bakeLeftSeconds);
      nextProgress = { ...nextProgress, bakeLeftSeconds: progress.bakeLeftSeconds - waitSeconds };
    } else {
      next = 'probe';
      nextProgress = { ...nextProgress, phase: 'check' };
    }
  } else if (result.decision === 'hold') {
    next = 'recheck';
    waitSeconds = schedule.recheckSeconds;
  } else if (schedule.steps[progress.stepIndex] === 100) {
    next = 'succeed';
  } else {
    next = 'shift';
    waitSeconds = Math.min(schedule.recheckSeconds, schedule.bakeSeconds);
    nextProgress = {
      phase: 'bake',
      stepIndex: progress.stepIndex + 1,
      failures: 0,
      noDataWaitedSeconds: 0,
      bakeLeftSeconds: schedule.bakeSeconds - waitSeconds,
    };
  }
  const operated = operatorStep(event, observed.operator ?? {}, {
    next, decision: result.decision, reasons: result.reasons, progress: nextProgress, waitSeconds, weight,
  }, observed.now, secondsToFinish(event, progress.stepIndex));
  ({ next, progress: nextProgress, waitSeconds, weight } = operated);
  const { decision, reasons, audit } = operated;
  const weights: Record<string, number> = weight > 0 && weight < 100 ? { [event.target.targetVersion]: weight / 100 } : {};
  const dimensions = [
    { Name: 'FunctionName', Value: functionNameOf(event.target.functionName) },
    { Name: 'Alias', Value: event.target.alias },
  ];
  const notify = event.config.topicArn !== undefined && ((next !== 'bake' && next !== 'probe') || operated.announce);
  // The weight the new version serves after this decision (a success reports the last step's, before CodeDeploy's shift).
  const served = next === 'succeed' ? weightBefore(schedule.steps, progress.stepIndex) : weight;
  return {
    ...(notify ? {
      notification: {
        source: NOTIFICATION_SOURCE,
        event: 'gate-decision',
        strategy: 'staged',
        deploymentId: event.deployment.deploymentId,
        functionName: functionNameOf(event.target.functionName),
        alias: event.target.alias,
        currentVersion: event.target.currentVersion,
        targetVersion: event.target.targetVersion,
        step: schedule.steps[progress.stepIndex],
        weight: served,
        decision,
        next,
        reasons,
        gates: result.gates.map(({ name, measured, threshold, passed }) => ({ name, measured, threshold, passed })),
        ...(audit ? { operator: audit } : {}),
      },
    } : {}),
    ...(audit ? { operator: audit } : {}),
    next,
    decision,
    reasons,
    gates: result.gates,
    progress: nextProgress,
    routing: { AdditionalVersionWeights: weights },
    weight: served,
    ...(event.config.cohort ? { cohortWeight: String(served) } : {}),
    waitSeconds,
    // The whole gold set before the first shift; the canary questions after it (the seeds' k per step).
    probeQuestions: nextProgress.stepIndex === 0 ? null : schedule.canaryQuestions,
    // The next probe runs at the weight this decision leaves: the rules in force there.
    probeStopRules: stopRulesAt(schedule.stopRules ?? [], served),
    metricData: [
      { MetricName: 'TrafficWeight', Value: served, Unit: 'Percent', Dimensions: dimensions },
      { MetricName: 'StepDecision', Value: DECISION_VALUE[decision], Unit: 'None', Dimensions: dimensions },
      { MetricName: 'GatesFailed', Value: result.gates.filter((g) => g.passed === false).length, Unit: 'Count', Dimensions: dimensions },
      // Each judged gate's decision; a gate that could not be judged (no data, no probe) publishes nothing.
      ...result.gates.filter((g) => g.passed !== null).map((g): MetricDatum => ({
        MetricName: 'GatePassed', Value: g.passed ? 1 : 0, Unit: 'None', Dimensions: [...dimensions, { Name: 'Gate', Value: g.name }],
      })),
    ],
  };
}

/**
 * The GetMetricData queries of one window: invocations, errors and p95 duration of the canary and the
 * control, each by `ExecutedVersion` under the alias (`Resource = <function>:<alias>`).
 */
export function trafficQueries(event: StagedExecutionInput, periodSeconds: number): MetricDataQuery[] {
  const queries: MetricDataQuery[] = [];
  for (const [side, version] of [['c', event.target.targetVersion], ['k', event.target.currentVersion]] as const) {
    for (const [metric, stat, id] of [['Invocations', 'Sum', 'i'], ['Errors', 'Sum', 'e'], ['Duration', 'p95', 'p']] as const) {
      queries.push(executedVersionQuery(`${side}${id}`, event.target, version, metric, stat, periodSeconds));
    }
  }
  return queries;
}

/** The AWS clients and clock of the gate function; tests pass mocks. */
export interface GateDependencies {
  readonly cloudwatch: CloudWatchClient;
  /** Resumes the fenced consumers; needed only when an execution has some (`event.fenced`). */
  readonly lambda?: LambdaClient;
  /** Reads the release's shadow record; needed only for an alias with `requireShadow`. */
  readonly dynamodb?: DynamoDBClient;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default console.log */
  readonly log?: (line: string) => void;
}

/** Builds the gate function's handler. */
export function createGateHandler(deps: GateDependencies): (event: GateEvent) => Promise<GateOutput> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((line: string) => console.log(line));
  return async (event) => {
    if (event.mode === 'shadow') return shadowStep(event);
    const at = now();
    if (event.config.operator && !deps.dynamodb) throw new Error('the gate has an operator item to read but no DynamoDB client');
    const [alarms, operator] = await Promise.all([
      readAlarms(deps.cloudwatch, event.config.alarmNames),
      deps.dynamodb ? readOperatorCommand(deps.dynamodb, event, log) : {},
    ]);
    let canary: VersionTraffic | undefined;
    let control: VersionTraffic | undefined;
    let queues: readonly QueueAgeSeries[] | undefined;
    let errorClasses: ErrorClassesSeen | undefined;
    let cache: Observed['cache'];
    // Traffic (and the queues' ages) are judged only before a shift and once the new version serves some.
    if (event.progress.phase === 'check' && weightBefore(event.config.schedule.steps, event.progress.stepIndex) > 0) {
      ({ canary, control, queues, errorClasses, cache } = await readTraffic(deps.cloudwatch, event, at, deps.lambda));
    }
    const output = await liftFence(event, planStep(event, { alarms, canary, control, queues, errorClasses, cache, operator, now: at }));
    log(JSON.stringify({
      message: 'cdk-rollout-guardrails staged gate',
      deploymentId: event.deployment.deploymentId,
      step: event.progress.stepIndex,
      phase: event.progress.phase,
      next: output.next,
      weight: output.weight,
      reasons: output.reasons,
      gates: output.gates,
      ...(output.operator ? { operator: output.operator } : {}),
    }));
    return output;
  };

  /** Stage 0: the release's shadow record judged; a refusal resumes the fenced consumers like any rollback. */
  async function shadowStep(event: GateEvent): Promise<GateOutput> {
    const config = event.config.shadowPromotion;
    if (!config) throw new Error('the gate was asked for the shadow check of an alias without requireShadow');
    if (!deps.dynamodb) throw new Error('the gate has a shadow check to make but no DynamoDB client');
    const verdict = await shadowVerdict(deps.dynamodb, config);
    const output = await liftFence(event, planShadowStep(event, verdict));
    log(JSON.stringify({
      message: 'cdk-rollout-guardrails staged shadow check', deploymentId: event.deployment.deploymentId, releaseId: config.releaseId,
      next: output.next, reasons: output.reasons, gates: output.gates,
    }));
    return output;
  }

  /**
   * The consumer fence: the consumers the starter paused are resumed, once, before the weight reaches the fence's
   * step, and when the rollout succeeds or rolls back. A failed resume throws: the machine's catch resets the
   * routing and reports Failed, and the safety net resumes them on the execution's end.
   */
  async function liftFence(event: GateEvent, output: GateOutput): Promise<GateOutput> {
    if (event.progress.fenceLifted) return { ...output, progress: { ...output.progress, fenceLifted: true } };
    const why = fenceLiftReason(event, output);
    if (why === undefined) return output;
    if (!deps.lambda) throw new Error('the gate has fenced consumers to resume but no Lambda client');
    return withFenceLifted(output, await resumeConsumers(deps.lambda, event.fenced ?? []), why);
  }
}

async function readTraffic(client: CloudWatchClient, event: GateEvent, at: number, lambda?: LambdaClient): Promise<Pick<Observed, 'canary' | 'control' | 'queues' | 'errorClasses' | 'cache'>> {
  // The window is the bake just finished, in whole minutes (metric periods are multiples of 60 s); the queues'
  // ages come in the same request, one Maximum a minute over the same window.
  const period = Math.max(60, Math.floor(event.config.schedule.bakeSeconds / 60) * 60);
  const end = Math.floor(at / 60_000) * 60_000;
  const queueNames = event.config.queueAge?.queueNames ?? [];
  // The error classes of both versions, where a rule in force at this weight judges them.
  const judgeClasses = newErrorClassAt(event.config.schedule.stopRules ?? [], weightBefore(event.config.schedule.steps, event.progress.stepIndex));
  const functionName = functionNameOf(event.target.functionName);
  // The cache gate reads each version's lookups and hits under its own release (its RELEASE_ID), and so do sticky
  // cohorts each version's p95.
  const releases = (event.config.cacheHitRate || event.config.cohort) && lambda
    ? await Promise.all([event.target.targetVersion, event.target.currentVersion].map((v) => releaseIdOf(lambda, functionName, v)))
    : undefined;
  // The current version's classes over the window and the hour before come in a request of their own, alongside.
  const [response, baseline] = await Promise.all([client.send(new GetMetricDataCommand({
    MetricDataQueries: [
      ...(event.config.cohort ? cohortTrafficQueries(event, period, releases ?? []) : trafficQueries(event, period)),
      ...queueAgeQueries(queueNames),
      ...(judgeClasses ? errorClassQueries(functionName, 'c', event.target.targetVersion, period) : []),
      ...(releases?.[0] && event.config.cacheHitRate ? cacheQueries(functionName, 'c', releases[0], event.target.targetVersion, period) : []),
      ...(releases?.[1] && event.config.cacheHitRate ? cacheQueries(functionName, 'k', releases[1], event.target.currentVersion, period) : []),
    ],
    StartTime: new Date(end - period * 1000),
    EndTime: new Date(end),
    ScanBy: 'TimestampAscending',
  })), judgeClasses ? controlClasses(client, event, end, period) : undefined]);
  const value = (id: string) => response.MetricDataResults?.find((r) => r.Id === id)?.Values?.[0];
  const side = (prefix: string): VersionTraffic | undefined => {
    const invocations = value(`${prefix}i`);
    if (invocations === undefined) return undefined;
    return { invocations, errors: value(`${prefix}e`) ?? 0, p95Ms: value(`${prefix}p`) };
  };
  const { canary, control } = event.config.cohort ? cohortTraffic(response.MetricDataResults) : { canary: side('c'), control: side('k') };
  return {
    canary,
    control,
    queues: event.config.queueAge ? queueAgeSeries(queueNames, response.MetricDataResults) : undefined,
    errorClasses: baseline ? { canary: errorClassesOf('c', response.MetricDataResults), control: baseline } : undefined,
    // A version without a RELEASE_ID has no telemetry to compare: no data.
    cache: releases && event.config.cacheHitRate ? {
      canary: releases[0] ? cacheTrafficOf('c', response.MetricDataResults) : undefined,
      control: releases[1] ? cacheTrafficOf('k', response.MetricDataResults) : undefined,
    } : undefined,
  };
}

/** The current version's error classes over the window and the hour before it (one sum each). */
async function controlClasses(client: CloudWatchClient, event: GateEvent, end: number, windowSeconds: number): Promise<string[]> {
  const span = windowSeconds + CONTROL_BASELINE_SECONDS;
  const response = await client.send(new GetMetricDataCommand({
    MetricDataQueries: errorClassQueries(functionNameOf(event.target.functionName), 'k', event.target.currentVersion, span),
    StartTime: new Date(end - span * 1000),
    EndTime: new Date(end),
  }));
  return errorClassesOf('k', response.MetricDataResults);
}
