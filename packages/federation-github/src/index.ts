export type { GitHubTokenProviderOptions, GitHubTokenSubject } from './github-token-provider'
export { createGitHubTokenProvider, describeGitHubToken, ENV_ACTIONS_ID_TOKEN_REQUEST_TOKEN, ENV_ACTIONS_ID_TOKEN_REQUEST_URL } from './github-token-provider'
