// GuardedAlias `requireShadow`: checking the prop, writing the configuration the check runs with (the staged
// machine's alias configuration, or the probe hook's environment) and granting the read. See lib/shadow-promotion.ts.
import { Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { DEFAULT_SHADOW_PROMOTION, SHADOW_PROMOTION_ENV, ShadowPromotionConfig, shadowSummaryKey } from 'cdk-rollout-guardrails-runtime/contract';
import type { DeltaSProbe } from '../delta-s-probe';
import type { GuardedAlias } from '../guarded-alias';
import type { ShadowTarget } from '../rollout-strategy';
import type { ShadowPromotion } from '../shadow-promotion';
import { ShadowIntegration } from '../shadow-integration';
import { Described, PropProblems, show } from './validation';

/** Longest window accepted: a month (the record lives while replays go on, and resultsTtl after the last one). */
const MAX_WINDOW = Duration.days(30);

/** Problems with `requireShadow`, each naming the prop; `releaseIdGiven` is whether `release.releaseId` is set. */
export function shadowPromotionProblems(problems: PropProblems, prop: ShadowPromotion | undefined, releaseIdGiven: boolean): void {
  if (prop === undefined) return;
  if (typeof prop !== 'object' || prop === null) {
    problems.add('requireShadow', 'an object ({ shadow, window?, maxMedianDeltaS?, ... })', prop);
    return;
  }
  if (!(prop.shadow instanceof ShadowIntegration)) problems.add('requireShadow.shadow', 'a ShadowIntegration', prop.shadow);
  if (prop.window !== undefined) {
    if (!(prop.window instanceof Duration) || prop.window.isUnresolved()) problems.add('requireShadow.window', 'a Duration known at synth', prop.window);
    else if (prop.window.toSeconds() < 60 || prop.window.toSeconds() > MAX_WINDOW.toSeconds()) {
      problems.add('requireShadow.window', `from 1 minute to ${MAX_WINDOW.toHumanString()}`, prop.window.toHumanString());
    }
  }
  problems.number('requireShadow.maxMedianDeltaS', prop.maxMedianDeltaS, { min: 0, max: 1, minInclusive: false });
  problems.integer('requireShadow.maxSchemaViolations', prop.maxSchemaViolations, 0, 1_000_000);
  problems.number('requireShadow.maxErrorRateDelta', prop.maxErrorRateDelta, { min: 0, max: 1 });
  problems.integer('requireShadow.minScored', prop.minScored, 1, 1_000_000);
  for (const name of ['maxMedianDeltaS', 'maxSchemaViolations', 'maxErrorRateDelta', 'minScored'] as const) {
    if (Token.isUnresolved(prop[name])) problems.add(`requireShadow.${name}`, 'a number known at synth', show(prop[name]));
  }
  // The record is keyed by the shadow's RELEASE_ID; the default release ID hashes the live function's own
  // configuration, which the shadow function (another function, another environment) can never share.
  if (!releaseIdGiven) {
    problems.add('release.releaseId', 'set with requireShadow (the shadow function must carry the same RELEASE_ID, so that its record is this release\'s)', undefined);
  }
}

/** The configuration the check runs with. */
export function shadowPromotionConfig(prop: ShadowPromotion, releaseId: string, topicArn?: string): ShadowPromotionConfig {
  const d = DEFAULT_SHADOW_PROMOTION;
  return {
    table: prop.shadow.resultsTable.tableName,
    releaseId,
    windowSeconds: prop.window?.toSeconds() ?? d.windowSeconds,
    maxMedianDeltaS: prop.maxMedianDeltaS ?? d.maxMedianDeltaS,
    maxSchemaViolations: prop.maxSchemaViolations ?? d.maxSchemaViolations,
    maxErrorRateDelta: prop.maxErrorRateDelta ?? d.maxErrorRateDelta,
    minScored: prop.minScored ?? d.minScored,
    ...(topicArn !== undefined ? { topicArn } : {}),
  };
}

/**
 * Lets `reader` read this release's record and nothing else of the results table: GetItem, on the one key
 * (`dynamodb:LeadingKeys`); and decrypt, when the table has a key of its own.
 */
export function grantShadowRead(reader: iam.IGrantable, prop: ShadowPromotion, releaseId: string): void {
  const table = prop.shadow.resultsTable;
  reader.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['dynamodb:GetItem'],
    resources: [table.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [shadowSummaryKey(releaseId)] } },
  }));
  table.encryptionKey?.grantDecrypt(reader);
}

