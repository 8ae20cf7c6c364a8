import { isStoreEntry, type StoreEntry } from '@tokenwell/core'

/** A refresh token as a tab keeps it: `at` is when it was issued (newest wins), `until` when it is dropped. */
export interface RefreshSlot {
  value: string
  at: number
  until: number
}

/**
 * The refresh token a lease holder marked as being redeemed (its SHA-256 `fp`, `null` once the
 * outcome is known), marked at `at`: the mark made last wins, so a holder's clearing follows its mark.
 */
export interface RedeemingMark {
  fp: string | null
  at: number
}

/** What one tab holds for a key; the same shape travels between tabs and into IndexedDB. */
export interface TabSlot {
  entry?: StoreEntry
  /** When `entry` stops being served, epoch ms. */
  until?: number
  refresh?: RefreshSlot
  mark?: RedeemingMark
}

/**
 * `next` folded into `current`: the entry obtained last wins, and so does the refresh token issued
 * last, so a tab that answers late with an older token never replaces a newer one.
 */
export function mergeSlot(current: TabSlot | undefined, next: TabSlot, now: number): TabSlot {
  const out: TabSlot = { ...current }
  if (next.entry && next.until !== undefined && next.until > now) {
    if (!out.entry || out.until === undefined || next.entry.obtainedAt > out.entry.obtainedAt) {
      out.entry = next.entry
      out.until = next.until
    }
  }
  if (next.refresh && next.refresh.until > now && (!out.refresh || next.refresh.at > out.refresh.at)) {
    out.refresh = next.refresh
  }
  if (next.mark && (!out.mark || next.mark.at > out.mark.at)) out.mark = next.mark
  return out
}

/** When the newest of what `slot` holds was issued (its entry or its refresh token), epoch ms. */
export function slotStamp(slot: TabSlot | undefined): number {
  return Math.max(slot?.entry?.obtainedAt ?? -Infinity, slot?.refresh?.at ?? -Infinity)
}

/** The entry of `slot` while it may still be served at `now`. */
export function liveEntry(slot: TabSlot | undefined, now: number): StoreEntry | undefined {
  return slot?.entry && slot.until !== undefined && slot.until > now ? slot.entry : undefined
}

/** A slot as read from another tab or from disk, or `undefined` when it is not one (never echoed). */
export function parseSlot(value: unknown): TabSlot | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { entry, until, refresh, mark } = value as Record<string, unknown>
  const slot: TabSlot = {}
  if (entry !== undefined) {
    if (!isStoreEntry(entry) || typeof until !== 'number' || !Number.isFinite(until)) return undefined
    slot.entry = entry
    slot.until = until
  }
  if (refresh !== undefined) {
    const r = refresh as Partial<RefreshSlot> | null
    if (typeof r?.value !== 'string' || !Number.isFinite(r.at) || !Number.isFinite(r.until)) return undefined
    slot.refresh = { value: r.value, at: r.at as number, until: r.until as number }
  }
  if (mark !== undefined) {
    const m = mark as Partial<RedeemingMark> | null
    if (!(m?.fp === null || /^[0-9a-f]{64}$/.test(String(m?.fp))) || !Number.isFinite(m?.at)) return undefined
    slot.mark = { fp: m!.fp!, at: m!.at! }
  }
  return slot
}
