import { spawn } from 'child_process';
import type { AddressInfo } from 'net';
import { CreateTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

// dynalite has no type declarations; this is the part of its API the tests use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite: (options: Record<string, unknown>) => import('http').Server = require('dynalite');

/** A dynalite server (a real DynamoDB implementation, in memory) on a loopback port. */
export interface LocalDynamo {
  readonly endpoint: string;
  /** The server's process id when it runs in a child process. */
  readonly pid?: number;
  /** A client for this server; `config` overrides the defaults (region, dummy credentials, one attempt). */
  client(config?: DynamoDBClientConfig): DynamoDBClient;
  /** Creates a table shaped like IdempotencyTable's (partition key `id`, string; or `partitionKey`) and returns its name. */
  createTable(name?: string, partitionKey?: string): Promise<string>;
  /** Stops the server and destroys every client it handed out. */
  stop(): Promise<void>;
}

let tableCounter = 0;

/** Starts dynalite in this process on 127.0.0.1, port 0 (the OS picks a free one). Call `stop()` when done. */
export async function startDynalite(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return connect(port, () => {
    server.closeAllConnections?.();
    return new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });
}

// The child exits when its parent goes away (the IPC channel closes), so it cannot outlive a crashed run.
const CHILD_SERVER = `
const server = require('dynalite')({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
process.on('disconnect', () => process.exit(0));
`;

/**
 * Starts dynalite in a child process on 127.0.0.1, port 0, so that the server's work does not share the event
 * loop of the code being measured (as with DynamoDB itself). Used by the benchmark. Call `stop()` when done.
 */
export async function startDynaliteProcess(): Promise<LocalDynamo> {
  const child = spawn(process.execPath, ['-e', CHILD_SERVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: process.cwd() });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve(Number(message)));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite child exited with code ${code} before listening`)));
  });
  return connect(port, () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  }), child.pid);
}

async function connect(port: number, close: () => Promise<void>, pid?: number): Promise<LocalDynamo> {
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
    pid,
    client,
    async createTable(name = `idempotency-${process.pid}-${++tableCounter}`, partitionKey = 'id') {
      await admin.send(new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }));
      return name;
    },
    async stop() {
      for (const made of clients) made.destroy();
      await close();
    },
  };
}
