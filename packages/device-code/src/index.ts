export type { DeviceCodeCredentialOptions, TokenCachePersistenceOptions } from './device-code-credential'
export { DEVICE_CODE_DEFAULT_CLIENT_ID, DeviceCodeCredential, MAX_SIGN_IN_TIMEOUT_MS } from './device-code-credential'
export type { DeviceCodeInfo, DeviceCodePromptCallback } from './device-code-sign-in'
