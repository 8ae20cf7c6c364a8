/** A function with the signature of WHATWG `fetch` (inject one for TLS options, proxies or tests). */
export type FetchLike = (input: Request) => Promise<Response>
