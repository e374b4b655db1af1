import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  ALARM_DETECTION_SECONDS, BlueGreenAliasConfig, DEFAULT_STOP_RULES, REPORT_BOUND_SECONDS, METRIC_PERIOD_SECONDS,
  ROLLBACK_TARGET_SECONDS, WATCH_TIMEOUT_SECONDS,
} from 'cdk-rollout-guardrails-runtime/contract';
import { StackRolloutResources } from './private/stack-resources';
import { PropProblems, show } from './private/validation';

/** The shape of a rollout. Later strategies (`staged`, `blueGreen`) add kinds without changing the others. */
export enum RolloutKind {
  /** Every request moves to the new version at once. */
  ALL_AT_ONCE = 'ALL_AT_ONCE',
  /** A share of traffic for one interval, then the rest. */
  CANARY = 'CANARY',
  /** Equal shares every interval until all traffic has moved. */
  LINEAR = 'LINEAR',
  /** A free schedule of steps, each gated by the probe, live metrics and alarms (a Step Functions state machine). */
  STAGED = 'STAGED',
  /**
   * Invariants, smoke probe and paused consumers before an all-at-once switch of the alias, then hold and
   * watch with the seed's stop rules; a breach reports Failed and CodeDeploy rolls the alias back (a Step
   * Functions state machine).
   */
  BLUE_GREEN = 'BLUE_GREEN',
}

/**
 * How traffic moves from the current version to the new one.
 *
 * A strategy is a value: it checks its own parameters (`validate()`) and binds to a CodeDeploy
 * deployment configuration when a `GuardedAlias` uses it. Predefined CodeDeploy configurations are used
 * where one matches; otherwise one custom configuration is created per distinct shape per stack, since
 * custom configurations are limited per account.
 *
 * @see https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html
 */
export abstract class RolloutStrategy {
  /**
   * Moves `percent` % of traffic to the new version, waits `interval` while the gates watch, then moves the rest.
   * @param percent an integer from 1 to 99
   * @param interval whole minutes, at least 1
   */
  public static canary(percent: number, interval: Duration): RolloutStrategy {
    return new TimeBasedStrategy(RolloutKind.CANARY, percent, interval);
  }

  /**
   * Moves `percent` % more traffic every `interval` until all of it has moved.
   * @param percent an integer from 1 to 99
   * @param interval whole minutes, at least 1
   */
  public static linear(percent: number, interval: Duration): RolloutStrategy {
    return new TimeBasedStrategy(RolloutKind.LINEAR, percent, interval);
  }

  /**
   * Moves traffic in a free schedule of steps (1 → 5 → 25 → 50 → 100 % by default). Before each step a
   * Step Functions state machine runs the ΔS probe, checks the gates (the probe's verdict, live
   * canary-vs-control metrics, the gate alarms), sets the alias's `AdditionalVersionWeights` and bakes; at
   * the end it reports Succeeded to CodeDeploy, which moves the rest at once. The deployment group is
   * all-at-once: the whole schedule runs inside its BeforeAllowTraffic hook.
   *
   * Validated at synth: the schedule must fit CodeDeploy's one-hour hook limit with a margin.
   */
  public static staged(options: StagedRolloutOptions = {}): StagedRolloutStrategy {
    return new StagedRolloutStrategy(options);
  }

  /**
   * Blue-green: before the switch, the new version's environment pins are checked against the declared
   * invariants, the ΔS probe runs a smoke test on 20 to 40 gold questions, and the listed event source
   * mappings are paused; CodeDeploy then switches the alias all at once. After the switch a Step Functions
   * state machine holds and watches (the alias's 5xx rate, the gate alarms, the probe's ΔS drift, coverage and
   * λ flips) for `holdAndWatch`; a breach reports Failed at once, and CodeDeploy's rollback moves the alias back
   * to the old version (the machine never writes the alias's version: CodeDeploy is the one owner of the flip).
   * Consumers are resumed either way.
   *
   * Validated at synth: the worst-case rollback must be within 2 minutes of a breach, and the hold must fit
   * CodeDeploy's one-hour hook limit with a margin.
   */
  public static blueGreen(options: BlueGreenRolloutOptions = {}): BlueGreenRolloutStrategy {
    return new BlueGreenRolloutStrategy(options);
  }

  /** Moves all traffic at once; the hooks and alarms still run and still roll back. */
  public static allAtOnce(): RolloutStrategy {
    return new AllAtOnceStrategy();
  }

