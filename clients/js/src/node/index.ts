/** Node-only helpers of @aer-stream/client: stream WAV and Ogg Opus files. */
export { type AudioChunk, type AudioFileSource, readAudioFile } from './audio-file.ts';
export { analyseFile, type StreamFileOptions, streamFile } from './stream-file.ts';
