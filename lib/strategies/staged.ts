import { Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEFAULT_CANARY_QUESTIONS, type QueueAgeConfig, type StagedSchedule } from 'cdk-rollout-guardrails-runtime/contract';
import { alarmTo } from '../private/machinery';
import { PropProblems } from '../private/validation';
import { AliasUses, RolloutHooks, RolloutKind, RolloutStrategy, RolloutTarget } from '../rollout-strategy';
import { StagedRollout } from '../staged-rollout';
import { ConsumerFence, fenceUntilStep, validateFence } from './fence';
import { QueueAgeGate, queueAgeConfig, validateQueueAge } from './queue-age';
import { DEFAULT_STOP_RULES, StepStopRules, stopRulesConfig, stopRulesFor, validateStopRules } from './stop-rules';

/** CodeDeploy's limit on one lifecycle hook (`RolloutStrategy.CODEDEPLOY_HOOK_LIMIT`). @see https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html */
export const CODEDEPLOY_HOOK_LIMIT = RolloutStrategy.CODEDEPLOY_HOOK_LIMIT;
/**
 * Time the schedule leaves unplanned inside the hook limit: one hold at one step (a re-check, a probe)
 * and the machine's own transitions. The machine also checks the time before every hold and advance, and
 * rolls back rather than let the hook time out.
 */
export const STAGED_SCHEDULE_MARGIN = Duration.minutes(10);
/** How long a held step waits before it is checked again; also the bake's alarm-watch interval (one metric period). */
export const STAGED_RECHECK_INTERVAL = Duration.minutes(1);
/** Allowance from a rollback decision to the routing being reset (a gate invocation and an UpdateAlias). */
export const STAGED_RESET_ALLOWANCE = Duration.seconds(30);
/** The default DeltaSProbe function's timeout: a 5-minute budget, a 10-second last call, 20 seconds to report. */
const DEFAULT_PROBE_BUDGET_SECONDS = 330;
/** The worst case from a breach to a gate alarm in ALARM (1 one-minute datapoint, 1 evaluation interval): see release-gates.ts. */
const ALARM_DETECTION = Duration.minutes(2);

/** What a staged step does, after its wait for data, when the canary still served too little traffic to compare. */
export enum NoDataAction {
  /** Roll the deployment back. */
  FAIL = 'fail',
  /** Judge the step on the probe and the alarms alone (and say so in its decision, notification and dashboard). */
  PASS = 'pass',
}

/** What a staged step does when the canary served too little traffic to compare with the control. */
export interface StagedNoDataPolicy {
  /**
   * How long a step waits for data beyond its bake, re-checking every minute; whole minutes, 0 for no wait.
   * The wait counts in the schedule's one-hour budget at synth (every step may wait it).
   * @default Duration.minutes(0) - the bake is the window: an alias too quiet to fill it is not helped by waiting
   */
  readonly maxWait?: Duration;
  /**
   * After the wait: `NoDataAction.FAIL` rolls the deployment back; `NoDataAction.PASS` judges the step on the
   * probe and alarms alone. Missing data is never a silent pass: the step's decision, its notification and the
   * dashboard say so. The default suits low-traffic aliases: with `FAIL`, an alias serving about 1 request a
   * second (0.6 calls a minute at the 1 % step) is always rolled back, whatever the release.
   * @default NoDataAction.PASS
   */
  readonly then?: NoDataAction;
  /**
   * Fewest invocations of the new version in the window for the metric gates to judge.
   * @default 10
   */
  readonly minInvocations?: number;
}

/** A staged strategy's no-data policy, defaults filled in. */
export interface StagedNoDataSettings {
  /** How long a step waits for data beyond its bake. */
  readonly maxWait: Duration;
  /** What the step does after the wait. */
  readonly then: NoDataAction;
  /** Fewest invocations of the new version in the window for the metric gates to judge. */
  readonly minInvocations: number;
}

