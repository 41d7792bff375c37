export type { EasyAuthFrontDoor, EasyAuthFrontDoorOptions, FrontDoorClient } from './easy-auth-front-door'
export { SESSION_COOKIE, startEasyAuthFrontDoor } from './easy-auth-front-door'
