// A CloudWatch metric-math evaluator for the subset the library's gate alarms use (register CW-3, CW-8): numbers,
// metric IDs, + - * /, comparisons (> >= < <= == !=) giving 1 or 0, AND / OR, IF(condition, then[, else]) and
// FILL(metric, value). A missing value (no datapoint) propagates through arithmetic; FILL replaces it; division by
// zero gives no value; IF without an else gives no value when false.

/** A datapoint's value, or undefined when there is none. */
export type Value = number | undefined;

type Token = { kind: 'num'; value: number } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|([A-Za-z_][\w]*)|(>=|<=|==|!=|[-+*/(),<>]))/y;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new Error(`metric math: cannot read '${text.slice(at, at + 20)}'`);
    at = re.lastIndex;
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]) });
    else if (m[2] !== undefined) tokens.push({ kind: 'id', value: m[2] });
    else tokens.push({ kind: 'op', value: m[3] });
  }
  return tokens;
}

const arith = (a: Value, b: Value, f: (x: number, y: number) => number): Value => (a === undefined || b === undefined ? undefined : f(a, b));

/** Evaluates `expression` with `values` (metric ID → its datapoint); throws on a function or operator it does not know. */
export function evaluate(expression: string, values: Readonly<Record<string, Value>>): Value {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = (value: string) => tokens[i]?.kind !== 'num' && tokens[i]?.value === value;
  const expect = (value: string) => {
    if (!peek(value)) throw new Error(`metric math: expected '${value}' in ${expression}`);
    i++;
  };
  const or = (): Value => {
    let v = and();
    while (peek('OR')) { i++; const r = and(); v = arith(v, r, (x, y) => (x !== 0 || y !== 0 ? 1 : 0)); }
    return v;
  };
  const and = (): Value => {
    let v = compare();
    while (peek('AND')) { i++; const r = compare(); v = arith(v, r, (x, y) => (x !== 0 && y !== 0 ? 1 : 0)); }
    return v;
  };
  const COMPARE: Record<string, (x: number, y: number) => boolean> = {
    '>': (x, y) => x > y, '>=': (x, y) => x >= y, '<': (x, y) => x < y, '<=': (x, y) => x <= y, '==': (x, y) => x === y, '!=': (x, y) => x !== y,
  };
  const compare = (): Value => {
    const v = add();
    const op = tokens[i]?.kind === 'op' ? String(tokens[i].value) : '';
    if (!COMPARE[op]) return v;
    i++;
    return arith(v, add(), (x, y) => (COMPARE[op](x, y) ? 1 : 0));
  };
  const add = (): Value => {
    let v = mul();
    while (peek('+') || peek('-')) { const op = tokens[i++].value; const r = mul(); v = arith(v, r, (x, y) => (op === '+' ? x + y : x - y)); }
    return v;
  };
  const mul = (): Value => {
    let v = unary();
    while (peek('*') || peek('/')) {
      const op = tokens[i++].value;
      const r = unary();
      v = op === '*' ? arith(v, r, (x, y) => x * y) : (r === 0 ? undefined : arith(v, r, (x, y) => x / y));
    }
    return v;
  };
  const unary = (): Value => {
    if (peek('-')) { i++; const v = unary(); return v === undefined ? undefined : -v; }
    return primary();
  };
  const primary = (): Value => {
    const token = tokens[i++];
    if (!token) throw new Error(`metric math: ${expression} ends too soon`);
    if (token.kind === 'num') return token.value;
    if (token.kind === 'op' && token.value === '(') { const v = or(); expect(')'); return v; }
    if (token.kind === 'id' && peek('(')) {
      i++;
      const args: Value[] = peek(')') ? [] : [or()];
      while (peek(',')) { i++; args.push(or()); }
      expect(')');
      if (token.value === 'FILL') return args[0] ?? args[1];
      if (token.value === 'IF') return args[0] === undefined ? undefined : args[0] !== 0 ? args[1] : args[2];
      throw new Error(`metric math: the function ${token.value} is not modelled`);
    }
    if (token.kind === 'id') return values[token.value];
    throw new Error(`metric math: unexpected '${token.value}' in ${expression}`);
  };
  const result = or();
  if (i < tokens.length) throw new Error(`metric math: unexpected '${tokens[i].value}' in ${expression}`);
  return result;
}