/** Options of `RolloutStrategy.staged()`. */
export interface StagedRolloutOptions {
  /**
   * Percent of traffic on the new version at each step: integers from 1 to 100, rising strictly, ending at 100.
   * @default [1, 5, 25, 50, 100]
   */
  readonly steps?: number[];
  /**
   * How long each step below 100 % bakes before the next check; whole minutes. Gate alarms are watched
   * every minute of the bake.
   * @default Duration.minutes(5)
   */
  readonly bake?: Duration;
  /**
   * Gate failures at one step that roll the deployment back; below it the step holds and is re-checked.
   * @default 2
   */
  readonly maxFailuresPerStep?: number;
  /**
   * What a step does without enough traffic to compare.
   * @default - no wait beyond the bake; with fewer than 10 new-version invocations in it, the step is judged on the probe and the alarms alone (and says so)
   */
  readonly noData?: StagedNoDataPolicy;
  /**
   * The longest one probe run may take, counted once per check in the schedule: the DeltaSProbe function's
   * timeout (its `budget` + `invokeTimeout` + 20 s to report).
   * @default Duration.seconds(330) - the default DeltaSProbe's timeout (5-minute budget + 10 s + 20 s)
   */
  readonly probeBudget?: Duration;
  /**
   * Gold questions each probe run asks after the first shift, each in every wording and seed, spread across
   * the gold set's sections. The whole gold set runs once, before the first shift (and again at 100 % in the
   * AfterAllowTraffic hook); this many before each later step, after the seeds' "ΔS drift ≤ 0.03 on canary
   * questions (k=10)". Capped by the gold set's size.
   * @default 10
   */
  readonly canaryQuestions?: number;
  /**
   * Stop rules the probe judges from a step on, besides its gates: the field guide's hard stops per stage. A
   * broken rule fails the step's check like a broken gate (held, then rolled back after `maxFailuresPerStep`).
   * Giving a list replaces the defaults; `[]` turns them off. Needs a `DeltaSProbe` on the alias.
   * @default - `StagedRolloutStrategy.DEFAULT_STOP_RULES`: coverage of at least 0.70 in every gold-set topic from 5 %, at most one paraphrase's λ flip per gold question from 50 % (those a step below 100 of the schedule reaches)
   */
  readonly stopRules?: StepStopRules[];
  /**
   * SQS queues the alias's consumers drain, each judged by the queue-age gate at every check once the new
   * version serves traffic: its oldest message's age must not rise over the step's window (`queueAge`). A queue
   * that reports no age in the window (SQS reports it only while a message is in the queue) is missing data,
   * and follows `noData`.
   * @default - no queue-age gate
   */
  readonly queues?: sqs.IQueue[];
  /**
   * The queue-age gate's rule.
   * @default - a rise of at most 6 s a minute, judged when the oldest message is at least a minute old
   */
  readonly queueAge?: QueueAgeGate;
  /**
   * Early-step consumer fence: event source mappings paused while the new version serves less than
   * `fence.untilStep` percent (default 25), resumed when the rollout reaches that step, succeeds or rolls back
   * (the safety net resumes them when an execution fails, times out or is stopped). Only running mappings are
   * paused; pause only, the mappings' maximum concurrency is not capped.
   * @default - no fence
   */
  readonly fence?: ConsumerFence;
}

// The schedule's shape lives with the configuration the handlers read (which must not import aws-cdk-lib).
export type { StagedSchedule };

/** How long a breach can go on before the routing is back on the old version. */
export interface StagedRollbackTime {
  /** A gate alarm fires while a step bakes: detection, at most one watch interval, the reset. */
  readonly onAlarm: Duration;
  /**
   * A breach only the probe or the metric comparison sees: it starts just after a check, is seen at the next
   * one (a bake and a probe later), fails `maxFailuresPerStep` times (a re-check and a probe between each),
   * and the routing is reset.
   */
  readonly onGateCheck: Duration;
}

/** `RolloutStrategy.staged()`: validated at synth, with its computed durations exposed. */
export class StagedRolloutStrategy extends RolloutStrategy {
  /**
   * Time the schedule leaves unplanned inside the hook limit: one hold at one step (a re-check, a probe) and the
   * machine's own transitions. The machine also checks the time before every hold and advance, and rolls back
   * rather than let the hook time out.
   */
  public static readonly SCHEDULE_MARGIN: Duration = STAGED_SCHEDULE_MARGIN;
  /** How long a held step waits before it is checked again; also the bake's alarm-watch interval (one metric period). */
  public static readonly RECHECK_INTERVAL: Duration = STAGED_RECHECK_INTERVAL;
  /** Allowance from a rollback decision to the routing being reset (a gate invocation and an UpdateAlias). */
  public static readonly RESET_ALLOWANCE: Duration = STAGED_RESET_ALLOWANCE;
  /** The seed's hard stops (canary_release_serverless.md): topic coverage ≥ 0.70 from 5 %, at most one paraphrase flip per question from 50 %. */
  public static readonly DEFAULT_STOP_RULES: StepStopRules[] = [...DEFAULT_STOP_RULES];

