// Sticky cohorts of a staged alias (lib/strategies/sticky-cohorts.ts): the stack's cohort table, the alias's canary
// alias, the function's GUARDRAILS_COHORT, and the grants, each scoped to this alias's one item.
import { CfnResource, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { COHORT_ENV, COHORT_TABLE_KEY, CohortEnvironment, STAGED_COHORTS_ENV, StagedAliasConfig, StagedCohortConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { canaryAliasName, cohortCacheSeconds, StickyCohorts } from '../strategies/sticky-cohorts';
import { allowVersionConfigReads } from './nag';
import { oneItem, smallTable } from './small-table';

const TABLE_ID = 'CohortTable';


/** The construct id of a staged alias's canary alias under sticky cohorts (a child of the alias). */
export const COHORT_CANARY_ID = 'CohortCanary';
/** Who writes the cohort item (the state machine, the safety net) and who reads the release ids (the gate). */
export interface CohortWriters {
  readonly scope: Construct;
  readonly machine: iam.IGrantable;
  readonly safetyNet: lambda.Function;
  readonly gate: lambda.Function;
}

/**
 * Wires sticky cohorts for one alias and returns its part of the staged configuration. The canary alias points to
 * the alias's version (the new one in a deployment: CloudFormation moves it directly, before the live alias, whose
 * update starts the CodeDeploy deployment); the function learns where its cohort item is and may read that item
 * and invoke that alias, through a policy of its own (the function must not wait on it: the policy names an alias
 * of the function itself).
 * @throws Error naming the prop when the alias's function is not a lambda.Function of this app (its environment is set)
 */
export function bindStickyCohorts(writers: CohortWriters, alias: lambda.Alias, cohorts: StickyCohorts): StagedCohortConfig {
  const fn = alias.version.lambda;
  if (!(fn instanceof lambda.Function)) {
    throw new Error(`strategy (staged) stickyCohorts needs the alias's function to be a lambda.Function defined in this app (its environment names the cohort item), got: ${fn.node.path}`);
  }
  const table = smallTable(writers.scope, TABLE_ID, COHORT_TABLE_KEY, 'the current step\'s weight and salt');
  // The node address: stable, unique in the app, free of tokens and of '#' (the key is also the salt's prefix).
  const key = `cohort-${alias.node.addr}`;
  const canaryAlias = canaryAliasName(alias.aliasName);
  const canary = new lambda.Alias(alias, COHORT_CANARY_ID, { aliasName: canaryAlias, version: alias.version, description: `cdk-rollout-guardrails: the version a sticky rollout of ${alias.aliasName} serves its cohort from` });
  (alias.node.defaultChild as CfnResource).addResourceDependency(canary.node.defaultChild as CfnResource, 'CloudFormation moves the canary alias to the new version before the live alias starts the deployment');

  const environment: CohortEnvironment = { table: table.tableName, key, canaryAlias, cacheSeconds: cohortCacheSeconds(cohorts) };
  fn.addEnvironment(COHORT_ENV, Stack.of(fn).toJsonString(environment));
  if (fn.role) {
    new iam.Policy(alias, 'CohortForward', {
      roles: [fn.role],
      statements: [
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [canary.functionArn] }),
        oneItem(['dynamodb:GetItem'], table, key),
      ],
    });
  }
  for (const writer of [writers.machine, writers.safetyNet]) writer.grantPrincipal.addToPrincipalPolicy(oneItem(['dynamodb:PutItem'], table, key));
  // The gate reads each version's RELEASE_ID, whose telemetry gives both versions' p95.
  allowVersionConfigReads(writers.gate, fn, 'The versions a deployment compares are known only from its AppSpec at run time: reading the RELEASE_ID of this function\'s versions (their telemetry gives each one\'s p95), nothing else.');
  return { tableName: table.tableName, key, canaryAlias };
}

/**
 * The safety net learns each sticky alias's item from the machinery's configurations (by configuration key, its
 * GUARDRAILS_STAGED_COHORTS), to clear the item of a rollout whose execution ended without doing it. Call once, when
 * the first sticky alias is attached: the value is read from `configs` at synth.
 */
export function tellSafetyNetCohorts(safetyNet: lambda.Function, configs: Readonly<Record<string, StagedAliasConfig>>): void {
  safetyNet.addEnvironment(STAGED_COHORTS_ENV, Lazy.uncachedString({
    produce: () => Stack.of(safetyNet).toJsonString(Object.fromEntries(Object.entries(configs)
      .filter(([, config]) => config.cohort !== undefined)
      .map(([key, config]) => [key, { tableName: config.cohort!.tableName, key: config.cohort!.key }]))),
  }));
}
