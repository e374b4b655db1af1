import * as fs from 'fs';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { IPolicyValidationContextBeta1, IPolicyValidationPluginBeta1, PolicyValidationPluginReportBeta1 } from 'aws-cdk-lib';

const CONTROL_TOWER_RULES = path.join(path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules', 'control-tower', 'cfn-guard');

function ruleFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? ruleFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * The cfn-guard plugin as bin/app.ts adds it (`new CfnGuardValidator({ controlTowerRulesEnabled: true })`), run
 * with only the Control Tower rules that can apply to the synthesized templates: those that name one of the
 * templates' resource types. Every rule file names the type it checks as a string literal (`AWS::Lambda::Function`
 * and so on: none matches types by pattern), and a rule whose type is absent from a template has nothing to judge
 * there, so the findings are the whole rule set's; cfn-guard parses and evaluates some 350 rules a template
 * otherwise, about 2 s each. The report goes under the plugin's own name, rule ids and version.
 */
export class RelevantControlTowerRules implements IPolicyValidationPluginBeta1 {
  private readonly full = new CfnGuardValidator({ controlTowerRulesEnabled: true });
  public readonly name = this.full.name;
  public readonly version = this.full.version;
  public readonly ruleIds = this.full.ruleIds;

  public validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const types = new Set(context.templatePaths.flatMap((file) => Object.values<{ Type: string }>(JSON.parse(fs.readFileSync(file, 'utf8')).Resources ?? {}).map((r) => r.Type)));
    const rules = ruleFiles(CONTROL_TOWER_RULES).filter((file) => {
      const text = fs.readFileSync(file, 'utf8');
      return [...types].some((type) => text.includes(`"${type}"`) || text.includes(`'${type}'`));
    });
    return new CfnGuardValidator({ controlTowerRulesEnabled: false, rules }).validate(context);
  }
}
