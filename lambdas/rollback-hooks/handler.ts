// The rollback hooks of a stack's GuardedAliases: on a deployment's FAILURE or STOP (an EventBridge rule per
// alias with hooks), read which version was being rolled out (the deployment's AppSpec) and its release (that
// version's own RELEASE_ID), then invoke each of the alias's hooks asynchronously with the release's cache
// namespace, for it to purge. A rollback deployment's own failure is left alone: its target is the version users
// are back on, whose cache must stay.
import { CodeDeployClient, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  NOTIFICATION_SOURCE, parseLambdaAppSpec, RELEASE_ID_ENV, RollbackHookEvent, RollbackHooksInput,
} from 'cdk-rollout-guardrails-runtime/contract';
import { appSpecContentOf, ROLLBACK_CREATORS } from '../shared/hook-kit';

/** What one run did. */
export type RollbackHooksResult =
  | { readonly invoked: string[]; readonly event: RollbackHookEvent }
  | { readonly skipped: string };

export interface RollbackHooksDependencies {
  readonly codedeploy: CodeDeployClient;
  readonly lambda: LambdaClient;
  /** @default console.log */
  readonly log?: (line: string) => void;
}

/** The handler. An AWS error throws, so that Lambda's retries and then the dead-letter queue take the event. */
export function createRollbackHooksHandler(deps: RollbackHooksDependencies): (input: RollbackHooksInput) => Promise<RollbackHooksResult> {
  const log = deps.log ?? ((line: string) => console.log(line));
  return async (input) => {
    if (!input || typeof input.deploymentId !== 'string' || !Array.isArray(input.hooks)) {
      throw new Error(`expected the rollback rule's input { deploymentId, state, functionName, alias, hooks }, got: ${JSON.stringify(input)?.slice(0, 200)}`);
    }
    const { deploymentInfo: info } = await deps.codedeploy.send(new GetDeploymentCommand({ deploymentId: input.deploymentId }));
    if (!info) throw new Error(`deployment ${input.deploymentId} was not found`);
    const rollbackOf = info.rollbackInfo?.rollbackTriggeringDeploymentId;
    if ((info.creator && ROLLBACK_CREATORS.includes(info.creator)) || rollbackOf) {
      const skipped = `deployment ${input.deploymentId} is a rollback (${rollbackOf ? `of ${rollbackOf}` : `created by ${info.creator}`}): its target is the version users are back on`;
      log(JSON.stringify({ message: 'cdk-rollout-guardrails rollback hooks: skipped', skipped }));
      return { skipped };
    }
    const target = parseLambdaAppSpec(await appSpecContentOf(deps.codedeploy, input.deploymentId, info));
    const configuration = await deps.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: target.functionName, Qualifier: target.targetVersion }));
    const releaseId = configuration.Environment?.Variables?.[RELEASE_ID_ENV] || null;
    const event: RollbackHookEvent = {
      source: NOTIFICATION_SOURCE,
      event: 'rollback',
      state: input.state,
      deploymentId: input.deploymentId,
      functionName: input.functionName,
      alias: input.alias,
      targetVersion: target.targetVersion,
      currentVersion: target.currentVersion,
      releaseId,
      cacheNamespace: releaseId === null ? null : `rel-${releaseId}:`,
    };
    const payload = new TextEncoder().encode(JSON.stringify(event));
    // Every hook is tried; the first failure is thrown afterwards, so a retry re-invokes them all (a hook purging
    // a namespace is idempotent, and EventBridge may deliver an event twice anyway: docs/aws-behaviour.md EB-4).
    const failures: Error[] = [];
    const invoked: string[] = [];
    for (const hook of input.hooks) {
      try {
        await deps.lambda.send(new InvokeCommand({ FunctionName: hook, InvocationType: 'Event', Payload: payload }));
        invoked.push(hook);
      } catch (error) {
        failures.push(error as Error);
      }
    }
    log(JSON.stringify({ message: 'cdk-rollout-guardrails rollback hooks: invoked', invoked, failed: failures.length, event }));
    if (failures.length > 0) throw failures[0];
    return { invoked, event };
  };
}
