// What `.` resolves to under the `node` export condition: the same API as index.ts, with the Node
// default prompt (stderr, and a QR code of the verification page when stderr is a terminal).
import { DeviceCodeCredential as AgnosticDeviceCodeCredential, type DeviceCodeCredentialOptions } from './device-code-credential'
import { nodeDefaultPrompt } from './device-code-node-prompt'

export type { DeviceCodeCredentialOptions, TokenCachePersistenceOptions } from './device-code-credential'
export { DEVICE_CODE_DEFAULT_CLIENT_ID, MAX_SIGN_IN_TIMEOUT_MS } from './device-code-credential'
export type { DeviceCodeInfo, DeviceCodePromptCallback } from './device-code-sign-in'

/**
 * {@link AgnosticDeviceCodeCredential} for Node: without a `userPromptCallback`, Entra's message goes to
 * stderr (stdout may be piped into another program), with a QR code of the verification page when stderr is a terminal.
 * @public
 * @example
 * const credential = new DeviceCodeCredential()
 * const { token } = await credential.getToken('https://management.azure.com/.default')
 */
export class DeviceCodeCredential extends AgnosticDeviceCodeCredential {
  constructor(options: DeviceCodeCredentialOptions = {}) {
    super(
      typeof options === 'object' && options !== null && options.userPromptCallback === undefined
        ? { ...options, userPromptCallback: nodeDefaultPrompt }
        : options,
    )
  }
}
