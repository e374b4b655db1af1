// The blue-green decisions as people read them: one pure function from the machine's records (the checks before
// the switch, the hold's last checks, a breach, an error) to the BlueGreenDecisionNotification the worker
// publishes. The machine only says which decision it is at and hands over its variables; the sentences, the
// measurements and the choice between `rolled-back` and `error` are made here.
import {
  BlueGreenDecisionNotification, BlueGreenExecutionInput, Check, DECISION_KIND, NOTIFICATION_SOURCE,
} from 'cdk-rollout-guardrails-runtime/contract';
import { HoldDecision } from './hold-engine';
import { InvariantDecision } from './invariants';
import { functionNameOf } from '../shared/lambda-metrics';
import type { PrewarmResult } from '../shared/warm-gate';

type Target = BlueGreenExecutionInput['target'];

/** The record of the warm gate (the worker's `warmup` operation). */
export interface WarmupDecision extends Omit<PrewarmResult, 'ok'> {
  readonly kind: `${typeof DECISION_KIND}/warmup`;
  readonly passed: boolean;
  /** `warmup:status`, `warmup:readySeconds` and `warmup:pingsFailed`. */
  readonly checks: Check[];
}

/** The record of the smoke probe before the switch (the Smoke state's output: the probe's direct run). */
export interface SmokeRecord {
  readonly kind: `${typeof DECISION_KIND}/smoke`;
  readonly passed: boolean;
  readonly status: string;
  readonly reasons: string[];
  readonly questions?: number;
  /** The probe's gates, when it gave a report. */
  readonly gates?: Check[];
}

/** The hold's probe loop when no probe is attached. */
export interface NoHoldProbe {
  readonly kind: `${typeof DECISION_KIND}/check`;
  readonly source: 'probe';
  readonly next: 'succeed';
  readonly reasons: string[];
  readonly check?: undefined;
  readonly rules?: undefined;
}

/** An error of the hold (a step failed, rather than a stop rule). */
export interface HoldError {
  readonly kind: `${typeof DECISION_KIND}/error`;
  readonly error: string;
  readonly cause: string;
}

/** Step Functions' error output, with the state that failed. */
export interface CaughtError {
  readonly State?: string;
  readonly Error: string;
  readonly Cause: string;
}

/** Which decision is news: the machine's five notification states, one each. */
export type NotifyEventName = 'passed' | 'failed' | 'held' | 'breach' | 'error';

/** What the machine hands the worker to notify: which decision, and its variables as they stand. */
export interface NotifyEvent {
  readonly op: 'notify';
  readonly event: NotifyEventName;
  readonly topicArn: string;
  readonly deploymentId: string;
  readonly deploymentGroup: string;
  readonly execution: string;
  readonly phase: BlueGreenExecutionInput['phase'];
  readonly target: Target;
  readonly invariants?: InvariantDecision | null;
  readonly warmup?: WarmupDecision | null;
  readonly smoke?: SmokeRecord | null;
  readonly frozen?: readonly string[] | null;
  /** The hold's result: the metric loop's last check, and the probe loop's (or that none is attached). */
  readonly held?: readonly [HoldDecision, HoldDecision | NoHoldProbe] | null;
  readonly breach?: HoldDecision | HoldError | null;
  readonly error?: CaughtError | null;
}

const CHECK_KIND = `${DECISION_KIND}/check`;
const isBreach = (b: NotifyEvent['breach']): b is HoldDecision => b?.kind === CHECK_KIND;
const rounded = (x: number, digits: number) => Number(x.toFixed(digits));

/** The warm gate's checks, for its record: READY, in time, every ping answered. */
export function warmupChecks(result: Omit<PrewarmResult, 'ok'>, readyTimeoutSeconds: number): Check[] {
  const seconds = result.waitedMs / 1000;
  const ready = result.status === 'READY';
  return [
    { name: 'warmup:status', measured: result.status, threshold: 'READY', passed: ready, reason: `provisioned concurrency ${result.status}` },
    {
      name: 'warmup:readySeconds', measured: seconds, threshold: readyTimeoutSeconds,
      passed: ready ? true : result.status === 'IN_PROGRESS' ? false : null,
      reason: ready ? `READY after ${rounded(seconds, 1)} s of at most ${readyTimeoutSeconds} s`
        : result.status === 'IN_PROGRESS' ? `not READY after ${rounded(seconds, 1)} s (at most ${readyTimeoutSeconds} s)` : `not judged: provisioned concurrency ${result.status}`,
    },
    {
      name: 'warmup:pingsFailed', measured: result.pingsFailed, threshold: 0, passed: result.pingsSent > 0 ? result.pingsFailed === 0 : null,
      reason: result.pingsSent > 0 ? `${result.pingsFailed} of ${result.pingsSent} warm pings failed` : 'not judged: no warm ping sent',
    },
  ];
}

/** The smoke probe's gates as checks of the switch (`smoke:<gate>`), or the run itself when it gave no report. */
function smokeChecks(smoke: SmokeRecord): Check[] {
  if (smoke.gates && smoke.gates.length > 0) return smoke.gates.map((g) => ({ ...g, name: `smoke:${g.name}` }));
  return [{ name: 'smoke', measured: smoke.status, threshold: 'Succeeded', passed: smoke.passed, reason: `the smoke probe ${smoke.status}` }];
}

