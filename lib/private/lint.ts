import { CfnResource, IResolvable, Lazy, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';

/** A construct that runs with a role it references: a function, a state machine. */
export interface RoleUser extends IConstruct {
  readonly role?: iam.IRole;
}

/**
 * Drops the construct's own role from its resource's DependsOn. aws-cdk-lib makes a function or a state machine
 * depend on its role and the role's policy; the role is also referenced (`Fn::GetAtt Role.Arn`), which already
 * orders the two, so its DependsOn entry only repeats that and cfn-lint's default rules warn about it (W3005).
 * The policy stays in DependsOn: nothing else orders it before the resource. What is left is computed when the
 * template is written, after every dependency of the app is known, in aws-cdk-lib's order (by construct path).
 */
export function dropRedundantRoleDependency(user: RoleUser): void {
  const resource = user.node.defaultChild;
  const role = user.role?.node.defaultChild;
  if (!CfnResource.isCfnResource(resource) || !CfnResource.isCfnResource(role)) return;
  const stack = Stack.of(resource);
  resource.addOverride('DependsOn', Lazy.uncachedAny({
    produce: (): string[] | IResolvable | undefined => {
      const kept = resource.obtainDependencies()
        .filter((d): d is CfnResource => CfnResource.isCfnResource(d) && d !== role && Stack.of(d) === stack)
        .sort((a, b) => a.node.path.localeCompare(b.node.path))
        .map((d) => d.logicalId);
      return kept.length > 0 ? kept : undefined;
    },
  }));
}
