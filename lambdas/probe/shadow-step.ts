// Stage 0 in the ΔS probe's BeforeAllowTraffic hook (canary, linear and allAtOnce with GuardedAlias
// `requireShadow`): before the warm gate and the probe, the release's shadow record is judged; a refusal is the
// hook's Failed, with the checks' reasons, and goes to the alias's topic. Once traffic has moved (the
// AfterAllowTraffic run) there is nothing to check.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { ShadowPromotionConfig, ShadowPromotionVerdict } from 'cdk-rollout-guardrails-runtime/contract';
import { functionNameOf } from '../shared/lambda-metrics';
import { shadowNotification, shadowVerdict } from '../shared/shadow-promotion';

/** The clients stage 0 needs, made at first use. */
export interface ShadowStepClients {
  readonly dynamodb: () => DynamoDBClient;
  /** Publishes the decision to the alias's topic, when it has one. */
  readonly sns?: () => SNSClient;
}

/** Judges the release's record, logs the decision and publishes it; a failed publish is logged, never decisive. */
export async function shadowStep(
  clients: ShadowStepClients | undefined,
  requirement: ShadowPromotionConfig,
  target: { readonly functionName: string; readonly alias: string },
  deploymentId: string | undefined,
  log: (line: string) => void,
  signal: AbortSignal,
): Promise<ShadowPromotionVerdict> {
  if (!clients) throw new Error('the probe has a shadow check to make but no DynamoDB client');
  const verdict = await shadowVerdict(clients.dynamodb(), requirement, signal);
  const notification = shadowNotification(verdict, requirement, {
    strategy: 'probe hook', deploymentId: deploymentId ?? '', functionName: functionNameOf(target.functionName), alias: target.alias,
  });
  log(JSON.stringify({ report: 'cdk-rollout-guardrails/shadow-promotion', ...notification }));
  if (requirement.topicArn && clients.sns) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { PublishCommand } = require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns');
      await clients.sns().send(new PublishCommand({ TopicArn: requirement.topicArn, Message: JSON.stringify(notification) }), { abortSignal: signal });
    } catch (error) {
      log(JSON.stringify({ message: 'cdk-rollout-guardrails probe: publishing the shadow decision failed', error: (error as Error)?.message }));
    }
  }
  return verdict;
}
