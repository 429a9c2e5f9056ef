/** Decoded audio -> the mono 22050 Hz signal the features are computed from. */
import { type ChannelChoice, selectChannel } from '../audio/mix.ts';
import { resample } from '../audio/resample.ts';
import type { DecodedAudio } from '../audio/wav.ts';
import { SAMPLE_RATE } from './recipe.ts';

export function modelSignal(audio: DecodedAudio, channel: ChannelChoice = 'mix'): Float32Array {
  return resample(selectChannel(audio.channels, channel), audio.sampleRate, SAMPLE_RATE);
}
