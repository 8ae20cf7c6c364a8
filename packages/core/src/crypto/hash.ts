/** SHA-256 of `text` as lowercase hex, via WebCrypto (Node ≥ 20, browsers, Deno, Bun, edge). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}
