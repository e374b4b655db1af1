import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The runtime of every function the library creates: the newest Node.js runtime that both aws-cdk-lib and
 * cfn-lint accept (cfn-lint flags nodejs20.x as deprecated).
 */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;
