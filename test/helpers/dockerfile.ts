/**
 * Builds a Dockerfile target without Docker: each stage is a folder standing
 * for its filesystem; COPY copies, RUN runs on this machine (Node's image
 * and this one share Node 20 and Debian), and the image's config (ENV, USER,
 * EXPOSE, HEALTHCHECK, CMD) is collected for the test to start. Only the
 * instructions the project's Dockerfile uses are known; any other is an
 * error, so the Dockerfile cannot use a step this runner silently skips.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

export interface ImageConfig {
  /** The folder standing for the image's filesystem root. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  exposed: string[];
  healthcheck?: { options: Record<string, string>; command: string[] };
  command?: string[];
}

export interface Dockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

export function parseDockerfile(text: string): Dockerfile {
  const logical: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (pending === '') start = i + 1;
    pending += line.endsWith('\\') ? `${line.slice(0, -1)} ` : line;
    if (line.endsWith('\\')) return;
    const [keyword, ...rest] = pending.split(/\s+/);
    logical.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: start });
    pending = '';
  });
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of logical) {
    if (ins.keyword === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`Dockerfile line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ name: m[2] ?? String(stages.length), from: m[1].replace(/\$\{(\w+)\}/g, (_, k: string) => args[k] ?? ''), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== 'ARG') throw new Error(`Dockerfile line ${ins.line}: ${ins.keyword} before the first FROM`);
      const [k, v = ''] = ins.args.split('=');
      args[k] = v;
    } else {
      stages.at(-1)!.instructions.push(ins);
    }
  }
  return { args, stages };
}

/** `["a", "b"]` (exec form) or `a b` (shell form, run by sh -c). */
function commandOf(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : ['sh', '-c', args];
}

/**
 * What the context's .dockerignore keeps out, as Docker reads the two forms
 * it uses here: `NAME` (a path from the context's root) and `**\/NAME` (that
 * name anywhere).
 */
function ignoredBy(context: string): (source: string) => boolean {
  const file = path.join(context, '.dockerignore');
  const patterns = fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
    : [];
  return (source) => {
    const relative = path.relative(context, source).split(path.sep);
    return patterns.some((p) => (p.startsWith('**/') ? relative.includes(p.slice(3)) : relative.join('/') === p || relative.join('/').startsWith(`${p}/`)));
  };
}

function copyInto(source: string, destination: string, intoDirectory: boolean, ignored: (source: string) => boolean = () => false): void {
  if (!fs.existsSync(source)) throw new Error(`COPY source ${source} does not exist`);
  if (fs.statSync(source).isDirectory()) fs.cpSync(source, destination, { recursive: true, filter: (s) => !ignored(s) });
  else {
    const target = intoDirectory ? path.join(destination, path.basename(source)) : destination;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.copyFileSync(source, target);
  }
}

/** The files COPY takes from the build context, per stage (to check that they exist without building). */
export function contextSources(file: Dockerfile): { stage: string; source: string }[] {
  return file.stages.flatMap((s) =>
    s.instructions
      .filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .filter((a) => !a.startsWith('--'))
          .slice(0, -1)
          .map((source) => ({ stage: s.name, source })),
      ),
  );
}

/** Builds `target` (and the stages it needs) under `buildDir`, the build context being `context`. */
export function buildTarget(file: Dockerfile, target: string, context: string, buildDir: string, log: (line: string) => void = () => {}): ImageConfig {
  const built = new Map<string, ImageConfig>();
  const build = (name: string): ImageConfig => {
    const done = built.get(name);
    if (done) return done;
    const stage = file.stages.find((s) => s.name === name);
    if (!stage) throw new Error(`no stage ${name}`);
    const root = path.join(buildDir, name);
    const base = file.stages.some((s) => s.name === stage.from) ? build(stage.from) : undefined;
    if (base) fs.cpSync(base.root, root, { recursive: true, verbatimSymlinks: true });
    else fs.mkdirSync(root, { recursive: true });
    const config: ImageConfig = base ? { ...base, root, env: { ...base.env }, exposed: [...base.exposed] } : { root, workdir: '/', env: {}, exposed: [] };
    const inside = (p: string) => path.join(root, path.posix.isAbsolute(p) ? p : path.posix.join(config.workdir, p));
    for (const ins of stage.instructions) {
      const where = `stage ${name}, line ${ins.line}`;
      switch (ins.keyword) {
        case 'WORKDIR':
          config.workdir = path.posix.resolve(config.workdir, ins.args);
          fs.mkdirSync(inside('.'), { recursive: true });
          break;
        case 'COPY': {
          const words = ins.args.split(/\s+/);
          const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
          const paths = words.filter((w) => !w.startsWith('--'));
          const destination = paths.pop()!;
          if (from && !file.stages.some((s) => s.name === from)) throw new Error(`${where}: COPY --from=${from} names no stage`);
          const sourceRoot = from ? build(from).root : context;
          const intoDirectory = destination.endsWith('/') || paths.length > 1;
          for (const p of paths)
            copyInto(from ? path.join(sourceRoot, p) : path.join(context, p), inside(destination), intoDirectory, from ? undefined : ignoredBy(context));
          break;
        }
        case 'RUN':
          log(`[${name}] RUN ${ins.args}`);
          execFileSync('sh', ['-c', ins.args], {
            cwd: inside('.'),
            env: { ...process.env, ...config.env },
            stdio: ['ignore', 'pipe', 'pipe'],
            maxBuffer: 1 << 26,
          });
          break;
        case 'ENV':
          for (const m of ins.args.matchAll(/(\w+)=(\S+)/g)) config.env[m[1]] = m[2];
          break;
        case 'USER':
          config.user = ins.args;
          break;
        case 'EXPOSE':
          config.exposed.push(...ins.args.split(/\s+/));
          break;
        case 'HEALTHCHECK': {
          const m = /^((?:--\S+\s+)*)CMD\s+(.+)$/.exec(ins.args);
          if (!m) throw new Error(`${where}: cannot read HEALTHCHECK ${ins.args}`);
          const options = Object.fromEntries([...m[1].matchAll(/--([\w-]+)=(\S+)/g)].map((o) => [o[1], o[2]]));
          config.healthcheck = { options, command: commandOf(m[2]) };
          break;
        }
        case 'CMD':
          config.command = commandOf(ins.args);
          break;
        default:
          throw new Error(`${where}: ${ins.keyword} is not an instruction this runner knows; teach test/helpers/dockerfile.ts what it means`);
      }
    }
    built.set(name, config);
    return config;
  };
  return build(target);
}
