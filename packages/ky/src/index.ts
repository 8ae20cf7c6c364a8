export { type OAuth2Hooks, type OAuth2HooksOptions, oauth2Hooks } from './oauth2-hooks.js'
