import { Duration, Token } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  ALARM_DETECTION_SECONDS, BlueGreenAliasConfig, DEFAULT_STOP_RULES, REPORT_BOUND_SECONDS, METRIC_PERIOD_SECONDS,
  ROLLBACK_TARGET_SECONDS, WATCH_TIMEOUT_SECONDS,
} from 'cdk-rollout-guardrails-runtime/contract';
import { BlueGreenSwitch } from '../blue-green';
import { alarmTo } from '../private/machinery';
import { PropProblems } from '../private/validation';
import { AliasUses, RolloutHooks, RolloutKind, RolloutStrategy, RolloutTarget, ShadowTarget } from '../rollout-strategy';
import { CODEDEPLOY_HOOK_LIMIT } from './staged';
import { queueAgeConfig, validateQueueAge } from './queue-age';
import { BlueGreenRollbackTime, BlueGreenRolloutOptions, BlueGreenStopRules, BlueGreenStopRuleSettings } from './blue-green-options';

export * from './blue-green-options';

/** Time the hold leaves unplanned inside CodeDeploy's one-hour hook limit (the machine's own transitions, the report). */
export const BLUE_GREEN_HOOK_MARGIN = Duration.minutes(10);
/** The seeds' target for a blue-green rollback: traffic back on the old version within 2 minutes of a breach. */
export const BLUE_GREEN_ROLLBACK_TARGET = Duration.seconds(ROLLBACK_TARGET_SECONDS);


const STOP_RULE_NAMES: ReadonlyArray<keyof BlueGreenStopRules> = ['maxDeltaSP95Drift', 'minCoverage', 'maxLambdaFlipRate', 'max5xxRate', 'minInvocations'];
const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const human = (seconds: number) => Duration.seconds(seconds).toHumanString();

/** `RolloutStrategy.blueGreen()`: validated at synth, with its worst-case rollback exposed. */
export class BlueGreenRolloutStrategy extends RolloutStrategy {
  /** Time the hold leaves unplanned inside CodeDeploy's one-hour hook limit (the machine's own transitions, the report). */
  public static readonly HOOK_MARGIN: Duration = BLUE_GREEN_HOOK_MARGIN;
  /** The seeds' target for a blue-green rollback: traffic back on the old version within 2 minutes of a breach. */
  public static readonly ROLLBACK_TARGET: Duration = BLUE_GREEN_ROLLBACK_TARGET;

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
  public get stopRules(): BlueGreenStopRuleSettings {
    const given = this.options.stopRules ?? {};
    return Object.fromEntries(STOP_RULE_NAMES.map((name) => [name, given[name] ?? DEFAULT_STOP_RULES[name]])) as unknown as BlueGreenStopRuleSettings;
  }

  /** The queues the queue-age rule judges while holding (none: no rule). */
  public get queues(): sqs.IQueue[] {
    return [...(this.options.queues ?? [])];
  }

  /** The event source mappings paused across the switch. */
  public get freezeConsumers(): lambda.IEventSourceMapping[] {
    return this.options.freezeConsumers ?? [];
  }

  /** The declared invariants (a GuardedAlias adds its release pins when it attaches). */
  public get invariants(): Record<string, string> {
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

    validateQueueAge(problems, p, this.options.queues, this.options.queueAge);

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
  public get shiftDuration(): Duration | undefined {
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
      queueAge: queueAgeConfig(this.options.queues, this.options.queueAge),
      ...(warmup ? { warmup: { concurrency: warmup.concurrency, pings: warmup.pings ?? 3, readyTimeoutSeconds: (warmup.readyTimeout ?? Duration.minutes(5)).toSeconds() } } : {}),
    };
  }

  /** All at once: the checks run in the hooks around CodeDeploy's switch. @internal */
  public _bindDeploymentConfig(): codedeploy.ILambdaDeploymentConfig {
    return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
  }

  /** The machine runs the warm gate before the smoke probe. @internal */
  public get _runsWarmGate(): boolean {
    return true;
  }

  /** The machine runs the probe (smoke and hold); it is no hook. @internal */
  public get _probeIsHook(): boolean {
    return false;
  }

  /** @internal */
  public _checkAlias(uses: AliasUses): Array<[string, string]> {
    const why = 'left out with a blue-green strategy (the stack\'s blue-green hook is both the BeforeAllowTraffic and the AfterAllowTraffic hook; CodeDeploy runs one hook per phase)';
    return (['preTrafficHook', 'postTrafficHook'] as const).filter((prop) => uses[prop]).map((prop) => [prop, why]);
  }

  /**
   * Both hooks are the stack's blue-green hook, which hands each phase to the stack's machine (invariants, warm
   * gate, smoke probe, freeze before; hold and watch after). It runs the probe itself.
   * @internal
   */
  public _bind(target: RolloutTarget): RolloutHooks {
    const machinery = BlueGreenSwitch.of(target.scope, { logsKey: target.logsKey });
    if (target.notifications) alarmTo(machinery.failedEventsAlarm, target.notifications);
    const hook = machinery.attach({
      alias: target.alias, version: target.version, deploymentGroup: target.deploymentGroup, strategy: this,
      probe: target.probe, alarms: target.alarms, pins: target.pins, warmGate: target.warmup?.warmGate, wireHooks: false,
      notifications: target.notifications,
    });
    return { preTrafficHook: hook, postTrafficHook: hook };
  }

  /** Stage 0 is judged by the machine's worker with the invariants. @internal */
  public _requireShadow(target: ShadowTarget): void {
    BlueGreenSwitch.of(target.scope)._requireShadow(target.deploymentGroup, target.promotion, target.releaseId);
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
