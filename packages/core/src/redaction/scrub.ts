import type { HeldSecrets } from './request-secrets.js'

/** The form bodies of requests built by `buildTokenRequest` (a sent body can no longer be read). */
const forms = new WeakMap<Request, URLSearchParams>()

/** Remembers the form body of `request`, for `scrubFailure` to find its secrets in. */
export function rememberForm(request: Request, body: URLSearchParams): void {
  forms.set(request, body)
}

/**
 * `error` (thrown while sending `sent`, or reading its answer) with every secret of the request
 * (its credential headers, and the secret parameters of a body `rememberForm` was told of) and
 * every secret in `held` scrubbed from every text in it, its `cause` chain included: what an
 * authorization server or a `fetch` echoes never reaches a message, a log line or an event. The
 * scrubbing code loads on the first failure (or granted scope the client did not ask for): a
 * provider that never fails never loads it.
 * Any other value is scrubbed as an error's fields are (a text of the server's: a discovered URL).
 * @see DESIGN.md rule 5
 */
export async function scrubFailure(
  error: unknown,
  sent: Request | undefined,
  held: HeldSecrets,
): Promise<unknown> {
  const [{ createScrubber, secretsOf }, { scrubValue }] = await Promise.all([
    import('./secret-scrubber.js'),
    import('./scrub-error.js'),
  ])
  const body = (sent && forms.get(sent)?.toString()) ?? ''
  return scrubValue(error, createScrubber(secretsOf(sent?.headers, body, held)))
}

/** Scrubs `text` of `secrets` (see `loadSecretScrubber`). */
export type SecretScrubber = (text: string, secrets: Iterable<string>) => string

/**
 * Loads the scrubber core applies to everything an authorization server echoes, for text of
 * your own (a CLI's output, a log line). `scrub(text, secrets)` replaces each secret with
 * `[REDACTED]`, in every form a server may echo it (as is, form-urlencoded, percent-encoded,
 * JSON- and HTML-escaped, base64), and every run of 12-character pieces of one (a split or
 * truncated echo). Secrets shorter than 4 characters are not looked for. The index of a list
 * of secrets is built once and rebuilt when the list changes.
 * @example
 * const scrub = await loadSecretScrubber()
 * console.error(scrub(`server said: ${description}`, [clientSecret]))
 */
export async function loadSecretScrubber(): Promise<SecretScrubber> {
  const { createScrubber } = await import('./secret-scrubber.js')
  let key: string | undefined
  let scrubber = createScrubber([])
  return (text, secrets) => {
    const list = [...secrets]
    const next = list.join('\u0000')
    if (next !== key) {
      key = next
      scrubber = createScrubber(list)
    }
    return scrubber(text)
  }
}
