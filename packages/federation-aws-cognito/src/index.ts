export type { CognitoDeveloperIdentity, CognitoTokenProviderOptions } from './cognito-token-provider'
export { createCognitoTokenProvider } from './cognito-token-provider'
