/**
 * The models a service answers with: the default (wideband) model and,
 * when given, a telephone-band companion trained on 8 kHz G.711 audio,
 * since one model cannot be good at both (docs/evaluation.md). Each has its
 * own engine and scheduler, so a batch never mixes models. A stream's band
 * picks its model: `auto` is the companion for audio at 8 kHz or less.
 */
import type { Engine } from '../engine/engine.ts';
import { AerError } from '../errors.ts';
import { melFminOf, windowInputOf } from '../model/model-files.ts';
import type { Band, ServedBand } from '../protocol/wire.ts';
import type { ModelSpec } from './workers/messages.ts';
import { Scheduler, type SchedulerObserver, type SchedulerOptions } from './scheduler.ts';

/** Audio at this rate or lower is telephone-band: nothing above 4 kHz survives it. */
export const NARROWBAND_MAX_RATE = 8000;

/** What a session needs of the model it is served: its labels and how it takes a window, from its aer.json. */
export function modelSpec(engine: Engine): ModelSpec {
  const { metadata } = engine;
  return { labels: engine.labels, attentionHopS: metadata.attention_hop_s, windowInput: windowInputOf(metadata), melFmin: melFminOf(metadata) };
}

export interface ServedModel {
  band: ServedBand;
  engine: Engine;
  scheduler: Scheduler;
}

export interface ModelEngines {
  wide: Engine;
  narrow?: Engine;
}

/**
 * The companion must answer in the same terms as the model it serves
 * beside (`model`, as the message names it): the same labels, in the same order.
 */
export function checkCompanionLabels(labels: readonly string[], companion: readonly string[], model = 'the default model'): void {
  if (companion.join(',') !== labels.join(','))
    throw new AerError('invalid_model', `the narrowband model's labels (${companion.join(', ')}) are not ${model}'s (${labels.join(', ')})`, {
      hint: 'train the narrowband model on the same labels (aer train --augment placement,gain,continuous,telephone)',
    });
}

/** The band a stream at `sampleRate` asking for `band` is served in, given whether a narrowband model is loaded. */
export function servedBand(band: Band, sampleRate: number, narrowband: boolean): ServedBand {
  if (band === 'narrow' && !narrowband)
    throw new AerError('invalid_argument', 'band=narrow, but no telephone-band model is loaded', {
      hint: 'use band=auto or wide, or load one with --narrowband-model DIR',
    });
  if (band === 'auto') return narrowband && sampleRate <= NARROWBAND_MAX_RATE ? 'narrow' : 'wide';
  return band;
}

export class ServedModels {
  readonly wide: ServedModel;
  readonly narrow: ServedModel | undefined;

  constructor(engines: ModelEngines, options: Partial<SchedulerOptions>, observer: (band: ServedBand) => SchedulerObserver = () => ({})) {
    if (engines.narrow) checkCompanionLabels(engines.wide.labels, engines.narrow.labels);
    const served = (band: ServedBand, engine: Engine): ServedModel => ({ band, engine, scheduler: new Scheduler(engine, options, observer(band)) });
    this.wide = served('wide', engines.wide);
    this.narrow = engines.narrow ? served('narrow', engines.narrow) : undefined;
  }

  get all(): ServedModel[] {
    return this.narrow ? [this.wide, this.narrow] : [this.wide];
  }

  /** The model for a stream; `band=narrow` without a narrowband model is the client's error. */
  for(band: Band, sampleRate: number): ServedModel {
    return servedBand(band, sampleRate, this.narrow !== undefined) === 'narrow' ? this.narrow! : this.wide;
  }

  /** Every queued window analysed (or failed). */
  async drain(): Promise<void> {
    await Promise.all(this.all.map((m) => m.scheduler.drain()));
  }
}
