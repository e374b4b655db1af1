// Nothing in the tests may reach AWS or the CDK telemetry endpoint.
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
process.env.AWS_REGION ??= 'eu-west-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIAIOSFODNN7EXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test-secret-not-a-real-key';
// aws-cdk-lib runs a CloudFormation validator on every synth (about 2 s each). The tests turn it off; the example
// app's `npm run synth` (the README's first command, and CI) runs it, and CI's cfn-lint judges the same templates.
process.env.CDK_VALIDATION ??= 'false';
