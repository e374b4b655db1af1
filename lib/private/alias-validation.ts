import { Token } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RELEASE_ID_ENV, RELEASE_PINS } from 'cdk-rollout-guardrails-runtime/contract';
import { IConstruct } from 'constructs';
import { DeltaSProbe } from '../delta-s-probe';
import type { GuardedAliasProps, ReleaseIdentityProps } from '../guarded-alias-props';
import { PROBE_GATE_NAMES, ReleaseGates, validateGateThresholds } from '../release-gates';
import { RolloutStrategy } from '../rollout-strategy';
import { shadowPromotionProblems } from './shadow-promotion';
import { Described, PropProblems, show } from './validation';

/**
 * CodeDeploy watches at most 10 alarms per deployment group.
 * @see https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_AlarmConfiguration.html
 */
export const MAX_ALARMS_PER_DEPLOYMENT_GROUP = 10;

/** Lambda alias names: 1 to 128 letters, digits, `-` or `_`, and not only digits. */
const ALIAS_NAME = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;

/** Release pin values travel in HTTP headers: printable, no spaces, at most 128 characters. */
const PIN_VALUE = /^[A-Za-z0-9._:\/+=@-]{1,128}$/;

/** Each release prop and the environment variable that carries it. */
export const RELEASE_ENV: ReadonlyArray<[keyof ReleaseIdentityProps, string]> = [
  ['releaseId', RELEASE_ID_ENV], ...RELEASE_PINS.map(({ prop, pin }): [keyof ReleaseIdentityProps, string] => [prop, pin]),
];

/** A GuardedAlias's props once checked. */
export interface CheckedAliasProps {
  readonly fn: lambda.Function;
  readonly aliasName: string;
  readonly strategy: RolloutStrategy;
}

/**
 * Checks every prop of a GuardedAlias and throws one error with every problem, each naming the prop and quoting
 * the value. `ownerOfName` tells which construct already owns an alias name on the function.
 */
