import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DemoStack } from './demo-stack';

/** The stack name of the example app. */
export const DEMO_STACK_NAME = 'RolloutGuardrailsDemo';

/**
 * Adds the example app to `app`, with cdk-nag's AwsSolutions pack as a synth-time validation: an
 * unacknowledged error fails the synth.
 */
export function buildDemoApp(app: App): DemoStack {
  const stack = new DemoStack(app, DEMO_STACK_NAME, {
    description: 'cdk-rollout-guardrails example app: a demo answering service released through a GuardedAlias',
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
