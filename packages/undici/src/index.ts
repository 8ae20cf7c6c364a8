export { type OAuth2Options, oauth2 } from './oauth2.js'
