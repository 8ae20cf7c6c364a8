/** The part of the Web Locks API (`navigator.locks`) this store uses. */
export interface LockManagerLike {
  request(
    name: string,
    options: { ifAvailable?: boolean; mode?: 'exclusive' | 'shared'; signal?: AbortSignal },
    callback: (lock: unknown) => unknown,
  ): Promise<unknown>
  /** Lists the locks held; tells which tabs are alive. Without it, a tab waits out `askTimeout` when it asks. */
  query?(): Promise<{ held?: Array<{ name?: string | undefined }> | undefined }>
}

/** The locks of one tab: its presence, and the per-key lease to fetch a token. */
export interface TabLocks {
  /** The ids of the other live tabs (each holds its presence lock while open), or `undefined` if unknown. */
  peers(): Promise<string[] | undefined>
  /**
   * The lease for `key`, when no tab holds it: resolves to its release, or `undefined`. A holder
   * lets go after `ttl` ms by itself; a tab that closes lets go at once (the browser frees its locks).
   */
  tryLease(key: string, ttl: number): Promise<(() => void) | undefined>
  /** Resolves once no tab holds the lease for `key`; rejects when `signal` aborts. */
  whenFree(key: string, signal: AbortSignal): Promise<void>
  close(): void
}

export function createTabLocks(locks: LockManagerLike, prefix: string, tabId: string): TabLocks {
  const presence = `${prefix}:tab:`
  let leave = () => {}
  const here = new Promise<void>((resolve) => {
    leave = resolve
  })
  locks.request(`${presence}${tabId}`, {}, () => here).catch(() => {})
  const leaseName = (key: string) => `${prefix}:lease:${key}`
  return {
    async peers() {
      if (!locks.query) return undefined
      const { held = [] } = await locks.query()
      const ids = held.flatMap(({ name }) =>
        name?.startsWith(presence) ? [name.slice(presence.length)] : [],
      )
      return [...new Set(ids)].filter((id) => id !== tabId)
    },
    tryLease(key, ttl) {
      return new Promise((resolve, reject) => {
        locks
          .request(leaseName(key), { ifAvailable: true }, (lock) => {
            if (lock === null) return resolve(undefined)
            return new Promise<void>((release) => {
              // a holder that overruns its lease lets the others in
              const timer = setTimeout(release, ttl)
              resolve(() => {
                clearTimeout(timer)
                release()
              })
            })
          })
          .catch(reject)
      })
    },
    async whenFree(key, signal) {
      // shared: every waiter wakes at once when the holder lets go, and none of them blocks another
      await locks.request(leaseName(key), { mode: 'shared', signal }, () => undefined)
    },
    close() {
      leave()
    },
  }
}