  public readonly kind = RolloutKind.STAGED;
  private readonly options: StagedRolloutOptions;

  constructor(options: StagedRolloutOptions) {
    super();
    this.options = options ?? {};
  }

  /** The steps, defaults filled in. */
  public get steps(): number[] {
    return this.options.steps ?? [1, 5, 25, 50, 100];
  }

  public get bake(): Duration {
    return this.options.bake ?? Duration.minutes(5);
  }

  public get maxFailuresPerStep(): number {
    return this.options.maxFailuresPerStep ?? 2;
  }

  public get probeBudget(): Duration {
    return this.options.probeBudget ?? Duration.seconds(DEFAULT_PROBE_BUDGET_SECONDS);
  }

  /** Gold questions each probe run asks after the first shift. */
  public get canaryQuestions(): number {
    return this.options.canaryQuestions ?? DEFAULT_CANARY_QUESTIONS;
  }

  /** The queues the queue-age gate judges (none: no gate). */
  public get queues(): sqs.IQueue[] {
    return [...(this.options.queues ?? [])];
  }

  /** The fenced event source mappings (none: no fence). */
  public get fenceConsumers(): lambda.IEventSourceMapping[] {
    return [...(this.options.fence?.consumers ?? [])];
  }

  /** The step the consumer fence lifts at, default filled in; undefined without a fence. */
  public get fenceUntilStep(): number | undefined {
    return fenceUntilStep(this.options.fence, this.steps);
  }

  /** The stop rules as given (undefined: the defaults). @internal */
  public get _givenStopRules(): StepStopRules[] | undefined {
    return this.options.stopRules;
  }

  /** The stop rules, defaults filled in: in force from their steps on. */
  public get stopRules(): StepStopRules[] {
    return stopRulesFor(this.options.stopRules, this.steps);
  }

  /** The no-data policy, defaults filled in. */
  public get noData(): StagedNoDataSettings {
    const given = this.options.noData ?? {};
    return { maxWait: given.maxWait ?? Duration.minutes(0), then: given.then ?? NoDataAction.PASS, minInvocations: given.minInvocations ?? 10 };
  }

