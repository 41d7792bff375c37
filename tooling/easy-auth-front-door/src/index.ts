export type { EasyAuthFrontDoor, EasyAuthFrontDoorOptions, FrontDoorClient } from './easy-auth-front-door'
export { NONCE_COOKIE, SESSION_COOKIE, startEasyAuthFrontDoor } from './easy-auth-front-door'
