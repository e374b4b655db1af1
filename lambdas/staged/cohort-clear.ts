// The staged safety net's part for sticky cohorts: an execution that ended without clearing its cohort item (it
// failed, timed out or was stopped before ClearCohort) leaves the step's weight in it, and the cohort's users on the
// new version. The net puts the item back at 0 %, on the current version, but only while the item is still this
// deployment's (a conditional put: a later rollout's item is never undone by a late event, EB-4).
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { COHORT_ATTRIBUTES, COHORT_TABLE_KEY, STAGED_COHORTS_ENV, type StagedCohortConfig } from 'cdk-rollout-guardrails-runtime/contract';

/** Each sticky alias's cohort item, by configuration key (the safety net's GUARDRAILS_STAGED_COHORTS). */
export type StagedCohorts = Record<string, Pick<StagedCohortConfig, 'tableName' | 'key'>>;

/** GUARDRAILS_STAGED_COHORTS, read once; none when the stack has no sticky alias. */
export function stagedCohortsFromEnv(env: NodeJS.ProcessEnv = process.env): StagedCohorts {
  const text = env[STAGED_COHORTS_ENV];
  if (text === undefined || text === '') return {};
  const value = JSON.parse(text) as unknown;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${STAGED_COHORTS_ENV} must be a JSON object, got: ${text.slice(0, 200)}`);
  return value as StagedCohorts;
}

/**
 * Clears the deployment's cohort item: `cleared`, `not-ours` (the item is another deployment's, or there is none),
 * or `not-sticky` (the alias has no sticky cohorts). Throws on any other failure, so that the event is retried.
 */
export async function clearCohort(
  client: DynamoDBClient | undefined, cohorts: StagedCohorts, configKey: string | undefined,
  deploymentId: string, currentVersion: string,
): Promise<'cleared' | 'not-ours' | 'not-sticky'> {
  const cohort = configKey === undefined ? undefined : cohorts[configKey];
  if (!cohort) return 'not-sticky';
  if (!client) throw new Error('the safety net has a cohort item to clear but no DynamoDB client');
  try {
    await client.send(new PutItemCommand({
      TableName: cohort.tableName,
      Item: {
        [COHORT_TABLE_KEY]: { S: cohort.key },
        [COHORT_ATTRIBUTES.weight]: { N: '0' },
        [COHORT_ATTRIBUTES.salt]: { S: deploymentId },
        [COHORT_ATTRIBUTES.canaryVersion]: { S: currentVersion },
        [COHORT_ATTRIBUTES.deploymentId]: { S: deploymentId },
      },
      ConditionExpression: '#d = :d',
      ExpressionAttributeNames: { '#d': COHORT_ATTRIBUTES.deploymentId },
      ExpressionAttributeValues: { ':d': { S: deploymentId } },
    }));
    return 'cleared';
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || (error as Error)?.name === 'ConditionalCheckFailedException') return 'not-ours';
    throw error;
  }
}
