// The image's HEALTHCHECK: healthy once /readyz says the model is loaded and warm. Node's fetch, as the slim image has no curl.
const port = process.env.AER_PORT ?? '8080';
try {
  const reply = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
  process.exit(reply.ok ? 0 : 1);
} catch {
  process.exit(1);
}
