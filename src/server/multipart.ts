/**
 * A multipart/form-data upload (`curl -F file=@call.wav`) read as its file
 * part's bytes, as they arrive: the form is parsed by @fastify/busboy (the
 * maintained busboy, streaming), the first file part is the audio, and
 * back-pressure runs from the reader of the file through the parser to the
 * request body.
 */
import { Readable } from 'node:stream';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import { AerError } from '../errors.ts';

export function isMultipart(contentType: string | undefined): contentType is string {
  return /^multipart\/form-data\s*;/i.test(contentType ?? '');
}

export async function* multipartFile(body: AsyncIterable<Uint8Array>, contentType: string): AsyncGenerator<Uint8Array> {
  let parser: BusboyInstance;
  try {
    parser = Busboy({ headers: { 'content-type': contentType }, limits: { files: 1 } });
  } catch (error) {
    throw new AerError('invalid_argument', `the multipart form cannot be read: ${(error as Error).message}`, {
      hint: 'send the file as the request body (curl --data-binary @call.wav), or as a form field (curl -F file=@call.wav)',
    });
  }
  const source = Readable.from(body);
  const file = new Promise<Readable>((resolve, reject) => {
    parser.on('file', (_field: string, stream: Readable) => resolve(stream));
    parser.on('error', (error: Error) => reject(new AerError('invalid_argument', `the multipart form is malformed: ${error.message}`)));
    parser.on('finish', () =>
      reject(new AerError('invalid_argument', 'the multipart form holds no file', { hint: 'send the audio as a file field: curl -F file=@call.wav' })),
    );
  });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  try {
    for await (const chunk of await file) yield chunk as Uint8Array;
  } finally {
    source.unpipe(parser);
    source.destroy();
  }
}
