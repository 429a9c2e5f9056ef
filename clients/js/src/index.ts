/** @aer-stream/client: stream audio to aer-stream and get emotion events back, in Node and in browsers. */
export { type AudioFormat, type AudioInput, bytesPerFrame, encodeInput, opusPacketSamples } from './audio.ts';
export { AerClientError, type ClientErrorCode } from './errors.ts';
export * from './protocol.ts';
export * from './calls-protocol.ts';
export { type PacedChunk, type PaceOptions, sendPaced } from './paced.ts';
export { topLabel } from './scores.ts';
export { AerSession, type CloseResult, type ConnectOptions, connect, type LostAudio, type ReconnectOptions, type SessionEvents } from './session.ts';
export type { SocketFactory, SocketLike } from './socket.ts';
