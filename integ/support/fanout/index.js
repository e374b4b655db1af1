// The integ suite's duplicate-POST client: sends `copies` POSTs with the same Idempotency-Key and body at once to
// `url`, waits, sends one more, and answers what came back: how many of each status, how many distinct `runId`s the
// 2xx answers carried (the body's run id: 1 means every answer came from one run of the body), and whether the late
// duplicate got the first run's answer. The side effects themselves are counted by the assertions, in the table.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(url, key, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key }, body });
  const text = await response.text();
  let runId;
  try { runId = JSON.parse(text).runId; } catch { /* not JSON */ }
  return { status: response.status, runId };
}

exports.handler = async ({ url, key, copies = 10, settleMs = 5000 }) => {
  const body = JSON.stringify({ order: key, amount: 42 });
  const first = await Promise.all(Array.from({ length: copies }, () => post(url, key, body).catch(() => ({ status: 0 }))));
  await sleep(settleMs);
  const late = await post(url, key, body).catch(() => ({ status: 0 }));
  const statuses = {};
  for (const r of first) statuses[r.status] = (statuses[r.status] || 0) + 1;
  const runIds = [...new Set(first.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.runId))];
  return {
    sent: copies,
    statuses,
    unexpected: first.filter((r) => r.status !== 200 && r.status !== 409).length,
    distinctRunIds: runIds.length,
    late: { status: late.status, sameRunId: runIds.length === 1 && late.runId === runIds[0] },
  };
};
