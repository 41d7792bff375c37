// A module whose default export is a credential, for the chain's `() => import(...)` test.
import type { AccessToken } from '../token-credential'

export default {
  name: 'FromModule',
  getToken: async (): Promise<AccessToken> => ({ token: 'from-module-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
}
