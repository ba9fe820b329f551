/*
 * What the Alpaca SDK throws, in the port's failure kinds. The SDK raises an ApiError subclass
 * for every non-2xx answer (status on it), a FetchError when fetch itself failed or was aborted,
 * and a SyntaxError when a 2xx body is not JSON. Messages are redacted: the key id and the
 * secret never appear in what is thrown, whatever the server echoed.
 */

import { ExternalError, type ExternalFailure } from '../../../errors/index.js';

/** The SDK's error classes the mapping needs (from the module loaded at run time). */
export interface SdkErrors {
  ApiError: abstract new (...args: never[]) => Error & { status: number; code?: number | string };
  FetchError: abstract new (...args: never[]) => Error & { cause: unknown };
}

/** What a failed call was: a typed error, or "not found" (a 404) for the caller to turn into null or a refusal. */
export type Classified = { notFound: true; error: ExternalError } | { notFound: false; error: ExternalError };

/** Replaces every occurrence of the credentials in a message. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const present = secrets.filter((s) => s.length > 0);
  return (text) => present.reduce((t, s) => t.split(s).join('[redacted]'), text);
}

function causeText(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current.message && !parts.includes(current.message)) parts.push(current.message);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(': ');
}

function isAbort(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current.name === 'AbortError' || current.name === 'TimeoutError') return true;
    if ((current as { failure?: unknown }).failure === 'timeout') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The port's failure for what the SDK threw: 429 is `rate_limited`; 404 is "not found"; any
 * other 4xx is a refusal (`rejected`: Alpaca answers 403 for insufficient buying power or
 * quantity, 422 for an order it cannot take, 401 for bad credentials); a 5xx or a lost
 * connection is `unreachable`; an aborted call is a `timeout`; a body that is not JSON is `malformed`.
 */
export function classify(sdk: SdkErrors, operation: string, error: unknown, redact: (text: string) => string): Classified {
  const make = (failure: ExternalFailure, detail: string): ExternalError =>
    new ExternalError(redact(`alpaca ${operation}: ${detail}`), failure, { cause: error });
  if (error instanceof ExternalError) return { notFound: false, error };
  if (error instanceof sdk.ApiError) {
    const status = error.status;
    const code = error.code === undefined ? '' : ` (code ${String(error.code)})`;
    const detail = `HTTP ${status}${code}: ${error.message}`;
    if (status === 404) return { notFound: true, error: make('rejected', detail) };
    if (status === 429) return { notFound: false, error: make('rate_limited', detail) };
    if (status >= 400 && status < 500) return { notFound: false, error: make('rejected', detail) };
    return { notFound: false, error: make('unreachable', detail) };
  }
  if (error instanceof sdk.FetchError) {
    return { notFound: false, error: make(isAbort(error) ? 'timeout' : 'unreachable', causeText(error)) };
  }
  if (error instanceof SyntaxError) return { notFound: false, error: make('malformed', `the answer is not JSON: ${error.message}`) };
  if (isAbort(error)) return { notFound: false, error: make('timeout', causeText(error)) };
  return { notFound: false, error: make('unreachable', causeText(error) || String(error)) };
}
