/**
 * Training progress for people: on a terminal, a live line with a bar, the
 * running loss and accuracy and the time left; in a log, one line per epoch.
 * Everything goes to stderr, so stdout stays clean for --json.
 */
import type { EpochRecord } from '../train/checkpoint.ts';
import type { StepProgress } from '../train/fit.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export class TrainingProgress {
  private readonly tty = process.stderr.isTTY === true;
  private epochStarted = Date.now();
  private epochSeconds: number[] = [];
  private lineOpen = false;

  constructor(private readonly epochs: number) {}

  message(text: string): void {
    this.closeLine();
    process.stderr.write(`${text}\n`);
  }

  /** A bar over `done` of `total` with a label, redrawn in place. */
  bar(label: string, done: number, total: number): void {
    if (!this.tty) return;
    const width = 24;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    this.lineOpen = true;
    if (done === total) this.closeLine();
  }

  step(p: StepProgress): void {
    if (p.step === 1) this.epochStarted = Date.now();
    if (!this.tty) return;
    const elapsed = (Date.now() - this.epochStarted) / 1000;
    const perStep = elapsed / p.step;
    const epochLeft = perStep * (p.steps - p.step);
    const meanEpoch = this.epochSeconds.length > 0 ? this.epochSeconds.reduce((a, b) => a + b, 0) / this.epochSeconds.length : perStep * p.steps;
    const runLeft = epochLeft + meanEpoch * (this.epochs - p.epoch - 1);
    const width = 20;
    const filled = Math.round((p.step / p.steps) * width);
    process.stderr.write(
      `\r\x1b[2Kepoch ${p.epoch + 1}/${this.epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.step}/${p.steps}  ` +
        `loss ${p.loss.toFixed(3)} acc ${p.accuracy.toFixed(3)}  ETA ${formatDuration(epochLeft)}, run <= ${formatDuration(runLeft)}`,
    );
    this.lineOpen = true;
  }

  epoch(record: EpochRecord, info: { improved: boolean; stopping: boolean; learningRateCut: boolean }): void {
    this.epochSeconds.push(record.seconds);
    const validation = record.val_loss === undefined ? '' : `  val_loss ${record.val_loss.toFixed(4)}  val_acc ${record.val_accuracy!.toFixed(3)}`;
    const notes = [info.improved && record.val_loss !== undefined ? 'best' : '', info.learningRateCut ? 'lr cut' : '', info.stopping ? 'early stop' : '']
      .filter(Boolean)
      .join(', ');
    this.message(
      `epoch ${String(record.epoch).padStart(String(this.epochs).length)}/${this.epochs}  loss ${record.loss.toFixed(4)}  acc ${record.accuracy.toFixed(3)}${validation}  lr ${record.learning_rate.toExponential(1)}  ${record.seconds.toFixed(1)} s${notes ? `  (${notes})` : ''}`,
    );
  }

  private closeLine(): void {
    if (this.lineOpen) process.stderr.write('\n');
    this.lineOpen = false;
  }
}