export function checkGuardedAliasProps(path: string, props: GuardedAliasProps, ownerOfName: (fn: lambda.Function, name: string) => IConstruct | undefined): CheckedAliasProps {
  const problems = new PropProblems();
  const fn = props?.function;
  if (!(fn instanceof lambda.Function)) {
    problems.add('function', 'a lambda.Function defined in this app (GuardedAlias publishes its versions)', describeConstruct(fn));
  }
  const aliasName = props?.aliasName ?? 'live';
  if (!Token.isUnresolved(aliasName) && (typeof aliasName !== 'string' || !ALIAS_NAME.test(aliasName))) {
    problems.add('aliasName', '1 to 128 letters, digits, "-" or "_", and not only digits', aliasName);
  }
  const strategy = props?.strategy ?? RolloutStrategy.staged();
  if (!(strategy instanceof RolloutStrategy)) {
    problems.add('strategy', 'a RolloutStrategy (staged, canary, linear or allAtOnce)', strategy);
  } else {
    problems.addAll(strategy.validate());
  }
  problems.addAll(validateGateThresholds(props?.gates));
  shadowPromotionProblems(problems, props?.requireShadow, props?.release?.releaseId !== undefined);
  if (props?.probe === undefined && props?.gates && typeof props.gates === 'object') {
    for (const name of PROBE_GATE_NAMES) {
      if (props.gates[name] !== undefined) problems.add(`gates.${name}`, 'left out without a probe (it is a gate of the ΔS probe: set `probe` too)', props.gates[name]);
    }
  }
  for (const [prop, hook] of [['preTrafficHook', props?.preTrafficHook], ['postTrafficHook', props?.postTrafficHook]] as const) {
    if (hook !== undefined && !isFunction(hook)) problems.add(prop, 'a lambda.IFunction', describeConstruct(hook));
    if (hook !== undefined && hook === fn) problems.add(prop, 'a function other than the one being released', describeConstruct(hook));
  }
  if (props?.probe !== undefined && !(props.probe instanceof DeltaSProbe)) problems.add('probe', 'a DeltaSProbe', describeConstruct(props.probe));
  if (props?.probe instanceof DeltaSProbe) {
    for (const [prop, hook] of [['preTrafficHook', props.preTrafficHook], ['postTrafficHook', props.postTrafficHook]] as const) {
      if (hook !== undefined) {
        problems.add(prop, `left out when probe is set (the probe is both the BeforeAllowTraffic and the AfterAllowTraffic hook, and CodeDeploy runs one hook per phase; run your checks in their own deployment group or drop the probe)`, describeConstruct(hook));
      }
    }
  }
  if (props?.alarms !== undefined && !Array.isArray(props.alarms)) problems.add('alarms', 'an array of alarms', props.alarms);
  const warmupIsObject = typeof props?.warmup === 'object' && props.warmup !== null;
  if (props?.warmup !== undefined && !warmupIsObject) {
    problems.add('warmup', 'an object of ProvisionedWarmupOptions ({ provisionedConcurrency } or { autoScaling })', props.warmup);
  }
  if (strategy instanceof RolloutStrategy) {
    const uses = {
      probe: props?.probe !== undefined, warmup: warmupIsObject, preTrafficHook: props?.preTrafficHook !== undefined, postTrafficHook: props?.postTrafficHook !== undefined,
      requireShadow: props?.requireShadow !== undefined,
    };
    for (const [prop, expected] of strategy._checkAlias(uses)) {
      const value = prop === 'warmup' ? new Described(JSON.stringify(props.warmup))
        : prop === 'requireShadow' ? new Described(`the shadow at '${props.requireShadow?.shadow?.node?.path}'`)
          : describeConstruct(props[prop as 'preTrafficHook' | 'postTrafficHook']);
      problems.add(prop, expected, value);
    }
  }
  if (props?.warmup === undefined && props?.gates && typeof props.gates === 'object' && props.gates.maxColdStartShare !== undefined) {
    problems.add('gates.maxColdStartShare', 'left out without a warmup (it judges cold starts after the warm gate: set `warmup` too)', props.gates.maxColdStartShare);
  }
  const ownAlarms = ReleaseGates.ALARM_COUNT + (props?.probe !== undefined ? 1 : 0) + (props?.warmup !== undefined ? 1 : 0);
  if (problems.messages.length === 0 && (props.alarms?.length ?? 0) + ownAlarms > MAX_ALARMS_PER_DEPLOYMENT_GROUP) {
    const takers = ['gate alarm', ...(props.probe ? ['the probe'] : []), ...(props.warmup ? ['the cold-start gate'] : [])];
    const own = takers.length === 1 ? `gate alarm takes ${ownAlarms}` : `${takers.slice(0, -1).join(', ')} and ${takers[takers.length - 1]} take ${ownAlarms}`;
    problems.add('alarms', `at most ${MAX_ALARMS_PER_DEPLOYMENT_GROUP - ownAlarms} alarms (CodeDeploy watches ${MAX_ALARMS_PER_DEPLOYMENT_GROUP} per deployment group and the ${own})`, new Described(`${props.alarms!.length} alarms`));
  }
  if (props?.notifications !== undefined && !(typeof props.notifications === 'object' && props.notifications !== null && 'topicArn' in props.notifications && 'grantPublish' in props.notifications)) {
    problems.add('notifications', 'an SNS topic (sns.ITopic)', describeConstruct(props.notifications));
  }
  const hooks = props?.rollbackHooks as unknown;
  if (hooks !== undefined && !(Array.isArray(hooks) && hooks.every((h) => typeof h === 'object' && h !== null && typeof (h as lambda.IFunction).functionArn === 'string'))) {
    problems.add('rollbackHooks', 'an array of Lambda functions (lambda.IFunction)', Array.isArray(hooks) ? new Described(`[${hooks.map((h) => show(describeConstruct(h))).join(', ')}]`) : describeConstruct(hooks));
  }
  const release = props?.release;
  if (release !== undefined && (typeof release !== 'object' || release === null)) {
    problems.add('release', 'an object of release pins', release);
  } else if (release) {
    for (const key of Object.keys(release)) {
      if (!RELEASE_ENV.some(([name]) => name === key)) problems.add(`release.${key}`, `one of ${RELEASE_ENV.map(([n]) => n).join(', ')} (unknown pin)`, key);
    }
    for (const [name] of RELEASE_ENV) {
      const value = release[name];
      if (value !== undefined && !Token.isUnresolved(value) && (typeof value !== 'string' || !PIN_VALUE.test(value))) {
        problems.add(`release.${name}`, '1 to 128 letters, digits or . _ : / + = @ - (it travels in a header)', value);
      }
    }
  }
  // Two aliases of one name on one function pass synth, and CloudFormation fails the second at deploy.
  const sameName = fn instanceof lambda.Function && typeof aliasName === 'string' && !Token.isUnresolved(aliasName)
    ? ownerOfName(fn, aliasName) : undefined;
  if (sameName) {
    problems.add('aliasName', `a name not already used on function '${fn.node.path}' (GuardedAlias '${sameName.node.path}' already owns its alias "${aliasName}"; `
      + 'Lambda allows one alias of a name per function, so CloudFormation would fail at deploy): give each GuardedAlias its own aliasName', aliasName);
  }
  problems.throwIfAny(`GuardedAlias '${path}'`);
  return { fn, aliasName, strategy };
}

/** "1 gate alarm" (the three metric gates share one alarm). */
function gateAlarms(n: number): string {
  return `${n} gate alarm${n === 1 ? '' : 's'}`;
}

function isFunction(value: unknown): value is lambda.IFunction {
  return typeof value === 'object' && value !== null && 'functionArn' in value && 'grantInvoke' in value;
}

/** A construct as messages name it: by its path (class names are mangled in aws-cdk-lib's build: Function2). */
export function describeConstruct(value: unknown): Described {
  if (typeof value === 'object' && value !== null && 'node' in value) return new Described(`the construct at '${(value as IConstruct).node.path}'`);
  return new Described(show(value));
}

/** A GuardedAlias as its synth-time checks see it. */
export interface CheckedAlias extends IConstruct {
  readonly alarms: cloudwatch.IAlarm[];
  readonly probeAlarm?: cloudwatch.IAlarm;
  readonly coldStartAlarm?: cloudwatch.IAlarm;
}

/**
 * What can only be checked once the app is synthesised: alarms added after construction. (An alias of the same
 * name on the function made without a GuardedAlias is the stack's check: `GuardedStackChecks`.)
 */
export function aliasSynthProblems(guarded: CheckedAlias): string[] {
  const count = guarded.alarms.length;
  if (count <= MAX_ALARMS_PER_DEPLOYMENT_GROUP) return [];
  return [`GuardedAlias '${guarded.node.path}': alarms must number at most ${MAX_ALARMS_PER_DEPLOYMENT_GROUP} in all (CodeDeploy's limit per deployment group), got: ${count} (${gateAlarms(ReleaseGates.ALARM_COUNT)} + ${count - ReleaseGates.ALARM_COUNT} added${guarded.probeAlarm ? ', the probe\'s among them' : ''}${guarded.coldStartAlarm ? ', the cold-start gate\'s among them' : ''})`];
}
