// axios-token-interceptor ships no types; this covers what the bench uses.
declare module 'axios-token-interceptor' {
  import type { InternalAxiosRequestConfig } from 'axios'

  interface InterceptorOptions<T> {
    getToken?: () => T | Promise<T>
    token?: T
    header?: string
    headerFormatter?: (token: T) => string
  }
  interface TokenCache<T> {
    (): Promise<T>
    reset(): void
  }
  interface TokenInterceptor {
    <T>(
      options: InterceptorOptions<T>,
    ): (config: InternalAxiosRequestConfig) => Promise<InternalAxiosRequestConfig>
    tokenCache<T>(
      getToken: () => Promise<T>,
      options: { maxAge?: number; getMaxAge?: (token: T) => number },
    ): TokenCache<T>
  }
  const tokenInterceptor: TokenInterceptor
  export default tokenInterceptor
}
