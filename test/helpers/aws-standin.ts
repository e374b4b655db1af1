// A local HTTP stand-in for the AWS APIs the library's hooks call, on 127.0.0.1 at a random port, so that a
// bundled hook runs as deployed (real SDK clients, real request handler, real retries and timeouts) with
// AWS_ENDPOINT_URL pointing here. It speaks just enough of four protocols:
// - JSON 1.0/1.1 RPC (`X-Amz-Target: <prefix>.<Operation>`): CodeDeploy (`CodeDeploy_20141006`), Step
//   Functions (`AWSStepFunctions`), CloudWatch (`GraniteServiceVersion20100801`);
// - Lambda's REST JSON: GetAlias (GET /2015-03-31/functions/{name}/aliases/{alias}) and Invoke
//   (POST /2015-03-31/functions/{name}/invocations);
// - the Query protocol (a form-encoded `Action=...&Version=...`, answered in XML) of SNS (Publish), CloudFormation
//   (`Version=2010-05-15`: DescribeStackResource) and STS (`Version=2011-06-15`: GetCallerIdentity); a responder's
//   answer (nested objects) becomes the `<Action>Result>` element.
// DynamoDB is not stood in for: point AWS_ENDPOINT_URL_DYNAMODB at dynalite (test/helpers/dynalite.ts).
// Each operation answers with a responder (a default one for each operation the hooks use) and behaves as
// told, call by call: ok, slow(ms), hang (never answers), 5xx, throttle (400 ThrottlingException) or a named
// error. Every call is recorded.
import * as http from 'http';
import { AddressInfo, Socket } from 'net';

/** How the stand-in answers one call of an operation. */
export type Behaviour =
  | 'ok'
  /** Never answers (the socket stays open until the client gives up or the stand-in closes). */
  | 'hang'
  /** 500 InternalFailure, which the SDK retries. */
  | '5xx'
  /** 400 ThrottlingException, which the SDK retries with its throttling back-off. */
  | 'throttle'
  /** Sends 200 and its headers, then never the body (what a request timeout on the headers does not catch). */
  | 'stall'
  /** Answers like 'ok' after `slow` milliseconds. */
  | { readonly slow: number }
  /** An error of this name (e.g. LifecycleEventAlreadyCompletedException), 400 unless told. */
  | { readonly error: string; readonly status?: number; readonly message?: string };

/** One call the stand-in received. */
export interface RecordedCall {
  readonly service: 'codedeploy' | 'sfn' | 'cloudwatch' | 'lambda' | QueryService | 'unknown';
  readonly operation: string;
  /** The request's JSON body (for Invoke: FunctionName, Qualifier and the payload as text). */
  readonly input: any;
  /** Date.now() when the request arrived. */
  readonly at: number;
  /** What it did: 'ok', 'hang', 'stall', '5xx', 'throttle', 'slow', or the error's name. */
  readonly answered: string;
}

/** What an Invoke responder returns. */
export interface InvokeAnswer {
  readonly payload: unknown;
  readonly functionError?: string;
  /** The log tail, as text (the stand-in base64-encodes it). */
  readonly logTail?: string;
}

/** Makes the answer of an 'ok' call from its input. */
export type Responder = (input: any) => unknown | Promise<unknown>;

