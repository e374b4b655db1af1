import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import { Construct } from 'constructs';
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
