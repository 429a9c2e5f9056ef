import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alertExpressions, dashboard, GRAFANA_DIR, metricsIn, panelExpressions, variableExpressions } from '../helpers/grafana.ts';
import { metricsAfterSession, type Service, startService } from '../helpers/service.ts';
import { needsTools, run } from '../helpers/tools.ts';

const expressions = [...panelExpressions, ...variableExpressions, ...alertExpressions];

describe('Grafana dashboard and Prometheus rules', () => {
  let service: Service;
  let exported: Set<string>;
  before(async () => {
    service = await startService();
    // After one session, so that labelled series exist.
    const text = await metricsAfterSession(service);
    exported = new Set([...text.matchAll(/^([a-z_0-9]+)(?:\{| )/gm)].map((m) => m[1]));
  });
  after(() => service.stop());

  test('every panel has a query, and the dashboard covers what operators watch', () => {
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    assert.ok(graphs.every((p) => (p.targets ?? []).length > 0));
    const all = expressions.map((e) => e.expr).join('\n');
    for (const metric of [
      'aer_window_latency_seconds_bucket',
      'aer_inference_seconds_bucket',
      'aer_queue_wait_seconds_bucket',
      'aer_queue_depth',
      'aer_batch_size_bucket',
      'aer_windows_total',
      'aer_windows_shed_total',
      'aer_active_sessions',
      'aer_decode_errors_total',
      'aer_sessions_closed_total',
      'aer_emotion_labels_total',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
    ]) {
      assert.ok(all.includes(metric), `no panel shows ${metric}`);
    }
  });

  test('every metric a panel, variable or alert uses is one the service exports', () => {
    for (const { where, expr } of expressions) {
      const names = metricsIn(expr);
      assert.ok(names.length > 0 || /\bup\b/.test(expr), `${where}: no metric in ${expr}`);
      for (const name of names) assert.ok(exported.has(name), `${where} uses ${name}, which /metrics does not export`);
    }
  });

  test('promtool accepts the scrape config and the alert rules', { skip: needsTools('promtool') }, () => {
    assert.match(run('promtool', ['check', 'config', path.join(GRAFANA_DIR, 'prometheus/prometheus.yml')]).toString(), /SUCCESS/);
    const rules = (fs.readFileSync(path.join(GRAFANA_DIR, 'prometheus/alerts.yml'), 'utf8').match(/^\s+- alert: /gm) ?? []).length;
    assert.ok(rules >= 5);
    assert.match(run('promtool', ['check', 'rules', path.join(GRAFANA_DIR, 'prometheus/alerts.yml')]).toString(), new RegExp(`SUCCESS: ${rules} rules found`));
  });
});