  public validate(): string[] {
    const problems = new PropProblems();
    const steps = this.options.steps as unknown;
    // Every schedule problem is reported together: the shape of the steps (each rule on its own), the
    // other options, and the hour whenever the durations can be computed, even beside other problems.
    if (steps !== undefined) {
      if (!Array.isArray(steps)) {
        problems.add('strategy (staged) steps', 'at least two steps, the last 100', steps);
      } else {
        const inRange = (s: unknown): s is number => typeof s === 'number' && Number.isInteger(s) && s >= 1 && s <= 100;
        if (steps.length < 2) problems.add('strategy (staged) steps', 'at least two steps, the last 100', steps);
        if (!steps.every(inRange)) problems.add('strategy (staged) steps', 'integers from 1 to 100', steps);
        const numbers = steps.filter((s): s is number => typeof s === 'number' && Number.isFinite(s));
        if (!numbers.every((s, i) => i === 0 || s > numbers[i - 1])) problems.add('strategy (staged) steps', 'strictly rising', steps);
        // A last step out of range is reported as such; a lone step is "at least two steps, the last 100".
        const last = steps[steps.length - 1];
        if (steps.length >= 2 && inRange(last) && last !== 100) problems.add('strategy (staged) steps', 'a schedule ending at 100', steps);
      }
    }
    const minutes = (prop: string, value: Duration | undefined, min: number) => {
      if (value === undefined) return;
      if (!(value instanceof Duration)) problems.add(prop, 'a Duration', value);
      else if (!value.isUnresolved() && (value.toMilliseconds() % 60_000 !== 0 || value.toMilliseconds() < min * 60_000)) {
        problems.add(prop, `whole minutes, at least ${min}`, value);
      }
    };
    minutes('strategy (staged) bake', this.options.bake, 1);
    problems.integer('strategy (staged) maxFailuresPerStep', this.options.maxFailuresPerStep, 1, 10);
    const noData = this.options.noData;
    if (noData !== undefined) {
      if (typeof noData !== 'object' || noData === null) problems.add('strategy (staged) noData', 'an object ({ maxWait, then, minInvocations })', noData);
      else {
        minutes('strategy (staged) noData.maxWait', noData.maxWait, 0);
        if (noData.then !== undefined && noData.then !== NoDataAction.FAIL && noData.then !== NoDataAction.PASS) problems.add('strategy (staged) noData.then', '"fail" or "pass"', noData.then);
        problems.integer('strategy (staged) noData.minInvocations', noData.minInvocations, 1, 1_000_000);
      }
    }
    problems.integer('strategy (staged) canaryQuestions', this.options.canaryQuestions, 1, 10_000);
    validateStopRules(problems, this.options.stopRules, steps ?? this.steps);
    validateQueueAge(problems, 'strategy (staged)', this.options.queues, this.options.queueAge);
    validateFence(problems, 'strategy (staged)', this.options.fence, steps ?? this.steps);
    const budget = this.options.probeBudget;
    if (budget !== undefined) {
      if (!(budget instanceof Duration)) problems.add('strategy (staged) probeBudget', 'a Duration', budget);
      else if (!budget.isUnresolved() && (budget.toMilliseconds() % 1000 !== 0 || budget.toMilliseconds() < 1000 || budget.toMilliseconds() > 15 * 60_000)) {
        problems.add('strategy (staged) probeBudget', 'from 1 second to 15 minutes (Lambda\'s longest timeout)', budget);
      }
    }
    // The hour is judged with the values as given (an out-of-range bake or budget still counts at its value)
    // whenever they are of the right types; tokens leave it to deploy time.
    const total = this.scheduleComputable() ? this.scheduleDuration : undefined;
    const limit = CODEDEPLOY_HOOK_LIMIT.minus(STAGED_SCHEDULE_MARGIN);
    if (total !== undefined && total.toSeconds() > limit.toSeconds()) {
      problems.addMessage(`strategy (staged) schedule must fit CodeDeploy's ${CODEDEPLOY_HOOK_LIMIT.toMinutes()}-minute lifecycle hook limit `
        + `with a ${STAGED_SCHEDULE_MARGIN.toMinutes()}-minute margin (at most ${limit.toMinutes()} minutes), got: ${describeSeconds(total.toSeconds())} `
        + `(${this._describeSchedule()}); shorten bake or probeBudget, or use fewer steps`);
    }
    return [...problems.messages];
  }

  /** Whether the schedule's inputs have the types its duration is computed from (ranges aside). */
  private scheduleComputable(): boolean {
    const o = this.options;
    const duration = (value: unknown) => value === undefined || (value instanceof Duration && (value.isUnresolved() || value.toMilliseconds() % 1000 === 0));
    const noData = o.noData as unknown;
    return (o.steps === undefined || (Array.isArray(o.steps) && o.steps.length > 0)) && duration(o.bake) && duration(o.probeBudget)
      && (noData === undefined || (typeof noData === 'object' && noData !== null && duration((noData as StagedNoDataPolicy).maxWait)));
  }

  /**
   * How long the schedule takes when every gate passes at the first check: per step below 100 a probe, a
   * bake and the longest wait for data (`noData.maxWait`), then a last probe before reporting Succeeded.
   * Undefined where a parameter is a token. (A warm gate adds its own time: StagedRollout counts it.)
   */
  public get scheduleDuration(): Duration | undefined {
    const wait = this.noData.maxWait;
    if (this.bake.isUnresolved() || this.probeBudget.isUnresolved() || !(wait instanceof Duration) || wait.isUnresolved()) return undefined;
    const below = this.steps.length - 1;
    return Duration.seconds(below * (this.probeBudget.toSeconds() + this.bake.toSeconds() + wait.toSeconds()) + this.probeBudget.toSeconds());
  }

  /** How long a breach can last before the routing is back on the old version; undefined where a parameter is a token. */
  public get rollbackTime(): StagedRollbackTime | undefined {
    if (this.bake.isUnresolved() || this.probeBudget.isUnresolved()) return undefined;
    const recheck = STAGED_RECHECK_INTERVAL.toSeconds();
    const reset = STAGED_RESET_ALLOWANCE.toSeconds();
    const probe = this.probeBudget.toSeconds();
    return {
      onAlarm: Duration.seconds(ALARM_DETECTION.toSeconds() + recheck + reset),
      onGateCheck: Duration.seconds(this.bake.toSeconds() + probe + (this.maxFailuresPerStep - 1) * (recheck + probe) + reset),
    };
  }

