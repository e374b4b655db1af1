// The offline model of the AWS rules the rollout machinery relies on (docs/aws-behaviour.md). Stubs and
// interpreters in the tests route their Lambda and CodeDeploy calls through it, so that a change that breaks
// one of these rules fails a test instead of the first real deployment. Each rule names its register entry.
// Where AWS's behaviour is UNKNOWN (the register says so), the model takes the stricter reading.

/** An error as the SDK (and a Step Functions SDK integration, as `<Service>.<name>`) would surface it. */
export class AwsRuleError extends Error {
  constructor(name: string, message: string, public readonly rule: string) {
    super(`${message} [${rule}]`);
    this.name = name;
  }
}

interface PcConfig { requested: number; status: 'IN_PROGRESS' | 'READY' | 'FAILED' }
interface AliasState { functionVersion: string; weights: Record<string, number>; pc?: PcConfig }

/** One Lambda function: its versions, one alias or more, and provisioned-concurrency configurations. */
export class LambdaModel {
  readonly versionPc = new Map<string, PcConfig>();
  readonly aliases = new Map<string, AliasState>();
  readonly calls: Array<{ op: string; input: unknown }> = [];

  constructor(public readonly functionName: string, public readonly versions: string[]) {}

  addAlias(name: string, functionVersion: string, options: { weights?: Record<string, number>; pc?: number } = {}): this {
    this.requireVersion(functionVersion);
    this.aliases.set(name, { functionVersion, weights: { ...options.weights }, ...(options.pc ? { pc: { requested: options.pc, status: 'READY' } } : {}) });
    return this;
  }

  /** A version's own configuration, as CloudFormation's AWS::Lambda::Version ProvisionedConcurrencyConfig creates it. */
  publishWithPc(version: string, requested: number, status: PcConfig['status'] = 'READY'): this {
    this.requireVersion(version);
    this.checkOnePerVersion(version, 'version');
    this.versionPc.set(version, { requested, status });
    return this;
  }

  alias(name: string): AliasState {
    const alias = this.aliases.get(name);
    if (!alias) throw new AwsRuleError('ResourceNotFoundException', `alias ${this.functionName}:${name} not found`, 'LAM-4');
    return alias;
  }

  /** The versions an alias references: its FunctionVersion and its additional weights. */
  referenced(name: string): string[] {
    const alias = this.alias(name);
    return [alias.functionVersion, ...Object.keys(alias.weights)];
  }

  isWeighted(name: string): boolean {
    return Object.keys(this.alias(name).weights).length > 0;
  }

