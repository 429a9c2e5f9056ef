import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { aer, aerInterrupted } from '../helpers/cli.ts';
import { clipWav, emodbTree, writeTree } from '../helpers/datasets.ts';
import { tempDir } from '../helpers/tools.ts';

// A narrow network on 48 one-second clips from four speakers: every command end to end in seconds.
const data = emodbTree(tempDir(), ['03', '08', '10', '09'], 2);
writeTree(data, { '03a09La.wav': clipWav('neutral') });
const cache = tempDir();
const work = tempDir();
const small = ['--data', data, '--cache', cache, '--batch-size', '16', '--lstm-units', '8', '--attention-units', '8', '--learning-rate', '1e-3'];
const model = path.join(work, 'model');
const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

describe('aer train, eval, baselines, crossval, ablation', () => {
  test('train writes a model directory with its metadata, history, curves, confusion matrix and report', () => {
    // Mel bands from 100 Hz: the later tests then evaluate a model whose recipe's fmin is not the front end's default.
    const run = aer('train', ...small, '--epochs', '2', '--window-input', 'spans', '--mel-fmin', '100', '--out', model, '--json');
    assert.equal(run.status, 0, run.stderr);
    const result = json(run.stdout);
    assert.equal(result.ended, 'epochs');
    assert.equal(result.epochs_run, 2);
    for (const f of ['model.json', 'weights.bin', 'aer.json', 'history.json', 'curves.svg', 'confusion.svg', 'report.md'])
      assert.ok(fs.existsSync(path.join(model, f)), f);
    const meta = json(fs.readFileSync(path.join(model, 'aer.json'), 'utf8'));
    assert.deepEqual(meta.labels, ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad']);
    assert.equal(meta.window_input, 'spans');
    assert.equal((meta.feature_recipe as { fmin: number }).fmin, 100);
    const training = meta.training as { split: { kind: string; validation: { speakers: string[] } }; skipped: Record<string, number> };
    assert.equal(training.split.kind, 'speaker');
    assert.equal(training.split.validation.speakers.length, 1);
    assert.deepEqual(training.skipped, { 'boredom (not one of the six labels)': 1 });
    assert.match(run.stderr, /epoch 2\/2 .*val_acc/);
  });

  test('eval --json gives the documented keys; --report writes the matrix and a report', () => {
    const report = path.join(work, 'report');
    // Two clips of a speaker and emotion are too little for continuous speech: reported, and the other conditions still measured.
    const run = aer('eval', '--model', model, '--data', data, '--cache', cache, '--json', '--report', report, '--conditions', 'clean,continuous,telephone');
    assert.equal(run.status, 0, run.stderr);
    const result = json(run.stdout);
    for (const key of ['accuracy', 'macro_precision', 'macro_recall', 'macro_f1', 'per_class', 'confusion', 'labels', 'n', 'skipped'])
      assert.ok(key in result, key);
    assert.equal(result.n, 48);
    assert.equal(result.skipped, 1);
    assert.deepEqual(Object.keys((result.per_class as Record<string, object>).sad), ['precision', 'recall', 'f1', 'support']);
    assert.equal(
      (result.confusion as number[][]).flat().reduce((a, b) => a + b, 0),
      48,
    );
    const conditions = result.conditions as Record<string, { accuracy: number; n: number }>;
    assert.deepEqual(Object.keys(conditions), ['clean', 'telephone_mulaw', 'telephone_alaw']);
    assert.equal(conditions.clean.accuracy, result.accuracy);
    assert.equal(conditions.telephone_alaw.n, 48);
    assert.match((result.failed_conditions as Record<string, string>).continuous, /continuous needs 3 s of one speaker in one emotion/);
    // Three of the four speakers trained the model (the fourth was its early-stopping speaker).
    const trained = result.trained_speakers as { clips: number; speakers: string[] };
    assert.equal(trained.clips, 36);
    assert.equal(trained.speakers.length, 3);
    assert.ok(fs.readFileSync(path.join(report, 'confusion.svg'), 'utf8').startsWith('<svg'));
    const reportText = fs.readFileSync(path.join(report, 'report.md'), 'utf8');
    assert.match(reportText, /\| class \| precision \| recall \| F1 \| support \|/);
    assert.match(reportText, /Note: 36 of 48 clips are from speakers the model was trained on/);
    assert.match(reportText, /\| telephone_mulaw \| [\d.]+ % \|/);
    assert.match(reportText, /\| continuous \| \| \| \| not measured: continuous needs 3 s/);
    const text = aer('eval', '--model', model, '--data', data, '--cache', cache, '--conditions', 'clean');
    assert.match(text.stdout, /accuracy .* macro-F1/);
    assert.match(text.stdout, /^clean +[\d.]+ % +[\d.]+ +48$/m);
    assert.match(text.stdout, /note: 36 of 48 clips are from speakers the model was trained on/);
  });

  test('eval --narrowband-model measures the companion beside the model; its figures are the served ones on the 8 kHz rows', () => {
    // The model as its own companion: the same weights, so the two columns must agree row by row.
    const run = aer('eval', '--model', model, '--narrowband-model', model, '--data', data, '--cache', cache, '--json', '--conditions', 'clean,telephone');
    assert.equal(run.status, 0, run.stderr);
    const result = json(run.stdout) as Record<string, Record<string, { accuracy: number }>>;
    assert.deepEqual(Object.keys(result.narrowband_conditions), ['clean', 'telephone_mulaw', 'telephone_alaw']);
    for (const row of Object.keys(result.conditions)) assert.equal(result.narrowband_conditions[row].accuracy, result.conditions[row].accuracy, row);
    assert.deepEqual(Object.keys(result.served_conditions), ['clean', 'telephone_mulaw', 'telephone_alaw']);
    const text = aer('eval', '--model', model, '--narrowband-model', model, '--data', data, '--cache', cache, '--conditions', 'clean,telephone');
    assert.match(text.stdout, /narrowband model$/m);
    assert.match(text.stdout, /^telephone_mulaw .* % \(served\)$/m);
    assert.match(text.stdout, /^clean +[\d.]+ % +[\d.]+ +48 +[\d.]+ %$/m);
    const mismatch = path.join(work, 'other-labels');
    fs.cpSync(model, mismatch, { recursive: true });
    const meta = json(fs.readFileSync(path.join(mismatch, 'aer.json'), 'utf8'));
    fs.writeFileSync(path.join(mismatch, 'aer.json'), JSON.stringify({ ...meta, labels: ['a', 'b', 'c', 'd', 'e', 'f'] }));
    const refused = aer('eval', '--model', model, '--narrowband-model', mismatch, '--data', data, '--cache', cache, '--conditions', 'clean');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /narrowband model's labels \(a, b, c, d, e, f\) are not the model's/);
  });

  test('baselines run on the same split as the model, in one table with it', () => {
    const run = aer('baselines', '--data', data, '--cache', cache, '--model', model, '--json');
    assert.equal(run.status, 0, run.stderr);
    const result = json(run.stdout) as { summaries: { method: string; mean: { accuracy: number } }[]; split: { test: { clips: number } } };
    assert.deepEqual(
      result.summaries.map((s) => s.method),
      ['AER-Net (full)', 'SVM (PCA 200, RBF)', 'Random forest (300 trees)'],
    );
    assert.equal(result.split.test.clips, 12);
    const other = aer('baselines', '--data', data, '--cache', cache, '--model', model, '--seed', '7');
    assert.notEqual(other.status, 0);
    assert.match(other.stderr, /was not trained on this split/);
  });

  test('bad input: unknown variant, overwriting a model, nothing to resume, a corrupt model, no clips', () => {
    const variant = aer('train', ...small, '--variant', 'huge', '--out', path.join(work, 'x'));
    assert.equal(variant.status, 2);
    assert.match(variant.stderr, /huge.*Allowed choices are full, cnn_res, cnn/s);
    const again = aer('train', ...small, '--out', model);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already holds a trained model/);
    const resume = aer('train', ...small, '--resume', '--out', path.join(work, 'nothing'));
    assert.equal(resume.status, 1);
    assert.match(resume.stderr, /no checkpoint to resume/);
    const corrupt = path.join(work, 'corrupt');
    fs.cpSync(model, corrupt, { recursive: true });
    fs.writeFileSync(path.join(corrupt, 'aer.json'), '{"format":');
    const badModel = aer('eval', '--model', corrupt, '--data', data, '--cache', cache);
    assert.equal(badModel.status, 1);
    assert.match(badModel.stderr, /error \[invalid_model\]/);
    const empty = aer('eval', '--model', model, '--data', tempDir());
    const phone = aer('eval', '--model', model, '--data', data, '--conditions', 'clean,phone');
    assert.equal(phone.status, 2);
    assert.match(phone.stderr, /unknown condition "phone"; the conditions are clean, continuous, telephone, opus, noise, stream, or all/);
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /no audio files/);
  });

  test('Ctrl-C saves a checkpoint; --resume finishes the run', async () => {
    const out = path.join(work, 'interrupted');
    const args = ['train', ...small, '--epochs', '3', '--out', out];
    const stopped = await aerInterrupted(/epoch 1\/3 /, ...args);
    assert.equal(stopped.status, 130, stopped.stderr);
    assert.match(stopped.stderr, /checkpoint saved/);
    assert.ok(fs.existsSync(path.join(out, 'checkpoint', 'state.json')));
    const resumed = aer(...args, '--resume', '--json');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming at epoch/);
    assert.equal(json(resumed.stdout).epochs_run, 3);
    assert.ok(!fs.existsSync(path.join(out, 'checkpoint')));
  });

  test('crossval measures the network and both baselines on the same speaker folds, and resumes', () => {
    const out = path.join(work, 'crossval');
    const args = ['crossval', ...small, '--folds', '2', '--epochs', '1', '--out', out, '--json', '--conditions', 'clean,telephone'];
    const run = aer(...args);
    assert.equal(run.status, 0, run.stderr);
    const summaries = (json(run.stdout) as { summaries: { method: string; runs: { n: number }[] }[] }).summaries;
    assert.deepEqual(
      summaries.map((s) => s.method),
      ['AER-Net (full)', 'SVM (PCA 200, RBF)', 'Random forest (300 trees)'],
    );
    for (const s of summaries)
      assert.equal(
        s.runs.reduce((a, r) => a + r.n, 0),
        48,
      );
    // Every method on every condition row, over both folds.
    const byCondition = (json(run.stdout) as { conditions: { rows: { row: string; methods: { method: string; runs: number }[] }[] } }).conditions;
    assert.deepEqual(
      byCondition.rows.map((r) => r.row),
      ['clean', 'telephone_mulaw', 'telephone_alaw'],
    );
    for (const r of byCondition.rows)
      assert.deepEqual(
        r.methods.map((m) => [m.method, m.runs]),
        summaries.map((s) => [s.method, 2]),
      );
    assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /## Under the service's conditions[\s\S]*\| telephone_alaw \| [\d.]+ % ± /);
    assert.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /## Per run/);
    const again = aer(...args);
    assert.equal(again.status, 2);
    assert.match((json(again.stdout).error as { message: string }).message, /already holds an experiment/);
    const resumed = aer(...args, '--resume');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /done before, result read back/);
    // An experiment planned before the floor augmentation existed planned it off: a later version still resumes it.
    const planFile = path.join(out, 'plan.json');
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as { jobs: { kind: string; recipe: { augment: Record<string, unknown> } }[] };
    for (const job of plan.jobs.filter((j) => j.kind === 'network')) {
      delete job.recipe.augment.floorProbability;
      delete job.recipe.augment.floorDb;
    }
    fs.writeFileSync(planFile, JSON.stringify(plan, null, 1));
    const olderPlan = aer(...args, '--resume');
    assert.equal(olderPlan.status, 0, olderPlan.stderr);
    const changed = aer(...args.map((a) => (a === '1' ? '2' : a)), '--resume');
    assert.equal(changed.status, 1);
    assert.match((json(changed.stdout).error as { code: string; message: string }).code, /invalid_checkpoint/);
    assert.match((json(changed.stdout).error as { message: string }).message, /planned with other options/);

    /** One fold of two, a single epoch, scored on clean clips. */
    const oneFold = (fold: string, out: string, ...more: string[]) =>
      aer('crossval', ...small, '--folds', '2', '--only', fold, ...more, '--epochs', '1', '--out', path.join(work, out), '--json', '--conditions', 'clean');
    const one = oneFold('2', 'cv-one');
    assert.equal(one.status, 0, one.stderr);
    const oneRuns = (json(one.stdout) as { summaries: { runs: { title: string }[] }[] }).summaries[0].runs;
    assert.deepEqual(
      oneRuns.map((r) => r.title.slice(0, 6)),
      ['fold 2'],
    );
    assert.match(aer('crossval', ...small, '--folds', '2', '--only', '3', '--out', path.join(work, 'cv-none')).stderr, /--only 3 names a fold past --folds 2/);
    assert.match(aer('crossval', ...small, '--fold-seed', '4.5', '--out', path.join(work, 'cv-none')).stderr, /--fold-seed must be a whole number/);

    // --repeats: the fold's network again on the next seed, beside the one baselines job; means over every run.
    const twice = oneFold('1', 'cv-twice', '--repeats', '2');
    assert.equal(twice.status, 0, twice.stderr);
    const twiceResult = json(twice.stdout) as {
      summaries: { method: string; runs: { title: string }[] }[];
      conditions: { rows: { row: string; methods: { method: string; runs: number }[] }[] };
    };
    assert.deepEqual(
      twiceResult.summaries.map((s) => [s.method, s.runs.map((r) => r.title.replace(/ \(test: [^)]*\)/, ''))]),
      [
        ['AER-Net (full)', ['fold 1', 'fold 1, seed 43']],
        ['SVM (PCA 200, RBF)', ['fold 1']],
        ['Random forest (300 trees)', ['fold 1']],
      ],
    );
    assert.deepEqual(
      twiceResult.conditions.rows[0].methods.map((m) => m.runs),
      [2, 1, 1],
    );
    assert.match(fs.readFileSync(path.join(work, 'cv-twice', 'report.md'), 'utf8'), /trained 2 times, with seeds 42 to 43/);

    // --ensemble: the same two networks keep their weights, and one more job scores the fold with their probabilities averaged.
    assert.match(
      (json(oneFold('1', 'cv-lone', '--ensemble').stdout).error as { message: string }).message,
      /--ensemble averages the networks of --repeats, which is 1/,
    );
    const ensembleOut = path.join(work, 'cv-ensemble');
    const ensemble = oneFold('1', 'cv-ensemble', '--repeats', '2', '--ensemble');
    assert.equal(ensemble.status, 0, ensemble.stderr);
    const ensembleResult = json(ensemble.stdout) as typeof twiceResult & { summaries: { runs: { accuracy: number }[] }[] };
    assert.deepEqual(
      ensembleResult.summaries.map((s) => [s.method, s.runs.length]),
      [
        ['AER-Net (full)', 2],
        ['AER-Net, 2 runs averaged', 1],
        ['SVM (PCA 200, RBF)', 1],
        ['Random forest (300 trees)', 1],
      ],
    );
    assert.deepEqual(ensembleResult.summaries[0].runs, (twiceResult.summaries[0] as (typeof ensembleResult.summaries)[0]).runs);
    assert.deepEqual(
      ensembleResult.conditions.rows[0].methods.map((m) => m.method),
      ['AER-Net (full)', 'AER-Net, 2 runs averaged', 'SVM (PCA 200, RBF)', 'Random forest (300 trees)'],
    );
    const kept = ['fold-1-aernet', 'fold-1-aernet-seed-43'].map((id) => fs.statSync(path.join(ensembleOut, `${id}.weights`)).size);
    assert.ok(kept[0] > 0 && kept[0] === kept[1], `${kept}`);
    assert.match(fs.readFileSync(path.join(ensembleOut, 'report.md'), 'utf8'), /each fold's 2 networks as one model/);
    // A member's weights gone or cut short: the ensemble job says which, and how to train that member again.
    fs.rmSync(path.join(ensembleOut, 'fold-1-ensemble.json'));
    fs.truncateSync(path.join(ensembleOut, 'fold-1-aernet-seed-43.weights'), 100);
    const short = json(oneFold('1', 'cv-ensemble', '--repeats', '2', '--ensemble', '--resume').stdout).error as { code: string; message: string };
    assert.equal(short.code, 'invalid_checkpoint');
    assert.match(short.message, /fold-1-aernet-seed-43\.weights holds 100 bytes, not the model's \d+ weights/);
    fs.rmSync(path.join(ensembleOut, 'fold-1-aernet-seed-43.weights'));
    const gone = json(oneFold('1', 'cv-ensemble', '--repeats', '2', '--ensemble', '--resume').stdout).error as { message: string; hint: string };
    assert.match(gone.message, /fold-1-aernet-seed-43\.weights is missing/);
    assert.match(gone.hint, /delete .*fold-1-aernet-seed-43\.json to train that member again/);

    // A model trained on every speaker records the cross-validation of its recipe; another recipe is refused before any training.
    const recipe = [...small, '--split', 'none', '--epochs', '1'];
    const model = path.join(work, 'all-speakers');
    assert.equal(aer('train', ...recipe, '--out', model).status, 0);
    const recorded = aer('crossval', ...recipe, '--folds', '2', '--out', path.join(work, 'cv-recorded'), '--record-in', model, '--conditions', 'clean');
    assert.equal(recorded.status, 0, recorded.stderr);
    const metadata = JSON.parse(fs.readFileSync(path.join(model, 'aer.json'), 'utf8')) as {
      metrics: { crossval: { methods: { method: string }[]; folds: string[] } };
    };
    assert.deepEqual(
      metadata.metrics.crossval.methods.map((m) => m.method),
      summaries.map((s) => s.method),
    );
    assert.equal(metadata.metrics.crossval.folds.length, 2);
    assert.match(fs.readFileSync(path.join(model, 'report.md'), 'utf8'), /## Cross-validation of this recipe/);
    // A model recorded before the continuous and channel augmentations existed was trained without them: its recipe still matches.
    const metadataFile = path.join(model, 'aer.json');
    const older = JSON.parse(fs.readFileSync(metadataFile, 'utf8'));
    for (const key of ['continuous', 'channel', 'channels']) delete older.training.config.augment[key];
    fs.writeFileSync(metadataFile, JSON.stringify(older));
    const olderRecorded = aer(
      'crossval',
      ...recipe,
      '--folds',
      '2',
      '--out',
      path.join(work, 'cv-recorded'),
      '--resume',
      '--record-in',
      model,
      '--conditions',
      'clean',
    );
    assert.equal(olderRecorded.status, 0, olderRecorded.stderr);
    const continuous = aer('crossval', ...recipe, '--augment', 'continuous', '--folds', '2', '--out', path.join(work, 'cv-continuous'), '--record-in', model);
    assert.equal(continuous.status, 2);
    assert.match(continuous.stderr, /augment\.continuous: 0 in the model, 0\.5 here/);
    const other = aer('crossval', ...small, '--split', 'none', '--epochs', '2', '--folds', '2', '--out', path.join(work, 'cv-other'), '--record-in', model);
    assert.equal(other.status, 2);
    assert.match(other.stderr, /trained with another recipe \(epochs: 1 in the model, 2 here\)/);
    assert.equal(fs.existsSync(path.join(work, 'cv-other', 'plan.json')), false);
    const repeated = aer('crossval', ...recipe, '--folds', '2', '--repeats', '2', '--out', path.join(work, 'cv-repeated'), '--record-in', model);
    assert.equal(repeated.status, 2);
    assert.match(repeated.stderr, /--record-in records one run per fold; leave --repeats out/);

    // The recipe's seeds 42 and 43 as one model: what --repeats 2 --ensemble measures, recorded with the averaged figures first.
    const second = path.join(work, 'all-speakers-43');
    assert.equal(aer('train', ...recipe, '--seed', '43', '--out', second).status, 0);
    const both = path.join(work, 'all-speakers-x2');
    assert.equal(aer('ensemble', model, second, '--out', both).status, 0);
    const cvBoth = (out: string, ...more: string[]) =>
      aer('crossval', ...recipe, '--folds', '2', ...more, '--out', path.join(work, out), '--record-in', both, '--conditions', 'clean');
    assert.match(cvBoth('cv-both-one').stderr, /holds 2 network\(s\), and this cross-validation measures one/);
    const averaged = cvBoth('cv-both', '--repeats', '2', '--ensemble');
    assert.equal(averaged.status, 0, averaged.stderr);
    const bothRecord = (
      JSON.parse(fs.readFileSync(path.join(both, 'aer.json'), 'utf8')) as { metrics: { crossval: { methods: { method: string }[]; folds: string[] } } }
    ).metrics.crossval;
    assert.deepEqual(
      bothRecord.methods.map((m) => m.method),
      ['AER-Net, 2 runs averaged', 'AER-Net (full)', 'SVM (PCA 200, RBF)', 'Random forest (300 trees)'],
    );
    assert.equal(bothRecord.folds.length, 2);
  });

  test('ablation trains the three variants and the baselines on one split, beside the paper', () => {
    const out = path.join(work, 'ablation');
    const run = aer('ablation', ...small, '--epochs', '1', '--split', 'none', '--out', out);
    assert.equal(run.status, 0, run.stderr);
    const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    assert.match(report, /One speaker split .* none of whom is in training\. Each network trains for 1 epochs on all its training clips/);
    assert.doesNotMatch(report, /## Per run/, 'one run per method: the summary holds them all');
    assert.match(report, /\| full \(full\) \| none: trained on all its clips \| 1 \| 1 \| epochs \|/);
    for (const method of ['AER-Net (cnn)', 'AER-Net (cnn_res)', 'AER-Net (full)', 'SVM', 'Random forest'])
      assert.match(run.stdout, new RegExp(`\\| ${method.replace(/[()]/g, '\\$&')}`));
    assert.match(run.stdout, /87\.7 %/);
    const bad = aer('ablation', ...small, '--test-split', 'none', '--out', path.join(work, 'ablation2'));
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--test-split.*Allowed choices are speaker, stratified/);
  });
});
