export { type Fetch, type WithOAuth2Options, withOAuth2 } from './with-oauth2.js'