  /** UpdateAlias, with the rules of LAM-1 (two versions at most) and LAM-4 (never a version both primary and weighted). */
  updateAlias(input: { FunctionName?: string; Name: string; FunctionVersion?: string; RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> } }): AliasState {
    this.calls.push({ op: 'UpdateAlias', input });
    const alias = this.alias(input.Name);
    const primary = input.FunctionVersion ?? alias.functionVersion;
    this.requireVersion(primary);
    const weights = input.RoutingConfig !== undefined ? { ...(input.RoutingConfig.AdditionalVersionWeights ?? {}) } : { ...alias.weights };
    const extra = Object.keys(weights);
    if (extra.length > 1) throw new AwsRuleError('InvalidParameterValueException', `an alias routes to at most two versions, got ${1 + extra.length}: ${[primary, ...extra].join(', ')}`, 'LAM-1');
    for (const [version, weight] of Object.entries(weights)) {
      this.requireVersion(version);
      if (!(weight >= 0 && weight <= 1)) throw new AwsRuleError('InvalidParameterValueException', `weight ${weight} of version ${version} is not between 0 and 1`, 'LAM-4');
      // Undocumented (LAM-4: an SDK issue shows an InternalError); the model refuses it, so the design never depends on it.
      if (version === primary) throw new AwsRuleError('InvalidParameterValueException', `version ${version} is both the alias's FunctionVersion and an additional version`, 'LAM-4');
    }
    alias.functionVersion = primary;
    alias.weights = weights;
    return alias;
  }

  /** PutProvisionedConcurrencyConfig on a version or an alias (PC-1, PC-2). */
  putProvisionedConcurrencyConfig(input: { Qualifier: string; ProvisionedConcurrentExecutions: number }): PcConfig {
    this.calls.push({ op: 'PutProvisionedConcurrencyConfig', input });
    const { Qualifier: q } = input;
    if (this.aliases.has(q)) {
      if (this.isWeighted(q)) throw new AwsRuleError('ResourceConflictException', 'Alias with weights can not be used with Provisioned Concurrency', 'PC-2');
      this.checkOnePerVersion(this.alias(q).functionVersion, 'alias', q);
      const pc: PcConfig = { requested: input.ProvisionedConcurrentExecutions, status: 'IN_PROGRESS' };
      this.alias(q).pc = pc;
      return pc;
    }
    this.requireVersion(q);
    this.checkOnePerVersion(q, 'version');
    const pc: PcConfig = { requested: input.ProvisionedConcurrentExecutions, status: 'IN_PROGRESS' };
    this.versionPc.set(q, pc);
    return pc;
  }

  deleteProvisionedConcurrencyConfig(input: { Qualifier: string }): void {
    this.calls.push({ op: 'DeleteProvisionedConcurrencyConfig', input });
    const { Qualifier: q } = input;
    if (this.aliases.has(q)) {
      if (this.isWeighted(q)) throw new AwsRuleError('ResourceConflictException', 'Alias with weights can not be used with Provisioned Concurrency', 'PC-2');
      delete this.alias(q).pc;
      return;
    }
    if (!this.versionPc.delete(q)) throw new AwsRuleError('ProvisionedConcurrencyConfigNotFoundException', `no provisioned concurrency on ${q}`, 'PC-1');
  }

  getProvisionedConcurrencyConfig(input: { Qualifier: string }): PcConfig {
    this.calls.push({ op: 'GetProvisionedConcurrencyConfig', input });
    const pc = this.aliases.has(input.Qualifier) ? this.alias(input.Qualifier).pc : this.versionPc.get(input.Qualifier);
    if (!pc) throw new AwsRuleError('ProvisionedConcurrencyConfigNotFoundException', `no provisioned concurrency on ${input.Qualifier}`, 'PC-1');
    return pc;
  }

  /** Application Auto Scaling's RegisterScalableTarget for `function:<name>:<qualifier>` (PC-6, PC-7). */
  registerScalableTarget(qualifier: string): void {
    this.calls.push({ op: 'RegisterScalableTarget', input: { qualifier } });
    if (this.aliases.has(qualifier) && this.isWeighted(qualifier)) {
      throw new AwsRuleError('ValidationException', `Application Auto Scaling cannot act on the weighted alias ${qualifier}`, 'PC-7');
    }
  }

  /** Whether an invocation that lands on `version` (through any alias) finds provisioned environments. */
  warm(version: string): boolean {
    if (this.versionPc.get(version)?.status === 'READY') return true;
    return [...this.aliases.values()].some((a) => a.functionVersion === version && !Object.keys(a.weights).length && a.pc?.status === 'READY');
  }

  private requireVersion(version: string): void {
    if (!this.versions.includes(version)) throw new AwsRuleError('ResourceNotFoundException', `version ${version} of ${this.functionName} not found`, 'LAM-4');
  }

  /** PC-1: one configuration per version, on the version itself or on an alias that points to it. */
  private checkOnePerVersion(version: string, on: 'version' | 'alias', aliasName?: string): void {
    const holders: string[] = [];
    if (this.versionPc.has(version)) holders.push(`version ${version}`);
    for (const [name, alias] of this.aliases) {
      if (name === aliasName || !alias.pc) continue;
      if (alias.functionVersion === version || version in alias.weights) holders.push(`alias ${name}`);
    }
    if (holders.length > 0) {
      throw new AwsRuleError('ResourceConflictException', `version ${version} already has a provisioned-concurrency configuration (${holders.join(', ')}); cannot add one on the ${on}`, 'PC-1');
    }
  }
}

