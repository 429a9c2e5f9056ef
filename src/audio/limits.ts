/** Input limits shared by the readers, the resampler and the protocol. */

/** The most channels any reader accepts (7.1 surround). */
export const MAX_CHANNELS = 8;

/** The range of input sample rates the resampler takes to the model's rate. */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;
