#!/usr/bin/env node
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Validations } from 'aws-cdk-lib';
import { buildDemoApp } from './demo-app';

const app = new App();
buildDemoApp(app);
// AWS Control Tower's proactive controls (cfn-guard, bundled with the plugin) beside cdk-nag's AwsSolutions pack.
Validations.of(app).addPlugins(new CfnGuardValidator({ controlTowerRulesEnabled: true }));
