/** What an Opus packet's TOC byte says about its duration (RFC 6716, section 3.1). */

/** Frame duration in units of 1/400 s (2.5 ms) for each of the 32 configurations. */
const FRAME_UNITS = [
  // SILK-only: 10, 20, 40, 60 ms, for NB, MB, WB.
  4, 8, 16, 24, 4, 8, 16, 24, 4, 8, 16, 24,
  // Hybrid: 10, 20 ms, for SWB, FB.
  4, 8, 4, 8,
  // CELT-only: 2.5, 5, 10, 20 ms, for NB, WB, SWB, FB.
  1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8,
];

/**
 * Samples per channel at `sampleRate` that the packet decodes to, or -1 when
 * its framing is invalid (empty, a frame count of 0, or over 120 ms).
 */
export function opusPacketSamples(packet: Uint8Array, sampleRate: number): number {
  if (packet.length === 0) return -1;
  const toc = packet[0];
  let frames: number;
  switch (toc & 3) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default:
      if (packet.length < 2) return -1;
      frames = packet[1] & 0x3f;
  }
  const units = frames * FRAME_UNITS[toc >> 3];
  if (frames === 0 || units > 48) return -1;
  return (units * sampleRate) / 400;
}
