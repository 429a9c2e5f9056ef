import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { alawToFloat, floatToAlaw, floatToMulaw, mulawToFloat } from '../../src/audio/g711.ts';
import { needsTools, run, tempDir } from '../helpers/tools.ts';

/** Every 16-bit value, as the float the encoders take. */
const ALL = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const ALL_FLOAT = Float32Array.from(ALL, (v) => v / 32768);

const laws = [
  { name: 'mu-law', sox: 'mu-law', encode: floatToMulaw, expand: mulawToFloat },
  { name: 'A-law', sox: 'a-law', encode: floatToAlaw, expand: alawToFloat },
] as const;

describe('G.711 compressors', () => {
  for (const law of laws) {
    test(`${law.name}: every code word's value encodes back to itself`, () => {
      const codes = law.encode(law.expand);
      for (let b = 0; b < 256; b++) {
        // mu-law has two zeros (0x7f, 0xff): both expand to 0, which encodes as 0xff.
        const expected = law.name === 'mu-law' && b === 0x7f ? 0xff : b;
        assert.equal(codes[b], expected, `code 0x${b.toString(16)}`);
      }
    });

    test(`${law.name}: each sample is coded as the nearest level below it in magnitude, monotonically`, () => {
      const decoded = Float32Array.from(law.encode(ALL_FLOAT), (b) => law.expand[b]);
      for (let i = 1; i < decoded.length; i++) assert.ok(decoded[i] >= decoded[i - 1], `not monotonic at ${ALL[i]}`);
      // G.711's largest step, in 16-bit units, is 1024.
      for (let i = 0; i < decoded.length; i++) assert.ok(Math.abs(decoded[i] * 32768 - ALL[i]) <= 1024, `${ALL[i]} decoded as ${decoded[i] * 32768}`);
    });

    test(`${law.name}: the bytes sox writes for every 16-bit value, but at step edges (sox rounds where G.711's reference truncates)`, {
      skip: needsTools('sox'),
    }, () => {
      const input = path.join(tempDir(), 'all.raw');
      fs.writeFileSync(input, new Uint8Array(ALL.buffer));
      const sox = run('sox', ['-D', '-t', 'raw', '-r', '8000', '-e', 'signed', '-b', '16', '-c', '1', input, '-t', 'raw', '-e', law.sox, '-b', '8', '-']);
      const ours = law.encode(ALL_FLOAT);
      const levels = [...new Set(law.expand)];
      let differ = 0;
      for (let i = 0; i < ours.length; i++) {
        if (ours[i] === sox[i]) continue;
        differ++;
        // Neighbouring levels, the sample between them.
        const [low, high] = [law.expand[ours[i]], law.expand[sox[i]]].sort((a, b) => a - b);
        const between = levels.filter((v) => v > low && v < high).length;
        assert.ok(
          between === 0 && low * 32768 <= ALL[i] + 8 && ALL[i] - 8 <= high * 32768,
          `${ALL[i]}: 0x${ours[i].toString(16)} here, 0x${sox[i].toString(16)} from sox`,
        );
      }
      assert.ok(differ / ours.length < 0.02, `${differ} of ${ours.length} values coded differently`);
    });
  }
});
