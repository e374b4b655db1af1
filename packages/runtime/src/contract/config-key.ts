/**
 * The one way a state machine finds the configuration of the alias it runs for: each machine's definition holds
 * every attached alias's configuration in one object, keyed by this key, and its starter (the CodeDeploy hook)
 * passes the key as `configKey` in the execution's input. `<CodeDeploy application>/<deployment group>`: a
 * deployment group's name is unique within its application only.
 */
export function aliasConfigKey(applicationName: string, deploymentGroupName: string): string {
  return `${applicationName}/${deploymentGroupName}`;
}
