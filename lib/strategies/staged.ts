import { Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { DEFAULT_CANARY_QUESTIONS, type QueueAgeConfig, type StagedCacheHitRateConfig, type StagedSchedule } from 'cdk-rollout-guardrails-runtime/contract';
import { alarmTo } from '../private/machinery';
import { PropProblems } from '../private/validation';
import { AliasUses, OperateTarget, RolloutHooks, RolloutKind, RolloutStrategy, RolloutTarget, ShadowTarget } from '../rollout-strategy';
import { StagedRollout } from '../staged-rollout';
import { cacheHitRateConfig, validateCacheHitRate } from './cache-gate';
import { fenceUntilStep, validateFence } from './fence';
import { queueAgeConfig, validateQueueAge } from './queue-age';
import { NoDataAction, StagedNoDataPolicy, StagedNoDataSettings, StagedRollbackTime, StagedRolloutOptions } from './staged-options';
import { canaryAliasName, StickyCohorts, validateStickyCohorts } from './sticky-cohorts';
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

// The options and the shapes they fill in live in staged-options.ts.
export * from './staged-options';

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

  /** The SQS MaximumConcurrency the consumer fence caps at; undefined: it pauses (or there is no fence). */
  public get fenceMaxConcurrency(): number | undefined {
    return this.options.fence?.maxConcurrency;
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
    validateCacheHitRate(problems, 'strategy (staged)', this.options.cacheHitRate);
    validateFence(problems, 'strategy (staged)', this.options.fence, steps ?? this.steps);
    validateStickyCohorts(problems, 'strategy (staged)', this.options.stickyCohorts);
    validateApprovalSteps(problems, this.options.approvalSteps, steps ?? this.steps);
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
      ...(this.options.approvalSteps && this.options.approvalSteps.length > 0 ? { approvalSteps: [...this.options.approvalSteps] } : {}),
    };
  }

  /** The cache hit-rate gate as the state machine receives it; undefined when it is off. @internal */
  public _cacheHitRate(): StagedCacheHitRateConfig | undefined {
    return cacheHitRateConfig(this.options.cacheHitRate);
  }

  /** Sticky cohorts as given; undefined: alias weights. */
  public get stickyCohorts(): StickyCohorts | undefined {
    return this.options.stickyCohorts;
  }

  /** With sticky cohorts, `<alias>-canary` serves the new version. @internal */
  public _canaryAliasOf(aliasName: string): string | undefined {
    return this.options.stickyCohorts ? canaryAliasName(aliasName) : undefined;
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

  /** The command line's live commands, on this alias's rollouts. @internal */
  public _grantOperate(target: OperateTarget, grantee: iam.IGrantable): iam.Grant {
    return StagedRollout.of(target.scope).grantOperate(grantee, target.deploymentGroup);
  }

  /** Stage 0 is the machine's first state for this alias. @internal */
  public _requireShadow(target: ShadowTarget): void {
    StagedRollout.of(target.scope)._requireShadow(target.deploymentGroup, target.promotion, target.releaseId);
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

/** Approval steps: integers, each 0 or a step of the schedule below 100, none twice. */
function validateApprovalSteps(problems: PropProblems, approvals: unknown, steps: unknown): void {
  if (approvals === undefined) return;
  const prop = 'strategy (staged) approvalSteps';
  if (!Array.isArray(approvals)) {
    problems.add(prop, 'an array of weights', approvals);
    return;
  }
  const below = Array.isArray(steps) ? steps.filter((s) => s !== 100) : [];
  const bad = approvals.filter((a) => !Number.isInteger(a) || (a !== 0 && !below.includes(a)));
  if (bad.length > 0) problems.add(prop, `each 0 or a step below 100 of the schedule (${below.join(', ')})`, approvals);
  else if (new Set(approvals).size !== approvals.length) problems.add(prop, 'no weight twice', approvals);
}
