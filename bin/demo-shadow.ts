import { Annotations, Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ShadowIntegration } from '../lib';
import { acknowledgeManagedPolicy, allowCdkRoleDependsOn, demoAnswerCode, DEMO_RUNTIME } from './demo-support';
import type { DemoStack } from './demo-stack';

/** The path of the demo's shadowed route: `GET /answer/mirrored?q=...` answers like `GET /answer`. */
export const DEMO_SHADOW_PATH = '/answer/mirrored';

/** Options of {@link addShadowRoute}. */
export interface DemoShadowOptions {
  /**
   * Mirror to the drifted build of the demo (title-only retrieval, first-sentence answers), so the shadow's
   * ΔS alarm has something to find.
   * @default false - the shadow runs the same build as the live function
   */
  readonly drift?: boolean;
  /**
   * Share of the route's reads mirrored.
   * @default 0.1
   */
  readonly sampleRate?: number;
  /**
   * Most replays a second.
   * @default 5
   */
  readonly maxMirrorRps?: number;
}

/** What {@link addShadowRoute} added. */
export interface DemoShadowRoute {
  /** The shadow build of the demo function. */
  readonly shadowFunction: lambda.Function;
  /** The integration: route, tap configuration, dispatcher, results table and alarms. */
  readonly integration: ShadowIntegration;
}

/**
 * Adds a shadow route to the example app: `GET /answer/mirrored` on the demo API, integrated with the
 * GuardedAlias, with a sample of its reads mirrored to a shadow build of the demo function and scored by
 * ΔS on the `answer` field (the `release` field differs by design and is left out of the comparison), with
 * the default mean-ΔS and latency alarms plus a p95-ΔS alarm at 0.6.
 *
 * The live demo handler must be wrapped with `shadowTap` (cdk-rollout-guardrails-runtime) for anything to be
 * mirrored; the resources are the same either way.
 */
export function addShadowRoute(stack: DemoStack, options: DemoShadowOptions = {}): DemoShadowRoute {
  const shadowFunction = new lambda.Function(stack, 'AnswerShadowFunction', {
    runtime: DEMO_RUNTIME,
    handler: 'index.handler',
    code: demoAnswerCode(),
    memorySize: 256,
    timeout: Duration.seconds(10),
    description: `Demo answering service, shadow build${options.drift ? ' (drifted)' : ''}: answers mirrored reads, never users`,
    environment: { RELEASE_ID: 'shadow', ...(options.drift ? { DEMO_DRIFT: '1' } : {}) },
  });
  allowCdkRoleDependsOn(shadowFunction);
  acknowledgeManagedPolicy(shadowFunction, 'service-role/AWSLambdaBasicExecutionRole',
    'It only lets the shadow write CloudWatch Logs; every write elsewhere is explicitly denied by the ShadowIntegration.');
  Validations.of(shadowFunction).acknowledge(
    { id: 'cdk-validator-cfnguard::lambda_inside_vpc_check', reason: 'The demo\'s shadow answers from its bundled corpus and calls nothing; it has no network to be in.' },
    { id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check', reason: 'The shadow logs answers from a public corpus; CloudWatch Logs\' own encryption at rest is enough.' },
  );
  const integration = new ShadowIntegration(stack, 'ShadowAnswer', {
    api: stack.api,
    method: 'GET',
    path: DEMO_SHADOW_PATH,
    live: stack.guarded,
    shadow: shadowFunction,
    sampleRate: options.sampleRate ?? 0.1,
    maxMirrorRps: options.maxMirrorRps ?? 5,
    answerPath: '$.answer',
    // The demo's drift moves a minority of answers to the wrong section: the mean stays under 0.45, the p95 does
    // not (test/shadow-e2e.suite.ts). 0.6 is where the risk band starts.
    gates: { maxP95DeltaS: 0.6 },
  });
  // The demo's handler is wrapped (lambdas/demo-answer/index.ts), but its bundle is minified, so the construct
  // cannot see the call.
  Annotations.of(integration).acknowledgeInfo(ShadowIntegration.TAP_NOT_SEEN_INFO, 'lambdas/demo-answer/index.ts wraps the handler with shadowTap(); the bundle is minified');
  return { shadowFunction, integration };
}
