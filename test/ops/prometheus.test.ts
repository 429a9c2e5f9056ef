/**
 * A real Prometheus (Debian's `prometheus`, on 127.0.0.1) scrapes a real
 * service, with the shipped scrape config and alert rules, while clients
 * stream to it; then every dashboard query and every alert expression runs
 * through Prometheus's HTTP API and must return series.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { alertExpressions, type Expression, GRAFANA_DIR, metricsIn, panelExpressions } from '../helpers/grafana.ts';
import { pieces, s16, type Service, startService, TestClient, voiced } from '../helpers/service.ts';
import { freePort, needsTools, tempDir } from '../helpers/tools.ts';

const SCRAPE_SECONDS = 1;
/** What Grafana would put for $__rate_interval at this scrape interval (at least 4 scrapes). */
const RATE_INTERVAL = '10s';

interface Series {
  metric: Record<string, string>;
  value: [number, string];
}

/** The shipped prometheus.yml and alerts.yml, pointed at the test's service and scraping every second. */
function prometheusConfig(dir: string, target: string): string {
  const config = parse(fs.readFileSync(path.join(GRAFANA_DIR, 'prometheus/prometheus.yml'), 'utf8'));
  const job = config.scrape_configs.find((c: { job_name: string }) => c.job_name === 'aer-stream');
  assert.ok(job, 'prometheus.yml no longer has the aer-stream job this test points at the service');
  job.static_configs = [{ targets: [target] }];
  config.global.scrape_interval = config.global.evaluation_interval = `${SCRAPE_SECONDS}s`;
  fs.copyFileSync(path.join(GRAFANA_DIR, 'prometheus/alerts.yml'), path.join(dir, 'alerts.yml'));
  const file = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(file, stringify(config));
  return file;
}

/** Streams real-time-paced sessions of 3.5 s (VAD off: every window goes to the model), one after another, until stopped. */
function streamInLoop(service: Service): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const client = new TestClient(`${service.url}?encoding=pcm_s16le&sample_rate=16000&vad=false`);
      await client.opened;
      for (const chunk of pieces(s16([voiced(3.5)]), 3200)) {
        client.send(chunk);
        await new Promise((r) => setTimeout(r, 100));
      }
      client.control({ type: 'close_stream' });
      await client.closed;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

describe('Prometheus scraping a service under load', { skip: needsTools('prometheus'), timeout: 120_000 }, () => {
  let service: Service;
  let prometheus: ChildProcess;
  let api: string;
  let log = '';
  const load: { stop(): Promise<void> }[] = [];

  async function query(expr: string): Promise<Series[]> {
    const reply = (await (await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {
      status: string;
      error?: string;
      data: { resultType: string; result: Series[] };
    };
    assert.equal(reply.status, 'success', `Prometheus rejected ${expr}: ${reply.error}`);
    return reply.data.result;
  }

  /** What Prometheus says about its last scrape of the service, for a failure message. */
  async function targetHealth(): Promise<string> {
    const reply = (await fetch(`${api}/api/v1/targets`).then(
      (r) => r.json(),
      (e) => ({ error: String(e) }),
    )) as { data?: { activeTargets: { health: string; lastError: string; lastScrapeDuration: number }[] }; error?: string };
    const t = reply.data?.activeTargets[0];
    return t ? `target ${t.health}, last scrape took ${t.lastScrapeDuration} s, last error "${t.lastError}"` : `no target (${reply.error ?? 'none listed'})`;
  }

  before(async () => {
    // As compose runs it: /metrics on its own port.
    service = await startService({ metricsPort: 0 });
    const dir = tempDir();
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    const target = `127.0.0.1:${service.server.address.metricsPort}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${prometheusConfig(dir, target)}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.stderr!.on('data', (d) => (log = (log + String(d)).slice(-4000)));
    for (let i = 0; i < 3; i++) load.push(streamInLoop(service));
    // Enough scrapes under load for rates over RATE_INTERVAL, and at least one session closed.
    const started = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 500));
      const ready = await fetch(`${api}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      const scrapes = ready ? await query('count_over_time(aer_ready[1m])') : [];
      if (scrapes.length > 0 && Number(scrapes[0].value[1]) >= 12) break;
      if (Date.now() - started > 60_000) assert.fail(`Prometheus did not scrape the service 12 times in 60 s; ${await targetHealth()}; its log:\n${log}`);
    }
  });

  after(async () => {
    await Promise.all(load.map((l) => l.stop()));
    prometheus?.kill('SIGTERM');
    await service?.stop();
  });

  test('the scrape target is up, with the job name the alert rules use', async () => {
    const up = await query('up{job="aer-stream"}');
    assert.equal(up.length, 1);
    assert.equal(up[0].value[1], '1');
  });

  test('every dashboard query returns series', async () => {
    const empty: Expression[] = [];
    for (const e of panelExpressions) {
      const expr = e.expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', RATE_INTERVAL).replaceAll('$__range', '1m');
      if ((await query(expr)).length === 0) empty.push(e);
    }
    assert.deepEqual(
      empty.map((e) => `${e.where}: ${e.expr} (metrics ${metricsIn(e.expr).join(', ')})`),
      [],
    );
  });

  test('the instance variable lists the scraped service', async () => {
    const reply = (await (await fetch(`${api}/api/v1/label/instance/values?match[]=aer_ready`)).json()) as { data: string[] };
    assert.deepEqual(reply.data, [`127.0.0.1:${service.server.address.metricsPort}`]);
  });

  test('the latency panels show real figures under load', async () => {
    const [p99] = await query(`histogram_quantile(0.99, sum by (le) (rate(aer_window_latency_seconds_bucket{result="speech"}[${RATE_INTERVAL}])))`);
    assert.ok(Number.isFinite(Number(p99.value[1])) && Number(p99.value[1]) > 0, `p99 latency is ${p99.value[1]}`);
  });

  test('every alert expression returns series (its comparison made a bool), and a healthy service fires no readiness alert', async () => {
    assert.equal(alertExpressions.length, 5);
    for (const { where, expr } of alertExpressions) {
      const asBool = expr.replace(/ (>|<|==|!=|>=|<=) (?=[\d.]+)/g, ' $1 bool ');
      const series = await query(asBool);
      assert.ok(series.length > 0, `${where}: ${asBool} returns no series`);
      if (where === 'alert AerNotReady' || where === 'alert AerBusDegraded')
        assert.ok(
          series.every((s) => s.value[1] === '0'),
          `${where} fires: ${JSON.stringify(series)}`,
        );
    }
  });

  test('Prometheus loaded the alert rules and evaluates them without error', async () => {
    const reply = (await (await fetch(`${api}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const rules = reply.data.groups.flatMap((g) => g.rules);
    assert.deepEqual(rules.map((r) => r.name).sort(), alertExpressions.map((a) => a.where.replace('alert ', '')).sort());
    for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
  });
});
