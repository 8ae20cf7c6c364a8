import type { LockManagerLike } from '@tokenwell/browser'

interface Request {
  name: string
  mode: 'exclusive' | 'shared'
  client: number
  grant: () => void
}
interface Held {
  name: string
  mode: 'exclusive' | 'shared'
  client: number
  /** Ends the holder's request with an AbortError, as `steal` does. */
  stolen?: () => void
}

/**
 * The Web Locks API of one origin, for Node: per-name FIFO queues, exclusive and shared modes,
 * `ifAvailable`, `steal`, `signal` and `query()`. Each `tab()` is one client; `close()` on it frees what it
 * holds and drops what it waits for, as a browser does for a closed tab.
 */
export function createLockRegistry() {
  const held: Held[] = []
  const queue: Request[] = []
  let clients = 0
  const grantable = (name: string, mode: string) =>
    !held.some((h) => h.name === name && (h.mode === 'exclusive' || mode === 'exclusive'))
  const pump = () => {
    for (const request of [...queue]) {
      const ahead = queue.filter((q) => q.name === request.name)
      if (ahead[0] !== request && !(request.mode === 'shared' && ahead.every((q) => q.mode === 'shared')))
        continue
      if (!grantable(request.name, request.mode)) continue
      queue.splice(queue.indexOf(request), 1)
      request.grant()
    }
  }
  return {
    heldNames: () => held.map((h) => h.name),
    tab(): LockManagerLike & { close(): void } {
      const client = ++clients
      let open = true
      return {
        request(name, options, callback) {
          const mode = options.mode ?? 'exclusive'
          return new Promise((resolve, reject) => {
            const run = () => {
              const lock: Held = {
                name,
                mode,
                client,
                stolen: () => reject(new DOMException('stolen', 'AbortError')),
              }
              held.push(lock)
              const free = () => {
                const at = held.indexOf(lock)
                if (at >= 0) held.splice(at, 1)
                pump()
              }
              Promise.resolve()
                .then(() => callback({ name, mode }))
                .then(
                  (value) => {
                    free()
                    resolve(value)
                  },
                  (error) => {
                    free()
                    reject(error)
                  },
                )
            }
            if (!open) return reject(new Error('closed'))
            if (options.steal) {
              for (const h of held.filter((x) => x.name === name)) {
                held.splice(held.indexOf(h), 1)
                h.stolen?.()
              }
              return run()
            }
            const idle = !queue.some((q) => q.name === name)
            if (options.ifAvailable) {
              if (idle && grantable(name, mode)) return run()
              return Promise.resolve(callback(null)).then(resolve, reject)
            }
            const request: Request = { name, mode, client, grant: run }
            queue.push(request)
            options.signal?.addEventListener('abort', () => {
              const at = queue.indexOf(request)
              if (at < 0) return
              queue.splice(at, 1)
              reject(new DOMException('aborted', 'AbortError'))
            })
            pump()
          })
        },
        async query() {
          return { held: held.map((h) => ({ name: h.name, clientId: `client-${h.client}` })) }
        },
        close() {
          open = false
          for (let i = queue.length - 1; i >= 0; i--) if (queue[i]!.client === client) queue.splice(i, 1)
          for (let i = held.length - 1; i >= 0; i--) if (held[i]!.client === client) held.splice(i, 1)
          pump()
        },
      }
    },
  }
}
