// The machinery's log groups (its functions' and its state machine's, which log every state's input and
// output at level ALL) take a KMS key, and its failure alarm reaches the alias's notifications topic.
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { GuardedAlias, RolloutStrategy, StagedRollout } from '../lib';
import { testFunction, testStack } from './util';

describe('logsKey', () => {
  test('encrypts every log group of the staged machinery and lets CloudWatch Logs use the key (CW-6)', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'LogsKey');
    new GuardedAlias(stack, 'A', { function: testFunction(stack), logsKey: key });
    const t = Template.fromStack(stack).toJSON();
    const groups = Object.entries(t.Resources).filter(([id, r]: [string, any]) => r.Type === 'AWS::Logs::LogGroup' && id.startsWith('StagedRollout')).map(([, r]) => r) as any[];
    expect(groups.length).toBeGreaterThanOrEqual(4); // the state machine's and the gate's, starter's and safety net's
    for (const g of groups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] });
    const statements = (t.Resources[stack.getLogicalId(key.node.defaultChild as kms.CfnKey)] as any).Properties.KeyPolicy.Statement;
    expect(statements).toContainEqual(expect.objectContaining({
      Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:*' } },
    }));
  });

  test('one machinery, one key: a second alias asking for another key is refused, naming both', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), logsKey: new kms.Key(stack, 'K1') });
    expect(() => new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), logsKey: new kms.Key(stack, 'K2') }))
      .toThrow("StagedRollout of stack 'TestStack' was created with the logsKey 'TestStack/K1'; 'TestStack/B' asks for 'TestStack/K2'");
    // The same key is fine, and so is no key (the machinery keeps its own).
    expect(() => new GuardedAlias(stack, 'C', { function: testFunction(stack, 'FnC') })).not.toThrow();
    expect(StagedRollout.of(stack).logsKey?.node.path).toBe('TestStack/K1');
  });

  test('without a key the log groups use CloudWatch Logs\' own encryption, kept a year', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'A', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen() });
    const groups = Object.entries(Template.fromStack(stack).findResources('AWS::Logs::LogGroup')).filter(([id]) => id.startsWith('BlueGreenSwitch')).map(([, r]) => r) as any[];
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const g of groups) {
      expect(g.Properties.KmsKeyId).toBeUndefined();
      expect(g.Properties.RetentionInDays).toBe(365);
    }
  });
});

describe('the machinery\'s failure alarm', () => {
  test('goes to each alias\'s notifications topic, once per topic', () => {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Releases');
    new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), notifications: topic });
    new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), notifications: topic });
    const alarm = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(StagedRollout.of(stack).failedEventsAlarm.node.defaultChild as any)];
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as any) }]);
  });
});
