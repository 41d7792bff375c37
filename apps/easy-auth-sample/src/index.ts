export type { SampleAppConfig } from './sample-app'
export { createSampleApp } from './sample-app'
export type { EasyAuthSample, EasyAuthSampleOptions, SampleUser } from './sample-environment'
export { startEasyAuthSample } from './sample-environment'
