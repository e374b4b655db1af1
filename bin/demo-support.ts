// What the example app needs beyond the library's public API: where its own files are, its handler's code, and the
// acknowledgements of its own resources. Nothing here reaches into the library's internals (bin/ uses the public API only).
import * as fs from 'fs';
import * as path from 'path';
import { CfnResource, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/** The repository's root: the folder of the package.json named cdk-rollout-guardrails above this file. */
export const REPO_ROOT = ((): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'cdk-rollout-guardrails') return dir;
    if (path.dirname(dir) === dir) throw new Error(`example app: no cdk-rollout-guardrails package.json above ${__dirname}`);
  }
})();

/** The runtime of the demo's functions (the library's handlers use the same). */
export const DEMO_RUNTIME = lambda.Runtime.NODEJS_24_X;

/** The demo answering service's code, bundled by `npm run bundle` into assets/demo-answer (not part of the package). */
export function demoAnswerCode(): lambda.Code {
  return lambda.Code.fromAsset(path.join(REPO_ROOT, 'assets', 'demo-answer'));
}

/** cdk-nag's AwsSolutions-IAM4 on an AWS managed policy of one of the demo's roles, with the reason. */
export function acknowledgeManagedPolicy(scope: IConstruct, managedPolicyName: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${managedPolicyName}]`, reason });
}

/**
 * cfn-lint's W3005 on one of the demo's own functions: aws-cdk-lib makes a function depend on the role it also
 * references (GetAtt). The library drops that repeat from its own resources; a user's function is the user's, so
 * the example app says so on each of its functions rather than in a project-wide ignore file.
 */
export function allowCdkRoleDependsOn(fn: lambda.Function): void {
  (fn.node.defaultChild as CfnResource).addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
}