/** The services the stand-in answers in the Query protocol, and their XML namespaces. */
type QueryService = 'sns' | 'cloudformation' | 'sts';
const QUERY_SERVICES: Record<string, { service: QueryService; xmlns: string }> = {
  '2010-03-31': { service: 'sns', xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/' },
  '2010-05-15': { service: 'cloudformation', xmlns: 'http://cloudformation.amazonaws.com/doc/2010-05-15/' },
  '2011-06-15': { service: 'sts', xmlns: 'https://sts.amazonaws.com/doc/2011-06-15/' },
};
const isQuery = (service: RecordedCall['service']): service is QueryService => Object.values(QUERY_SERVICES).some((q) => q.service === service);

const JSON_SERVICES: Record<string, RecordedCall['service']> = {
  CodeDeploy_20141006: 'codedeploy',
  AWSStepFunctions: 'sfn',
  GraniteServiceVersion20100801: 'cloudwatch',
};

/** The stand-in. `await AwsStandIn.start()`, then point the SDK at `url`; `close()` when done. */
export class AwsStandIn {
  /** Starts a stand-in on 127.0.0.1 at a port the system picks. */
  static async start(): Promise<AwsStandIn> {
    const standIn = new AwsStandIn();
    await new Promise<void>((resolve, reject) => {
      standIn.server.once('error', reject);
      standIn.server.listen(0, '127.0.0.1', () => resolve());
    });
    return standIn;
  }

  /** Every call received, in order. */
  readonly calls: RecordedCall[] = [];
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private responders = new Map<string, Responder>();
  private behaviours = new Map<string, Behaviour[]>();

  private constructor() {
    this.server = http.createServer((req, res) => { void this.handle(req, res); });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** The endpoint, for AWS_ENDPOINT_URL. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Answers `operation` with `responder` when it behaves 'ok'. */
  on(operation: string, responder: Responder): this {
    this.responders.set(operation, responder);
    return this;
  }

  /** The behaviours of the next calls of `operation`, one per call; the last one stays for the calls after. */
  behave(operation: string, ...behaviours: Behaviour[]): this {
    this.behaviours.set(operation, [...behaviours]);
    return this;
  }

  /** Forgets the calls, the responders and the behaviours. */
  reset(): void {
    this.calls.length = 0;
    this.responders = new Map();
    this.behaviours = new Map();
  }

  /** The calls of one operation. */
  callsOf(operation: string): RecordedCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  /** Stops listening and destroys every open socket (hanging calls included). */
  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private nextBehaviour(operation: string): Behaviour {
    const queue = this.behaviours.get(operation);
    if (!queue || queue.length === 0) return 'ok';
    return queue.length > 1 ? queue.shift()! : queue[0];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const route = this.route(req, body);
    const behaviour = this.nextBehaviour(route.operation);
    const answered = typeof behaviour === 'string' ? behaviour : 'slow' in behaviour ? 'slow' : behaviour.error;
    this.calls.push({ service: route.service, operation: route.operation, input: route.input, at: Date.now(), answered });
    if (behaviour === 'hang') return;
    if (behaviour === 'stall') {
      res.writeHead(200, { 'content-type': route.contentType });
      res.write('{');
      return;
    }
    if (behaviour === '5xx') return this.error(res, route, 500, 'InternalFailure', 'the stand-in failed on purpose');
    if (behaviour === 'throttle') return this.error(res, route, 400, 'ThrottlingException', 'Rate exceeded');
    if (typeof behaviour === 'object' && 'error' in behaviour) return this.error(res, route, behaviour.status ?? 400, behaviour.error, behaviour.message ?? behaviour.error);
    if (typeof behaviour === 'object' && 'slow' in behaviour) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.timers.delete(timer); resolve(); }, behaviour.slow);
        this.timers.add(timer);
      });
      if (res.destroyed) return;
    }
    const responder = this.responders.get(route.operation) ?? DEFAULT_RESPONDERS[route.operation];
    if (!responder) return this.error(res, route, 400, 'UnknownOperationException', `the stand-in does not serve ${route.service} ${route.operation}`);
    let output: unknown;
    try {
      output = await responder(route.input);
    } catch (error) {
      return this.error(res, route, 400, (error as Error).name || 'StandInError', (error as Error).message);
    }
    if (res.destroyed) return;
    if (route.operation === 'Invoke') {
      const answer = output as InvokeAnswer;
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': String(route.input.Qualifier ?? '$LATEST') };
      if (answer.functionError) headers['x-amz-function-error'] = answer.functionError;
      if (answer.logTail !== undefined) headers['x-amz-log-result'] = Buffer.from(answer.logTail).toString('base64');
      res.writeHead(200, headers);
      res.end(JSON.stringify(answer.payload));
      return;
    }
    if (isQuery(route.service)) {
      const { xmlns } = Object.values(QUERY_SERVICES).find((q) => q.service === route.service)!;
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(`<${route.operation}Response xmlns="${xmlns}"><${route.operation}Result>${toXml(output)}</${route.operation}Result>`
        + `<ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></${route.operation}Response>`);
      return;
    }
    res.writeHead(200, { 'content-type': route.contentType });
    res.end(JSON.stringify(output ?? {}));
  }

  private route(req: http.IncomingMessage, body: string): { service: RecordedCall['service']; operation: string; input: any; contentType: string } {
    const target = req.headers['x-amz-target'];
    if (typeof target === 'string') {
      const [prefix, operation] = target.split('.');
      return { service: JSON_SERVICES[prefix] ?? 'unknown', operation, input: parseJson(body), contentType: String(req.headers['content-type'] ?? 'application/x-amz-json-1.1') };
    }
    if (String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      const form = Object.fromEntries(new URLSearchParams(body));
      return { service: QUERY_SERVICES[form.Version]?.service ?? 'sns', operation: form.Action ?? 'unknown', input: form, contentType: 'text/xml' };
    }
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const alias = /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && alias) {
      return { service: 'lambda', operation: 'GetAlias', input: { FunctionName: decodeURIComponent(alias[1]), Name: decodeURIComponent(alias[2]) }, contentType: 'application/json' };
    }
    const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (req.method === 'POST' && invoke) {
      return {
        service: 'lambda', operation: 'Invoke', contentType: 'application/json',
        input: { FunctionName: decodeURIComponent(invoke[1]), Qualifier: url.searchParams.get('Qualifier') ?? undefined, Payload: body, LogType: req.headers['x-amz-log-type'] },
      };
    }
    return { service: 'unknown', operation: `${req.method} ${url.pathname}`, input: body, contentType: 'application/json' };
  }

  private error(res: http.ServerResponse, route: { service: RecordedCall['service']; contentType: string }, status: number, name: string, message: string): void {
    if (res.destroyed) return;
    if (isQuery(route.service)) {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(`<ErrorResponse><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xml(name)}</Code><Message>${xml(message)}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`);
      return;
    }
    const json = route.service === 'lambda' || route.service === 'unknown';
    res.writeHead(status, { 'content-type': json ? 'application/json' : route.contentType, 'x-amzn-errortype': name });
    res.end(JSON.stringify({ __type: name, message, Message: message }));
  }
}

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A responder's answer as the Query protocol's XML: an object's entries as elements, nested; a Date as ISO 8601 text. */
function toXml(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'object') return xml(String(value));
  return Object.entries(value as Record<string, unknown>).map(([k, v]) => `<${k}>${toXml(v)}</${k}>`).join('');
}

function parseJson(text: string): any {
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Plain answers for the operations the hooks (and the CLI's abort) call, so that a scenario sets only what it is about. */
const DEFAULT_RESPONDERS: Record<string, Responder> = {
  PutLifecycleEventHookExecutionStatus: (input) => ({ lifecycleEventHookExecutionId: input.lifecycleEventHookExecutionId }),
  // The CLI's abort of a non-staged alias; Pending is one of the two answers the API reference describes.
  StopDeployment: () => ({ status: 'Pending', statusMessage: 'stand-in: stopping' }),
  StartExecution: (input) => ({ executionArn: `${String(input.stateMachineArn).replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: Date.now() / 1000 }),
  PutMetricData: () => ({}),
  Publish: () => ({ MessageId: 'stand-in-message' }),
  GetCallerIdentity: () => ({ Arn: 'arn:aws:sts::123456789012:assumed-role/Operator/stand-in', UserId: 'AROASTANDIN:stand-in', Account: '123456789012' }),
};
