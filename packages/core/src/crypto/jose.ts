/** jose, imported on first use: providers with secret-based auth and no DPoP never load it. */
let jose: Promise<typeof import('jose')> | undefined

export function loadJose(): Promise<typeof import('jose')> {
  jose ??= import('jose')
  return jose
}
