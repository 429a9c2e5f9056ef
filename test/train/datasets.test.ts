import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { writeWav } from '../../src/audio/wav-write.ts';
import { isAerError } from '../../src/errors.ts';
import { prepareData } from '../../src/train/data.ts';
import { scanDataset, scanDatasets, speakerGenders } from '../../src/train/datasets/scan.ts';
import { clipWav, emodbTree, writeTree } from '../helpers/datasets.ts';
import { tempDir } from '../helpers/tools.ts';

const wav = clipWav('angry', 0.6);
const summary = (clips: { path: string; label: string; speaker: string }[]) => clips.map((c) => `${path.basename(c.path)} ${c.label} ${c.speaker}`);

describe('dataset loaders', () => {
  it('read EmoDB names: labels, speakers, boredom skipped, genders', async () => {
    const root = writeTree(tempDir(), { '03a01Wa.wav': wav, '16b10Tb.wav': wav, '08a02Lc.wav': wav, '10a05Nb.wav': wav, 'notes.txt': 'x' });
    const scan = await scanDataset(root);
    assert.equal(scan.corpus, 'emodb');
    assert.deepEqual(summary(scan.clips), ['03a01Wa.wav angry emodb:03', '10a05Nb.wav neutral emodb:10', '16b10Tb.wav sad emodb:16']);
    assert.deepEqual(scan.skipped, { 'not an audio file (.wav, .opus, .ogg)': 1, 'boredom (not one of the six labels)': 1 });
    assert.deepEqual(speakerGenders(scan.clips), { 'emodb:03': 'm', 'emodb:10': 'm', 'emodb:16': 'f' });
  });

  it('follow symbolic links to clips and folders, each folder read once', async () => {
    const store = writeTree(tempDir(), { 'a/03a01Wa.wav': wav, 'b/10a05Nb.wav': wav });
    const root = tempDir();
    fs.symlinkSync(path.join(store, 'a/03a01Wa.wav'), path.join(root, '03a01Wa.wav'));
    fs.symlinkSync(path.join(store, 'b'), path.join(root, 'b'));
    fs.symlinkSync(root, path.join(root, 'loop'));
    const scan = await scanDataset(root);
    assert.deepEqual(summary(scan.clips), ['03a01Wa.wav angry emodb:03', '10a05Nb.wav neutral emodb:10']);
  });

  it('read CREMA-D names', async () => {
    const root = writeTree(tempDir(), { '1001_DFA_ANG_XX.wav': wav, '1002_IEO_HAP_HI.wav': wav, '1003_ITS_FEA_LO.wav': wav, '1004_TIE_XYZ_MD.wav': wav });
    const scan = await scanDataset(root);
    assert.equal(scan.corpus, 'cremad');
    assert.deepEqual(summary(scan.clips), [
      '1001_DFA_ANG_XX.wav angry cremad:1001',
      '1002_IEO_HAP_HI.wav happy cremad:1002',
      '1003_ITS_FEA_LO.wav fear cremad:1003',
    ]);
    assert.deepEqual(scan.skipped, { 'unknown CREMA-D emotion code XYZ': 1 });
  });

  it('read TESS names, in speaker folders too, skipping pleasant surprise', async () => {
    const root = writeTree(tempDir(), {
      'OAF_angry/OAF_back_angry.wav': wav,
      'YAF_sad/YAF_dog_sad.wav': wav,
      'OAF_ps/OAF_back_ps.wav': wav,
      'YAF_disgust/YAF_bar_disgust.wav': wav,
    });
    const scan = await scanDataset(root, 'tess');
    assert.deepEqual(summary(scan.clips), ['OAF_back_angry.wav angry tess:OAF', 'YAF_bar_disgust.wav disgust tess:YAF', 'YAF_dog_sad.wav sad tess:YAF']);
    assert.deepEqual(scan.skipped, { 'pleasant surprise (not one of the six labels)': 1 });
  });

  it('read RAVDESS names: speech only, calm and surprise skipped, actor genders', async () => {
    const root = writeTree(tempDir(), {
      'Actor_12/03-01-05-01-01-01-12.wav': wav,
      'Actor_07/03-01-07-02-02-01-07.wav': wav,
      'Actor_07/03-01-02-01-01-01-07.wav': wav,
      'Actor_07/03-02-05-01-01-01-07.wav': wav,
      'Actor_07/01-01-05-01-01-01-07.wav': wav,
    });
    const scan = await scanDataset(root);
    assert.equal(scan.corpus, 'ravdess');
    assert.deepEqual(summary(scan.clips), ['03-01-07-02-02-01-07.wav disgust ravdess:07', '03-01-05-01-01-01-12.wav angry ravdess:12']);
    assert.deepEqual(scan.skipped, {
      'calm (not one of the six labels)': 1,
      'RAVDESS song (only speech is used)': 1,
      'RAVDESS video modality (only audio-only files are used)': 1,
    });
    assert.deepEqual(speakerGenders(scan.clips), { 'ravdess:07': 'm', 'ravdess:12': 'f' });
  });

  it('read one folder per label, with speaker folders and synonyms', async () => {
    const root = writeTree(tempDir(), { 'angry/anna/1.wav': wav, 'Sadness/2.wav': wav, 'surprised/3.wav': wav, 'loose.wav': wav });
    const scan = await scanDataset(root);
    assert.equal(scan.corpus, 'folders');
    assert.deepEqual(summary(scan.clips), ['1.wav angry folders:anna', '2.wav sad folders:unknown']);
    assert.deepEqual(scan.skipped, { 'file outside a label folder': 1, 'folder surprised is not one of the six labels': 1 });
  });

  it('combine several folders, each named or detected', async () => {
    const a = writeTree(tempDir(), { '03a01Wa.wav': wav });
    const b = writeTree(tempDir(), { 'x/OAF_back_angry.wav': wav });
    const scans = await scanDatasets([a, `tess=${b}`]);
    assert.deepEqual(
      scans.map((s) => s.corpus),
      ['emodb', 'tess'],
    );
  });

  it('explain bad folders: missing, a file, empty, unrecognisable, nothing usable, unknown name', async () => {
    const empty = tempDir();
    const expectError = async (promise: Promise<unknown>, code: string, pattern: RegExp) => {
      await assert.rejects(promise, (e: unknown) => isAerError(e) && e.code === code && pattern.test(e.message + (e.hint ?? '')));
    };
    await expectError(scanDataset(path.join(empty, 'nope')), 'io_error', /does not exist/);
    const file = writeTree(tempDir(), { 'a.wav': wav });
    await expectError(scanDataset(path.join(file, 'a.wav')), 'invalid_dataset', /is a file/);
    await expectError(scanDataset(empty), 'invalid_dataset', /no audio files/);
    await expectError(scanDataset(writeTree(tempDir(), { 'foo.wav': wav, 'bar.wav': wav })), 'invalid_dataset', /cannot tell which corpus.*--dataset/);
    await expectError(scanDataset(writeTree(tempDir(), { '03a01La.wav': wav })), 'invalid_dataset', /no usable clips.*boredom/);
    await expectError(scanDatasets([`nosuch=${empty}`]), 'invalid_argument', /unknown dataset "nosuch"/);
    await expectError(scanDatasets([]), 'invalid_argument', /no dataset given/);
  });
});

describe('clip loading', () => {
  it('skips and counts unreadable, short and silent clips, and caches the rest', async () => {
    const root = emodbTree(tempDir(), ['03'], 1);
    writeTree(root, {
      '03a09Wb.wav': 'not a wav file',
      '03a09Fb.wav': clipWav('happy', 0.3),
      '03a09Tb.wav': writeWav({ sampleRate: 16000, channels: [new Float32Array(16000)] }),
    });
    const cacheDir = tempDir();
    const first = await prepareData([root], undefined, { cacheDir });
    assert.equal(first.clips.length, 6);
    assert.equal(first.cached, 0);
    const reasons = Object.keys(first.skipped).join('\n');
    assert.match(reasons, /shorter than 0\.5 s/);
    assert.match(reasons, /silent/);
    assert.equal(
      Object.values(first.skipped).reduce((a, b) => a + b, 0),
      3,
      reasons,
    );
    const second = await prepareData([root], undefined, { cacheDir });
    assert.equal(second.cached, 6);
    assert.deepEqual(
      second.clips.map((c) => c.features.slice(0, 50)),
      first.clips.map((c) => c.features.slice(0, 50)),
    );
  });
});
