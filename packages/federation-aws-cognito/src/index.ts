export type { CognitoDeveloperIdentity, CognitoIdentityIdStore, CognitoTokenProviderOptions } from './cognito-token-provider'
export { createCognitoTokenProvider } from './cognito-token-provider'
