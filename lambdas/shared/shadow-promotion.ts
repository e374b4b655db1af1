// Shadow as a rollout's stage 0: reading a release's shadow record and judging it, shared by the staged gate
// function (the machine's first decision) and the ΔS probe's BeforeAllowTraffic hook (canary, linear and
// all-at-once rollouts). The record is the summary item the mirror dispatcher keeps per release in the shadow's
// results table; it is read with a consistent read (an eventually consistent read may miss the latest replays).
// Types only at load: the command is required at first use, so a function that never checks (a probe without the
// requirement) loads no DynamoDB client; CommonJS resolution finds the runtime's SDK (NODE_PATH, LAM-8).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  judgeShadowPromotion, NOTIFICATION_SOURCE, ShadowPromotionConfig, ShadowPromotionNotification, ShadowPromotionVerdict, shadowSummaryKey,
  summaryFromItem, SummaryAttributeValue,
} from 'cdk-rollout-guardrails-runtime/contract';

/**
 * Reads the release's record and judges it. A read that fails refuses the release (fail closed): the check guards
 * user traffic, and a deployment refused by an outage is re-run with `cdk deploy`, while one let through is not undone.
 */
export async function shadowVerdict(client: DynamoDBClient, config: ShadowPromotionConfig, signal?: AbortSignal): Promise<ShadowPromotionVerdict> {
  let item: Record<string, SummaryAttributeValue> | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GetItemCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
    const out = await client.send(new GetItemCommand({
      TableName: config.table,
      Key: { shadow_id: { S: shadowSummaryKey(config.releaseId) } },
      ConsistentRead: true,
    }), signal ? { abortSignal: signal } : {});
    item = out.Item as Record<string, SummaryAttributeValue> | undefined;
  } catch (error) {
    const reason = `the shadow record of release ${config.releaseId} could not be read from table ${config.table}: ${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`;
    return { passed: false, checks: [{ name: 'shadow:record', measured: null, threshold: null, passed: false, reason }], summary: reason };
  }
  return judgeShadowPromotion(summaryFromItem(item), config, config.releaseId);
}

/** What a notification of the decision names. */
export interface ShadowDecisionContext {
  readonly strategy: string;
  readonly deploymentId: string;
  readonly functionName: string;
  readonly alias: string;
}

/** The decision as the alias's notifications topic receives it. */
export function shadowNotification(verdict: ShadowPromotionVerdict, config: ShadowPromotionConfig, context: ShadowDecisionContext): ShadowPromotionNotification {
  return {
    source: NOTIFICATION_SOURCE,
    event: 'shadow-promotion',
    ...context,
    releaseId: config.releaseId,
    decision: verdict.passed ? 'promote' : 'refuse',
    reasons: verdict.checks.filter((c) => c.passed !== true).map((c) => c.reason),
    gates: verdict.checks.map(({ name, measured, threshold, passed }) => ({ name, measured, threshold, passed })),
  };
}
