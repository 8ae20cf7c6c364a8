import { parseSlot, type TabSlot } from './tab-slot.js'
import type { TabState } from './tab-state.js'

/** The part of `BroadcastChannel` this store uses. */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void
  close(): void
}

/** The other tabs of this origin, as this tab talks to them. */
export interface TabChannel {
  /** Tells the other tabs what this tab stored for `key`. */
  publish(key: string, slot: TabSlot): void
  /** Tells the other tabs to drop their entry for `key` (only one with this fingerprint, when given). */
  drop(key: string, fingerprint?: string): void
  /**
   * Asks the other tabs what they hold for `key` and folds their answers in. Resolves once every
   * live tab answered, or after `askTimeout` ms (a tab that hangs never answers).
   */
  sync(key: string, options?: SyncOptions): Promise<void>
}

export interface SyncOptions {
  /** Waits for the answers of these tabs only (the others' answers are folded in too). */
  from?: string[]
  /** How long to wait for them, ms. @default askTimeout */
  timeout?: number
  /** Resolves as soon as this holds, checked as each message for the key is folded in. */
  enough?: () => boolean
}

export interface TabChannelOptions {
  channel: BroadcastChannelLike
  state: TabState
  tabId: string
  /** The ids of the other live tabs, or `undefined` when that cannot be known (then `sync` waits out `askTimeout`). */
  peers: () => Promise<string[] | undefined>
  askTimeout: number
}

interface Pending {
  key: string
  waiting: Set<string> | undefined
  enough: (() => boolean) | undefined
  done: () => void
}

export function createTabChannel(options: TabChannelOptions): TabChannel {
  const { channel, state, tabId, askTimeout } = options
  const pending = new Map<string, Pending>()
  /** A message for `key` was folded in: the waits it satisfies end. */
  const heard = (key: string) => {
    for (const wait of [...pending.values()]) if (wait.key === key && wait.enough?.()) wait.done()
  }
  channel.addEventListener('message', (event) => {
    const message = event.data as Record<string, unknown> | null
    if (typeof message !== 'object' || message === null || typeof message['key'] !== 'string') return
    const key = message['key']
    switch (message['t']) {
      case 'set': {
        const slot = parseSlot(message['slot'])
        if (slot) state.merge(key, slot)
        heard(key)
        return
      }
      case 'del':
        state.drop(key, typeof message['fp'] === 'string' ? message['fp'] : undefined)
        return
      case 'ask':
        if (typeof message['id'] === 'string' && message['from'] !== tabId) {
          const slot = state.read(key) ?? {}
          channel.postMessage({ t: 'state', key, id: message['id'], from: tabId, slot })
        }
        return
      case 'state': {
        const wait = typeof message['id'] === 'string' ? pending.get(message['id']) : undefined
        const slot = parseSlot(message['slot'])
        if (!wait) return
        if (slot) state.merge(key, slot)
        wait.waiting?.delete(String(message['from']))
        if (wait.waiting?.size === 0) wait.done()
        heard(key)
      }
    }
  })
  return {
    publish(key, slot) {
      channel.postMessage({ t: 'set', key, slot })
    },
    drop(key, fingerprint) {
      channel.postMessage({ t: 'del', key, ...(fingerprint !== undefined && { fp: fingerprint }) })
    },
    async sync(key, { from, timeout = askTimeout, enough } = {}) {
      const peers = from ?? (await options.peers().catch(() => undefined))
      if (peers?.length === 0 || enough?.()) return
      const id = `${tabId}:${Math.random().toString(36).slice(2)}`
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => done(), timeout)
        const done = () => {
          clearTimeout(timer)
          pending.delete(id)
          resolve()
        }
        pending.set(id, { key, waiting: peers && new Set(peers), enough, done })
        channel.postMessage({ t: 'ask', key, id, from: tabId })
      })
    },
  }
}
