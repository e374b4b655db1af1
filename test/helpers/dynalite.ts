import type { AddressInfo } from 'net';
import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

// dynalite has no type declarations; this is the part of its API the tests use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => import('http').Server = require('dynalite');

/** A dynalite server (a real DynamoDB implementation, in memory) on a loopback port. */
export interface LocalDynamo {
  readonly endpoint: string;
  /** A client for this server; `config` overrides the defaults (region, dummy credentials, one attempt). */
  client(config?: DynamoDBClientConfig): DynamoDBClient;
  /** Creates a table shaped like IdempotencyTable's (partition key `id`, string) and returns its name. */
  createTable(name?: string): Promise<string>;
  /** Stops the server and destroys every client it handed out. */
  stop(): Promise<void>;
}

let tableCounter = 0;

/** Starts dynalite on 127.0.0.1, port 0 (the OS picks a free one). Call `stop()` when done. */
export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: DynamoDBClient[] = [];
  const client = (config: DynamoDBClientConfig = {}): DynamoDBClient => {
    const made = new DynamoDBClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
      ...config,
    });
    clients.push(made);
    return made;
  };
  const admin = client();
  return {
    endpoint,
    client,
    async createTable(name = `idempotency-${process.pid}-${++tableCounter}`) {
      await admin.send(new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }));
      return name;
    },
    async stop() {
      for (const made of clients) made.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
