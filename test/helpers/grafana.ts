/** The shipped dashboard's and alert rules' PromQL, read from grafana/, for the tests that check them. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const GRAFANA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../grafana');

export interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}

export interface Expression {
  where: string;
  expr: string;
}

export const dashboard = JSON.parse(fs.readFileSync(path.join(GRAFANA_DIR, 'dashboards/aer-stream.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: { query: { query: string } }[] };
};

const alertsText = fs.readFileSync(path.join(GRAFANA_DIR, 'prometheus/alerts.yml'), 'utf8');

export const panelExpressions: Expression[] = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));

/** `label_values(metric, label)` is Grafana's, not PromQL: the metric is what it reads. */
export const variableExpressions: Expression[] = dashboard.templating.list.map((v) => ({ where: 'variable', expr: v.query.query }));

export const alertExpressions: Expression[] = [...alertsText.matchAll(/- alert: (\S+)\s+expr: (.+)/g)].map((m) => ({ where: `alert ${m[1]}`, expr: m[2] }));

/** Metric names an expression uses: the service's own, the process's and Node's. */
export const metricsIn = (expr: string): string[] => [...expr.matchAll(/\b((?:aer|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]);
