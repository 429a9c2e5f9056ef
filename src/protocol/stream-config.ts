/**
 * A stream's parameters as the server reads them (docs/protocol.md): the
 * query string and the client's JSON control messages, checked. The
 * messages themselves are in wire.ts. Anything malformed is a
 * ProtocolError carrying the close code (4400 bad request) and a reason the
 * client can show.
 */
import { AerError, type ErrorCode } from '../errors.ts';
import { DEFAULT_HOP_MS, MAX_HOP_MS, MIN_HOP_MS } from '../features/hop.ts';
import { quoted } from './client-text.ts';
import { BANDS, type Band, CLOSE, defaultSampleRate, ENCODINGS, type Encoding } from './wire.ts';

export const MAX_STREAM_CHANNELS = 2;

export interface StreamConfig {
  encoding: Encoding;
  /** The rate of the PCM sent; for Opus, the rate the client encoded at (Opus decodes at any rate). */
  sampleRate: number;
  channels: number;
  hopMs: number;
  smoothing: 'ema' | 'none';
  vad: boolean;
  attention: boolean;
  /** Which model hears it; `auto` is resolved by the server (served-models.ts). */
  band: Band;
}

/** What a client may change after connecting: how results are presented, not how audio is cut. */
export type Reconfigurable = Pick<StreamConfig, 'smoothing' | 'attention'>;

export class ProtocolError extends AerError {
  constructor(
    message: string,
    readonly closeCode: number = CLOSE.badRequest,
    code: ErrorCode = 'invalid_argument',
  ) {
    super(code, message);
  }
}

const OPUS_RATES = [8000, 12000, 16000, 24000, 48000];

type Parser = (value: string, config: Partial<StreamConfig>) => void;

/** Plain decimal digits only: Number() would also take " 16000", "0x3e80", "1.6e4" and "16000.0". */
function integer(name: string, value: string, min: number, max: number): number {
  const n = /^[0-9]{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new ProtocolError(`${name} must be a whole number from ${min} to ${max} in decimal digits, got ${quoted(value)}`);
  return n;
}

function flag(name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ProtocolError(`${name} must be true or false, got ${quoted(value)}`);
}

const PARAMETERS: Record<string, Parser> = {
  encoding: (v, c) => {
    if (!(ENCODINGS as readonly string[]).includes(v)) throw new ProtocolError(`encoding must be one of ${ENCODINGS.join(', ')}, got ${quoted(v)}`);
    c.encoding = v as Encoding;
  },
  sample_rate: (v, c) => (c.sampleRate = integer('sample_rate', v, 8000, 48000)),
  channels: (v, c) => (c.channels = integer('channels', v, 1, MAX_STREAM_CHANNELS)),
  hop_ms: (v, c) => (c.hopMs = integer('hop_ms', v, MIN_HOP_MS, MAX_HOP_MS)),
  smoothing: (v, c) => {
    if (v !== 'ema' && v !== 'none') throw new ProtocolError(`smoothing must be ema or none, got ${quoted(v)}`);
    c.smoothing = v;
  },
  vad: (v, c) => (c.vad = flag('vad', v)),
  attention: (v, c) => (c.attention = flag('attention', v)),
  band: (v, c) => {
    if (!(BANDS as readonly string[]).includes(v)) throw new ProtocolError(`band must be one of ${BANDS.join(', ')}, got ${quoted(v)}`);
    c.band = v as Band;
  },
};
/** Read elsewhere (auth), but allowed in the query. */
const PASSED_THROUGH = new Set(['token']);
const RECONFIGURABLE = ['smoothing', 'attention'];

export function parseStreamQuery(params: URLSearchParams): StreamConfig {
  const config: Partial<StreamConfig> = {};
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (PASSED_THROUGH.has(name)) continue;
    const parse = PARAMETERS[name];
    if (!parse) throw new ProtocolError(`unknown query parameter ${quoted(name)}; known: ${[...Object.keys(PARAMETERS), ...PASSED_THROUGH].join(', ')}`);
    if (seen.has(name)) throw new ProtocolError(`query parameter ${quoted(name)} is given twice`);
    seen.add(name);
    parse(value, config);
  }
  if (!config.encoding) throw new ProtocolError(`the encoding query parameter is required (${ENCODINGS.join(', ')})`);
  const opus = config.encoding === 'opus' || config.encoding === 'ogg_opus';
  if (opus && config.sampleRate !== undefined && !OPUS_RATES.includes(config.sampleRate)) {
    throw new ProtocolError(`Opus is encoded at ${OPUS_RATES.join(', ')} Hz, not ${config.sampleRate}`);
  }
  return {
    encoding: config.encoding,
    sampleRate: config.sampleRate ?? defaultSampleRate(config.encoding),
    channels: config.channels ?? 1,
    hopMs: config.hopMs ?? DEFAULT_HOP_MS,
    smoothing: config.smoothing ?? 'ema',
    vad: config.vad ?? true,
    attention: config.attention ?? true,
    band: config.band ?? 'auto',
  };
}

/** A control message as checked: configure's changes gathered apart from its type. */
export type ParsedControl = { type: 'configure'; changes: Partial<Reconfigurable> } | { type: 'flush' } | { type: 'keepalive' } | { type: 'close_stream' };

/** A client's text message. */
export function parseControl(text: string): ParsedControl {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    throw new ProtocolError(`a text message must be JSON, got ${quoted(text)}`);
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message))
    throw new ProtocolError('a control message must be a JSON object with a "type"');
  const { type, ...rest } = message as Record<string, unknown>;
  switch (type) {
    case 'flush':
    case 'keepalive':
    case 'close_stream':
      return { type };
    case 'configure': {
      const config: Partial<StreamConfig> = {};
      for (const [name, value] of Object.entries(rest)) {
        if (!RECONFIGURABLE.includes(name)) throw new ProtocolError(`configure cannot change ${quoted(name)}; it can change ${RECONFIGURABLE.join(', ')}`);
        PARAMETERS[name](String(value), config);
      }
      return { type, changes: config as Partial<Reconfigurable> };
    }
    default:
      throw new ProtocolError(`unknown message type ${quoted(type)}; send configure, flush, keepalive or close_stream`);
  }
}