/** What a GuardedAlias keeps for `requireShadow` beyond its public fields. */
interface ShadowContext {
  readonly notifications?: sns.ITopic;
  /** Whether `release.releaseId` was given (the default release ID can never be a shadow's). */
  readonly releaseIdGiven: boolean;
  /** Set once the requirement is bound. */
  required?: boolean;
}

const CONTEXTS = new WeakMap<GuardedAlias, ShadowContext>();

/** Remembers, for `requireShadowOn`, what a GuardedAlias's props said; binds the `requireShadow` prop, if given. */
export function rememberShadowContext(guarded: GuardedAlias, context: ShadowContext, promotion: ShadowPromotion | undefined): void {
  CONTEXTS.set(guarded, { ...context });
  if (promotion !== undefined) requireShadowOn(guarded, promotion);
}

/**
 * GuardedAlias `requireShadow`, the prop or the method: checks the requirement (every problem at once, naming the
 * prop and the value), then has the strategy make the release's record stage 0 of its rollout. Once per alias.
 */
export function requireShadowOn(guarded: GuardedAlias, promotion: ShadowPromotion): void {
  const context = CONTEXTS.get(guarded)!;
  const problems = new PropProblems();
  shadowPromotionProblems(problems, promotion, context.releaseIdGiven);
  if (problems.messages.length === 0) {
    const uses = { probe: guarded.probe !== undefined, warmup: false, preTrafficHook: false, postTrafficHook: false, requireShadow: true };
    for (const [prop, expected] of guarded.strategy._checkAlias(uses)) if (prop === 'requireShadow') problems.add(prop, expected, new Described(`the shadow at '${promotion.shadow.node.path}'`));
  }
  if (context.required) problems.addMessage('requireShadow is set already: a rollout has one shadow requirement');
  problems.throwIfAny(`GuardedAlias '${guarded.node.path}'`);
  context.required = true;
  const target: ShadowTarget = {
    scope: guarded, fn: guarded.version.lambda, aliasName: guarded.aliasName, deploymentGroup: guarded.deploymentGroup, probe: guarded.probe,
    notifications: context.notifications, releaseId: guarded.releaseId, promotion,
  };
  guarded.strategy._requireShadow(target);
}

/** Each probe's requirements by `<function name>:<alias>`, written into its environment when the template is. */
const PROBE_REQUIREMENTS = new WeakMap<DeltaSProbe, Record<string, ShadowPromotionConfig>>();

/**
 * With canary, linear and allAtOnce the ΔS probe's BeforeAllowTraffic hook checks the shadow record before it
 * probes: it learns this alias's requirement from SHADOW_PROMOTION_ENV and may read the record and publish the
 * decision to the alias's topic.
 */
export function bindProbeShadowCheck(probe: DeltaSProbe, prop: ShadowPromotion, target: { fn: lambda.IFunction; aliasName: string; releaseId: string; topic?: sns.ITopic }): void {
  let requirements = PROBE_REQUIREMENTS.get(probe);
  if (!requirements) {
    const all: Record<string, ShadowPromotionConfig> = {};
    requirements = all;
    PROBE_REQUIREMENTS.set(probe, all);
    probe.function.addEnvironment(SHADOW_PROMOTION_ENV, Lazy.string({ produce: () => Stack.of(probe).toJsonString(all) }));
  }
  requirements[`${target.fn.functionName}:${target.aliasName}`] = shadowPromotionConfig(prop, target.releaseId, target.topic?.topicArn);
  grantShadowRead(probe.function, prop, target.releaseId);
  target.topic?.grantPublish(probe.function);
  // The hook tells BeforeAllowTraffic from AfterAllowTraffic by the alias's version (as the warm gate does): GetAlias on
  // the function and the alias, by name (AWS authorises alias actions against the function's ARN; no reference to
  // the alias resource, which depends on the probe).
  iam.Grant.addToPrincipal({ grantee: probe.function, actions: ['lambda:GetAlias'], resourceArns: [target.fn.functionArn, `${target.fn.functionArn}:${target.aliasName}`] });
}
