/**
 * Assemble the project's hand-written WebAssembly kernels (every .wat under a kernels/ folder in src)
 * into the .wasm files committed beside them. Run after editing a .wat:
 *   node --import tsx scripts/build-wasm.ts
 * test/audio/kernels.test.ts fails when a .wasm does not match its .wat.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function assemble(watFile: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(path.basename(watFile), fs.readFileSync(watFile, 'utf8'), { simd: true });
  try {
    module.validate();
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

export function kernelSources(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.wat') && path.basename(dir) === 'kernels') found.push(full);
    }
  };
  walk(path.join(root, 'src'));
  return found.sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const wat of kernelSources()) {
    const out = wat.replace(/\.wat$/, '.wasm');
    fs.writeFileSync(out, await assemble(wat));
    process.stdout.write(`${path.relative(root, wat)} -> ${path.relative(root, out)}\n`);
  }
}
