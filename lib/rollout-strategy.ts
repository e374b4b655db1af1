import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { DeltaSProbe } from './delta-s-probe';
import type { ProvisionedWarmup } from './provisioned-warmup';
import type { GateThresholds } from './release-gates';
import type { ShadowPromotion } from './shadow-promotion';
import type { BlueGreenRolloutOptions, BlueGreenRolloutStrategy } from './strategies/blue-green';
import type { StagedRolloutOptions, StagedRolloutStrategy } from './strategies/staged';
import { grantOperateDeployment } from './private/operator-grant';
import { StackRolloutResources } from './private/stack-resources';
import { show } from './private/validation';

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
  /** CodeDeploy's limit on one lifecycle hook. @see https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html */
  public static readonly CODEDEPLOY_HOOK_LIMIT: Duration = Duration.hours(1);

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
    return new (strategyModules().staged.StagedRolloutStrategy)(options);
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
    return new (strategyModules().blueGreen.BlueGreenRolloutStrategy)(options);
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

  /**
   * Whether the strategy's own machinery runs the warm gate; if not, the probe's BeforeAllowTraffic hook does.
   * @internal
   */
  public get _runsWarmGate(): boolean {
    return false;
  }

  /**
   * The alias that serves the new version under sticky cohorts (its traffic is the canary's), or undefined when
   * the live alias's own weights carry the canary.
   * @internal
   */
  public _canaryAliasOf(_aliasName: string): string | undefined {
    return undefined;
  }

  /**
   * Whether a probe, if the alias has one, is the deployment group's hook of both phases (a strategy's own hooks,
   * from `_bind`, replace it where they run).
   * @internal
   */
  public get _probeIsHook(): boolean {
    return true;
  }

  /**
   * What this strategy refuses in the alias's other props, as [prop, expectation] pairs: hooks that would
   * collide with its own, a warm-up nothing would run.
   * @internal
   */
  public _checkAlias(uses: AliasUses): Array<[string, string]> {
    const name = this.kind === RolloutKind.ALL_AT_ONCE ? 'allAtOnce' : this.kind.toLowerCase();
    const problems: Array<[string, string]> = [];
    if (uses.warmup && !uses.probe) {
      problems.push(['warmup', `left out with ${name} unless a probe is set (the ΔS probe runs the warm gate in its BeforeAllowTraffic hook; the staged strategy runs it itself): set \`probe\`, or use RolloutStrategy.staged()`]);
    }
    if (uses.requireShadow && !uses.probe) {
      problems.push(['requireShadow', `left out with ${name} unless a probe is set (the ΔS probe's BeforeAllowTraffic hook checks the release's shadow record; the staged strategy checks it itself): set \`probe\`, or use RolloutStrategy.staged()`]);
    }
    return problems;
  }

  /**
   * Binds the strategy to a guarded alias once its deployment group, gates, probe and alarms exist: creates or
   * joins the machinery that carries it out, and returns the lifecycle hooks CodeDeploy is to run.
   * @internal
   */
  public _bind(_target: RolloutTarget): RolloutHooks {
    return {};
  }

  /**
   * Lets `grantee` run the command line's live commands on the target's rollouts: for CodeDeploy's own shapes and
   * blue-green, `status` and `abort` (CodeDeploy's StopDeployment); staged overrides it with all five.
   * @internal
   */
  public _grantOperate(target: OperateTarget, grantee: iam.IGrantable): iam.Grant {
    return grantOperateDeployment(grantee, target);
  }

  /**
   * Makes the release's shadow record stage 0 of the rollout: with canary, linear and allAtOnce the ΔS probe's
   * BeforeAllowTraffic hook judges it (`_checkAlias` requires the probe); strategies with a machine judge it there.
   * @internal
   */
  public _requireShadow(target: ShadowTarget): void {
    if (!target.probe || !this._probeIsHook) throw new Error(`requireShadow with ${this.toString()} needs a probe (its BeforeAllowTraffic hook judges the record)`);
    // Loaded on use: the shadow module reaches ShadowIntegration, whose modules come back here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { bindProbeShadowCheck } = require('./private/shadow-promotion') as typeof import('./private/shadow-promotion');
    bindProbeShadowCheck(target.probe, target.promotion, { fn: target.fn, aliasName: target.aliasName, releaseId: target.releaseId, topic: target.notifications });
  }
}

/** Which of a GuardedAlias's optional props are set, for `_checkAlias`. @internal */
export interface AliasUses {
  readonly probe: boolean;
  readonly warmup: boolean;
  readonly preTrafficHook: boolean;
  readonly postTrafficHook: boolean;
  readonly requireShadow?: boolean;
}

/** What a GuardedAlias gives its strategy to bind to. @internal */
export interface RolloutTarget {
  /** The GuardedAlias. */
  readonly scope: Construct;
  readonly alias: lambda.Alias;
  readonly version: lambda.IVersion;
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  readonly probe?: DeltaSProbe;
  readonly warmup?: ProvisionedWarmup;
  /** Every alarm the deployment group watches. */
  readonly alarms: cloudwatch.IAlarm[];
  readonly thresholds?: GateThresholds;
  /** The release pins other than RELEASE_ID, by environment variable. */
  readonly pins: Record<string, string>;
  readonly notifications?: sns.ITopic;
  readonly logsKey?: kms.IKey;
}

/** What a GuardedAlias gives its strategy for `grantOperate`. @internal */
export interface OperateTarget {
  /** The GuardedAlias. */
  readonly scope: Construct;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  /** Every alarm the deployment group watches, read when the grant's policy is synthesized. */
  readonly alarms: () => readonly cloudwatch.IAlarm[];
}

/** What a GuardedAlias gives its strategy for `requireShadow`, once the strategy is bound. @internal */
export interface ShadowTarget {
  readonly scope: Construct;
  readonly fn: lambda.IFunction;
  readonly aliasName: string;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  readonly probe?: DeltaSProbe;
  readonly notifications?: sns.ITopic;
  /** The release the alias rolls out (its RELEASE_ID). */
  readonly releaseId: string;
  readonly promotion: ShadowPromotion;
}

/** The lifecycle hooks a strategy has CodeDeploy run. @internal */
export interface RolloutHooks {
  readonly preTrafficHook?: lambda.IFunction;
  readonly postTrafficHook?: lambda.IFunction;
}

/**
 * The staged and blue-green strategies' modules, loaded when a factory first needs them: they extend
 * RolloutStrategy, so this module cannot import them at load time without a cycle.
 */
function strategyModules(): { staged: typeof import('./strategies/staged'); blueGreen: typeof import('./strategies/blue-green') } {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return { staged: require('./strategies/staged'), blueGreen: require('./strategies/blue-green') };
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
