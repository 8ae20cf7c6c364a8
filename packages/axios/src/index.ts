export { type OAuth2InterceptorOptions, oauth2Interceptor } from './oauth2-interceptor.js'
