import { isRetryable, retryDelay } from '../endpoint/retry.js'
import type { TokenEndpointClient } from '../endpoint/token-endpoint.js'
import type { DevicePoll } from '../flows/device-poll.js'
import { grantParams, isRepeatable } from '../grants/grants.js'
import type { StoreEntry } from '../store.js'
import { createToken, tokenToData } from '../token.js'
import type { CallParams } from './call-tokens.js'
import type { ResolvedTokenProviderOptions } from './options.js'
import { createRefreshTokenHolder, type RefreshTokenHooks } from './refresh-token-holder.js'
import { answerTimeout } from './store-lease.js'

export interface AttemptLoopHooks extends RefreshTokenHooks {
  emitTokenError(event: { error: Error; attempt: number; willRetry: boolean; delayMs?: number }): void
}

/**
 * The token requests of one provider: the grant, its refresh token, retries. A refresh token is
 * redeemed at most once (rule 4): a request that may have reached the server is never repeated
 * with it, only awaited; only failures known not to have been processed are retried with it.
 * What an answer (or its loss) means for the refresh token is refresh-token-holder.ts's.
 */
export function createAttemptLoop(
  options: ResolvedTokenProviderOptions,
  client: TokenEndpointClient,
  hooks: AttemptLoopHooks,
  stopPolling: () => AbortSignal,
) {
  const { clock, grant } = options
  const { code, redeem, toEntry, forgetIfRejected, toRedeem, api } = createRefreshTokenHolder(options, hooks)
  let devicePoll: DevicePoll | undefined

  /** One token request; one that redeems `used` (a refresh token or the code) is kept alive for its answer. */
  function send(params: Record<string, string>, used: string | undefined, call?: CallParams) {
    if (used === undefined) return client.send(params, undefined, call)
    const limit = answerTimeout(options)
    return redeem(used, (rotatedTo) => client.send(params, limit, undefined, rotatedTo))
  }

  /**
   * Asks the token endpoint, with retries, and returns the store entry for the answer. With
   * `call` (a repeatable grant only): a token for those parameters, from the grant itself, never
   * from the refresh token, and without one of its own (it would compete with the provider's).
   */
  async function fetchEntry(call?: CallParams): Promise<StoreEntry> {
    let deadline = clock() + options.retry.deadline
    let attempt = 0
    // the server answered a device poll: a later failure is a new outage with its own retries
    const onPollAnswer = () => {
      attempt = 1
      deadline = clock() + options.retry.deadline
    }
    for (;;) {
      attempt++
      let used = call === undefined ? api.refreshToken() : undefined
      try {
        used = await toRedeem(used)
        const params = await grantParams(grant, used)
        let poll: DevicePoll | undefined
        if (grant.type === 'urn:ietf:params:oauth:grant-type:device_code' && used === undefined) {
          // resolveOptions gave the grant its interval
          const resolved = grant as typeof grant & { interval: number }
          poll = devicePoll ??= resolved.poller(resolved, clock)
        }
        const answer = poll
          ? await poll(() => client.send(params), onPollAnswer, stopPolling())
          : await send(params, used ?? code, call)
        if (!answer) {
          attempt-- // another provider of this process had it first: nothing was sent
          continue
        }
        const { token } = answer
        if (call !== undefined) {
          const { refreshToken: _kept, ...data } = tokenToData(token)
          return await toEntry(createToken(data), used)
        }
        return await toEntry(token, used)
      } catch (error) {
        if (used !== undefined && forgetIfRejected(error, used)) {
          // the refresh token is spent or revoked; a grant that can be run again starts over (a
          // refresh_token grant never goes back to an older one: that would be a replay)
          if (!isRepeatable(grant)) throw error
          continue
        }
        const delay = retryDelay(error, attempt, options.retry, clock(), Math.random())
        const willRetry =
          attempt < options.retry.attempts &&
          isRetryable(error, used !== undefined || code !== undefined) &&
          clock() + delay < deadline
        const delayMs = willRetry ? delay : undefined
        hooks.emitTokenError({
          error: error as Error,
          attempt,
          willRetry,
          ...(delayMs !== undefined && { delayMs }),
        })
        if (!willRetry) throw error
        await new Promise((resolve) => setTimeout(resolve, delayMs))
      }
    }
  }

  return { ...api, fetchEntry }
}
