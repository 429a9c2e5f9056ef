/**
 * docker-compose.yml and deploy/kubernetes/ agree with each other, with the
 * Dockerfile, the Grafana provisioning and the service itself: names,
 * ports, paths, labels, probes, metrics and environment variables. (No
 * Docker engine or cluster here; each wire between them is checked.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { DEFAULT_SERVER_OPTIONS } from '../../src/server/server.ts';
import { parseDockerfile } from '../helpers/dockerfile.ts';
import { dashboard, GRAFANA_DIR } from '../helpers/grafana.ts';
import { metricsAfterSession, type Service, startService } from '../helpers/service.ts';
import { PROJECT_ROOT } from '../helpers/shared.ts';

/** Manifests are untyped YAML, read field by field. */
// biome-ignore lint/suspicious/noExplicitAny: a manifest has no type to give it
type Doc = any;

const read = (file: string): Doc => parse(fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8'));
const compose = read('docker-compose.yml');
const k8sDir = 'deploy/kubernetes';
const kustomization = read(`${k8sDir}/kustomization.yaml`);
const manifests: Doc[] = (kustomization.resources as string[]).flatMap((f) =>
  parseAllDocuments(fs.readFileSync(path.join(PROJECT_ROOT, k8sDir, f), 'utf8')).map((d) => d.toJS()),
);
/** A resource by kind, the service's own unless another name is given. */
const kind = (k: string, name = 'aer-stream'): Doc => {
  const found = manifests.find((m) => m.kind === k && m.metadata?.name === name);
  assert.ok(found, `no ${k} ${name} in ${k8sDir}`);
  return found;
};
const cpuStage = parseDockerfile(fs.readFileSync(path.join(PROJECT_ROOT, 'Dockerfile'), 'utf8')).stages.find((s) => s.name === 'cpu')!;
const imageEnv = Object.fromEntries(
  cpuStage.instructions.filter((i) => i.keyword === 'ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]])),
);
const imagePort = Number(imageEnv.AER_PORT);
/** The environment variables `aer serve` reads. */
const serveVariables = new Set([...fs.readFileSync(path.join(PROJECT_ROOT, 'src/cli/serve.ts'), 'utf8').matchAll(/env\('(AER_[A-Z_]+)'\)/g)].map((m) => m[1]));

describe('docker compose', () => {
  const volumeOf = (service: string, target: string) => {
    const volume = (compose.services[service].volumes as string[]).find((v) => v.split(':')[1] === target);
    assert.ok(volume, `${service} mounts nothing at ${target}`);
    return path.join(PROJECT_ROOT, volume.split(':')[0]);
  };

  test('the service is built from this Dockerfile, and every published port is on 127.0.0.1 and reaches what listens', () => {
    assert.equal(compose.services.aer.build, '.');
    // The metrics port is for Prometheus inside the compose network: not published.
    assert.ok((compose.services.aer.ports as string[]).every((p) => Number(p.split(':')[2]) !== Number(compose.services.aer.environment.AER_METRICS_PORT)));
    const listens: Record<string, number> = { aer: imagePort, prometheus: 9090, grafana: 3000 };
    for (const [name, service] of Object.entries<Doc>(compose.services)) {
      for (const port of (service.ports ?? []) as string[]) {
        const [host, , inside] = port.split(':');
        assert.equal(host, '127.0.0.1', `${name} publishes ${port} on every address`);
        assert.equal(Number(inside), listens[name], `${name} publishes ${port}`);
      }
    }
    for (const variable of Object.keys(compose.services.aer.environment))
      assert.ok(serveVariables.has(variable), `compose sets ${variable}, which aer serve does not read`);
  });

  test("the calls' bus is the compose Redis, by its service name and port, inside the network only", () => {
    const bus = new URL(compose.services.aer.environment.AER_BUS);
    assert.equal(bus.protocol, 'redis:');
    assert.ok(compose.services[bus.hostname], `AER_BUS names ${bus.hostname}, which is not a compose service`);
    assert.equal(Number(bus.port), 6379);
    assert.ok(compose.services[bus.hostname].image.startsWith('redis:'));
    assert.equal(compose.services[bus.hostname].ports, undefined, 'Redis is not published');
    assert.ok((compose.services.aer.depends_on as string[]).includes(bus.hostname));
  });

  test('Prometheus gets the shipped config and rules, and scrapes the compose service by its name and port', () => {
    const dir = volumeOf('prometheus', '/etc/prometheus');
    assert.equal(dir, path.join(GRAFANA_DIR, 'prometheus'));
    const config = parse(fs.readFileSync(path.join(dir, 'prometheus.yml'), 'utf8'));
    for (const rules of config.rule_files as string[]) assert.ok(fs.existsSync(path.join(dir, rules)));
    const metrics = compose.services.aer.environment;
    assert.equal(metrics.AER_METRICS_HOST, '0.0.0.0');
    assert.deepEqual(config.scrape_configs[0].static_configs[0].targets, [`aer:${metrics.AER_METRICS_PORT}`]);
    assert.ok(compose.services.aer);
  });

  test('Grafana gets the provisioning, the dashboards where the provider reads them, and a datasource that reaches Prometheus', () => {
    const provisioning = volumeOf('grafana', '/etc/grafana/provisioning');
    const provider = parse(fs.readFileSync(path.join(provisioning, 'dashboards/aer-stream.yml'), 'utf8')).providers[0];
    const dashboards = volumeOf('grafana', provider.options.path);
    assert.ok(fs.existsSync(path.join(dashboards, 'aer-stream.json')));
    const home = compose.services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    assert.ok(
      fs.existsSync(path.join(dashboards, path.posix.relative(provider.options.path, home))),
      `the home dashboard ${home} is not in the mounted folder`,
    );
    const datasource = parse(fs.readFileSync(path.join(provisioning, 'datasources/prometheus.yml'), 'utf8')).datasources[0];
    assert.equal(datasource.url, 'http://prometheus:9090');
    assert.ok(compose.services.prometheus);
    const uids = new Set([...JSON.stringify(dashboard).matchAll(/"datasource":\{[^}]*"uid":"([^"]+)"/g)].map((m) => m[1]));
    assert.deepEqual([...uids], [datasource.uid], 'the dashboard refers to a datasource the provisioning does not create');
  });
});

describe('Kubernetes manifests', () => {
  let service: Service;
  let exported: string;
  before(async () => {
    service = await startService();
    exported = await metricsAfterSession(service);
  });
  after(() => service.stop());

  const deployment = kind('Deployment');
  const pod = deployment.spec.template;
  const container = pod.spec.containers[0];
  const env = Object.fromEntries((container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));

  test('every file the kustomization lists exists and holds a resource; the adapter rules parse', () => {
    assert.ok(manifests.length >= 6 && manifests.every((m) => m.apiVersion && m.kind && m.metadata?.name));
    assert.ok(read(`${k8sDir}/prometheus-adapter.yaml`).rules.custom.length > 0);
  });

  test('the container listens where its port and probes say, runs as the image user, and reads only variables aer serve knows', async () => {
    assert.equal(Number(env.AER_PORT), container.ports[0].containerPort);
    assert.equal(container.ports[0].containerPort, imagePort);
    assert.equal(env.AER_HOST, '0.0.0.0');
    for (const name of Object.keys(env).concat(['AER_TOKENS']))
      assert.ok(serveVariables.has(name), `the Deployment sets ${name}, which aer serve does not read`);
    // The image's user is Node's `node`, uid 1000.
    assert.equal(pod.spec.securityContext.runAsUser, 1000);
    assert.equal(cpuStage.instructions.find((i) => i.keyword === 'USER')?.args, 'node');
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      const { path: route, port } = container[probe].httpGet;
      assert.equal(port, container.ports[0].name);
      assert.equal((await fetch(`${service.http}${route}`)).status, 200, `${probe} ${route}`);
    }
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
  });

  test("termination grace covers preStop and the service's own shutdown timeout", () => {
    const preStop = Number(container.lifecycle.preStop.exec.command[1]);
    assert.ok(pod.spec.terminationGracePeriodSeconds >= preStop + DEFAULT_SERVER_OPTIONS.shutdownTimeoutMs / 1000 + 5);
  });

  test("the Service selects the pods and the ServiceMonitor selects the Service's metrics port, where the pod serves /metrics", () => {
    const svc = kind('Service');
    const monitor = kind('ServiceMonitor');
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(pod.metadata.labels[k], v);
    assert.equal(svc.spec.ports[0].targetPort, container.ports[0].name);
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(svc.metadata.labels[k], v);
    const scraped = (svc.spec.ports as { name: string; targetPort: string }[]).find((p) => p.name === monitor.spec.endpoints[0].port);
    assert.ok(scraped, 'the ServiceMonitor scrapes a port the Service does not have');
    const metricsPort = (container.ports as { name: string; containerPort: number }[]).find((p) => p.name === scraped.targetPort);
    assert.equal(metricsPort?.containerPort, Number(env.AER_METRICS_PORT));
    assert.equal(env.AER_METRICS_HOST, '0.0.0.0');
    assert.equal(monitor.spec.endpoints[0].path, '/metrics');
    for (const [k, v] of Object.entries(kind('PodDisruptionBudget').spec.selector.matchLabels)) assert.equal(pod.metadata.labels[k], v);
  });

  test("the calls' bus is the Redis Service, whose port reaches the Redis pod", () => {
    const bus = new URL(String(env.AER_BUS));
    const svc = kind('Service', bus.hostname);
    const redis = kind('Deployment', bus.hostname);
    assert.equal(svc.spec.ports[0].port, Number(bus.port));
    for (const [k, v] of Object.entries(svc.spec.selector)) assert.equal(redis.spec.template.metadata.labels[k], v);
    const port = (redis.spec.template.spec.containers[0].ports as { name: string; containerPort: number }[]).find(
      (p) => p.name === svc.spec.ports[0].targetPort,
    );
    assert.equal(port?.containerPort, 6379);
  });

  test('the autoscaler targets the Deployment on metrics the service exports and the adapter serves, below the session limit', () => {
    const hpa = kind('HorizontalPodAutoscaler');
    assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
    const adapted = (read(`${k8sDir}/prometheus-adapter.yaml`).rules.custom as { name: { as: string }; seriesQuery: string }[]).map((r) => r.name.as);
    for (const metric of hpa.spec.metrics as { pods: { metric: { name: string }; target: { averageValue: string } } }[]) {
      const name = metric.pods.metric.name;
      assert.match(exported, new RegExp(`^${name}[ {]`, 'm'), `the HPA scales on ${name}, which /metrics does not export`);
      assert.ok(adapted.includes(name), `no adapter rule serves ${name}`);
    }
    const sessions = hpa.spec.metrics.find((m: Doc) => m.pods.metric.name === 'aer_active_sessions');
    assert.ok(Number(sessions.pods.target.averageValue) < Number(env.AER_MAX_SESSIONS), 'pods would refuse streams before the autoscaler adds any');
  });
});
