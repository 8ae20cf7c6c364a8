/** The part of the Web Locks API (`navigator.locks`) this store uses. */
export interface LockManagerLike {
  request(
    name: string,
    options: { ifAvailable?: boolean; mode?: 'exclusive' | 'shared'; signal?: AbortSignal; steal?: boolean },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown>
  /** Lists the locks held; tells which tabs are alive. Without it, a tab waits out `askTimeout` when it asks. */
  query?(): Promise<{
    held?: Array<{ name?: string | undefined; clientId?: string | undefined }> | undefined
  }>
}

/** The locks of one tab: its presence, and the per-key lease to fetch a token. */
export interface TabLocks {
  /** The ids of the other live tabs (each holds its presence lock while open), or `undefined` if unknown. */
  peers(): Promise<string[] | undefined>
  /**
   * The lease for `key`, when no tab holds it: resolves to its release, or `undefined`. A holder
   * lets go after `ttl` ms by itself; a tab that closes lets go at once (the browser frees its
   * locks). A tab whose script is frozen cannot let go: once this tab has seen the lease held for
   * `ttl` ms without progress, it takes the lease over (`steal`), under a second lock that it keeps
   * as long as the lease, so one tab takes over, not every waiting tab.
   */
  tryLease(key: string, ttl: number): Promise<(() => Promise<void>) | undefined>
  /** Resolves once no tab holds the lease for `key`; rejects when `signal` aborts. */
  whenFree(key: string, signal: AbortSignal): Promise<void>
  /**
   * Holds this tab's mark for `key` (until its next mark, or `close`): the newest of what it stored
   * was issued at `stamp`. Resolves once held, so a tab that takes the lease after this tab let go
   * finds it, whether or not this tab's message has reached it yet.
   */
  mark(key: string, stamp: number): Promise<void>
  /** The marks the other live tabs hold for `key`, or `undefined` if unknown. */
  marks(key: string): Promise<TabMark[] | undefined>
  /** The holder made progress (stored a token, or let go): a wait for `key` starts over. */
  progressed(key: string): void
  close(): void
}

type Release = () => Promise<void>

/** A live tab stored for a key what was issued at `stamp` (epoch ms); `name` tells one mark from the next. */
export interface TabMark {
  tab: string
  stamp: number
  name: string
}

export function createTabLocks(
  locks: LockManagerLike,
  prefix: string,
  tabId: string,
  clock: () => number,
): TabLocks {
  const presence = `${prefix}:tab:`
  let leave = () => {}
  const here = new Promise<void>((resolve) => {
    leave = resolve
  })
  locks.request(`${presence}${tabId}`, {}, () => here).catch(() => {})
  const leaseName = (key: string) => `${prefix}:lease:${key}`
  const markPrefix = (key: string) => `${prefix}:stored:${key}:`
  /** This tab's mark per key, and how to let go of it. */
  const marked = new Map<string, { name: string; letGo: () => void }>()
  /** When this tab first found a key's lease held, by which tab (when known), with no progress since. */
  const busySince = new Map<string, { since: number; holder: string | undefined }>()
  /**
   * Requests `name`; resolves to its release once held (`undefined` when not available). The
   * release resolves once the lock is free again, so whoever asks next finds it free.
   */
  const hold = (
    name: string,
    options: { ifAvailable?: boolean; steal?: boolean },
    ttl: number,
    after: () => void = () => {},
  ) =>
    new Promise<Release | undefined>((resolve, reject) => {
      const request = locks.request(name, options, (lock) => {
        if (lock === null) return resolve(undefined)
        return new Promise<void>((letGo) => {
          const release = () => {
            clearTimeout(timer)
            letGo()
            after()
            return request.then(
              () => {},
              () => {},
            )
          }
          // a holder that overruns its lease lets the others in
          const timer = setTimeout(release, ttl)
          resolve(release)
        })
      })
      request.catch(reject)
    })
  /** Takes the lock `name` if it is free, until the function it resolves to is called; `undefined` when taken. */
  const holdIfFree = async (name: string): Promise<(() => void) | undefined> => {
    let letGo = () => {}
    const kept = new Promise<void>((resolve) => {
      letGo = resolve
    })
    const held = await new Promise<boolean>((resolve, reject) => {
      locks
        .request(name, { ifAvailable: true }, (lock) => {
          resolve(lock !== null)
          return lock === null ? undefined : kept
        })
        .catch(reject)
    })
    return held ? letGo : undefined
  }
  return {
    async peers() {
      if (!locks.query) return undefined
      const { held = [] } = await locks.query()
      const ids = held.flatMap(({ name }) =>
        name?.startsWith(presence) ? [name.slice(presence.length)] : [],
      )
      return [...new Set(ids)].filter((id) => id !== tabId)
    },
    async tryLease(key, ttl) {
      const lease = await hold(leaseName(key), { ifAvailable: true }, ttl)
      if (lease) {
        busySince.delete(key)
        return lease
      }
      // the lease changing hands is progress: a tab whose wait ended as the last holder's lease
      // lapsed never takes it from the tab that took it a moment before
      const { held = [] } = (await locks.query?.()) ?? {}
      const holder = held.find(({ name }) => name === leaseName(key))?.clientId
      const seen = busySince.get(key)
      if (seen === undefined || seen.holder !== holder) {
        busySince.set(key, { since: clock(), holder })
        return undefined
      }
      if (clock() - seen.since < ttl) return undefined
      // held past its lease by a tab that cannot let go: one tab, the one with this lock, takes over
      const mutexRelease = await holdIfFree(`${prefix}:takeover:${key}`)
      if (!mutexRelease) return undefined
      const stolen = await hold(leaseName(key), { steal: true }, ttl, mutexRelease).catch((error) => {
        mutexRelease()
        throw error
      })
      busySince.delete(key)
      return stolen
    },
    async whenFree(key, signal) {
      // shared: every waiter wakes at once when the holder lets go, and none of them blocks another
      await locks.request(leaseName(key), { mode: 'shared', signal }, () => undefined)
    },
    async mark(key, stamp) {
      const name = `${markPrefix(key)}${tabId}:${stamp}`
      const before = marked.get(key)
      if (before?.name === name || !Number.isFinite(stamp)) return
      // the name is this tab's own: it is free
      const letGo = await holdIfFree(name)
      if (!letGo) return
      marked.set(key, { name, letGo })
      before?.letGo()
    },
    async marks(key) {
      if (!locks.query) return undefined
      const { held = [] } = await locks.query()
      const start = markPrefix(key)
      const found = new Map<string, TabMark>()
      for (const { name } of held) {
        if (!name?.startsWith(start)) continue
        const [tab, stamp, ...rest] = name.slice(start.length).split(':')
        if (rest.length > 0 || !tab || tab === tabId || !/^[0-9a-f]+$/.test(tab)) continue
        const at = Number(stamp)
        if (stamp !== '' && Number.isFinite(at)) found.set(name, { tab, stamp: at, name })
      }
      return [...found.values()]
    },
    progressed(key) {
      busySince.delete(key)
    },
    close() {
      leave()
      for (const { letGo } of marked.values()) letGo()
      marked.clear()
    },
  }
}