export interface AppSpecTarget { readonly functionName: string; readonly alias: string; readonly currentVersion: string; readonly targetVersion: string }

/** One CodeDeploy deployment of a Lambda alias, all at once, as the register describes it. */
export class CodeDeployDeployment {
  readonly reports = new Map<string, 'Succeeded' | 'Failed'>();
  status: 'InProgress' | 'Succeeded' | 'Failed' = 'InProgress';
  readonly log: string[] = [];

  /** CD-11: a deployment of an alias that already references two versions fails; CD-12: the alias must be on the AppSpec's current version. */
  constructor(public readonly lambda: LambdaModel, public readonly target: AppSpecTarget, public readonly creator = 'CloudFormation') {
    const referenced = lambda.referenced(target.alias);
    if (referenced.length > 1) throw new AwsRuleError('DeploymentFailed', `the alias ${target.alias} references two versions (${referenced.join(', ')})`, 'CD-11');
    if (lambda.alias(target.alias).functionVersion !== target.currentVersion) {
      throw new AwsRuleError('DeploymentFailed', `the alias version does not match the current version in the AppSpec (${lambda.alias(target.alias).functionVersion} ≠ ${target.currentVersion})`, 'CD-12');
    }
  }

  /** PutLifecycleEventHookExecutionStatus: once per hook execution (CD-2). */
  report(hookExecutionId: string, status: 'Succeeded' | 'Failed'): void {
    if (this.reports.has(hookExecutionId) || this.status !== 'InProgress') {
      throw new AwsRuleError('LifecycleEventAlreadyCompletedException', `hook ${hookExecutionId} has already reported ${this.reports.get(hookExecutionId) ?? this.status}`, 'CD-2');
    }
    this.reports.set(hookExecutionId, status);
    this.log.push(`report ${hookExecutionId} ${status}`);
    if (status === 'Failed') this.status = 'Failed';
  }

  /**
   * The all-at-once shift after BeforeAllowTraffic reported Succeeded (CD-6). Which call CodeDeploy makes is
   * not documented; the model requires what the documented checks imply: the alias on the AppSpec's current
   * version (CD-12) and no other version in its routing (CD-11), then points it at the target version alone.
   */
  shift(): void {
    const alias = this.lambda.alias(this.target.alias);
    if (alias.functionVersion !== this.target.currentVersion) {
      throw new AwsRuleError('DeploymentFailed', `at the shift the alias is on version ${alias.functionVersion}, not the AppSpec's current version ${this.target.currentVersion}`, 'CD-12');
    }
    if (Object.keys(alias.weights).length > 0) {
      throw new AwsRuleError('DeploymentFailed', `at the shift the alias still routes to ${JSON.stringify(alias.weights)}`, 'CD-11');
    }
    alias.functionVersion = this.target.targetVersion;
    this.log.push(`shift to ${this.target.targetVersion}`);
  }

  /**
   * Automatic rollback after a failure (CD-8, CD-15): once the shift has happened, a new deployment from the
   * target back to the current version, which checks the alias like any deployment (CD-11, CD-12): an alias that
   * someone else already moved back is drift, and the rollback fails. Before the shift nothing moved; the model
   * then requires the alias as the deployment found it (no weights left by a hook).
   */
  rollback(): CodeDeployDeployment | undefined {
    const alias = this.lambda.alias(this.target.alias);
    if (Object.keys(alias.weights).length > 0) {
      throw new AwsRuleError('DeploymentFailed', `rollback found the alias weighted ${JSON.stringify(alias.weights)}`, 'CD-11');
    }
    if (!this.log.some((line) => line.startsWith('shift'))) return undefined;
    const back = new CodeDeployDeployment(this.lambda, { ...this.target, currentVersion: this.target.targetVersion, targetVersion: this.target.currentVersion }, 'codeDeployRollback');
    back.shift();
    back.status = 'Succeeded';
    return back;
  }
}
