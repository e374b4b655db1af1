import { Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GuardedAlias } from '../lib';
import { handlerCode } from '../lib/private/assets';
import { acknowledgeManagedPolicy } from '../lib/private/nag';
import { HANDLER_RUNTIME } from '../lib/private/runtime';

/**
 * The example app: a demo answering service (lambdas/demo-answer) released through a GuardedAlias and
 * served by an API Gateway REST API whose integration targets the alias, never $LATEST.
 */
export class DemoStack extends Stack {
  public readonly answerFunction: lambda.Function;
  public readonly guarded: GuardedAlias;
  public readonly api: apigw.RestApi;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.answerFunction = new lambda.Function(this, 'AnswerFunction', {
      runtime: HANDLER_RUNTIME,
      handler: 'index.handler',
      code: handlerCode('demo-answer'),
      memorySize: 256,
      timeout: Duration.seconds(10),
      description: 'Demo answering service: answers questions from a bundled corpus',
    });
    acknowledgeManagedPolicy(this.answerFunction, 'service-role/AWSLambdaBasicExecutionRole',
      'It only lets the function write CloudWatch Logs; the demo needs nothing else.');

    this.guarded = new GuardedAlias(this, 'Answer', { function: this.answerFunction });

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'Demo answering service behind a GuardedAlias',
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
      },
    });
    acknowledgeManagedPolicy(this.api, 'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      'The policy API Gateway documents for its account-level logging role, needed for the access and execution logs.');
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG3',
      reason: 'The demo API serves a bundled corpus with no user data; a WAF web ACL is left to the deployer.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-APIG4',
      reason: 'The demo answering service is public by design; it reads only its bundled corpus.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions::AwsSolutions-COG4',
      reason: 'The demo answering service is public by design; there are no users to authenticate.',
    });

    const integration = new apigw.LambdaIntegration(this.guarded.alias);
    const validator = new apigw.RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const answer = this.api.root.addResource('answer');
    answer.addMethod('GET', integration, {
      requestParameters: { 'method.request.querystring.q': true },
      requestValidator: validator,
    });
    answer.addMethod('POST', integration, {
      requestModels: {
        'application/json': new apigw.Model(this, 'QuestionModel', {
          restApi: this.api,
          contentType: 'application/json',
          schema: {
            type: apigw.JsonSchemaType.OBJECT,
            required: ['question'],
            properties: { question: { type: apigw.JsonSchemaType.STRING, minLength: 1, maxLength: 2000 } },
          },
        }),
      },
      requestValidator: validator,
    });
  }
}
