// The stack's rollback-hooks function (index.handler): see handler.ts.
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { createRollbackHooksHandler } from './handler';

export const handler = createRollbackHooksHandler({ codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}) });