  /** The worse of the two rollback times. */
  public get worstCaseRollbackTime(): Duration | undefined {
    const times = this.rollbackTime;
    if (!times) return undefined;
    return times.onGateCheck.toSeconds() >= times.onAlarm.toSeconds() ? times.onGateCheck : times.onAlarm;
  }

  /**
   * CodeDeploy itself shifts all at once, after the BeforeAllowTraffic hook in which the schedule runs.
   * (The schedule's own length is `scheduleDuration`.)
   */
  public get shiftDuration(): Duration | undefined {
    return Duration.seconds(0);
  }

  public toString(): string {
    const bake = this.bake.isUnresolved() ? 'a bake' : `${this.bake.toHumanString()} bake`;
    return `staged ${this.steps.join(' → ')} %, ${bake} per step, rolled back after ${this.maxFailuresPerStep} failed gates at one step`;
  }

  /** The schedule as the state machine receives it. @internal */
  public _schedule(): StagedSchedule {
    const noData = this.noData;
    return {
      steps: this.steps,
      bakeSeconds: this.bake.toSeconds(),
      maxFailuresPerStep: this.maxFailuresPerStep,
      noData: { maxWaitSeconds: noData.maxWait.toSeconds(), then: noData.then, minInvocations: noData.minInvocations },
      probeBudgetSeconds: this.probeBudget.toSeconds(),
      recheckSeconds: STAGED_RECHECK_INTERVAL.toSeconds(),
      canaryQuestions: this.canaryQuestions,
      stopRules: stopRulesConfig(this.stopRules),
      ...(this.options.fence !== undefined ? { fenceUntilStep: this.fenceUntilStep } : {}),
    };
  }

  /** The queue-age gate as the state machine receives it; undefined without queues. @internal */
  public _queueAge(): QueueAgeConfig | undefined {
    return queueAgeConfig(this.options.queues, this.options.queueAge);
  }

  /** All at once: the schedule runs in the BeforeAllowTraffic hook, and CodeDeploy moves the rest. @internal */
  public _bindDeploymentConfig(): codedeploy.ILambdaDeploymentConfig {
    return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
  }

  /** The state machine runs the warm gate before the first probe and shift. @internal */
  public get _runsWarmGate(): boolean {
    return true;
  }

  /** @internal */
  public _checkAlias(uses: AliasUses): Array<[string, string]> {
    return uses.preTrafficHook
      ? [['preTrafficHook', 'left out with a staged strategy (its BeforeAllowTraffic hook starts the staged rollout; CodeDeploy runs one hook per phase: use postTrafficHook, or canary/linear)']]
      : [];
  }

  /**
   * The deployment group is all-at-once and its BeforeAllowTraffic hook is the stack's starter, which hands the
   * schedule (probe, gates, weights, bakes) to the stack's state machine and returns. The probe, if any, stays
   * the AfterAllowTraffic hook and is run by the machine before each step.
   * @internal
   */
  public _bind(target: RolloutTarget): RolloutHooks {
    const machinery = StagedRollout.of(target.scope, { logsKey: target.logsKey });
    if (target.notifications) alarmTo(machinery.failedEventsAlarm, target.notifications);
    const starter = machinery.attach({
      alias: target.alias,
      version: target.version,
      deploymentGroup: target.deploymentGroup,
      strategy: this,
      probe: target.probe,
      alarms: target.alarms,
      thresholds: target.thresholds,
      wirePreHook: false,
      notifications: target.notifications,
      warmup: target.warmup,
    });
    return { preTrafficHook: starter };
  }

  /** The schedule's arithmetic in words, for messages. @internal */
  public _describeSchedule(): string {
    const below = this.steps.length - 1;
    const wait = this.noData.maxWait.toSeconds() > 0 ? ` + noData.maxWait ${this.noData.maxWait.toHumanString()}` : '';
    return `${below} step${below === 1 ? '' : 's'} below 100 × (probe budget ${this.probeBudget.toHumanString()} + bake ${this.bake.toHumanString()}${wait}) + a last probe of ${this.probeBudget.toHumanString()}`;
  }
}

function describeSeconds(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return s === 0 ? `${m} minutes` : `${m} minutes ${s} seconds`;
}