/** Every check before the switch that ran: the invariants, the warm gate, the smoke probe. */
function beforeChecks(e: NotifyEvent): Check[] {
  return [...(e.invariants?.checks ?? []), ...(e.warmup?.checks ?? []), ...(e.smoke ? smokeChecks(e.smoke) : [])];
}

/** What each check before the switch found, one sentence each. */
function beforeSummary(e: NotifyEvent): string[] {
  const w = e.warmup;
  return [
    ...(e.invariants?.reasons ?? []),
    ...(w ? [`warm gate: provisioned concurrency ${w.status} after ${rounded(w.waitedMs / 1000, 1)} s, ${w.pingsSent} warm pings sent, ${w.pingsFailed} failed`] : []),
    e.smoke ? `smoke probe on ${e.smoke.questions} gold questions: ${e.smoke.status}` : 'no ΔS probe attached: no smoke probe',
  ];
}

const FAILED_CHECK = { invariants: 'the invariant check', warmup: 'the warm gate', smoke: 'the smoke probe' } as const;

/** The notification of `event`. */
export function composeNotification(e: NotifyEvent): BlueGreenDecisionNotification {
  const t = e.target;
  const before = e.phase === 'BeforeAllowTraffic';
  const rollback = { owner: 'CodeDeploy' as const, from: t.targetVersion, to: t.currentVersion };
  const about = {
    source: NOTIFICATION_SOURCE as typeof NOTIFICATION_SOURCE, event: 'blue-green-decision' as const, strategy: 'blue-green' as const, phase: before ? 'before' as const : 'after' as const,
    deploymentId: e.deploymentId, deploymentGroup: e.deploymentGroup, execution: e.execution,
    functionName: functionNameOf(t.functionName), alias: t.alias, currentVersion: t.currentVersion, targetVersion: t.targetVersion,
  };
  switch (e.event) {
    case 'passed':
      return {
        ...about, decision: 'passed', report: 'Succeeded',
        reasons: [`every check before the switch passed: CodeDeploy switches ${t.alias} from version ${t.currentVersion} to ${t.targetVersion} at once`, ...beforeSummary(e)],
        measurements: beforeChecks(e), paused: [...(e.frozen ?? [])],
      };
    case 'failed': {
      const failedCheck = e.invariants?.passed === false ? 'invariants' : e.warmup?.passed === false ? 'warmup' : 'smoke';
      const record = { invariants: e.invariants, warmup: e.warmup, smoke: e.smoke }[failedCheck];
      return {
        ...about, decision: 'failed', report: 'Failed', failedCheck,
        reasons: [`${FAILED_CHECK[failedCheck]} failed before the switch: the alias stays on version ${t.currentVersion}, nothing was paused; reporting Failed`, ...(record?.reasons ?? [])],
        measurements: beforeChecks(e),
      };
    }
    case 'held': {
      if (!e.held) throw new Error('a held notification needs the hold\'s result (held)');
      const [m, p] = e.held;
      const runs = p.check ?? 0;
      return {
        ...about, decision: 'held', report: 'Succeeded',
        reasons: [
          `held ${t.alias} on version ${t.targetVersion} for ${m.elapsedSeconds} s of holdAndWatch ${m.holdSeconds} s: ${m.check} metric checks and ${runs} probe runs, no stop rule broken; the switch is kept`,
          // Each loop's headline is replaced by the one above; what it could not judge stays (and "no probe attached").
          ...m.reasons.slice(1), ...(p.check !== undefined ? p.reasons.slice(1) : p.reasons),
        ],
        measurements: [...m.rules, ...(p.rules ?? [])],
        checks: m.check, probeRuns: runs, heldSeconds: m.elapsedSeconds, holdSeconds: m.holdSeconds,
      };
    }
    case 'breach': {
      const back = `CodeDeploy rolls ${t.alias} back from version ${t.targetVersion} to ${t.currentVersion}`;
      const b = e.breach;
      if (isBreach(b)) {
        return {
          ...about, decision: 'rolled-back', report: 'Failed', failedCheck: b.source,
          reasons: [`a stop rule broke (${b.source} check ${b.check}, ${b.elapsedSeconds} s into the hold): reported Failed, ${back}`, ...b.reasons],
          measurements: b.rules, check: b.check, elapsedSeconds: b.elapsedSeconds, holdSeconds: b.holdSeconds, rollback,
        };
      }
      const error = { State: 'HoldAndWatch', Error: b?.error ?? 'unknown', Cause: b?.cause ?? 'no cause given' };
      return {
        ...about, decision: 'error', report: 'Failed',
        reasons: [`a step of the hold failed: reported Failed, ${back}`, `${error.Error}: ${error.Cause}`],
        measurements: [], rollback, error,
      };
    }
    case 'error': {
      const error = e.error ?? { Error: 'unknown', Cause: 'no error was passed' };
      const breach = isBreach(e.breach) ? e.breach : undefined;
      return {
        ...about, decision: 'error', report: 'Failed',
        reasons: [
          before ? `a step before the switch failed: the alias stays on version ${t.currentVersion}; reporting Failed`
            : `a step failed after the switch: reporting Failed, CodeDeploy rolls the alias back to version ${t.currentVersion}`,
          `${error.State ? `${error.State}: ` : ''}${error.Error}: ${error.Cause}`,
          ...(breach?.reasons ?? []),
        ],
        measurements: breach?.rules ?? [], rollback: before ? null : rollback, error,
      };
    }
    default:
      throw new Error(`expected a notification event passed, failed, held, breach or error, got: ${JSON.stringify((e as { event?: unknown }).event)}`);
  }
}
