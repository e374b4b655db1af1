// The App of every integ app: the example app's two judges registered as synth-time validations, cdk-nag's
// AwsSolutions pack (as bin/demo-app.ts) and cfn-guard with AWS Control Tower's proactive controls (as bin/app.ts).
// Their findings land in the assembly's validation-report.json; integ/run.ts reads it (integ/support/findings.ts)
// and fails on any open finding on a resource of the library, whatever the plugins concluded. Findings on the
// tests' own resources (the demo function, the inspector, the traffic generator, queues and tables of the test,
// integ-tests' assertion providers) are counted, not judged, and nothing is acknowledged here.
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * A new App with cdk-nag's AwsSolutions pack and cfn-guard's Control Tower controls as validation plugins. An open
 * finding does not fail its synth (`@aws-cdk/core:failSynthOnValidationErrors` off): the tests' own resources have
 * open findings by design, the assembly is written in full either way (integ/run.ts compares the snapshot), and the
 * decision is integ/run.ts's, from the report. Validation context only: the templates do not change.
 */
export function integApp(): App {
  const app = new App({ context: { '@aws-cdk/core:failSynthOnValidationErrors': false } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new CfnGuardValidator({ controlTowerRulesEnabled: true }));
  return app;
}