  /** Which family of rollout this is. */
  public abstract readonly kind: RolloutKind;

  /** Problems with this strategy's parameters, each naming the prop and quoting the value. */
  public abstract validate(): string[];

  /**
   * How long CodeDeploy takes from the first shift to 100 %, hooks not included.
   * Undefined where a parameter is a token.
   */
  public abstract get shiftDuration(): Duration | undefined;

  /** A one-line description for people: `canary 10 % for 5 minutes, then 100 %`. */
  public abstract toString(): string;

  /**
   * The CodeDeploy deployment configuration that carries out this strategy in `scope`'s stack.
   * @internal
   */
  public abstract _bindDeploymentConfig(scope: Construct): codedeploy.ILambdaDeploymentConfig;
}

class AllAtOnceStrategy extends RolloutStrategy {
  public readonly kind = RolloutKind.ALL_AT_ONCE;

  public validate(): string[] {
    return [];
  }

  public get shiftDuration(): Duration {
    return Duration.seconds(0);
  }

  public toString(): string {
    return 'all at once';
  }

  public _bindDeploymentConfig(): codedeploy.ILambdaDeploymentConfig {
    return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
  }
}

/** CodeDeploy's predefined Lambda configurations, by `<kind>:<percent>:<minutes>`. */
const PREDEFINED: Record<string, codedeploy.ILambdaDeploymentConfig> = {
  'CANARY:10:5': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  'CANARY:10:10': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
  'CANARY:10:15': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
  'CANARY:10:30': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES,
  'LINEAR:10:1': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  'LINEAR:10:2': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_2MINUTES,
  'LINEAR:10:3': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
  'LINEAR:10:10': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES,
};

class TimeBasedStrategy extends RolloutStrategy {
  constructor(
    public readonly kind: RolloutKind.CANARY | RolloutKind.LINEAR,
    private readonly percent: number,
    private readonly interval: Duration,
  ) {
    super();
  }

  public validate(): string[] {
    const name = this.kind === RolloutKind.CANARY ? 'canary' : 'linear';
    const problems: string[] = [];
    if (!Token.isUnresolved(this.percent) && !(Number.isInteger(this.percent) && this.percent >= 1 && this.percent <= 99)) {
      problems.push(`strategy (${name}) percent must be an integer from 1 to 99, got: ${show(this.percent)}`);
    }
    if (!(this.interval instanceof Duration)) {
      problems.push(`strategy (${name}) interval must be a Duration of whole minutes, got: ${show(this.interval)}`);
    } else if (!this.interval.isUnresolved()) {
      const seconds = this.interval.toSeconds();
      if (seconds < 60 || seconds % 60 !== 0) {
        problems.push(`strategy (${name}) interval must be whole minutes, at least 1 minute, got: ${show(this.interval)}`);
      }
    }
    return problems;
  }

  public get shiftDuration(): Duration | undefined {
    if (Token.isUnresolved(this.percent) || this.interval.isUnresolved()) return undefined;
    const waits = this.kind === RolloutKind.CANARY ? 1 : Math.ceil(100 / this.percent) - 1;
    return Duration.minutes(waits * this.interval.toMinutes());
  }

  public toString(): string {
    const every = this.interval.isUnresolved() ? 'an interval' : this.interval.toHumanString();
    return this.kind === RolloutKind.CANARY
      ? `canary ${this.percent} % for ${every}, then 100 %`
      : `linear ${this.percent} % more every ${every}`;
  }

  public _bindDeploymentConfig(scope: Construct): codedeploy.ILambdaDeploymentConfig {
    const minutes = this.interval.toMinutes();
    const shape = `${this.kind}:${this.percent}:${minutes}`;
    const predefined = PREDEFINED[shape];
    if (predefined) return predefined;
    return StackRolloutResources.of(Stack.of(scope)).deploymentConfig(shape, (configScope, id) => new codedeploy.LambdaDeploymentConfig(configScope, id, {
      trafficRouting: this.kind === RolloutKind.CANARY
        ? codedeploy.TrafficRouting.timeBasedCanary({ percentage: this.percent, interval: this.interval })
        : codedeploy.TrafficRouting.timeBasedLinear({ percentage: this.percent, interval: this.interval }),
    }));
  }
}

/** CodeDeploy's limit on one lifecycle hook. @see https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html */
export const CODEDEPLOY_HOOK_LIMIT = Duration.hours(1);
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

