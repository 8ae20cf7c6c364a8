import type { StoreEntry } from '@tokenwell/core'
import { liveEntry, mergeSlot, slotStamp, type TabSlot } from './tab-slot.js'

/** What one tab knows, per key: its own writes and those other tabs announced. */
export interface TabState {
  read(key: string): TabSlot | undefined
  /** Folds `slot` in; listeners of `key` hear about an entry that changed. */
  merge(key: string, slot: TabSlot): void
  /**
   * When the newest entry or refresh token this tab ever held for `key` was issued (what it
   * dropped since included), epoch ms; `-Infinity` before any.
   */
  newest(key: string): number
  /** Drops the entry (only if its fingerprint is `fingerprint`, when given); keeps the refresh token. */
  drop(key: string, fingerprint?: string): boolean
  /** Calls `listener` with each new entry stored for `key`; returns the unsubscribe function. */
  onEntry(key: string, listener: (entry: StoreEntry) => void): () => void
}

export function createTabState(clock: () => number): TabState {
  const slots = new Map<string, TabSlot>()
  const listeners = new Map<string, Set<(entry: StoreEntry) => void>>()
  const stamps = new Map<string, number>()
  return {
    read(key) {
      const slot = slots.get(key)
      if (!slot) return undefined
      const now = clock()
      const live: TabSlot = { ...slot }
      if (!liveEntry(slot, now)) {
        delete live.entry
        delete live.until
      }
      if (live.refresh && live.refresh.until <= now) delete live.refresh
      // a redeeming mark outlives the tokens: it says which refresh token may be spent
      if (!live.entry && !live.refresh && !live.mark) slots.delete(key)
      return live.entry || live.refresh || live.mark ? live : undefined
    },
    merge(key, slot) {
      const before = slots.get(key)?.entry
      const after = mergeSlot(slots.get(key), slot, clock())
      slots.set(key, after)
      stamps.set(key, Math.max(stamps.get(key) ?? -Infinity, slotStamp(after)))
      if (after.entry && after.entry !== before)
        for (const listener of listeners.get(key) ?? []) listener(after.entry)
    },
    newest: (key) => stamps.get(key) ?? -Infinity,
    drop(key, fingerprint) {
      const slot = slots.get(key)
      if (!slot?.entry || (fingerprint !== undefined && slot.entry.fingerprint !== fingerprint)) return false
      delete slot.entry
      delete slot.until
      return true
    },
    onEntry(key, listener) {
      const set = listeners.get(key) ?? new Set()
      listeners.set(key, set)
      set.add(listener)
      return () => {
        set.delete(listener)
        if (set.size === 0) listeners.delete(key)
      }
    },
  }
}