/** What a staged step does when the canary served too little traffic to compare with the control. */
export interface StagedNoDataPolicy {
  /**
   * How long a step waits for data beyond its bake, re-checking every minute; whole minutes, 0 for no wait.
   * The wait counts in the schedule's one-hour budget at synth (every step may wait it).
   * @default Duration.minutes(0) - the bake is the window: an alias too quiet to fill it is not helped by waiting
   */
  readonly maxWait?: Duration;
  /**
   * After the wait: `fail` rolls the deployment back; `pass` judges the step on the probe and alarms alone.
   * Missing data is never a silent pass: the step's decision, its notification and the dashboard say so.
   * The default suits low-traffic aliases: with `fail`, an alias serving about 1 request a second (0.6 calls a
   * minute at the 1 % step) is always rolled back, whatever the release.
   * @default 'pass'
   */
  readonly then?: 'fail' | 'pass';
  /**
   * Fewest invocations of the new version in the window for the metric gates to judge.
   * @default 10
   */
  readonly minInvocations?: number;
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
}

// The schedule's shape lives with the configuration the handlers read (which must not import aws-cdk-lib).
import type { StagedSchedule } from 'cdk-rollout-guardrails-runtime/contract';
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

  public get noData(): Required<StagedNoDataPolicy> {
    const given = this.options.noData ?? {};
    return { maxWait: given.maxWait ?? Duration.minutes(0), then: given.then ?? 'pass', minInvocations: given.minInvocations ?? 10 };
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
        if (noData.then !== undefined && noData.then !== 'fail' && noData.then !== 'pass') problems.add('strategy (staged) noData.then', '"fail" or "pass"', noData.then);
        problems.integer('strategy (staged) noData.minInvocations', noData.minInvocations, 1, 1_000_000);
      }
    }
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
  public get shiftDuration(): Duration {
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
    };
  }

  /** All at once: the schedule runs in the BeforeAllowTraffic hook, and CodeDeploy moves the rest. @internal */
  public _bindDeploymentConfig(): codedeploy.ILambdaDeploymentConfig {
    return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
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

// ---------------------------------------------------------------------------------------------------------
// Blue-green

/** Time the hold leaves unplanned inside CodeDeploy's one-hour hook limit (the machine's own transitions, the report). */
export const BLUE_GREEN_HOOK_MARGIN = Duration.minutes(10);
/** The seeds' target for a blue-green rollback: traffic back on the old version within 2 minutes of a breach. */
export const BLUE_GREEN_ROLLBACK_TARGET = Duration.seconds(ROLLBACK_TARGET_SECONDS);

/**
 * The seed's stop rules, judged at every check while holding; one breach rolls the alias back (through CodeDeploy).
 * @see ../shared/seeds/blue_green_switchovers.md "Stop & rollback rules"
 */
export interface BlueGreenStopRules {
  /**
   * Largest p95 ΔS of the new version minus the old version's, on the same probe run ("ΔS p95 drift").
   * @default 0.15
   */
  readonly maxDeltaSP95Drift?: number;
  /**
   * Smallest median coverage of the new version's answers.
   * @default 0.60
   */
  readonly minCoverage?: number;
  /**
   * Largest share of probed gold questions whose λ state differs between the old and the new version.
   * @default 0.20
   */
  readonly maxLambdaFlipRate?: number;
  /**
   * Largest share of the alias's invocations on the new version ending in a function error, over the newest
   * complete one-minute datapoint (AWS/Lambda `Errors` / `Invocations`, by `ExecutedVersion`).
   * @default 0.01
   */
  readonly max5xxRate?: number;
  /**
   * Fewest invocations in that minute for the 5xx rate to be judged: below it one error is noise, not a rate.
   * At 100 a single error is exactly 1 % and passes.
   * @default 100
   */
  readonly minInvocations?: number;
}

/** The warm gate before the switch (provisioned concurrency READY on the new version, then warm pings). */
export interface BlueGreenWarmupOptions {
  /** Provisioned concurrency to have READY on the new version. */
  readonly concurrency: number;
  /**
   * Warm pings (tagged `x-warm`) sent once it is READY.
   * @default 3
   */
  readonly pings?: number;
  /**
   * How long to wait for READY; at most 14 minutes.
   * @default Duration.minutes(5)
   */
  readonly readyTimeout?: Duration;
}

/** Options of `RolloutStrategy.blueGreen()`. */
export interface BlueGreenRolloutOptions {
  /**
   * How long to hold and watch after the switch before reporting Succeeded. It must fit CodeDeploy's one-hour
   * hook limit with a 10-minute margin, with the last check, probe run and flip (validated at synth).
   * @default Duration.minutes(15)
   */
  readonly holdAndWatch?: Duration;
  /**
   * Wait between two metric checks, and between two probe runs, while holding; whole seconds.
   * @default Duration.seconds(5)
   */
  readonly checkInterval?: Duration;
  /**
   * Time from the hook's Failed report to CodeDeploy's rollback having moved the alias back to the old version.
   * AWS documents that CodeDeploy rolls a failed deployment back by a new deployment, not how long that takes:
   * this is an assumption (counted in the worst-case rollback) to measure in your account with the integ suite.
   * @default Duration.seconds(15)
   */
  readonly rollbackShift?: Duration;
  /**
   * Gold questions asked per probe run: the smoke test before the switch and every probe run while holding.
   * @default 20
   */
  readonly smokeQuestions?: number;
  /**
   * Event source mappings paused (`Enabled: false`) before the switch, so that no side-effecting job runs
   * across it, and resumed after it (on success and on failure). Only those that were enabled are resumed.
   * @default - none
   */
  readonly freezeConsumers?: lambda.IEventSourceMapping[];
  /**
   * Environment variables the new version must carry with exactly these values (SCHEMA_REV, INDEX_HASH,
   * MODEL_TAG, EMBED_SCHEMA, PROMPT_VER, ...), checked before the switch with GetFunctionConfiguration on the
   * new version. A GuardedAlias adds its release pins to these.
   * @default - the release pins only
   */
  readonly invariants?: Record<string, string>;
  /** @default - the seed's: ΔS p95 drift > 0.15, coverage < 0.60, λ flip rate > 0.20, 5xx > 1 % stop */
  readonly stopRules?: BlueGreenStopRules;
  /**
   * Longest one probe run may take while holding; a run that has not answered by then counts as a breach
   * (what cannot be watched is not passed). Counted twice in the worst-case rollback.
   * @default Duration.seconds(45)
   */
  readonly probeBudget?: Duration;
  /**
   * Time from the end of a one-minute Lambda datapoint to GetMetricData returning it. AWS documents that Lambda
   * sends metrics in one-minute intervals, not how long they take to be readable: this is an assumption to
   * measure in your account. The metric check reads the newest minute older than this.
   * @default Duration.seconds(20)
   */
  readonly metricDelay?: Duration;
  /**
   * The warm gate before the smoke probe (lambdas/warmup/warm-gate.ts `prewarm`): the new version's own
   * provisioned concurrency (at least `concurrency`) READY in time, then warm pings; a failure reports Failed.
   * The gate writes no configuration: the version must have provisioned concurrency of its own (GuardedAlias
   * `warmup`, whose settings apply when this is left out).
   * @default - no warm gate
   */
  readonly warmup?: BlueGreenWarmupOptions;
}

/** How long a breach can last before the alias is back on the old version, by what sees it. */
export interface BlueGreenRollbackTime {
  /**
   * The 5xx rate: check interval + the metric's lag (one-minute period + metricDelay) + two watch reads (the one
   * that just missed it, the one that sees it) + the Failed report + CodeDeploy's rollback shift (`rollbackShift`).
   */
  readonly onMetrics: Duration;
  /** The probe: check interval + two probe runs (the one that just missed it, the one that sees it) + the report + the rollback shift. */
  readonly onProbe: Duration;
  /**
   * A gate alarm, for information: its own detection (2 minutes) + check interval + two watch reads + the report + the rollback shift.
   * Not in `worstCaseRollback`: the alarms are a second line beside the stop rules, with their own detection time.
   */
  readonly onAlarm: Duration;
}

const STOP_RULE_NAMES: ReadonlyArray<keyof BlueGreenStopRules> = ['maxDeltaSP95Drift', 'minCoverage', 'maxLambdaFlipRate', 'max5xxRate', 'minInvocations'];
const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const human = (seconds: number) => Duration.seconds(seconds).toHumanString();

/** `RolloutStrategy.blueGreen()`: validated at synth, with its worst-case rollback exposed. */
export class BlueGreenRolloutStrategy extends RolloutStrategy {
  public readonly kind = RolloutKind.BLUE_GREEN;
  private readonly options: BlueGreenRolloutOptions;

  constructor(options: BlueGreenRolloutOptions) {
    super();
    this.options = options ?? {};
  }

  public get holdAndWatch(): Duration {
    return this.options.holdAndWatch ?? Duration.minutes(15);
  }

  public get checkInterval(): Duration {
    return this.options.checkInterval ?? Duration.seconds(5);
  }

  /** The assumed time of CodeDeploy's rollback shift after a Failed report (see `rollbackShift`). */
  public get rollbackShift(): Duration {
    return this.options.rollbackShift ?? Duration.seconds(15);
  }

  public get smokeQuestions(): number {
    return this.options.smokeQuestions ?? 20;
  }

  public get probeBudget(): Duration {
    return this.options.probeBudget ?? Duration.seconds(45);
  }

  public get metricDelay(): Duration {
    return this.options.metricDelay ?? Duration.seconds(20);
  }

  /** The stop rules, defaults filled in. */
  public get stopRules(): Required<BlueGreenStopRules> {
    const given = this.options.stopRules ?? {};
    return Object.fromEntries(STOP_RULE_NAMES.map((name) => [name, given[name] ?? DEFAULT_STOP_RULES[name]])) as unknown as Required<BlueGreenStopRules>;
  }

  /** The event source mappings paused across the switch. */
  public get freezeConsumers(): readonly lambda.IEventSourceMapping[] {
    return this.options.freezeConsumers ?? [];
  }

  /** The declared invariants (a GuardedAlias adds its release pins when it attaches). */
  public get invariants(): Readonly<Record<string, string>> {
    return this.options.invariants ?? {};
  }

  public validate(): string[] {
    const problems = new PropProblems();
    const p = 'strategy (blueGreen)';
    const seconds = (prop: string, value: Duration | undefined, min: number, max: number, range: string) => {
      if (value === undefined) return;
      if (!(value instanceof Duration)) problems.add(`${p} ${prop}`, 'a Duration', value);
      else if (!value.isUnresolved()) {
        const s = value.toMilliseconds() / 1000;
        if (!Number.isInteger(s) || s < min || s > max) problems.add(`${p} ${prop}`, `whole seconds ${range}`, value);
      }
    };
    seconds('holdAndWatch', this.options.holdAndWatch, 60, 3600, 'from 1 minute to 1 hour');
    seconds('checkInterval', this.options.checkInterval, 1, 300, 'from 1 second to 5 minutes');
    seconds('probeBudget', this.options.probeBudget, 1, 900, 'from 1 second to 15 minutes (Lambda\'s longest timeout)');
    seconds('metricDelay', this.options.metricDelay, 0, 600, 'from 0 to 10 minutes');
    seconds('rollbackShift', this.options.rollbackShift, 0, 300, 'from 0 to 5 minutes');
    problems.integer(`${p} smokeQuestions`, this.options.smokeQuestions, 20, 40);

    const rules = this.options.stopRules;
    if (rules !== undefined) {
      if (typeof rules !== 'object' || rules === null || Array.isArray(rules)) problems.add(`${p} stopRules`, 'an object of stop rules', rules);
      else {
        for (const key of Object.keys(rules)) {
          if (!STOP_RULE_NAMES.includes(key as keyof BlueGreenStopRules)) problems.add(`${p} stopRules.${key}`, `one of ${STOP_RULE_NAMES.join(', ')} (unknown stop rule)`, key);
        }
        problems.number(`${p} stopRules.maxDeltaSP95Drift`, rules.maxDeltaSP95Drift, { min: 0, max: 1 });
        problems.number(`${p} stopRules.minCoverage`, rules.minCoverage, { min: 0, max: 1 });
        problems.number(`${p} stopRules.maxLambdaFlipRate`, rules.maxLambdaFlipRate, { min: 0, max: 1 });
        problems.number(`${p} stopRules.max5xxRate`, rules.max5xxRate, { min: 0, max: 1, maxInclusive: false });
        problems.integer(`${p} stopRules.minInvocations`, rules.minInvocations, 1, 1_000_000);
      }
    }

    const invariants = this.options.invariants;
    if (invariants !== undefined) {
      if (typeof invariants !== 'object' || invariants === null || Array.isArray(invariants)) problems.add(`${p} invariants`, 'an object of environment variable names to values', invariants);
      else {
        for (const [name, value] of Object.entries(invariants)) {
          if (!ENV_NAME.test(name)) problems.add(`${p} invariants`, 'keyed by environment variable names (a letter, then letters, digits or "_")', name);
          if (!Token.isUnresolved(value) && (typeof value !== 'string' || value === '')) problems.add(`${p} invariants.${name}`, 'a non-empty string', value);
        }
      }
    }

    const consumers = this.options.freezeConsumers;
    if (consumers !== undefined) {
      if (!Array.isArray(consumers)) problems.add(`${p} freezeConsumers`, 'an array of event source mappings', consumers);
      else {
        consumers.forEach((c, i) => {
          if (typeof c !== 'object' || c === null || typeof (c as lambda.IEventSourceMapping).eventSourceMappingId !== 'string') {
            problems.add(`${p} freezeConsumers[${i}]`, 'a lambda.IEventSourceMapping', String(c));
          } else if (consumers.indexOf(c) !== i) {
            problems.add(`${p} freezeConsumers[${i}]`, 'listed once', (c as lambda.IEventSourceMapping).node?.path ?? String(c));
          }
        });
      }
    }

    const warmup = this.options.warmup;
    if (warmup !== undefined) {
      if (typeof warmup !== 'object' || warmup === null) problems.add(`${p} warmup`, 'an object ({ concurrency, pings, readyTimeout })', warmup);
      else {
        if (warmup.concurrency === undefined) problems.add(`${p} warmup.concurrency`, 'set (provisioned concurrency to have READY)', warmup.concurrency);
        problems.integer(`${p} warmup.concurrency`, warmup.concurrency, 1, 10_000);
        problems.integer(`${p} warmup.pings`, warmup.pings, 1, 100);
        seconds('warmup.readyTimeout', warmup.readyTimeout, 1, 840, 'from 1 second to 14 minutes (the worker\'s 15-minute timeout less a minute for the pings)');
      }
    }

    if (problems.messages.length === 0) {
      const times = this.rollbackTime;
      if (times !== undefined) {
        const over = ([['metrics', times.onMetrics], ['probe', times.onProbe]] as const).filter(([, d]) => d.toSeconds() > ROLLBACK_TARGET_SECONDS);
        if (over.length > 0) {
          problems.addMessage(`${p} rollback must be within ${BLUE_GREEN_ROLLBACK_TARGET.toHumanString()} of a breach, got: worst case ${human(this.worstCaseRollback!.toSeconds())} (`
            + over.map(([path]) => this.describeRollback(path)).join('; ') + '); shorten checkInterval, probeBudget or metricDelay');
        }
      }
      const hook = this.afterHookDuration;
      const limit = CODEDEPLOY_HOOK_LIMIT.minus(BLUE_GREEN_HOOK_MARGIN);
      if (hook !== undefined && hook.toSeconds() > limit.toSeconds()) {
        problems.addMessage(`${p} holdAndWatch must fit CodeDeploy's ${CODEDEPLOY_HOOK_LIMIT.toMinutes()}-minute lifecycle hook limit with a `
          + `${BLUE_GREEN_HOOK_MARGIN.toMinutes()}-minute margin (at most ${limit.toMinutes()} minutes), got: ${human(hook.toSeconds())} `
          + `(hold ${this.holdAndWatch.toHumanString()} + a last check interval of ${this.checkInterval.toHumanString()} + a last probe run of ${this.probeBudget.toHumanString()} `
          + `+ the report's ${REPORT_BOUND_SECONDS} seconds); shorten holdAndWatch`);
      }
    }
    return [...problems.messages];
  }

  /** How long a breach can last before the alias is back on the old version; undefined where a parameter is a token. */
  public get rollbackTime(): BlueGreenRollbackTime | undefined {
    if (this.checkInterval.isUnresolved() || this.probeBudget.isUnresolved() || this.metricDelay.isUnresolved() || this.rollbackShift.isUnresolved()) return undefined;
    const interval = this.checkInterval.toSeconds();
    const handOff = REPORT_BOUND_SECONDS + this.rollbackShift.toSeconds();
    const watch = 2 * WATCH_TIMEOUT_SECONDS + handOff;
    return {
      onMetrics: Duration.seconds(interval + METRIC_PERIOD_SECONDS + this.metricDelay.toSeconds() + watch),
      onProbe: Duration.seconds(interval + 2 * this.probeBudget.toSeconds() + handOff),
      onAlarm: Duration.seconds(ALARM_DETECTION_SECONDS + interval + watch),
    };
  }

  /**
   * The worse of the metric and the probe path (`rollbackTime.onMetrics`, `.onProbe`): at most 2 minutes, or
   * `validate()` rejects the strategy. The default is 1 minute 59 seconds (5 s interval + 60 s period + 20 s
   * metric delay + 2 × 5 s reads + 9 s report + 15 s assumed rollback shift; the probe path is the same).
   */
  public get worstCaseRollback(): Duration | undefined {
    const times = this.rollbackTime;
    if (!times) return undefined;
    return times.onMetrics.toSeconds() >= times.onProbe.toSeconds() ? times.onMetrics : times.onProbe;
  }

  /**
   * The longest the AfterAllowTraffic hook runs when nothing breaches: the hold, then a last check interval and
   * probe run that may have started just before it ended, and the report's bounded time.
   */
  public get afterHookDuration(): Duration | undefined {
    if (this.holdAndWatch.isUnresolved() || this.checkInterval.isUnresolved() || this.probeBudget.isUnresolved()) return undefined;
    return Duration.seconds(this.holdAndWatch.toSeconds() + this.checkInterval.toSeconds()
      + Math.max(this.probeBudget.toSeconds(), WATCH_TIMEOUT_SECONDS) + REPORT_BOUND_SECONDS);
  }

  /** CodeDeploy switches all at once, between the two hooks. */
  public get shiftDuration(): Duration {
    return Duration.seconds(0);
  }

  public toString(): string {
    const hold = this.holdAndWatch.isUnresolved() ? 'a hold' : this.holdAndWatch.toHumanString();
    const every = this.checkInterval.isUnresolved() ? 'an interval' : this.checkInterval.toHumanString();
    const consumers = this.freezeConsumers.length;
    const worst = this.worstCaseRollback;
    return `blue-green: invariants, a ${this.smokeQuestions}-question smoke probe${consumers > 0 ? ` and ${consumers} paused consumer${consumers === 1 ? '' : 's'}` : ''}`
      + `, then all at once; hold and watch ${hold} (checks every ${every}), rolled back by CodeDeploy${worst ? ` within ${worst.toHumanString()}` : ''} of a breach`;
  }

  /**
   * The alias's configuration as the state machine receives it, less what the construct adds (pins, alarms,
   * probe, mapping ids). @internal
   */
  public _config(): Omit<BlueGreenAliasConfig, 'alarmNames' | 'probeFunctionArn' | 'freeze'> {
    const warmup = this.options.warmup;
    return {
      holdSeconds: this.holdAndWatch.toSeconds(),
      checkIntervalSeconds: this.checkInterval.toSeconds(),
      metricDelaySeconds: this.metricDelay.toSeconds(),
      probeBudgetSeconds: this.probeBudget.toSeconds(),
      smokeQuestions: this.smokeQuestions,
      stopRules: this.stopRules,
      invariants: { ...this.invariants },
      ...(warmup ? { warmup: { concurrency: warmup.concurrency, pings: warmup.pings ?? 3, readyTimeoutSeconds: (warmup.readyTimeout ?? Duration.minutes(5)).toSeconds() } } : {}),
    };
  }

  /** All at once: the checks run in the hooks around CodeDeploy's switch. @internal */
  public _bindDeploymentConfig(): codedeploy.ILambdaDeploymentConfig {
    return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
  }

  private describeRollback(path: 'metrics' | 'probe'): string {
    const interval = this.checkInterval.toHumanString();
    return path === 'metrics'
      ? `5xx seen by the metrics: check interval ${interval} + ${METRIC_PERIOD_SECONDS}-second metric period + metric delay ${this.metricDelay.toHumanString()} `
        + `+ 2 × ${WATCH_TIMEOUT_SECONDS}-second reads + the report's ${REPORT_BOUND_SECONDS} seconds + rollbackShift ${this.rollbackShift.toHumanString()} = ${human(this.rollbackTime!.onMetrics.toSeconds())}`
      : `ΔS, coverage or λ seen by the probe: check interval ${interval} + 2 × probe budget ${this.probeBudget.toHumanString()} `
        + `+ the report's ${REPORT_BOUND_SECONDS} seconds + rollbackShift ${this.rollbackShift.toHumanString()} = ${human(this.rollbackTime!.onProbe.toSeconds())}`;
  }
}
